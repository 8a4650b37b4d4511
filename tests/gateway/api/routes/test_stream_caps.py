"""SSE streams are capped per member and per gateway; lookups go on while the cap is hit.

Issue #12, finding 7: one subscriber opened 1,000 streams (all 200) and signed lookups slowed
from ~40 ms to 3-10 s. Over a real socket (uvicorn), streams are held open; one more is a 429
TOO_MANY_STREAMS problem with Retry-After; a lookup and a JSON feed page are answered all the
while (asserted by their answers, not by timings); a closed stream frees its slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.api.app import create_app
from gateway.members.store import Grant
from gateway.members.store import Grant as _Grant
from tests.conftest import free_port
from tests.gateway.api.conftest import Gateway, gateway_settings
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate, company

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

FEED = "/v1/feeds/case-events"
SSE = {"Accept": "text/event-stream"}


@pytest.fixture
async def served(data_dir: Path) -> AsyncIterator[tuple[Gateway, str]]:
    app = create_app(gateway_settings(data_dir, max_streams_per_member=2, max_streams=3))
    async with app.router.lifespan_context(app):
        port = free_port()
        config = uvicorn.Config(app, port=port, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as local:
            gw = Gateway(app, local)
            await gw.add_member("sup", "subscriber", grants=(EVERY_CASE,))
            await gw.add_member("sup2", "subscriber", grants=(EVERY_CASE,))
            await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
            await gw.publish("Certificate", certificate())
            try:
                yield gw, url
            finally:
                server.should_exit = True
                await serving


async def open_stream(gw: Gateway, client: httpx.AsyncClient, member: str) -> httpx.Response:
    path = f"{FEED}?wait=25"
    base = str(client.base_url).rstrip("/")
    signed = gw.signed("GET", path, gw.members[member], headers=SSE, base=base)
    request = client.build_request("GET", path, headers=without_host(signed.headers))
    return await client.send(request, stream=True)


def without_host(headers: httpx.Headers) -> dict[str, str]:
    """The signed headers, but the Host the in-process client put there: this client sets
    its own (the @authority the request was signed for)."""
    return {k: v for k, v in headers.items() if k.lower() != "host"}


async def test_streams_are_capped_and_lookups_keep_being_answered(
    served: tuple[Gateway, str],
) -> None:
    gw, url = served
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:

        async def call(method: str, path: str, member: str, **kw: object) -> httpx.Response:
            signed = gw.signed(method, path, gw.members[member], base=url, **kw)  # type: ignore[arg-type]
            sent = without_host(signed.headers)
            return await client.send(client.build_request(method, path, headers=sent))

        held = [await open_stream(gw, client, "sup") for _ in range(2)]
        assert [r.status_code for r in held] == [200, 200]
        refused = await open_stream(gw, client, "sup")  # the member's cap
        await refused.aread()
        body = assert_problem(refused, 429, "TOO_MANY_STREAMS")
        assert refused.headers["Retry-After"] == "5"
        assert "retry later" in body["detail"]

        held.append(await open_stream(gw, client, "sup2"))
        assert held[-1].status_code == 200
        refused = await open_stream(gw, client, "sup2")  # the gateway's cap, all members
        await refused.aread()
        assert_problem(refused, 429, "TOO_MANY_STREAMS")
        assert gw.services.streams.open == 3

        # meanwhile lookups and JSON pages are served, signed and audited as ever
        holder = company()["id_number"]
        for _ in range(5):
            looked = await call("GET", f"/v1/certificates?holder_id={holder}", "window")
            assert looked.status_code == 200, looked.text
            assert [i["record"]["cert_id"] for i in looked.json()["items"]] == ["330802-YYZZ-0001"]
            page = await call("GET", f"{FEED}?limit=5", "sup")
            assert page.status_code == 200 and page.json()["items"] == []

        await held.pop(0).aclose()  # a stream that ends gives its slot back
        for _ in range(100):
            if gw.services.streams.open == 2:
                break
            await asyncio.sleep(0.05)
        again = await open_stream(gw, client, "sup")
        assert again.status_code == 200
        held.append(again)
        for response in held:
            await response.aclose()
