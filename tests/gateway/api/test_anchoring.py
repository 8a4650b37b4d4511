"""The gateway signs and anchors its audit chain head by itself: at start, every interval, at
the end; unidentified refusals are tallied into rows the anchors cover."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.api.app import create_app
from gateway.audit.anchor_file import read_anchor_file
from gateway.audit.anchors import latest_anchors
from gateway.audit.chain import verify
from gateway.audit.hashing import chain_key
from gateway.audit.signed_anchors import check_signatures
from tests.gateway.api.conftest import gateway_settings


async def test_the_chain_head_is_signed_and_anchored_periodically(
    data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "offsite" / "anchors.jsonl"
    settings = gateway_settings(
        data_dir,
        audit_anchor_interval_s=0.2,
        audit_refusals_interval_s=0.1,
        audit_anchor_file=file,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for _ in range(3):  # refused (unsigned): tallied into one row
                assert (await client.get("/v1/certificates/x")).status_code == 401
        services = app.state.services
        keys = {services.keys.keyid: services.keys.private_key.public_key()}
        for _ in range(50):
            anchors, problems = check_signatures(await latest_anchors(services.log), keys)
            if anchors and anchors[-1].seq == 1:
                break
            await asyncio.sleep(0.1)
        assert problems == [] and anchors and anchors[-1].seq == 1 and anchors[-1].signed
        key = chain_key(services.audit_secret)
        report = await verify(services.engine, key, anchors, anchors_due_s=180)
        assert report.ok and report.anchored_seq == 1
        in_file, bad = read_anchor_file(file)
        assert bad == [] and in_file[-1].seq == 1
