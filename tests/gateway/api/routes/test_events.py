"""POST /v1/events/{kind}: valid records appended (read back from the log), invalid ones not."""

from __future__ import annotations

import json
import uuid

import pytest

from gateway.lookup import replay
from gateway.members.store import Grant
from schemas.codec import EventCodec, to_jsonable
from tests.gateway.api.conftest import Gateway
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate, company


@pytest.fixture
async def dept(gw: Gateway) -> Gateway:
    await gw.add_member("dept", "publisher")
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    return gw


async def records_on(gw: Gateway, stream: str) -> list[dict[str, object]]:
    codec = EventCodec()
    return [codec.decode(r.value).record async for r in gw.services.log.iterate(stream)]


async def test_a_valid_record_is_appended(dept: Gateway) -> None:
    record = to_jsonable(certificate("C-PUSHED"))
    response = await dept.post_json("/v1/events/certificates", record)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["event_id"] == record["event_id"] and answer["stream"] == "certificates"
    on_log = await records_on(dept, "certificates")
    assert [r["cert_id"] for r in on_log] == ["C-PUSHED"]
    assert to_jsonable(on_log[0]) == json.loads(json.dumps(record))


async def test_an_invalid_record_lists_every_field_error_and_appends_nothing(
    dept: Gateway,
) -> None:
    record = to_jsonable(certificate("C-BAD"))
    del record["type_name"]
    record["issue_date"] = "not a date"
    record["colour"] = "blue"
    record["region_code"] = "999999"
    record["holder"] = company() | {"id_number": "91330802MA2D4K7X00"}  # wrong check character
    response = await dept.post_json("/v1/events/certificates", record)
    body = assert_problem(response, 422, "INVALID_EVENT")
    fields = {e["field"] for e in body["errors"]}
    assert {"type_name", "issue_date", "colour", "region_code", "holder.id_number"} <= fields
    assert await records_on(dept, "certificates") == []


async def test_publishing_needs_the_publisher_role_and_a_known_kind(dept: Gateway) -> None:
    record = to_jsonable(certificate())
    refused = await dept.post_json("/v1/events/certificates", record, member="window")
    assert_problem(refused, 403, "ROLE_REQUIRED")
    assert_problem(await dept.post_json("/v1/events/nonsense", record), 404, "NOT_FOUND")
    bad_json = await dept.call("POST", "/v1/events/certificates", "dept", purpose=None, body=b"[")
    assert_problem(bad_json, 400, "INVALID_INPUT")
    assert await records_on(dept, "certificates") == []


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def test_identifiers_are_stored_as_they_passed_and_found_by_their_standard_form(
    dept: Gateway,
) -> None:
    """Issue #12, finding 12: a full-width holder id (`９１３３…Ａ`) or a lower-case check
    character (`…000a`) was accepted and logged as sent, so a lookup by the standard id found
    nothing. Now ingest stores the standard form, and lookups normalise their parameters."""
    standard = {"wide": "91330802000000000A"}
    sent = {"wide": _full_width(standard["wide"]), "lower": "91330802000000000a"}
    for n, name in enumerate(("wide", "lower")):
        record = to_jsonable(certificate(f"C-NORM-{n}", sharing="UNCONDITIONAL"))
        record["holder"]["id_number"] = sent[name]
        record["region_code"] = _full_width("330802")
        record["event_id"] = str(uuid.uuid4())
        response = await dept.post_json("/v1/events/certificates", record)
        assert response.status_code == 202, response.text
    logged = await records_on(dept, "certificates")
    assert [r["holder"]["id_number"] for r in logged] == [standard["wide"]] * 2
    assert [r["region_code"] for r in logged] == ["330802", "330802"]
    svc = dept.services
    await replay(svc.log, svc.engine, streams=["certificates"])
    for asked in (standard["wide"], _full_width(standard["wide"]), standard["wide"].lower()):
        found = await dept.call("GET", f"/v1/certificates?holder_id={asked}")
        assert found.status_code == 200, found.text
        assert sorted(i["record"]["cert_id"] for i in found.json()["items"]) == [
            "C-NORM-0",
            "C-NORM-1",
        ]
