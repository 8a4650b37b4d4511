"""Deletes at an HTTP source: the simulated 自然资源 API lists deleted titles at a deletions
endpoint; the shipped profile reads it, and the deleted title leaves the lookup store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from connectors.mapping import load_connector_spec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import offset_store
from connectors.simulators.zrzy import ZrzySimulator, create_app
from connectors.sources.http import HttpSource, HttpSourceConfig
from gateway.log import open_log
from gateway.lookup import clear, replay
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec

PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "profiles" / "zrzy-bdcqz.yaml"
TOKEN = "t0ken"


async def test_a_title_listed_as_deleted_leaves_the_lookup_store(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVGATE_ZRZY_API_AUTH", f"Bearer {TOKEN}")
    spec = load_connector_spec(PROFILE)
    sim = ZrzySimulator(seed=3)
    keys = sim.add_certificates(4)
    transport = httpx.ASGITransport(app=create_app(sim, TOKEN))
    config = HttpSourceConfig(**{k: v for k, v in spec.source.items() if k != "kind"})
    settings = Settings(data_dir=data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as log:

        async def pull() -> None:
            source = HttpSource(spec.name, config, backfill=True, transport=transport)
            await ConnectorRuntime(spec, source, log, offset_store(log, engine)).run()
            await replay(log, engine, streams=["certificates"])

        async def cert_ids() -> set[str]:
            async with engine.connect() as conn:
                return {
                    r[0] for r in await conn.execute(text("SELECT cert_id FROM lk_certificates"))
                }

        await pull()
        assert await cert_ids() == {f"BDCQZ-{k}" for k in keys}
        sim.delete_certificates([keys[2]])
        await pull()
        assert await cert_ids() == {f"BDCQZ-{k}" for k in keys} - {f"BDCQZ-{keys[2]}"}
        await pull()  # read from the saved cursor: the delete is not handed out twice

        codec = EventCodec()
        deletions = [
            codec.decode(r.value).record
            async for r in log.iterate("certificates")
            if r.value is not None and codec.decode(r.value).name == "Deletion"
        ]
        [deletion] = deletions
        assert deletion["key"] == f"BDCQZ-{keys[2]}"
        assert deletion["how"] == "DELETIONS_ENDPOINT" and deletion["deleted_at"] is not None
        assert deletion["type_code"] == "BDCQZ"

        await clear(engine)
        await replay(log, engine, streams=["certificates"])
        assert f"BDCQZ-{keys[2]}" not in await cert_ids() and len(await cert_ids()) == 3
