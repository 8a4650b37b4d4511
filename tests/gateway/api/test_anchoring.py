"""The gateway anchors its audit chain head on the audit-anchors stream by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.api.app import create_app
from gateway.audit.anchors import latest_anchors
from gateway.audit.chain import verify
from tests.gateway.api.conftest import gateway_settings


async def test_the_chain_head_is_anchored_periodically(data_dir: Path) -> None:
    app = create_app(gateway_settings(data_dir, audit_anchor_interval_s=0.2))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for _ in range(3):  # refused (unsigned), and audited all the same
                assert (await client.get("/v1/certificates/x")).status_code == 401
        services = app.state.services
        for _ in range(50):
            anchors = await latest_anchors(services.log)
            if anchors and anchors[-1].seq == 3:
                break
            await asyncio.sleep(0.1)
        assert anchors and anchors[-1].seq == 3
        report = await verify(services.engine, anchors)
        assert report.ok and report.anchors_checked >= 1
