"""The whole path in one process: a department pushes, the materializer projects, a window
system looks it up, and the answer is refused rather than given when it cannot be audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from gateway.members.store import Grant
from schemas.codec import to_jsonable
from tests.gateway.api.conftest import Gateway, gateway_settings
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate, company

LIST = f"/v1/certificates?holder_id={company()['id_number']}"


@pytest.fixture
async def live(data_dir: Path) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(data_dir, materialize=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(app, client)


async def test_a_pushed_certificate_is_materialized_and_served(live: Gateway) -> None:
    await live.add_member("dept", "publisher")
    await live.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    pushed = await live.post_json("/v1/events/certificates", to_jsonable(certificate()))
    assert pushed.status_code == 202
    for _ in range(100):
        items = (await live.call("GET", LIST)).json()["items"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert [i["record"]["cert_id"] for i in items] == ["330802-YYZZ-0001"]
    metrics = (await live.call("GET", "/metrics", member=None)).text
    assert 'govgate_materializer_lag_records{stream="certificates"} 0.0' in metrics


async def test_no_answer_without_its_audit_row(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    await gw.publish("Certificate", certificate())
    await gw.services.audit.close()  # the audit writer is gone
    response = await gw.call("GET", LIST)
    assert_problem(response, 503, "AUDIT_UNAVAILABLE")
    assert "surface_fields" not in response.text
