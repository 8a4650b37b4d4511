"""The runtime over real logs (SQLite, PostgreSQL, Kafka): dead letters, offsets, retries."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConnectorError
from connectors.mapping import load_connector_spec
from connectors.runtime.connector import _GC_YOUNG, ConnectorRuntime, _fewer_collections
from connectors.runtime.offsets import offset_store
from connectors.runtime.status import StatusStore
from connectors.sources.base import OffsetReader, Source, SourceRecord
from gateway.log import EventLog, open_log
from gateway.settings import KafkaSettings, Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import Broker
from tests.connectors.fgw_rows import mixed_rows

PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "profiles" / "fgw-tzxm.yaml"
codec = EventCodec()


class ListSource(Source):
    """A department table held in memory, read in batches with an index offset."""

    def __init__(self, rows: list[dict[str, Any]], batch: int = 500) -> None:
        super().__init__()
        self.rows = rows
        self.batch = batch
        self.next = 0
        self.committed_offsets: list[dict[str, Any]] = []

    async def start(self, offsets: OffsetReader) -> None:
        saved = await offsets.get("TZXM_SPBJ")
        self.next = saved["next"] if saved else 0

    async def batches(self) -> AsyncIterator[list[SourceRecord]]:
        while self.next < len(self.rows) and not self.stopping.is_set():
            chunk = self.rows[self.next : self.next + self.batch]
            start = self.next
            self.next += len(chunk)
            yield [
                SourceRecord(
                    "TZXM_SPBJ", {"next": start + i + 1}, "TZXM_SPBJ", r["SLBH"], r["GXSJ"], r
                )
                for i, r in enumerate(chunk)
            ]

    async def committed(self, partition: str, offset: dict[str, Any]) -> None:
        self.committed_offsets.append(offset)

    async def close(self) -> None:
        pass


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def world(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[tuple[Any, ...]]:
    if request.param == "sqlite":
        settings = Settings(data_dir=data_dir)
    else:
        broker: Broker = request.getfixturevalue("kafka_broker")
        settings = Settings(
            data_dir=data_dir,
            kafka=KafkaSettings(
                bootstrap=broker.bootstrap,
                topic_prefix=f"rt{id(request)}",
                partitions=3,
                request_timeout_ms=3000,
            ),
        )
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        yield log, offset_store(log, engine), StatusStore(engine, every_s=0)


async def values(log: EventLog, stream: str) -> list[dict[str, Any]]:
    return [codec.decode(r.value).record async for r in log.iterate(stream)]


async def test_bad_rows_go_to_dead_letters_and_every_good_row_is_delivered(world: Any) -> None:
    log, offsets, status = world
    rows, bad_keys = mixed_rows(good=10_000, bad=1_000)
    runtime = ConnectorRuntime(load_connector_spec(PROFILE), ListSource(rows), log, offsets, status)

    state = await runtime.run()

    events = await values(log, "case-events")
    dead = await values(log, "dead-letters")
    assert (state.records, state.dead_letters) == (10_000, 1_000)
    assert len(events) == 10_000 and len(dead) == 1_000
    assert {e["case_no"] for e in events} == {r["SLBH"] for r in rows} - bad_keys
    assert {d["provenance"]["source_key"] for d in dead} == bad_keys
    codes = {d["error_code"] for d in dead}
    assert (
        codes
        == {"ID_NUMBER_CHECK", "USCC_CHECK", "DATE_UNPARSEABLE", "MISSING_FIELD", "UNKNOWN_CODE"}
        & codes
        and len(codes) >= 4
    )
    for letter in dead:
        assert letter["connector"] == "fgw-tzxm" and letter["target_stream"] == "case-events"
        assert letter["reason"] and letter["field"]
        assert json.loads(letter["raw"])["SLBH"] == letter["provenance"]["source_key"]
    [row] = await status.all()
    assert (row["records"], row["dead_letters"], row["state"]) == (10_000, 1_000, "stopped")


async def test_a_restart_resumes_from_the_saved_offset(world: Any) -> None:
    log, offsets, status = world
    rows, _ = mixed_rows(good=3_000, bad=0)
    spec = load_connector_spec(PROFILE)
    first = ListSource(rows[:1_000])  # the department had 1,000 rows when the connector stopped
    await ConnectorRuntime(spec, first, log, offsets, status).run()
    assert first.committed_offsets[-1] == {"next": 1_000}

    second = ListSource(rows)
    await ConnectorRuntime(spec, second, log, offsets, status).run()

    events = await values(log, "case-events")
    assert sorted(e["case_no"] for e in events) == sorted(r["SLBH"] for r in rows)  # no repeats


async def test_stop_finishes_the_batch_and_commits(world: Any) -> None:
    log, offsets, status = world
    rows, _ = mixed_rows(good=5_000, bad=0)
    source = ListSource(rows, batch=100)
    runtime = ConnectorRuntime(load_connector_spec(PROFILE), source, log, offsets, status)
    task = asyncio.create_task(runtime.run())
    while not source.committed_offsets:
        await asyncio.sleep(0.01)
    await runtime.stop()
    state = await task

    saved = await offsets.load("fgw-tzxm")
    assert saved["TZXM_SPBJ"]["next"] == state.records  # everything delivered is committed
    assert len(await values(log, "case-events")) == state.records < 5_000


@pytest.mark.kafka
async def test_the_log_away_for_a_while_then_back(kafka_broker: Broker, data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(
            bootstrap=kafka_broker.bootstrap,
            topic_prefix="away",
            partitions=2,
            request_timeout_ms=1500,
        ),
    )
    rows, _ = mixed_rows(good=4_000, bad=0)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        status = StatusStore(engine, every_s=0)
        source = ListSource(rows, batch=200)
        runtime = ConnectorRuntime(
            load_connector_spec(PROFILE), source, log, offset_store(log, engine), status
        )
        task = asyncio.create_task(runtime.run())
        while not source.committed_offsets:
            await asyncio.sleep(0.01)
        kafka_broker.pause()
        try:
            await asyncio.sleep(4)  # several request timeouts: the runtime waits and retries
            assert not task.done()
            [row] = await status.all()
            assert row["state"] == "waiting" and "log unavailable" in row["last_error"]
        finally:
            kafka_broker.resume()
        state = await asyncio.wait_for(task, 60)
        keys = {codec.decode(r.value).record["case_no"] async for r in log.iterate("case-events")}
    assert state.state == "stopped"
    assert keys == {r["SLBH"] for r in rows}  # duplicates possible, gaps not


@pytest.mark.postgres
async def test_the_sql_log_away_for_a_while_then_back(pg_url: str, data_dir: Path) -> None:
    """The SQL log on PostgreSQL, reached through a proxy that cuts it off for 3 s."""
    from sqlalchemy.engine import make_url

    from gateway.settings import DatabaseSettings
    from tests.tcp_proxy import TcpProxy

    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(data_dir=data_dir, database=DatabaseSettings(url=proxied))
    rows, _ = mixed_rows(good=4_000, bad=0)
    try:
        async with open_database(settings) as engine, open_log(settings, engine) as log:
            async with engine.begin() as conn:  # the session's database: start this test empty
                await conn.exec_driver_sql(
                    "TRUNCATE log_records, log_heads, connector_offsets, connector_status"
                )
            source = ListSource(rows, batch=200)
            runtime = ConnectorRuntime(
                load_connector_spec(PROFILE),
                source,
                log,
                offset_store(log, engine),
                StatusStore(engine, every_s=0),
            )
            task = asyncio.create_task(runtime.run())
            while not source.committed_offsets:
                await asyncio.sleep(0.01)
            proxy.cut()
            await asyncio.sleep(3)
            assert not task.done()
            assert runtime.state.state == "waiting"
            assert "log unavailable" in (runtime.state.last_error or "")
            proxy.restore()
            state = await asyncio.wait_for(task, 60)
            keys = {
                codec.decode(r.value).record["case_no"] async for r in log.iterate("case-events")
            }
    finally:
        await proxy.close()
    assert state.state == "stopped"
    assert keys == {r["SLBH"] for r in rows}


def test_the_collector_threshold_is_raised_while_pumping_and_restored_after() -> None:
    before = gc.get_threshold()
    with _fewer_collections():
        with _fewer_collections():  # two runtimes in one process
            assert gc.get_threshold()[0] == max(before[0], _GC_YOUNG)
        assert gc.get_threshold()[0] == max(before[0], _GC_YOUNG)
    assert gc.get_threshold() == before


async def test_records_outside_the_publishers_scopes_are_dead_letters(world: Any) -> None:
    """#12.1: a connector publishes as its department's publisher: a record of an item code
    its member is not registered for is a dead letter; none registered, nothing is read."""
    log, offsets, status = world
    rows, _ = mixed_rows(good=40, bad=0)
    for row in rows[::4]:
        row["SXBM"] = "11330802002493025K3330111709000"  # another item of the department
    items = sorted({r["SXBM"] for r in rows})
    spec = load_connector_spec(PROFILE)
    allowed = frozenset(items[:1])
    runtime = ConnectorRuntime(spec, ListSource(rows), log, offsets, status, publishes=allowed)
    state = await runtime.run()
    events, dead = await values(log, "case-events"), await values(log, "dead-letters")
    assert {e["item_code"] for e in events} == set(allowed)
    assert (len(events), len(dead)) == (30, 10)
    assert {d["error_code"] for d in dead} == {"PUBLISH_NOT_REGISTERED"}
    assert state.dead_letters == len(dead)
    unregistered = ConnectorRuntime(
        spec, ListSource(rows), log, offsets, status, publishes=frozenset()
    )
    with pytest.raises(ConnectorError, match="PUBLISH_NOT_REGISTERED"):
        await unregistered.run()
    assert len(await values(log, "case-events")) == len(events)
