"""Deletes at an SQL source reach the lookup store: a licence row deleted in the simulated
市场监管 database disappears from lookups and from a rebuild, on the SQL log and on Kafka; a key
that comes back is a new version; a key scan that fails half-way deletes nothing."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import SourceUnavailable
from connectors.mapping import ConnectorSpec, load_connector_spec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import offset_store
from connectors.simulators.scjg import SCJG_YYZZ, ScjgSimulator
from connectors.sources.base import SourceRecord
from connectors.sources.factory import build_source
from connectors.sources.sql import SqlSource
from gateway.log import EventLog, open_log
from gateway.lookup import LookupStore, Materializer, clear, replay
from gateway.settings import KafkaSettings, Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import Broker

PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "profiles" / "scjg-yyzz.yaml"
codec = EventCodec()


@dataclass
class World:
    log: EventLog
    engine: AsyncEngine
    scjg: ScjgSimulator
    spec: ConnectorSpec

    async def pull(self) -> None:
        """One backfill of the 市场监管 connector: new rows, then a key scan."""
        source = build_source(self.spec, backfill=True)
        await ConnectorRuntime(
            self.spec, source, self.log, offset_store(self.log, self.engine)
        ).run()

    async def materialize(self) -> None:
        await Materializer(self.log, self.engine, group=f"m{uuid.uuid4().hex[:8]}").run(
            until_caught_up=True
        )

    async def cert_ids(self) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT cert_id FROM lk_certificates"))
            return {r[0] for r in rows}

    async def cert_id_of(self, row_id: str) -> str:
        async with self.scjg.engine.connect() as conn:
            uscc = await conn.scalar(
                select(SCJG_YYZZ.c.TYSHXYDM).where(SCJG_YYZZ.c.ID == int(row_id))
            )
        return f"YYZZ-{uscc}"

    async def on_log(self) -> list[tuple[str, str | None]]:
        """(key, record type or 'tombstone') of every record on the certificates stream."""
        found = []
        async for record in self.log.iterate("certificates"):
            kind = "tombstone" if record.value is None else codec.decode(record.value).name
            found.append(((record.key or b"").decode(), kind))
        return found


def spec_with(page_size: int, snapshot: Path) -> ConnectorSpec:
    spec = load_connector_spec(PROFILE)
    source = dict(spec.source)
    source["deletes"] = {"every_s": 3600, "snapshot_url": f"sqlite:///{snapshot}"} | {
        "page_size": page_size
    }
    return spec.model_copy(update={"source": source})


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def world(
    request: pytest.FixtureRequest,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    settings = Settings(data_dir=data_dir)
    if request.param == "kafka":
        broker: Broker = request.getfixturevalue("kafka_broker")
        kafka = KafkaSettings(
            bootstrap=broker.bootstrap,
            topic_prefix=f"del{uuid.uuid4().hex[:10]}",
            partitions=3,
            request_timeout_ms=5000,
            session_timeout_ms=1500,
        )
        settings = Settings(data_dir=data_dir, kafka=kafka)
    department = f"sqlite:///{tmp_path / 'scjg.db'}"
    monkeypatch.setenv("GOVGATE_SCJG_DB_URL", department)
    async with (
        ScjgSimulator(department, seed=11) as scjg,
        open_database(settings) as engine,
        open_log(settings, engine) as log,
    ):
        yield World(log, engine, scjg, spec_with(2, tmp_path / "snapshots" / "scjg.db"))


async def test_a_deleted_licence_row_disappears_from_lookups_and_a_rebuild(world: World) -> None:
    keys = await world.scjg.add_licences(5)
    await world.pull()
    await world.materialize()
    everyone = {await world.cert_id_of(k) for k in keys}
    assert await world.cert_ids() == everyone

    gone = await world.cert_id_of(keys[1])
    assert await world.scjg.delete_licences([keys[1]]) == 1
    await world.pull()
    await world.materialize()

    assert await world.cert_ids() == everyone - {gone}
    assert await LookupStore(world.engine).certificate(gone) is None
    on_log = await world.on_log()
    assert [kind for key, kind in on_log if key == gone] == ["Certificate", "Deletion", "tombstone"]
    deletion = [
        codec.decode(r.value).record
        async for r in world.log.iterate("certificates")
        if r.value is not None and codec.decode(r.value).name == "Deletion"
    ]
    assert [(d["key"], d["type_code"], d["how"]) for d in deletion] == [
        (gone, "YYZZ", "SNAPSHOT_DIFF")
    ]
    assert deletion[0]["provenance"]["source_key"] == keys[1]

    await clear(world.engine)
    await replay(world.log, world.engine, streams=["certificates"])
    assert await world.cert_ids() == everyone - {gone}

    await world.pull()  # a later scan finds nothing new to delete
    assert [kind for key, kind in await world.on_log() if key == gone].count("Deletion") == 1


async def test_a_key_that_comes_back_after_its_delete_is_a_new_version(world: World) -> None:
    [key] = await world.scjg.add_licences(1)
    await world.pull()
    cert_id = await world.cert_id_of(key)
    async with world.scjg.engine.connect() as conn:
        row = dict(
            (await conn.execute(select(SCJG_YYZZ).where(SCJG_YYZZ.c.ID == 1))).one()._mapping
        )
    await world.scjg.delete_licences([key])
    await world.pull()
    await world.materialize()
    assert await world.cert_ids() == set()

    row["GXSJ"] = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=9)  # re-registered
    async with world.scjg.engine.begin() as conn:
        await conn.execute(insert(SCJG_YYZZ).values(row))
    await world.pull()
    await world.materialize()
    assert await world.cert_ids() == {cert_id}

    await clear(world.engine)
    await replay(world.log, world.engine, streams=["certificates"])
    assert await world.cert_ids() == {cert_id}


async def test_a_key_scan_that_fails_half_way_deletes_nothing(world: World) -> None:
    keys = await world.scjg.add_licences(6)
    await world.pull()
    await world.scjg.delete_licences([keys[4]])  # a real delete, behind the failure point

    source = build_source(world.spec, backfill=True)
    assert isinstance(source, SqlSource) and source.deletes is not None

    async def table_away(page: int) -> None:
        if page == 1:  # the department's table is renamed away mid-scan (a maintenance job)
            async with world.scjg.engine.begin() as conn:
                await conn.execute(text('ALTER TABLE "SCJG_YYZZ" RENAME TO "SCJG_YYZZ_OLD"'))

    source.deletes.on_page = table_away
    handed: list[SourceRecord] = []
    await source.start(_Saved(await offset_store(world.log, world.engine).load("scjg-yyzz")))
    with pytest.raises(SourceUnavailable):
        async with contextlib.aclosing(source.batches()) as batches:
            async for batch in batches:
                handed += batch
    scans = source.deletes._snapshot().state
    await source.close()
    assert [r for r in handed if r.deleted] == []
    assert (scans.started, scans.completed) == (2, 1)  # the second scan never completed

    async with world.scjg.engine.begin() as conn:
        await conn.execute(text('ALTER TABLE "SCJG_YYZZ_OLD" RENAME TO "SCJG_YYZZ"'))
    await world.pull()
    deleted = [key for key, kind in await world.on_log() if kind == "Deletion"]
    assert deleted == [await _cert_id_from_log(world, keys[4])]


class _Saved:
    def __init__(self, saved: dict[str, Any]) -> None:
        self.saved = saved

    async def get(self, partition: str) -> dict[str, Any] | None:
        return self.saved.get(partition)


async def _cert_id_from_log(world: World, row_id: str) -> str:
    async for record in world.log.iterate("certificates"):
        if record.value is not None:
            decoded = codec.decode(record.value).record
            if decoded["provenance"]["source_key"] == row_id and "cert_id" in decoded:
                return str(decoded["cert_id"])
    raise AssertionError(f"no certificate of row {row_id} on the log")


async def test_deletes_not_yet_on_the_log_are_handed_out_again_after_a_restart(
    world: World,
) -> None:
    keys = await world.scjg.add_licences(4)
    await world.pull()
    await world.scjg.delete_licences([keys[2]])
    saved = await offset_store(world.log, world.engine).load("scjg-yyzz")

    async def deletes_handed_out() -> list[str]:
        source = build_source(world.spec, backfill=True)
        await source.start(_Saved(saved))
        try:
            async with contextlib.aclosing(source.batches()) as batches:
                return [r.key async for batch in batches for r in batch if r.deleted]
        finally:
            await source.close()

    assert await deletes_handed_out() == [keys[2]]  # found, never committed: a crash
    assert await deletes_handed_out() == [keys[2]]  # handed out again, no new scan needed
    await world.pull()  # now delivered and committed
    assert await deletes_handed_out() == []
