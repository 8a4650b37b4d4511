"""The window system's client against the real app: signed calls, verified answers, refusals.

The app is served by uvicorn on a loopback port (the gateway fixture owns its lifespan), so
requests travel as real HTTP, Chinese queries and all; tampering is done by a transport that
alters what the gateway sent, the way a proxy on the path could. Every test runs with Ed25519
members of a default gateway, and with SM2 members of an SM-only (国密) gateway: SM2 request
and response signatures, SM3 digests both ways.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from gateway.client import (
    GatewayClient,
    InvalidRequest,
    NotAuthorized,
    NotFound,
    ResponseNotVerified,
)
from gateway.members.keys import algorithm_of, generate_private_key, key_id, keys_from_jwks
from gateway.members.store import Grant
from gateway.signatures import verify_response
from gateway.signatures.errors import SignatureError
from tests.conftest import free_port
from tests.gateway.api import conftest as api
from tests.gateway.api.conftest import PROFILES, PURPOSE, Gateway, Profile, Signer
from tests.samples import certificate, company

HOLDER = company()["id_number"]
CASE = "SL330802202611230001"
gw = api.gw  # the gateway fixture of tests/gateway/api (SQLite; PostgreSQL when marked)


@pytest.fixture(params=[p for p in PROFILES if p.name in ("ed25519", "sm-only")], ids=str)
def profile(request: pytest.FixtureRequest) -> Profile:
    found: Profile = request.param
    return found


@pytest.fixture
async def url(gw: Gateway) -> AsyncIterator[str]:
    """The gateway app served by uvicorn on 127.0.0.1 (its lifespan is the fixture's)."""
    port = free_port()
    config = uvicorn.Config(gw.app, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def window(gw: Gateway) -> Signer:
    await gw.add_member("dept", "publisher")
    await gw.add_member("portal", "auditor")
    await gw.publish("Certificate", certificate())
    grant = Grant("certificate", "YYZZ", "*", ("holder.id_number",))
    return await gw.add_member("window", "consumer", grants=(grant,))


def client(url: str, signer: Signer, **kw: object) -> GatewayClient:
    return GatewayClient(url, member_id=signer.member_id, private_key=signer.key, **kw)  # type: ignore[arg-type]


async def test_a_window_gets_a_certificate_verified_and_the_access_is_logged(
    gw: Gateway, window: Signer, url: str
) -> None:
    async with client(url, window) as win:
        page = await win.certificates(HOLDER, "YYZZ", purpose=PURPOSE, case=CASE)
        one = await win.certificate("330802-YYZZ-0001", purpose=PURPOSE, case=CASE)
        nobody = await win.certificates("张三", purpose=PURPOSE)  # percent-encoded, signed
    assert [i["record"]["cert_id"] for i in page.data["items"]] == ["330802-YYZZ-0001"]
    assert one.data["record"]["holder"]["id_number"] == HOLDER
    assert page.verified.keyid == gw.services.keys.keyid
    assert nobody.data == {"items": [], "next_after": None}
    alg = gw.profile.member_alg  # the member's and, on the SM-only gateway, the gateway's
    assert f'alg="{alg}"' in page.response.request.headers["signature-input"]
    assert (
        f'alg="{algorithm_of(gw.services.keys.private_key)}"'
        in (page.response.headers["signature-input"])
    )
    assert page.response.headers["content-digest"].startswith(f"{gw.profile.digest}=:")

    archived = json.dumps(page.proof())  # kept by the window system as it was told …
    jwks = json.dumps((await gw.client.get("/.well-known/govgate-keys")).json())
    proof = json.loads(archived)  # … and checked a year later against the published keys
    verified = verify_response(
        proof["response"]["status"],
        proof["response"]["headers"],
        base64.b64decode(proof["response"]["body_b64"]),
        request_method=proof["request"]["method"],
        request_url=proof["request"]["url"],
        request_headers=proof["request"]["headers"],
        keys=keys_from_jwks(json.loads(jwks)),
        max_age=None,
        now=time.time() + 365 * 86400,
    )
    assert verified.keyid == proof["gateway_keyid"] == gw.services.keys.keyid
    altered = base64.b64decode(proof["response"]["body_b64"]).replace(b"YYZZ", b"YYZY")
    with pytest.raises(SignatureError):
        verify_response(
            proof["response"]["status"],
            proof["response"]["headers"],
            altered,
            request_method=proof["request"]["method"],
            request_url=proof["request"]["url"],
            request_headers=proof["request"]["headers"],
            keys=keys_from_jwks(json.loads(jwks)),
            max_age=None,
        )

    async with client(url, gw.members["portal"]) as portal:
        log = await portal.access_log(HOLDER)
    looks = [(i["member_id"], i["purpose"], i["case_no"]) for i in log.data["items"]]
    assert ("window", PURPOSE, CASE) in looks
    assert len([m for m, _, _ in looks if m == "window"]) == 2  # the list and the one by id


class FlipBodyByte(httpx.AsyncBaseTransport):
    """Passes requests on and alters one byte of every response body on the way back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = bytearray(await response.aread())
        body[len(body) // 2] ^= 0x01
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_tampered_response_is_not_verified(gw: Gateway, window: Signer, url: str) -> None:
    transport = FlipBodyByte(httpx.AsyncHTTPTransport())
    keys = {gw.services.keys.keyid: gw.services.keys.private_key.public_key()}  # pinned
    async with client(url, window, transport=transport, gateway_keys=keys) as win:
        with pytest.raises(ResponseNotVerified, match="DIGEST_MISMATCH|SIGNATURE_INVALID"):
            await win.certificates(HOLDER, purpose=PURPOSE)


async def test_a_response_by_a_key_not_published_is_not_verified(
    gw: Gateway, window: Signer, url: str
) -> None:
    stranger = generate_private_key(gw.profile.member_alg).public_key()
    async with client(url, window, gateway_keys={key_id(stranger): stranger}) as win:
        with pytest.raises(ResponseNotVerified, match="KEY_UNKNOWN"):
            await win.certificates(HOLDER, purpose=PURPOSE)


async def test_refusals_are_typed(gw: Gateway, window: Signer, url: str) -> None:
    async with client(url, window) as win:
        with pytest.raises(NotAuthorized) as refused:
            await win.certificates(HOLDER, "JZZ", purpose=PURPOSE)
        assert (refused.value.status, refused.value.code) == (403, "TYPE_NOT_GRANTED")
        assert refused.value.answer.verified.keyid == gw.services.keys.keyid  # refusals verify
        with pytest.raises(NotAuthorized, match="ROLE_REQUIRED"):
            await win.access_log(HOLDER)
        with pytest.raises(NotFound):
            await win.certificate("330802-YYZZ-9999", purpose=PURPOSE)
        with pytest.raises(InvalidRequest, match="PURPOSE_MISSING"):
            await win.request("GET", "/v1/certificates", params={"holder_id": HOLDER})
        with pytest.raises(InvalidRequest, match="INVALID_INPUT"):
            await win.certificates(HOLDER, purpose=PURPOSE, limit=0)
    stranger = Signer("window", generate_private_key(gw.profile.member_alg))
    async with client(url, stranger) as unknown:
        with pytest.raises(NotAuthorized, match="KEY_UNKNOWN"):
            await unknown.certificates(HOLDER, purpose=PURPOSE)


async def test_publish_and_field_errors(gw: Gateway, window: Signer, url: str) -> None:
    async with client(url, gw.members["dept"]) as dept:
        accepted = await dept.publish("certificates", certificate("330802-YYZZ-0002"))
        assert accepted.status == 202 and accepted.data["stream"] == "certificates"
        broken = certificate("330802-YYZZ-0003") | {"issue_date": "not a date"}
        with pytest.raises(InvalidRequest) as invalid:
            await dept.publish("certificates", broken)
    assert invalid.value.status == 422 and invalid.value.code == "INVALID_EVENT"
    assert "issue_date" in {e["field"] for e in invalid.value.errors}


class DropWantContentDigest(httpx.AsyncBaseTransport):
    """Passes requests on without their Want-Content-Digest, as a meddling proxy could."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers.pop("want-content-digest", None)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_client_that_asks_for_sm3_takes_no_other_digest(
    gw: Gateway, window: Signer, url: str
) -> None:
    transport = DropWantContentDigest(httpx.AsyncHTTPTransport())
    async with client(url, window, digest="sm3", transport=transport) as win:
        if gw.profile.name == "sm-only":  # the gateway answers in SM3 whatever is asked
            answer = await win.certificates(HOLDER, purpose=PURPOSE, case=CASE)
            assert answer.response.headers["content-digest"].startswith("sm3=:")
            return
        with pytest.raises(ResponseNotVerified, match="DIGEST_NOT_ALLOWED"):
            await win.certificates(HOLDER, purpose=PURPOSE)
    async with client(url, window, digest="sm3") as win:  # unhindered, it is answered in SM3
        answer = await win.certificates(HOLDER, purpose=PURPOSE, case=CASE)
        assert answer.response.headers["content-digest"].startswith("sm3=:")
