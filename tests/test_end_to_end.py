"""The whole way round: a connector pulls a licence from the simulated 市场监管 system, the
materializer projects it, and a window system using only the client and its own key gets it,
verifies the gateway's signature, and the access shows in the holder's access log: with
Ed25519 keys, and on an SM-only (国密) gateway with SM2 keys and SM3 digests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.mapping import load_connector_spec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import offset_store
from connectors.simulators.scjg import ScjgSimulator
from connectors.sources.factory import build_source
from gateway.client import GatewayClient
from gateway.lookup import replay
from gateway.members.store import Grant
from schemas.codec import DecodedEvent, EventCodec
from tests.gateway.api import conftest as api
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.gateway.test_client import profile as window_profiles
from tests.gateway.test_client import url as served_gateway

gw = api.gw
profile = window_profiles  # Ed25519 members of a default gateway, SM2 ones of an SM-only one
url = served_gateway  # the gateway app served by uvicorn on a loopback port
PROFILE = Path(__file__).resolve().parent.parent / "connectors" / "profiles" / "scjg-yyzz.yaml"


async def test_a_pulled_licence_reaches_a_window_system(
    gw: Gateway,
    url: str,  # noqa: F811 - the fixture above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    department = f"sqlite:///{tmp_path / 'scjg.db'}"
    async with ScjgSimulator(department, seed=5) as scjg:
        await scjg.add_licences(3)
    monkeypatch.setenv("GOVGATE_SCJG_DB_URL", department)
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(tmp_path))  # the key snapshot goes there
    spec = load_connector_spec(PROFILE)
    services = gw.services
    state = await ConnectorRuntime(
        spec,
        build_source(spec, backfill=True),
        services.log,
        offset_store(services.log, services.engine),
    ).run()
    assert state.records == 3
    await replay(services.log, services.engine, streams=["certificates"])
    [pulled] = [e.record async for e in _certificates(gw)][:1]
    holder = pulled["holder"]["id_number"]

    window = await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    portal = await gw.add_member("portal", "auditor")
    async with GatewayClient(url, member_id="window", private_key=window.key) as client:
        answer = await client.certificates(holder, "YYZZ", purpose=PURPOSE, case="SL-UNSEEN-1")
    [item] = answer.data["items"]
    assert item["record"]["cert_id"] == pulled["cert_id"]
    assert item["record"]["provenance"]["connector"] == "scjg-yyzz"
    assert answer.verified.keyid == services.keys.keyid

    async with GatewayClient(url, member_id="portal", private_key=portal.key) as auditor:
        log = await auditor.access_log(holder, purpose=PURPOSE)
    assert any(a["member_id"] == "window" and a["purpose"] == PURPOSE for a in log.data["items"])


async def _certificates(gw: Gateway) -> AsyncIterator[DecodedEvent]:
    codec = EventCodec()
    async for record in gw.services.log.iterate("certificates"):
        yield codec.decode(record.value)
