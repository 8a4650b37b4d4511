"""Policy views are copy-on-write: the record a view is made from is never changed, views made
from one shared record (a remembered case, a feed item shown to each subscriber) are
independent of each other and of their order, and every decision and mask is exactly what the
earlier deep-copying views gave (`_oracle_*` below, kept as they were, is the reference).
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from gateway.api import policy
from gateway.api.caller import Caller
from gateway.catalogue.entries import stricter
from gateway.lookup import CaseEventEntry, CertificateEntry, CreditEntryEntry, MaterialEntry
from gateway.members.store import Grant, Member
from schemas.validators import mask
from tests.samples import case_event, certificate, company, material, person

P1, P2 = "11330802002493025K3330111703000", "11330802002493025K3330111704000"

# The views as they were before copy-on-write (deepcopy, then mask in place): the oracle.


def _oracle_mask_ids(
    record: dict[str, Any], grant: Grant | None, masked: list[str], path: str = ""
) -> None:
    for name, value in record.items():
        field = f"{path}{name}"
        if isinstance(value, dict):
            number = value.get("id_number")
            id_field = f"{field}.id_number"
            if policy._personal(value) and isinstance(number, str) and number != mask(number):
                if not policy._visible(grant, id_field):
                    value["id_number"] = mask(number)
                    masked.append(id_field)
            _oracle_mask_ids(value, grant, masked, f"{field}.")


def _oracle_mask_holder(record: dict[str, Any], grant: Grant, masked: list[str]) -> None:
    holder = record.get("holder")
    if isinstance(holder, dict) and isinstance(holder.get("id_number"), str):
        if not policy._visible(grant, policy.HOLDER_ID_FIELD):
            holder["id_number"] = mask(holder["id_number"])
            masked.append(policy.HOLDER_ID_FIELD)


def _oracle_certificate(
    grant: Grant, original: dict[str, Any], sharing: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    record = copy.deepcopy(original)
    masked: list[str] = []
    if sharing == policy.CONDITIONAL:
        surface = record.get("surface_fields")
        if isinstance(surface, dict):
            for name in sorted(surface):
                if not policy._visible(grant, name) and not policy._visible(
                    grant, f"surface_fields.{name}"
                ):
                    surface[name] = policy.MASK
                    masked.append(f"surface_fields.{name}")
        _oracle_mask_holder(record, grant, masked)
    _oracle_mask_ids(record, grant, masked)
    return record, tuple(masked)


def _oracle_certificate_view(
    caller: Caller, purpose: str, entry: CertificateEntry, listed: str | None
) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    grant = policy.grant_for(caller, "certificate", entry.type_code, purpose)
    if grant is None or not policy.shareable(entry, listed):
        return None
    return _oracle_certificate(grant, entry.record, stricter(entry.sharing_class, listed))


def _oracle_plain(
    grant: Grant | None, original: dict[str, Any], holder: bool
) -> tuple[dict[str, Any], tuple[str, ...]]:
    record = copy.deepcopy(original)
    masked: list[str] = []
    if holder and grant is not None:
        _oracle_mask_holder(record, grant, masked)
    _oracle_mask_ids(record, grant, masked)
    return record, tuple(masked)


# Callers, grants and records the cases are made of.


def _caller(*grants: Grant, case_no: str | None = None) -> Caller:
    member = Member("window", "窗口", ("consumer",), datetime(2026, 1, 1, tzinfo=UTC))
    return Caller(member, "window-key", ("consumer",), tuple(grants), P1, case_no)


FIELDS: list[tuple[str, ...] | None] = [
    None,
    (),
    ("法定代表人",),
    ("surface_fields.注册资本",),
    ("*",),
    ("holder.id_number",),
    ("*", "holder.id_number"),
    ("applicant.id_number", "surface_fields.legal_person.id_number"),
    ("*", "surface_fields.legal_person.id_number"),
]
GRANT_PURPOSES = [P1, "*"]
REQUEST_PURPOSES = [P1, P2]
CLASSES = ["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED", "SOMETHING_NEW"]
LISTED: list[str | None] = [None, "UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"]


def _records() -> dict[str, dict[str, Any]]:
    """A company's licence, a person's licence with a person nested in its surface fields, and
    one with an id number already masked at its source."""
    licence = certificate()
    personal = certificate("330802-YYZZ-0002")
    personal["holder"] = person(2)
    personal["surface_fields"] = {
        "法定代表人": "张伟",
        "legal_person": person(3),
        "经营者": {"deputy": person(4) | {"type": "PERSON"}},
    }
    personal["applicant"] = person(5)
    premasked = certificate("330802-YYZZ-0003")
    premasked["holder"] = person(6) | {"id_number": mask(person(6)["id_number"])}
    return {"company": licence, "person": personal, "premasked": premasked}


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return cast(
        dict[str, Any],
        copy.deepcopy({k: v.isoformat() if isinstance(v, date) else v for k, v in record.items()}),
    )


def _certificate_entry(record: dict[str, Any], sharing: str) -> CertificateEntry:
    return CertificateEntry(
        cert_id=record["cert_id"],
        type_code=record["type_code"],
        holder_id_type=record["holder"]["id_type"],
        holder_id=record["holder"]["id_number"],
        holder_name=record["holder"]["name"],
        status=record["status"],
        sharing_class=sharing,
        issuer_code=record["issuer_code"],
        region_code=record["region_code"],
        issue_date=date(2026, 3, 1),
        valid_until=None,
        event_id=record["event_id"],
        updated_ms=0,
        record=_jsonable(record | {"sharing_class": sharing}),
    )


@pytest.mark.parametrize("fields", FIELDS)
@pytest.mark.parametrize("grant_purpose", GRANT_PURPOSES)
@pytest.mark.parametrize("purpose", REQUEST_PURPOSES)
@pytest.mark.parametrize("sharing", CLASSES)
@pytest.mark.parametrize("listed", LISTED)
def test_certificate_views_decide_and_mask_as_before(
    fields: tuple[str, ...] | None,
    grant_purpose: str,
    purpose: str,
    sharing: str,
    listed: str | None,
) -> None:
    caller = _caller(Grant("certificate", "YYZZ", grant_purpose, fields))
    for name, record in _records().items():
        entry = _certificate_entry(record, sharing)
        before = copy.deepcopy(entry.record)
        view = policy.certificate_view(caller, purpose, entry, listed)
        expected = _oracle_certificate_view(caller, purpose, entry, listed)
        assert entry.record == before, name  # the source is never changed
        if expected is None:
            assert view is None, name
            continue
        assert view is not None, name
        assert (dict(view.record), view.masked) == expected, name


@pytest.mark.parametrize("fields", FIELDS)
@pytest.mark.parametrize("grant_purpose", GRANT_PURPOSES)
@pytest.mark.parametrize("purpose", REQUEST_PURPOSES)
def test_material_case_and_credit_views_as_before(
    fields: tuple[str, ...] | None, grant_purpose: str, purpose: str
) -> None:
    grants = [
        Grant("material", "CL-0001", grant_purpose, fields),
        Grant("case", P1, grant_purpose, fields),
        Grant("credit", "SXBZXR", grant_purpose, fields),
    ]
    caller = _caller(*grants)

    source = _jsonable(material())
    entry = MaterialEntry("M-0001", "h", "CL-0001", None, True, None, "e", 0, source)
    view = policy.material_view(caller, purpose, entry)
    grant = policy.grant_for(caller, "material", "CL-0001", purpose)
    if grant is None:
        assert view is None
    else:
        assert view is not None
        assert (dict(view.record), view.masked) == _oracle_plain(grant, _jsonable(material()), True)
    assert source == _jsonable(material())

    event = _jsonable(case_event() | {"applicant": person(7), "agent": {"who": person(8)}})
    snapshot = copy.deepcopy(event)
    events = [CaseEventEntry("e1", "SL-1", datetime(2026, 1, 1, tzinfo=UTC), "ACCEPTED", event)]
    try:
        views = policy.case_view(caller, purpose, events)
    except (policy.PurposeNotGranted, policy.TypeNotGranted):
        assert policy.case_grant(caller.grants, purpose, purpose) is None
    else:
        case = policy.case_grant(caller.grants, purpose, purpose)
        expected = [_oracle_plain(case, snapshot, False)] if purpose == P1 else []
        assert [(dict(v.record), v.masked) for v in views] == expected
    assert event == snapshot

    subject = person(9)
    listed = {"entry_id": "X1", "list_code": "SXBZXR", "subject": subject, "note": {"p": person()}}
    credit = CreditEntryEntry("X1", "s", "SXBZXR", date(2026, 1, 1), None, None, "e", 0, listed)
    shown = policy.credit_entry_view(caller, purpose, credit)
    credit_grant = policy.grant_for(caller, "credit", "SXBZXR", purpose)
    hidden = credit_grant is None or not policy._visible(credit_grant, policy.SUBJECT_ID_FIELD)
    want = copy.deepcopy(listed)
    if hidden:
        want["subject"]["id_number"] = mask(subject["id_number"])
    assert (dict(shown.record), shown.masked) == (want, ("subject.id_number",) if hidden else ())
    assert listed["subject"] == person(9)  # the source is never changed


def test_notice_and_feed_views_as_before() -> None:
    notice = {
        "notice_id": "N1",
        "department_code": "D1",
        "licence": {"holder": person(), "issuer_name": "x"},
        "other": company(),
    }
    snapshot = copy.deepcopy(notice)
    expected, _ = _oracle_plain(None, notice, False)
    assert dict(policy.notice_view(notice)) == expected
    assert notice == snapshot

    granted = (
        Grant("case", "*", "*", ("applicant.id_number",)),
        Grant("certificate", "YYZZ", "*", ("*", "holder.id_number", "applicant.id_number")),
        Grant("notice", "D1"),
    )
    masked = (Grant("case", "*"), Grant("certificate", "YYZZ", "*", ("*",)), Grant("notice", "D1"))
    certificate_event = _jsonable(_records()["person"])
    case = _jsonable(case_event() | {"applicant": person(), "x": {"p": person(2)}})
    for stream, event, oracle in [
        ("case-events", case, lambda g: _oracle_plain(g[0], case, False)),
        ("notices", notice, lambda g: _oracle_plain(None, notice, False)),
        (
            "certificates",
            certificate_event,
            lambda g: _oracle_certificate(g[1], certificate_event, "CONDITIONAL"),
        ),
    ]:
        item = {"cursor": "c", "event": event, "type": "t", "time": "now", "key": "k"}
        before = copy.deepcopy(item)
        for first, second in [(granted, masked), (masked, granted)]:  # subscribers in turn
            for grants in (first, second):
                shown = policy.feed_view(grants, stream, None)(item)
                assert shown is not None
                record, fields = oracle(grants)
                assert (shown["event"], tuple(shown["masked"])) == (record, fields), stream
                assert item == before, stream  # the shared item is left for the next one


RECIPIENTS: list[tuple[str, ...] | None] = [("*", "holder.id_number"), None, ("*",), ()]


def _own_parts(view: policy.View, source: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects of a view that are its own (copied on the way to a mask), not the source's."""
    own: list[dict[str, Any]] = []
    record = view.record
    if record is source:
        return own
    own.append(cast(dict[str, Any], record))
    own.extend(
        cast(dict[str, Any], value)
        for key, value in record.items()
        if isinstance(value, dict) and value is not source.get(key)
    )
    return own


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(RECIPIENTS)))))
def test_views_of_one_shared_record_do_not_leak_into_each_other(order: tuple[int, ...]) -> None:
    """Requests see one remembered record in every order: each sees what its grant shows; what
    one does to what it was shown reaches neither the record nor another request's view."""
    entry = _certificate_entry(_records()["person"], "CONDITIONAL")
    pristine = copy.deepcopy(entry.record)
    views: dict[int, policy.View] = {}
    for index in order:
        caller = _caller(Grant("certificate", "YYZZ", "*", RECIPIENTS[index]))
        view = policy.certificate_view(caller, P1, entry, None)
        assert view is not None
        expected = _oracle_certificate(caller.grants[0], pristine, "CONDITIONAL")
        assert (dict(view.record), view.masked) == expected, index  # whatever came before
        views[index] = view
    snapshots = {index: copy.deepcopy(dict(view.record)) for index, view in views.items()}
    changed: set[int] = set()
    for index in order:
        for part in _own_parts(views[index], entry.record):
            part["id_number"] = f"LEAK-{index}"
            part["法定代表人"] = f"LEAK-{index}"
        changed.add(index)
        assert entry.record == pristine, index
        for other, view in views.items():
            if other not in changed:
                assert dict(view.record) == snapshots[other], (index, other)


def test_a_view_that_masks_nothing_is_the_record_and_one_that_masks_copies_its_path() -> None:
    record = _records()["person"]
    entry = _certificate_entry(record, "UNCONDITIONAL")
    everything = Grant(
        "certificate",
        "YYZZ",
        "*",
        (
            "*",
            "holder.id_number",
            "applicant.id_number",
            "surface_fields.legal_person.id_number",
            "surface_fields.经营者.deputy.id_number",
        ),
    )
    whole = policy.certificate_view(_caller(everything), P1, entry, None)
    assert whole is not None and whole.record is entry.record and whole.masked == ()

    masking = policy.certificate_view(_caller(Grant("certificate", "YYZZ")), P1, entry, None)
    assert masking is not None and masking.record is not entry.record
    assert masking.record["provenance"] is entry.record["provenance"]  # untouched: shared
    assert masking.record["holder"] is not entry.record["holder"]  # on a masked path: copied
    assert list(masking.record) == list(entry.record)  # keys keep their order
