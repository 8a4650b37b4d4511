"""The SQL source against real SQLite, PostgreSQL and MariaDB databases.

A department-style table (pinyin-initial columns: 受理编号 SLBH, 事项编码 SXBM, 申请人名称 SQRMC,
办理状态 BLZT, 更新时间 GXSJ) with the timestamp as text `yyyy-MM-dd HH:mm:ss`, or as a
native DATETIME column. Offsets go through JSON and are saved after each batch, as the runtime
does.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.errors import SourceConfigError, SourceUnavailable
from connectors.sources.base import Offset, SourceRecord
from connectors.sources.sql import SqlSource, SqlSourceConfig
from gateway.settings import async_url
from tests.conftest import free_port

FMT = "%Y-%m-%d %H:%M:%S"
T0 = datetime(2026, 11, 23, 10, 0, 0)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "mariadb"]


class Offsets:
    """The runtime's saved offsets, in a dict (JSON round trip, as a real store does)."""

    def __init__(self) -> None:
        self.saved: dict[str, Offset] = {}

    async def get(self, partition: str) -> Offset | None:
        return self.saved.get(partition)

    def save(self, record: SourceRecord) -> None:
        self.saved[record.partition] = json.loads(json.dumps(record.offset))


@dataclass
class Dept:
    """One department table (办件表) and helpers to write to it as the department would."""

    url: str
    backend: str
    engine: AsyncEngine
    table: Table
    native: bool
    offsets: Offsets = field(default_factory=Offsets)

    def slbh(self, i: int) -> str:
        return f"SL2026{i:06d}"

    def version(self, at: datetime) -> str:
        if not self.native:
            return at.strftime(FMT)
        # the source reports what the driver returns; SQLite's DATETIME is SQLAlchemy's text
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if self.backend == "sqlite" else at.isoformat()

    async def insert(self, *rows: tuple[int, datetime]) -> None:
        values = [
            {
                "SLBH": self.slbh(i),
                "SXBM": "330802-FG-001",
                "SQRMC": "衢州市柯城区某某公司",
                "BLZT": "01",
                "GXSJ": at if self.native else at.strftime(FMT),
            }
            for i, at in rows
        ]
        async with self.engine.begin() as conn:
            await conn.execute(self.table.insert(), values)

    async def update(self, i: int, at: datetime, status: str) -> None:
        stamp = at if self.native else at.strftime(FMT)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(self.table)
                .where(self.table.c.SLBH == self.slbh(i))
                .values(GXSJ=stamp, BLZT=status)
            )

    def source(self, *, backfill: bool = True, **overrides: Any) -> SqlSource:
        settings: dict[str, Any] = {
            "url": self.url,
            "table": self.table.name,
            "key_columns": ["SLBH"],
            "timestamp_column": "GXSJ",
            "timestamp_format": None if self.native else FMT,
            "poll_interval_s": 0.05,
        }
        return SqlSource("dept", SqlSourceConfig(**settings | overrides), backfill=backfill)

    async def read(
        self, *, batches: int | None = None, recent_limit: int | None = None, **overrides: Any
    ) -> list[SourceRecord]:
        """Run a backfill from the saved offset (at most `batches` batches), saving as it goes."""
        source = self.source(**overrides)
        if recent_limit is not None:
            source.recent_limit = recent_limit
        await source.start(self.offsets)
        records: list[SourceRecord] = []
        try:
            async with aclosing(source.batches()) as stream:
                async for batch in stream:
                    assert 0 < len(batch) <= source.config.batch_size
                    records += batch
                    self.offsets.save(batch[-1])
                    if batches is not None and (batches := batches - 1) == 0:
                        break
        finally:
            await source.close()
        return records


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'dept.db'}"
    return request.param, request.getfixturevalue(
        "pg_url" if request.param == "postgresql" else "mariadb_url"
    )


MakeDept = Callable[..., Awaitable[Dept]]


@pytest.fixture
async def make_dept(db_url: tuple[str, str]) -> AsyncIterator[MakeDept]:
    backend, url = db_url
    engine = create_async_engine(async_url(url))

    async def make(*, native: bool = False) -> Dept:
        table = Table(
            f"bj_{uuid.uuid4().hex[:8]}",
            MetaData(),
            Column("SLBH", String(32), primary_key=True),
            Column("SXBM", String(32)),
            Column("SQRMC", String(64)),
            Column("BLZT", String(4)),
            Column("GXSJ", DateTime() if native else String(19)),
        )
        async with engine.begin() as conn:
            await conn.run_sync(table.create)
        return Dept(url, backend, engine, table, native)

    yield make
    await engine.dispose()


def keys(records: list[SourceRecord]) -> list[str]:
    return [r.key for r in records]


@pytest.mark.parametrize("native", [False, True], ids=["text", "datetime"])
async def test_full_read_in_order_in_bounded_batches(make_dept: MakeDept, native: bool) -> None:
    dept = await make_dept(native=native)
    stamps = {i: T0 + timedelta(seconds=i // 2) for i in range(10)}  # pairs share a timestamp
    await dept.insert(*[(i, stamps[i]) for i in (7, 2, 9, 0, 5, 3, 8, 1, 6, 4)])

    records = await dept.read(batch_size=3)

    assert keys(records) == [dept.slbh(i) for i in range(10)]
    first = records[0]
    assert (first.partition, first.table) == (dept.table.name, dept.table.name)
    assert first.version == dept.version(T0)
    assert first.data["SQRMC"] == "衢州市柯城区某某公司"
    assert set(first.data) == {"SLBH", "SXBM", "SQRMC", "BLZT", "GXSJ"}
    assert records[-1].offset["key"] == [dept.slbh(9)]
    assert records[-1].offset["ts"] == dept.version(stamps[9])


@pytest.mark.parametrize("native", [False, True], ids=["text", "datetime"])
async def test_resume_from_saved_offset_without_gaps_or_repeats(
    make_dept: MakeDept, native: bool
) -> None:
    dept = await make_dept(native=native)
    await dept.insert(*[(i, T0 + timedelta(seconds=i)) for i in range(10)])

    first = await dept.read(batches=2, batch_size=3)
    rest = await dept.read(batch_size=3)

    assert keys(first) + keys(rest) == [dept.slbh(i) for i in range(10)]
    assert await dept.read() == []


async def test_resume_from_a_record_inside_a_batch_repeats_but_never_skips(
    make_dept: MakeDept,
) -> None:
    dept = await make_dept()
    await dept.insert(*[(i, T0 + timedelta(seconds=i)) for i in range(6)])
    first = await dept.read(batches=1, batch_size=3)
    dept.offsets.save(first[0])  # a record without the look-back memory

    rest = await dept.read()

    assert "recent" not in first[0].offset
    assert set(keys(rest)) == {dept.slbh(i) for i in range(6)}  # the window is re-sent


@pytest.mark.parametrize("native", [False, True], ids=["text", "datetime"])
async def test_update_with_newer_timestamp_is_a_new_version(
    make_dept: MakeDept, native: bool
) -> None:
    dept = await make_dept(native=native)
    await dept.insert(*[(i, T0 + timedelta(seconds=i)) for i in range(5)])
    await dept.read()

    await dept.update(2, T0 + timedelta(minutes=1), status="03")
    again = await dept.read()

    assert [(r.key, r.version, r.data["BLZT"]) for r in again] == [
        (dept.slbh(2), dept.version(T0 + timedelta(minutes=1)), "03")
    ]


@pytest.mark.parametrize("native", [False, True], ids=["text", "datetime"])
async def test_row_committed_late_behind_the_watermark_is_emitted_once(
    make_dept: MakeDept, native: bool
) -> None:
    dept = await make_dept(native=native)
    await dept.insert(*[(i, T0 + timedelta(seconds=i)) for i in range(1, 10)])
    await dept.read(batch_size=4)

    late = T0 + timedelta(seconds=4)  # 5 s behind the watermark, inside the 300 s window
    too_late = T0 - timedelta(hours=1)  # outside the window: the documented limit
    same_ts = T0 + timedelta(seconds=9)  # at the watermark's timestamp, smaller key
    await dept.insert((100, late), (101, too_late), (0, same_ts))
    found = await dept.read(batch_size=4)

    assert [(r.key, r.version) for r in found] == [
        (dept.slbh(100), dept.version(late)),
        (dept.slbh(0), dept.version(same_ts)),
    ]
    assert found[-1].offset["key"] == [dept.slbh(9)]  # the watermark did not move back
    assert await dept.read() == []  # re-reading the window, after a restart, sends nothing


async def test_window_fuller_than_the_memory_shrinks_instead_of_resending(
    make_dept: MakeDept,
) -> None:
    dept = await make_dept()
    await dept.insert(*[(i, T0) for i in range(8)])  # a bulk load stamped with one time

    first = await dept.read(batch_size=3, recent_limit=3)

    assert keys(first) == [dept.slbh(i) for i in range(8)]  # not re-sent by the look-back
    assert dept.offsets.saved[dept.table.name]["floor"] == dept.version(T0)
    assert await dept.read(recent_limit=3) == []


async def test_live_source_picks_up_new_late_and_updated_rows_once(make_dept: MakeDept) -> None:
    dept = await make_dept()
    await dept.insert(*[(i, T0 + timedelta(seconds=i)) for i in range(1, 4)])
    source = dept.source(backfill=False)
    await source.start(dept.offsets)
    seen: list[SourceRecord] = []

    async def consume() -> None:
        async with aclosing(source.batches()) as stream:
            async for batch in stream:
                seen.extend(batch)

    async def until(count: int) -> None:
        async with asyncio.timeout(5):
            while len(seen) < count:
                await asyncio.sleep(0.01)

    task = asyncio.create_task(consume())
    try:
        await until(3)
        await dept.insert((4, T0 + timedelta(seconds=4)))
        await until(4)
        await dept.insert((0, T0 + timedelta(seconds=2)))  # late
        await dept.update(1, T0 + timedelta(seconds=5), status="03")
        await until(6)
        await asyncio.sleep(0.2)  # a few more polls and look-backs: nothing new
        await source.stop()
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await source.close()

    assert keys(seen[:4]) == [dept.slbh(i) for i in (1, 2, 3, 4)]
    # the late row (look-back) and the update (main scan) may come in one poll or in two
    assert sorted((r.key, r.data["BLZT"]) for r in seen[4:]) == [
        (dept.slbh(0), "01"),
        (dept.slbh(1), "03"),
    ]


async def test_composite_key_with_equal_timestamps(db_url: tuple[str, str]) -> None:
    _, url = db_url
    engine = create_async_engine(async_url(url))
    table = Table(
        f"qy_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("TYSHXYDM", String(18), primary_key=True),  # unified social credit code
        Column("XH", Integer, primary_key=True, autoincrement=False),  # sequence number
        Column("QYMC", String(64)),
        Column("GXSJ", String(19)),
    )
    rows = [(code, n) for code in ("91330802A", "91330802B") for n in (10, 2, 1)]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.create)
            await conn.execute(
                table.insert(),
                [
                    {"TYSHXYDM": c, "XH": n, "QYMC": "某某公司", "GXSJ": T0.strftime(FMT)}
                    for c, n in rows
                ],
            )
    finally:
        await engine.dispose()
    config = SqlSourceConfig(
        url=url,  # type: ignore[arg-type]
        table=table.name,
        key_columns=["TYSHXYDM", "XH"],
        timestamp_column="GXSJ",
        timestamp_format=FMT,
        batch_size=2,
    )
    offsets = Offsets()

    async def read(batches: int | None) -> list[str]:
        source = SqlSource("qy", config, backfill=True)
        source.batches_per_query = 1  # every batch is a query of its own: keyset paging
        await source.start(offsets)
        out: list[str] = []
        try:
            async with aclosing(source.batches()) as stream:
                async for batch in stream:
                    out += keys(batch)
                    offsets.save(batch[-1])
                    if batches is not None and (batches := batches - 1) == 0:
                        break
        finally:
            await source.close()
        return out

    expected = [f"{c}|{n}" for c in ("91330802A", "91330802B") for n in (1, 2, 10)]
    first = await read(batches=1)
    assert offsets.saved[table.name]["key"] == ["91330802A", 2]
    assert first + await read(batches=None) == expected


async def test_backfill_of_an_empty_table_ends(make_dept: MakeDept) -> None:
    dept = await make_dept()
    async with asyncio.timeout(5):
        assert await dept.read() == []


async def test_missing_table_is_a_config_error(make_dept: MakeDept) -> None:
    dept = await make_dept()
    source = dept.source(table="no_such_table")
    with pytest.raises(SourceConfigError, match="no_such_table"):
        await source.start(dept.offsets)
    await source.close()


async def test_column_names_match_regardless_of_case(make_dept: MakeDept) -> None:
    """PostgreSQL folds unquoted names to lower case; a profile may spell them either way."""
    dept = await make_dept()
    await dept.insert((1, T0), (2, T0))

    records = await dept.read(key_columns=["slbh"], timestamp_column="gxsj")

    assert keys(records) == [dept.slbh(1), dept.slbh(2)]
    assert set(records[0].data) == {"SLBH", "SXBM", "SQRMC", "BLZT", "GXSJ"}


async def test_missing_column_is_a_config_error(make_dept: MakeDept) -> None:
    dept = await make_dept()
    source = dept.source(columns=["SLBH", "BJSJ"])
    with pytest.raises(SourceConfigError, match=rf"{dept.table.name}.*BJSJ"):
        await source.start(dept.offsets)
    await source.close()


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
async def test_unreachable_server_is_unavailable_and_hides_the_password(scheme: str) -> None:
    url = f"{scheme}://govgate:s3cret-pw@127.0.0.1:{free_port()}/dept"
    config = SqlSourceConfig(
        url=url,  # type: ignore[arg-type]
        table="bj",
        key_columns=["SLBH"],
        timestamp_column="GXSJ",
    )
    source = SqlSource("dept", config)
    with pytest.raises(SourceUnavailable) as caught:
        await source.start(Offsets())
    await source.close()
    assert caught.value.retriable
    assert "s3cret-pw" not in str(caught.value)
    assert "s3cret-pw" not in repr(config)
