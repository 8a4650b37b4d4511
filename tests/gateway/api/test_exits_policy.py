"""#12.3, #12.4, #12.8 and #13.7: every exit under the same grants and masking.

Case timelines need a `case` grant; the feed (JSON and SSE) and webhooks show case events only
under one, with resident ids masked unless the grant names the field; a grant naming no field
unmasks nothing, `*` unmasks all but personal ids; 有条件共享 lookups are bound to a case of
the purpose's item and the holder.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.members.store import Grant
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.gateway.api.routes.test_feeds import sse_events
from tests.gateway.api.test_auth import assert_problem
from tests.samples import case_event, certificate, company, person

CASE = "SL330802202611230001"
FEED = "/v1/feeds/case-events"


def person_case(case_no: str = CASE, item: str = PURPOSE) -> dict[str, Any]:
    record = case_event(case_no)
    record["applicant"] = person()
    record["item_code"] = item
    return record


# -- #12.3 / #13.8: a case timeline needs a grant ---------------------------------------------


async def test_a_timeline_needs_a_case_grant(gw: Gateway) -> None:
    await gw.add_member("window", "consumer")  # no grant at all: read any timeline before
    await gw.add_member("other", "consumer", grants=(Grant("case", PURPOSE, "ITEM-X"),))
    await gw.add_member("granted", "consumer", grants=(Grant("case", PURPOSE),))
    await gw.publish("CaseEvent", person_case())
    path = f"/v1/cases/{CASE}"
    assert_problem(await gw.call("GET", path), 403, "TYPE_NOT_GRANTED")
    missing = await gw.call("GET", "/v1/cases/SL-NONE")  # the same with or without data
    assert_problem(missing, 403, "TYPE_NOT_GRANTED")
    assert_problem(await gw.call("GET", path, "other"), 403, "PURPOSE_NOT_GRANTED")
    shown = await gw.call("GET", path, "granted")
    assert shown.status_code == 200, shown.text
    [event] = shown.json()["events"]
    assert event["record"]["applicant"]["id_number"] != person()["id_number"]
    assert event["masked"] == ["applicant.id_number"]


async def test_a_timeline_shows_the_applicant_id_only_when_the_grant_names_it(
    gw: Gateway,
) -> None:
    named = Grant("case", PURPOSE, "*", ("applicant.id_number",))
    await gw.add_member("window", "consumer", grants=(named,))
    await gw.publish("CaseEvent", person_case())
    [event] = (await gw.call("GET", f"/v1/cases/{CASE}")).json()["events"]
    assert event["record"]["applicant"]["id_number"] == person()["id_number"]


# -- #12.4: feed, SSE and webhooks under the same policy -------------------------------------


async def test_the_feed_shows_case_events_only_under_a_grant_with_ids_masked(
    gw: Gateway,
) -> None:
    await gw.add_member("nogrant", "subscriber")
    await gw.add_member("esup", "subscriber", grants=(Grant("case", "*"),))
    await gw.add_member("item", "subscriber", grants=(Grant("case", "ITEM-B"),))
    named = Grant("case", PURPOSE, "*", ("applicant.id_number",))
    await gw.add_member("named", "subscriber", grants=(named,))
    await gw.publish("CaseEvent", person_case(), person_case("SL-B-0001", "ITEM-B"))

    def ids(member: str) -> list[tuple[str, str]]:
        return [
            (i["event"]["case_no"], i["event"]["applicant"]["id_number"]) for i in items[member]
        ]

    items = {}
    for member in ("nogrant", "esup", "item", "named"):
        page = await gw.call("GET", f"{FEED}?limit=10", member, purpose=None)
        assert page.status_code == 200, page.text
        items[member] = page.json()["items"]
    full = person()["id_number"]
    assert items["nogrant"] == []
    assert [c for c, _ in ids("esup")] == [CASE, "SL-B-0001"]
    assert all(number != full and "*" in number for _, number in ids("esup"))
    assert items["esup"][0]["masked"] == ["applicant.id_number"]
    assert [c for c, _ in ids("item")] == ["SL-B-0001"]
    assert ids("named") == [(CASE, full)]
    # SSE: the same items, the same masking
    sse = await gw.call(
        "GET", f"{FEED}?limit=10", "esup", purpose=None, headers={"Accept": "text/event-stream"}
    )
    streamed = [json.loads(e["data"]) for e in sse_events(sse.text)]
    assert [e["event"]["applicant"]["id_number"] for e in streamed] == [n for _, n in ids("esup")]
    sse = await gw.call(
        "GET", f"{FEED}?limit=10", "nogrant", purpose=None, headers={"Accept": "text/event-stream"}
    )
    assert sse_events(sse.text) == []


# -- #12.8: a grant without a field list unmasks nothing -------------------------------------


def person_certificate(cert_id: str) -> dict[str, Any]:
    record = certificate(cert_id)
    record["holder"] = person()
    return record


async def test_a_conditional_grant_naming_no_field_unmasks_nothing(gw: Gateway) -> None:
    await gw.add_member("bare", "consumer", grants=(Grant("certificate", "YYZZ"),))
    await gw.add_member("all", "consumer", grants=(Grant("certificate", "YYZZ", "*", ("*",)),))
    fields = ("*", "holder.id_number")
    await gw.add_member("named", "consumer", grants=(Grant("certificate", "YYZZ", "*", fields),))
    await gw.publish("Certificate", person_certificate("C-P"))
    full = person()["id_number"]

    async def record(member: str) -> dict[str, Any]:
        response = await gw.call("GET", "/v1/certificates/C-P", member)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["record"]
        return found

    bare, every, named = await record("bare"), await record("all"), await record("named")
    assert set(bare["surface_fields"].values()) == {"***"}
    assert bare["holder"]["id_number"] != full
    assert every["surface_fields"] == certificate()["surface_fields"]
    assert every["holder"]["id_number"] != full  # `*` is not a personal id's name
    assert named["holder"]["id_number"] == full


async def test_an_unconditional_record_masks_a_persons_id_unless_named(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    record = person_certificate("C-U")
    record["sharing_class"] = "UNCONDITIONAL"
    await gw.publish("Certificate", record)
    shown = (await gw.call("GET", "/v1/certificates/C-U", case=None)).json()
    assert shown["record"]["holder"]["id_number"] != person()["id_number"]
    assert shown["record"]["surface_fields"] == record["surface_fields"]


# -- #13.7: purpose binding -------------------------------------------------------------------


async def test_conditional_lookups_are_bound_to_a_case_of_the_item_and_holder(
    gw: Gateway,
) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ", "*", ("*",)),))
    open_ = certificate("C-OPEN", "UNCONDITIONAL")
    open_["event_id"] = open_["event_id"][:-4] + "0fff"
    await gw.publish("Certificate", certificate("C-COND"), open_)
    other_holder = case_event("SL-OTHER-HOLDER")
    other_holder["applicant"] = company("91330802MA2D4K8Y0")
    await gw.publish(
        "CaseEvent",
        case_event(CASE),  # item PURPOSE, applicant the certificates' holder
        person_case("SL-OTHER-ITEM", "ITEM-X"),
        other_holder,
    )
    path = "/v1/certificates/C-COND"
    assert_problem(await gw.call("GET", path, case=None), 400, "CASE_REQUIRED")
    assert_problem(await gw.call("GET", path, case="SL-OTHER-ITEM"), 403, "CASE_MISMATCH")
    assert_problem(await gw.call("GET", path, case="SL-OTHER-HOLDER"), 403, "CASE_MISMATCH")
    assert (await gw.call("GET", path, case=CASE)).status_code == 200
    assert (await gw.call("GET", path, case="SL-NOT-SEEN")).status_code == 200
    holder = certificate()["holder"]["id_number"]
    listed = f"/v1/certificates?holder_id={holder}"
    assert_problem(await gw.call("GET", listed, case=None), 400, "CASE_REQUIRED")
    assert (await gw.call("GET", listed, case=CASE)).status_code == 200
    # an unconditional record needs no case
    assert (await gw.call("GET", "/v1/certificates/C-OPEN", case=None)).status_code == 200
