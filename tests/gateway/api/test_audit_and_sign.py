"""Audit rows for every request, the holder's access log, signed responses, /metrics."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from gateway.api.services import load_signing_keys
from gateway.audit.log import holder_hash
from gateway.audit.tables import audit_rows
from gateway.members.keys import keys_from_jwks
from gateway.members.store import Grant
from gateway.signatures import verify_response
from gateway.signatures.errors import SignatureError
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate, company

HOLDER = company()["id_number"]
LIST = f"/v1/certificates?holder_id={HOLDER}"


async def setup(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    await gw.add_member("portal", "auditor")
    await gw.publish("Certificate", certificate())


async def test_every_request_of_a_member_has_one_audit_row(gw: Gateway) -> None:
    await setup(gw)
    answers = [
        await gw.call("GET", LIST),
        await gw.call("GET", LIST, member=None),
        await gw.call("GET", LIST, purpose=None),
        await gw.call("GET", "/v1/certificates/330802-YYZZ-0001"),
        await gw.call("GET", "/v1/nowhere"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 400, 200, 404]
    await gw.call("GET", "/healthz", member=None)  # operations are not audited
    rows = await all_rows(gw)
    assert len(rows) == 3  # the member's; the unsigned and the unrouted ones are tallied
    first = rows[0]
    secret = gw.services.audit_secret
    assert (first["member_id"], first["keyid"]) == ("window", gw.members["window"].keyid)
    assert (first["route"], first["purpose"], first["decision"], first["status"]) == (
        "/v1/certificates",
        PURPOSE,
        "allow",
        200,
    )
    assert first["holder"] == holder_hash(secret, HOLDER) and first["holder_type"] == "USCC"
    assert [r["decision"] for r in rows] == ["allow", "deny", "allow"]
    assert [r["code"] for r in rows] == [None, "PURPOSE_MISSING", None]
    assert rows[2]["holder"] == holder_hash(secret, HOLDER)  # by id: the holder it turned out to be
    assert await gw.services.refusals.flush() == 2
    tallies = (await all_rows(gw))[3:]
    assert [
        (r["code"], r["status"], r["requests"], r["member_id"], r["holder"]) for r in tallies
    ] == [
        ("NOT_FOUND", 404, 1, None, None),
        ("SIGNATURE_MISSING", 401, 1, None, None),
    ]
    assert HOLDER not in str(await all_rows(gw))  # the id number itself is never stored


async def all_rows(gw: Gateway) -> list[dict[str, object]]:
    async with gw.services.engine.connect() as conn:
        found = await conn.execute(select(audit_rows).order_by(audit_rows.c.seq))
        return [dict(r) for r in found.mappings()]


async def test_an_unsigned_flood_costs_one_tally_row_and_reaches_no_access_log(
    gw: Gateway,
) -> None:
    """Issue #12, finding 9: each unsigned request was a durable, chained row filed under the
    holder it named, so anyone could grow the audit table without bound and write into any
    person's access log."""
    await setup(gw)
    person = "330802198904173748"
    for _ in range(120):
        refused = await gw.call("GET", f"/v1/certificates?holder_id={person}", member=None)
        assert refused.status_code == 401
    for _ in range(30):
        await gw.call("GET", f"/v1/certificates/{person}", member=None)
    assert await all_rows(gw) == []  # nothing written per request
    text = (await gw.call("GET", "/metrics", member=None)).text
    assert 'govgate_unidentified_refusals_total{code="SIGNATURE_MISSING"} 150.0' in text
    assert await gw.services.refusals.flush() == 1
    [tally] = await all_rows(gw)
    assert (tally["code"], tally["status"], tally["requests"]) == ("SIGNATURE_MISSING", 401, 150)
    assert (tally["member_id"], tally["holder"], tally["route"]) == (
        None,
        None,
        "(unidentified callers)",
    )
    assert person not in str(tally)
    looked = await gw.call("GET", f"/v1/access-log?holder_id={person}", "portal")
    assert looked.json()["items"] == []  # the person's log shows members' requests only
    await gw.call("GET", f"/v1/certificates/{person}")  # a member's: audited, pseudonymised
    rows = await all_rows(gw)
    assert rows[-1]["member_id"] == "window" and person not in str(rows)
    assert rows[-1]["path"].startswith("/v1/certificates/{id:")


async def test_an_auditor_reads_who_looked_at_a_holder(gw: Gateway) -> None:
    await setup(gw)
    await gw.call("GET", LIST, case="SL330802202611230001")
    await gw.call("GET", f"{LIST}&type_code=JZZ")  # refused looks are listed too
    assert_problem(await gw.call("GET", f"/v1/access-log?holder_id={HOLDER}"), 403, "ROLE_REQUIRED")

    page = (await gw.call("GET", f"/v1/access-log?holder_id={HOLDER}&limit=2", "portal")).json()
    # newest first: the consumer's refused access-log attempt, then the refused lookup
    assert [(i["member_id"], i["code"]) for i in page["items"]] == [
        ("window", "ROLE_REQUIRED"),
        ("window", "TYPE_NOT_GRANTED"),
    ]
    rest = await gw.call(
        "GET", f"/v1/access-log?holder_id={HOLDER}&after={page['next_after']}", "portal"
    )
    first_look = rest.json()["items"][-1]
    assert first_look["purpose"] == PURPOSE and first_look["case_no"] == "SL330802202611230001"
    assert (first_look["decision"], first_look["route"]) == ("allow", "/v1/certificates")
    assert rest.json()["next_after"] is None
    other = await gw.call("GET", "/v1/access-log?holder_id=330802198506150011", "portal")
    assert other.json()["items"] == []


def verify(response: httpx.Response, keys: dict[str, object]) -> None:
    request = response.request
    verify_response(
        response.status_code,
        response.headers,
        response.content,
        request_method=request.method,
        request_url=str(request.url),
        request_headers=request.headers,
        keys=keys,  # type: ignore[arg-type]
    )


async def test_responses_verify_with_the_published_keys(gw: Gateway) -> None:
    await setup(gw)
    jwks = await gw.call("GET", "/.well-known/govgate-keys", member=None)
    keys = keys_from_jwks(jwks.json())
    assert list(keys) == [gw.services.keys.keyid]
    verify(jwks, keys)
    for response in (
        await gw.call("GET", LIST),
        await gw.call("GET", LIST, member=None),  # problem details are signed too
        await gw.call("GET", f"{LIST}&type_code=JZZ"),
    ):
        verify(response, keys)
        assert "signature" in response.headers
    # the signature is bound to the request: it does not verify as the answer to another
    answer = await gw.call("GET", LIST)
    other = gw.client.build_request("GET", LIST + "&limit=1", headers=answer.request.headers)
    moved = httpx.Response(
        answer.status_code, headers=answer.headers, content=answer.content, request=other
    )
    try:
        verify(moved, keys)
        raise AssertionError("a response verified as the answer to another request")
    except SignatureError:
        pass


async def test_the_response_key_is_private_and_kept_across_restarts(gw: Gateway) -> None:
    settings = gw.services.settings
    path = settings.data_dir / "keys" / "gateway.private.pem"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_signing_keys(settings).keyid == gw.services.keys.keyid


async def test_metrics_count_requests_by_route_and_decision(gw: Gateway) -> None:
    await setup(gw)
    await gw.call("GET", LIST)
    await gw.call("GET", LIST, member=None)
    text = (await gw.call("GET", "/metrics", member=None)).text
    assert (
        'govgate_requests_total{code="",decision="allow",method="GET",route="/v1/certificates"} 1.0'
        in text
    )
    assert 'decision="deny"' in text and 'code="SIGNATURE_MISSING"' in text
    assert "govgate_request_duration_seconds_bucket" in text
    assert "govgate_audit_pending_rows 0.0" in text


async def test_audit_rows_are_committed_before_the_answer(gw: Gateway) -> None:
    await setup(gw)
    await gw.call("GET", LIST)
    async with gw.services.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(audit_rows)) == 1
