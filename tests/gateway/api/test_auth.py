"""Every signature refusal: status, stable code, problem details, and its audit row.

The matrix runs for every profile of `tests.gateway.api.conftest.PROFILES`: Ed25519, P-256 and
SM2 members, and SM2 members of an SM-only (国密) gateway; each refusal is the same for all.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.audit.tables import audit_rows
from gateway.members.keys import ALGORITHMS, Algorithm, algorithm_of, generate_private_key
from gateway.members.store import Grant
from tests.gateway.api.conftest import PROFILES, Gateway, Profile, Signer, gateway_settings
from tests.samples import certificate, company

HOLDER = company()["id_number"]
LIST = f"/v1/certificates?holder_id={HOLDER}"


@pytest.fixture(params=PROFILES, ids=str)
def profile(request: pytest.FixtureRequest) -> Profile:
    found: Profile = request.param
    return found


@pytest.fixture
async def window(gw: Gateway) -> Signer:
    await gw.add_member("dept", "publisher")
    await gw.publish("Certificate", certificate())
    return await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))


async def last_audit_row(gw: Gateway) -> dict[str, Any]:
    async with gw.services.engine.connect() as conn:
        row = (await conn.execute(select(audit_rows).order_by(audit_rows.c.seq.desc()))).first()
    assert row is not None
    return dict(row._mapping)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert "items" not in body and "record" not in body
    return body


async def assert_refused_and_audited(
    gw: Gateway, response: httpx.Response, status: int, code: str
) -> None:
    """Refused, and (the caller not identified) tallied, not written as a row of its own nor
    under the holder it named (issue #12, finding 9)."""
    assert_problem(response, status, code)
    assert gw.services.refusals.pending == 1
    assert await gw.services.refusals.flush() == 1
    row = await last_audit_row(gw)
    assert (row["decision"], row["code"], row["status"], row["requests"]) == (
        "deny",
        code,
        status,
        1,
    )
    assert row["route"] == "(unidentified callers)"
    assert row["holder"] is None and row["member_id"] is None


async def test_a_signed_request_is_served(gw: Gateway, window: Signer) -> None:
    response = await gw.call("GET", LIST)
    assert response.status_code == 200
    assert [i["record"]["cert_id"] for i in response.json()["items"]] == ["330802-YYZZ-0001"]


async def test_no_signature(gw: Gateway, window: Signer) -> None:
    response = await gw.call("GET", LIST, member=None)
    await assert_refused_and_audited(gw, response, 401, "SIGNATURE_MISSING")


async def test_bad_signature(gw: Gateway, window: Signer) -> None:
    signed = gw.signed("GET", LIST, window)
    other = company("91330802MA2D4K8Y1")["id_number"]
    forged = gw.client.build_request(
        "GET", f"/v1/certificates?holder_id={other}", headers=signed.headers
    )
    response = await gw.client.send(forged)
    assert_problem(response, 401, "SIGNATURE_INVALID")


async def test_unknown_key(gw: Gateway, window: Signer) -> None:
    stranger = Signer("window", generate_private_key(gw.profile.member_alg))
    response = await gw.client.send(gw.signed("GET", LIST, stranger))
    await assert_refused_and_audited(gw, response, 401, "KEY_UNKNOWN")


@pytest.mark.parametrize("other", ALGORITHMS)
async def test_wrong_algorithm_for_the_key(gw: Gateway, window: Signer, other: Algorithm) -> None:
    """A signature under the window's key id, made with a key of another algorithm (so it says
    `alg="other"`): refused as invalid, whatever the two algorithms are."""
    if other == algorithm_of(window.key):
        return
    forger = Signer("window", generate_private_key(other), claimed_keyid=window.keyid)
    response = await gw.client.send(gw.signed("GET", LIST, forger))
    await assert_refused_and_audited(gw, response, 401, "SIGNATURE_INVALID")


async def test_revoked_key(gw: Gateway, window: Signer) -> None:
    await gw.services.members.revoke_key(window.keyid)
    response = await gw.call("GET", LIST)
    await assert_refused_and_audited(gw, response, 401, "KEY_REVOKED")


async def test_expired_signature(gw: Gateway, window: Signer) -> None:
    old = int(time.time()) - 3600
    response = await gw.client.send(gw.signed("GET", LIST, window, created=old))
    await assert_refused_and_audited(gw, response, 401, "SIGNATURE_EXPIRED")


async def test_replayed_nonce(gw: Gateway, window: Signer) -> None:
    request = gw.signed("GET", LIST, window)
    assert (await gw.client.send(request)).status_code == 200
    again = await gw.client.send(gw.client.build_request("GET", LIST, headers=request.headers))
    await assert_refused_and_audited(gw, again, 401, "NONCE_REPLAYED")


async def test_digest_mismatch(gw: Gateway, window: Signer) -> None:
    signed = gw.signed("POST", "/v1/events/certificates", gw.members["dept"], body=b'{"a": 1}')
    tampered = gw.client.build_request(
        "POST", "/v1/events/certificates", headers=signed.headers, content=b'{"a": 2}'
    )
    response = await gw.client.send(tampered)
    await assert_refused_and_audited(gw, response, 400, "DIGEST_MISMATCH")


async def test_the_signature_covers_the_gateways_authority(gw: Gateway, window: Signer) -> None:
    """Issue #12, finding 13: a request signed for one gateway is refused by another."""
    other = gw.signed("GET", LIST, window, base="http://other-gateway:8080")
    refused = await gw.client.send(other)
    assert_problem(refused, 401, "SIGNATURE_INVALID")
    moved = gw.signed("GET", LIST, window)
    moved.headers["Host"] = "gateway:8443"  # sent to another port of this name
    assert_problem(await gw.client.send(moved), 401, "SIGNATURE_INVALID")
    assert (await gw.call("GET", LIST)).status_code == 200


async def test_behind_a_proxy_the_public_url_is_the_authority(data_dir: Path) -> None:
    settings = gateway_settings(data_dir, public_url="https://gw.example.gov.cn")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # the proxy reaches the gateway as http://gateway (Host: gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            gw = Gateway(app, client)
            await gw.add_member("dept", "publisher")
            await gw.publish("Certificate", certificate())
            window = await gw.add_member(
                "window", "consumer", grants=(Grant("certificate", "YYZZ"),)
            )
            public = gw.signed("GET", LIST, window, base="https://gw.example.gov.cn")
            assert (await client.send(public)).status_code == 200
            inner = gw.signed("GET", LIST, window)  # signed for the inner name: not the gateway's
            assert_problem(await client.send(inner), 401, "SIGNATURE_INVALID")
