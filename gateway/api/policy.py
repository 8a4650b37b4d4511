"""Who may see what: every access decision of the gateway, in one place.

Deny by default. A consumer sees a certificate type (证照类型), a material catalog (材料目录) or
the case events of an item (办件, kind `case`) only with a grant for that code and the
request's purpose (事项编码 in `Gov-Purpose`), or for any purpose (`*`). Sharing classes:
无条件共享 (UNCONDITIONAL) is served whole; 有条件共享 (CONDITIONAL) needs the case it serves
(`Gov-Case`, of the purpose's item and the holder, where the gateway knows the case) and is
served with the surface fields outside the grant's `fields` masked (a grant naming no field
unmasks none; `*` every field an operator chose to give whole); 不予共享 (NOT_SHARED, and any
unknown class) never. Personal id numbers (居民身份证号码), wherever they sit in a record, leave
masked unless the grant names their field (`holder.id_number`, `applicant.id_number`,
`subject.id_number`), `*` or not.

The same views serve every way data leaves: lookups, case timelines, the feed (JSON and SSE)
and webhooks (`feed_view`, which the deliverer asks per subscription).
The class is the catalogue's (资源目录, gateway.catalogue) where it lists the record's type,
and where the record carries its own class too, the stricter of the two wins.

Refusals that depend only on the request (no grant for this type or purpose) are decided
before any lookup, so they read the same whether or not such data exists; a record whose type
the caller may not see is reported exactly as a record that does not exist.

Publishers are held to what they are registered for (`gateway.publishing`): `may_publish`
decides a pushed record before anything is appended.

Views are copy-on-write: a view never changes the record it is made from (which may be shared:
a case remembered for a moment, a feed item shown to each subscriber in turn), and copies only
the objects on the way to what it masks; what it leaves as it was, it shares with that record.
A view is therefore read-only (`Mapping`): what goes out is serialized from it, never edited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.api.caller import Caller
from gateway.api.problems import (
    CaseMismatch,
    CaseRequired,
    InvalidInput,
    NotFound,
    PurposeMissing,
    PurposeNotGranted,
    RoleRequired,
    TypeNotGranted,
)
from gateway.catalogue.entries import stricter
from gateway.lookup import CaseEventEntry, CertificateEntry, CreditEntryEntry, MaterialEntry
from gateway.members.store import ALL_FIELDS, ANY_CODE, ANY_PURPOSE, Grant, GrantKind, Role
from gateway.publishing.check import check_publish
from schemas.validators import mask, normalize

HOLDER_ID_FIELD = "holder.id_number"
SUBJECT_ID_FIELD = "subject.id_number"
APPLICANT_ID_FIELD = "applicant.id_number"
MASK = "***"
CONDITIONAL = "CONDITIONAL"


@dataclass(frozen=True)
class View:
    """What a caller is shown of one record, and which fields were masked in it."""

    record: Mapping[str, Any]  # read-only: it shares with the stored record what it leaves
    masked: tuple[str, ...]


def require_role(caller: Caller, *roles: Role) -> None:
    if not any(role in caller.roles for role in roles):
        raise RoleRequired(f"needs the role {' or '.join(roles)}")


def require_purpose(caller: Caller) -> str:
    if caller.purpose is None:
        raise PurposeMissing()
    return caller.purpose


def _usable(caller: Caller, kind: GrantKind, purpose: str) -> list[Grant]:
    return [g for g in caller.grants if g.kind == kind and g.purpose in (ANY_PURPOSE, purpose)]


def granted_codes(caller: Caller, kind: GrantKind, purpose: str, code: str | None) -> list[str]:
    """The codes the caller may see for `purpose` (just `code` when given), or the refusal.

    PURPOSE_NOT_GRANTED: no grant of this kind for this purpose (or this code is granted only
    for other purposes); TYPE_NOT_GRANTED: this code is granted for no purpose at all.
    """
    usable = _usable(caller, kind, purpose)
    if code is None:
        if not usable:
            raise PurposeNotGranted()
        return sorted({g.code for g in usable})
    if any(g.code == code for g in usable):
        return [code]
    if any(g.kind == kind and g.code == code for g in caller.grants):
        raise PurposeNotGranted()
    raise TypeNotGranted()


def grant_for(caller: Caller, kind: GrantKind, code: str, purpose: str) -> Grant | None:
    """The grant that decides what is shown: one for this very purpose before one for `*`."""
    covering = [g for g in _usable(caller, kind, purpose) if g.code == code]
    covering.sort(key=lambda g: g.purpose == ANY_PURPOSE)
    return covering[0] if covering else None


def _visible(grant: Grant | None, field: str) -> bool:
    """Whether the grant shows `field`: named, or under `*` unless it is a personal id."""
    if grant is None or not grant.fields:
        return False
    if field in grant.fields:
        return True
    return ALL_FIELDS in grant.fields and not field.endswith("id_number")


def _personal(party: dict[str, Any]) -> bool:
    return party.get("type") == "PERSON" or party.get("id_type") == "RESIDENT_ID"


def _replaced(record: Mapping[str, Any], name: str, value: Any) -> dict[str, Any]:
    """A shallow copy of `record` with `name` set to `value` (the key keeps its place)."""
    out = dict(record)
    out[name] = value
    return out


def mask_personal_ids(
    record: Mapping[str, Any], grant: Grant | None, masked: list[str], path: str = ""
) -> Mapping[str, Any]:
    """`record` with every person's id number in it (a holder, an applicant, a subject, however
    deep) masked whose field the grant does not name; each masked field noted in `masked`.
    Copy-on-write: `record` itself is left as it was, and returned when nothing was masked."""
    out = record
    for name, value in record.items():
        if not isinstance(value, dict):
            continue
        field = f"{path}{name}"
        shown: Mapping[str, Any] = value
        number = value.get("id_number")
        id_field = f"{field}.id_number"
        if _personal(value) and isinstance(number, str) and number != mask(number):
            if not _visible(grant, id_field):
                shown = _replaced(value, "id_number", mask(number))
                masked.append(id_field)
        shown = mask_personal_ids(shown, grant, masked, f"{field}.")
        if shown is not value:
            out = _replaced(out, name, shown)
    return out


def _mask_holder(record: Mapping[str, Any], grant: Grant, masked: list[str]) -> Mapping[str, Any]:
    holder = record.get("holder")
    if isinstance(holder, dict) and isinstance(holder.get("id_number"), str):
        if not _visible(grant, HOLDER_ID_FIELD):
            masked.append(HOLDER_ID_FIELD)
            return _replaced(
                record, "holder", _replaced(holder, "id_number", mask(holder["id_number"]))
            )
    return record


def certificate_view(
    caller: Caller, purpose: str, entry: CertificateEntry, listed: str | None = None
) -> View | None:
    """What the caller sees of a certificate, or None when it may see nothing of it.

    `listed` is the catalogue's class for the certificate's type (None: not catalogued).
    None covers both "type not granted" and 不予共享; the routes tell them apart only where
    the caller already knows the type is granted.
    """
    grant = grant_for(caller, "certificate", entry.type_code, purpose)
    if grant is None or not shareable(entry, listed):
        return None
    return _certificate_record_view(grant, entry.record, stricter(entry.sharing_class, listed))


def _certificate_record_view(grant: Grant, original: Mapping[str, Any], sharing: str) -> View:
    record = original
    masked: list[str] = []
    if sharing == CONDITIONAL:
        surface = record.get("surface_fields")
        if isinstance(surface, dict):
            hidden = [
                name
                for name in sorted(surface)
                if not _visible(grant, name) and not _visible(grant, f"surface_fields.{name}")
            ]
            if hidden:
                shown = dict(surface)
                for name in hidden:
                    shown[name] = MASK
                    masked.append(f"surface_fields.{name}")
                record = _replaced(record, "surface_fields", shown)
        record = _mask_holder(record, grant, masked)
    record = mask_personal_ids(record, grant, masked)
    return View(record, tuple(masked))


def shareable(entry: CertificateEntry, listed: str | None = None) -> bool:
    """Whether a certificate's sharing class (the stricter of its own and the catalogue's,
    `listed`) lets it be served at all (deny by default)."""
    return stricter(entry.sharing_class, listed) in ("UNCONDITIONAL", "CONDITIONAL")


def material_view(caller: Caller, purpose: str, entry: MaterialEntry) -> View | None:
    """A material, with the holder's id number masked unless the grant names it."""
    grant = grant_for(caller, "material", entry.catalog_code, purpose)
    if grant is None:
        return None
    masked: list[str] = []
    record = mask_personal_ids(_mask_holder(entry.record, grant, masked), grant, masked)
    return View(record, tuple(masked))


def case_grant(
    grants: tuple[Grant, ...] | list[Grant], item: str, purpose: str | None
) -> Grant | None:
    """The `case` grant that shows the case events of `item` for `purpose` (None: a feed or
    webhook read without one, where only a grant for any purpose counts): the most specific
    first (this item before `*`, this purpose before `*`)."""
    covering = [
        g
        for g in grants
        if g.kind == "case"
        and g.code in (item, ANY_CODE)
        and g.purpose in (ANY_PURPOSE, purpose or ANY_PURPOSE)
    ]
    covering.sort(key=lambda g: (g.code == ANY_CODE, g.purpose == ANY_PURPOSE))
    return covering[0] if covering else None


def require_case_grant(caller: Caller, purpose: str) -> Grant:
    """Timelines are served only with a `case` grant for the purpose's item (deny by
    default): PURPOSE_NOT_GRANTED when the member's case grants are for other purposes,
    TYPE_NOT_GRANTED when it has none for this item. Decided before any lookup."""
    grant = case_grant(caller.grants, purpose, purpose)
    if grant is not None:
        return grant
    if any(g.kind == "case" and g.code in (purpose, ANY_CODE) for g in caller.grants):
        raise PurposeNotGranted()
    raise TypeNotGranted()


def _case_event_view(grant: Grant, original: Mapping[str, Any]) -> View:
    masked: list[str] = []
    record = mask_personal_ids(original, grant, masked)
    return View(record, tuple(masked))


def case_view(caller: Caller, purpose: str, events: list[CaseEventEntry]) -> list[View]:
    """The steps of a case a window system may follow: those of the item (事项) it serves, under
    its `case` grant; a person applicant's id number masked unless the grant names
    `applicant.id_number`."""
    grant = require_case_grant(caller, purpose)
    return [
        _case_event_view(grant, event.record)
        for event in events
        if event.record.get("item_code") == purpose
    ]


def bind_case(
    caller: Caller, purpose: str, holder_id: str, case_events: list[CaseEventEntry]
) -> None:
    """Purpose binding (目的绑定) of a 有条件共享 record: the request names its case
    (CASE_REQUIRED), and where the gateway knows that case (its events, `case_events`), the
    case is of the purpose's item and, when it names an applicant, of this holder
    (CASE_MISMATCH). A case the gateway has not seen is taken at its word."""
    if caller.case_no is None:
        raise CaseRequired()
    if not case_events:
        return
    if all(e.record.get("item_code") != purpose for e in case_events):
        raise CaseMismatch(f"case {caller.case_no} is not a case of item {purpose}")
    applicants = {
        normalize(a["id_number"])
        for e in case_events
        if isinstance(a := e.record.get("applicant"), dict) and isinstance(a.get("id_number"), str)
    }
    if applicants and normalize(holder_id) not in applicants:
        raise CaseMismatch(f"case {caller.case_no} is not a case of this holder")


def needs_case(sharing_class: str) -> bool:
    """Whether a record of this sharing class is served only for a named case."""
    return sharing_class == CONDITIONAL


def credit_lists(caller: Caller, purpose: str) -> list[str]:
    """The joint-punishment lists (名单代码) the caller may check subjects against for
    `purpose`: one `credit` grant per list (a catalogue resource once #13 lands), or the
    refusal (PURPOSE_NOT_GRANTED) when it has none for this purpose."""
    return granted_codes(caller, "credit", purpose, None)


def credit_entry_view(caller: Caller, purpose: str, entry: CreditEntryEntry) -> View:
    """A list entry as the window sees it: a person's id number masked unless the grant of
    its list names `subject.id_number` (a company's credit code is public anyway)."""
    record: Mapping[str, Any] = entry.record
    masked: list[str] = []
    subject = record.get("subject")
    grant = grant_for(caller, "credit", entry.list_code, purpose)
    if (
        isinstance(subject, dict)
        and subject.get("id_type") == "RESIDENT_ID"
        and isinstance(subject.get("id_number"), str)
        and (grant is None or not _visible(grant, SUBJECT_ID_FIELD))
    ):
        record = _replaced(
            record, "subject", _replaced(subject, "id_number", mask(subject["id_number"]))
        )
        masked.append(SUBJECT_ID_FIELD)
    return View(record, tuple(masked))


# 双告知 notices: a department sees (on the feed, by webhook, by id) and claims the notices
# routed to it, with a `notice` grant for its code; a region's shared pool (`<region>-POOL`) is
# a code like any other, granted to those who assign or claim from it.


def notice_codes(grants: tuple[Grant, ...] | list[Grant]) -> set[str]:
    """The department codes whose notices these grants show (any purpose: a notice serves no
    single item)."""
    return {g.code for g in grants if g.kind == "notice"}


def notice_visible(grants: tuple[Grant, ...] | list[Grant], notice: dict[str, Any]) -> bool:
    """A notice of a granted department; or a pool notice, to those granted the pool."""
    codes = notice_codes(grants)
    if notice.get("department_code") in codes:
        return True
    pool = f"{notice.get('region_code')}-POOL"
    return notice.get("routed_by") == "POOL" and pool in codes


def notice_view(notice: Mapping[str, Any]) -> Mapping[str, Any]:
    """A notice as its department sees it (by id, on the feed, by webhook): a person's id
    number in it (an individual business's licence holder) masked; no notice grant names one."""
    return mask_personal_ids(notice, None, [])


def claiming_department(caller: Caller, notice: dict[str, Any], asked: str | None) -> str | None:
    """Who claims: None for a notice routed to a granted department (it claims as that one);
    for a pool notice, the department the caller names (`asked`), or its only one. Refuses
    (NOT_FOUND) a notice the caller may not see, and (INVALID_INPUT) a department it does not
    hold a grant for."""
    require_role(caller, "subscriber")
    if not notice_visible(caller.grants, notice):
        raise NotFound()
    if notice.get("routed_by") != "POOL" or notice.get("status") == "CLAIMED":
        return None
    pool = f"{notice.get('region_code')}-POOL"
    own = sorted(notice_codes(caller.grants) - {pool})
    if asked is None and len(own) == 1:
        return own[0]
    if asked is None or asked not in own:
        raise InvalidInput(
            "department_code: name the department that claims this pool notice, one your "
            f"member holds a notice grant for ({', '.join(own) or 'none'})"
        )
    return asked


# Feeds and webhooks: what a subscriber sees of one item of a stream, by the same grants as
# lookups. case-events and supervision-alerts go to the subscribers with a `case` grant for the
# item (`*` for every item: the e-supervision service); notices to their departments;
# certificates (their changes, deletes included) to the subscribers granted the type. Purposes:
# a grant for any purpose (`*`), or for the request's Gov-Purpose (webhooks have none).
# Personal id numbers are masked in all of them unless the grant names the field. An item that
# does not decode is shown to nobody: what it was, and so who may see it, is unknown.

FeedItem = dict[str, Any]


def feed_view(
    grants: tuple[Grant, ...] | list[Grant], stream: str, purpose: str | None = None
) -> Callable[[FeedItem], FeedItem | None]:
    if stream == "notices":
        return lambda item: _notice_feed_item(grants, item)
    if stream == "certificates":
        usable = [
            g
            for g in grants
            if g.kind == "certificate" and g.purpose in (ANY_PURPOSE, purpose or ANY_PURPOSE)
        ]
        return lambda item: _certificate_feed_item(usable, item)
    if stream in ("case-events", "supervision-alerts"):
        cases = [g for g in grants if g.kind == "case"]
        return lambda item: _case_feed_item(cases, purpose, item)
    return lambda item: None  # a stream no policy names: deny by default


def _masked_item(item: FeedItem, grant: Grant | None) -> FeedItem:
    view_masked: list[str] = []
    record = mask_personal_ids(item["event"], grant, view_masked)
    return item | {"event": record, "masked": view_masked}


def _notice_feed_item(grants: tuple[Grant, ...] | list[Grant], item: FeedItem) -> FeedItem | None:
    if item["event"] is None or not notice_visible(grants, item["event"]):
        return None
    return _masked_item(item, None)  # as `notice_view`


def _case_feed_item(cases: list[Grant], purpose: str | None, item: FeedItem) -> FeedItem | None:
    event = item["event"]
    if event is None:
        return None
    grant = case_grant(cases, str(event.get("item_code")), purpose)
    return None if grant is None else _masked_item(item, grant)


def _certificate_feed_item(usable: list[Grant], item: FeedItem) -> FeedItem | None:
    event = item["event"]
    if item.get("tombstone"):
        code = item.get("type_code")
    elif event is None:
        return None  # undecodable: what it was, and so who may see it, is unknown
    else:
        code = event.get("type_code")
    covering = sorted((g for g in usable if g.code == code), key=lambda g: g.purpose == "*")
    if not covering:
        return None
    if event is None or "record_type" in event:  # a tombstone, or a Deletion: its key alone
        return item
    sharing = str(event.get("sharing_class"))
    if sharing not in ("UNCONDITIONAL", "CONDITIONAL"):
        return None
    view = _certificate_record_view(covering[0], event, sharing)
    return item | {"event": view.record, "masked": list(view.masked)}


# Publishing: a publisher member puts on the log only what it is registered for, with times
# that are not in the future, and never a record another source system owns; the rules are
# `gateway.publishing.check`, shared with the connectors.

may_publish = check_publish
