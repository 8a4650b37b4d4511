"""The SQL event log: the log as a table in the gateway's own database (SQLite or PostgreSQL).

For one-machine deployments (a county) with no Kafka. One partition per stream. Offsets are
dense and become visible in order: an append first bumps the stream's row in `log_heads`, whose
lock is held until commit, so two appends to one stream commit one after the other and a reader
that has seen offset N can never later find a smaller offset appearing.

A tombstone (a record whose value is None, as Kafka spells a delete on a compacted stream) is
kept as an empty value and read back as None: no event is empty (the smallest has a 10-byte
header), so the table needs no nullable column.

Readers in this process are woken as soon as an append commits; readers in other processes
poll every `log.poll_interval_ms`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log.base import (
    Appendable,
    Appended,
    EventLog,
    GroupConsumer,
    Header,
    LogReader,
    LogRecord,
    Position,
    check_stream,
)
from gateway.log.errors import LogUnavailable, RecordRejected
from gateway.store.engine import upsert_insert
from gateway.store.errors import unavailable_as
from gateway.store.tables import log_group_offsets, log_heads, log_records

PARTITION = 0


def _encode_headers(headers: Sequence[Header]) -> str:
    try:
        return json.dumps([[name, value.decode("utf-8")] for name, value in headers])
    except UnicodeDecodeError as exc:
        raise RecordRejected(f"header values must be UTF-8 on the SQL log: {exc}") from exc


def _decode_headers(text: str) -> tuple[Header, ...]:
    return tuple((name, value.encode("utf-8")) for name, value in json.loads(text))


class _Signals:
    """Wakes this process's readers of a stream when an append to it commits."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def current(self, stream: str) -> asyncio.Event:
        return self._events[stream]

    def fire(self, stream: str) -> None:
        self._events.pop(stream, asyncio.Event()).set()


class SqlLog(EventLog):
    backend = "sql"

    def __init__(self, engine: AsyncEngine, poll_interval: float = 0.1) -> None:
        self.engine = engine
        self.poll_interval = poll_interval
        self._signals = _Signals()
        self._write_lock = asyncio.Lock()  # one writer per process; across processes: row lock
        self._heads_ready: set[str] = set()
        self._insert = upsert_insert(engine)

    async def _ensure_head(self, stream: str) -> None:
        if stream in self._heads_ready:
            return
        async with translated_db_errors(), self.engine.begin() as conn:
            await conn.execute(
                self._insert(log_heads)
                .values(stream=stream, next_offset=0)
                .on_conflict_do_nothing(index_elements=["stream"])
            )
        self._heads_ready.add(stream)

    async def append(self, stream: str, records: Sequence[Appendable]) -> list[Appended]:
        check_stream(stream)
        if not records:
            return []
        await self._ensure_head(stream)
        now_ms = time.time_ns() // 1_000_000
        rows: list[dict[str, Any]] = [
            {
                "stream": stream,
                "record_key": r.key,
                "value": b"" if r.value is None else r.value,
                "headers": _encode_headers(r.headers),
                "timestamp_ms": now_ms,
            }
            for r in records
        ]
        async with self._write_lock, translated_db_errors(), self.engine.begin() as conn:
            bumped = await conn.execute(
                update(log_heads)
                .where(log_heads.c.stream == stream)
                .values(next_offset=log_heads.c.next_offset + len(rows))
                .returning(log_heads.c.next_offset)
            )
            first = bumped.scalar_one() - len(rows)
            for i, row in enumerate(rows):
                row["log_offset"] = first + i
            await conn.execute(log_records.insert(), rows)
        self._signals.fire(stream)
        return [Appended(PARTITION, first + i) for i in range(len(rows))]

    async def end_position(self, stream: str) -> Position:
        check_stream(stream)
        async with translated_db_errors(), self.engine.connect() as conn:
            head = await conn.scalar(
                select(log_heads.c.next_offset).where(log_heads.c.stream == stream)
            )
        return {PARTITION: int(head or 0)}

    async def fetch(self, stream: str, offset: int, limit: int) -> list[LogRecord]:
        """Records of `stream` from `offset`, at most `limit`, in offset order."""
        query = (
            select(log_records)
            .where(log_records.c.stream == stream, log_records.c.log_offset >= offset)
            .order_by(log_records.c.log_offset)
            .limit(limit)
        )
        async with translated_db_errors(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            LogRecord(
                stream=stream,
                partition=PARTITION,
                offset=row.log_offset,
                key=row.record_key,
                value=row.value or None,
                headers=_decode_headers(row.headers),
                timestamp_ms=row.timestamp_ms,
            )
            for row in rows
        ]

    async def wait_for_append(self, stream: str, event: asyncio.Event, timeout: float) -> None:
        """Sleep until an append in this process fires `event`, or the poll interval passes."""
        try:
            await asyncio.wait_for(event.wait(), min(timeout, self.poll_interval))
        except TimeoutError:
            pass

    @asynccontextmanager
    async def reader(self, stream: str, start: Position | None = None) -> AsyncIterator[LogReader]:
        check_stream(stream)
        yield _SqlReader(self, stream, (start or {}).get(PARTITION, 0))

    @asynccontextmanager
    async def consumer(self, stream: str, group: str) -> AsyncIterator[GroupConsumer]:
        check_stream(stream)
        consumer = _SqlGroupConsumer(self, stream, group)
        consumer.next_offset = (await consumer.committed()).get(PARTITION, 0)
        yield consumer

    async def ping(self) -> None:
        async with translated_db_errors(), self.engine.connect() as conn:
            await conn.scalar(select(1))

    async def close(self) -> None:
        """The engine belongs to whoever opened it; nothing of the log's own to release."""


class _SqlReader(LogReader):
    def __init__(self, log: SqlLog, stream: str, next_offset: int) -> None:
        self.log = log
        self.stream = stream
        self.next_offset = next_offset

    async def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[LogRecord]:
        deadline = time.monotonic() + timeout
        while True:
            signal = self.log._signals.current(self.stream)  # taken before reading: no lost wake-up
            records = await self.log.fetch(self.stream, self.next_offset, max_records)
            if records:
                self.next_offset = records[-1].offset + 1
                return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self.log.wait_for_append(self.stream, signal, remaining)

    def position(self) -> Position:
        return {PARTITION: self.next_offset}


class _SqlGroupConsumer(_SqlReader, GroupConsumer):
    def __init__(self, log: SqlLog, stream: str, group: str) -> None:
        super().__init__(log, stream, 0)
        self.group = group

    async def commit(self, position: Position | None = None) -> None:
        offset = (position or self.position())[PARTITION]
        statement = self.log._insert(log_group_offsets).values(
            group_id=self.group, stream=self.stream, partition_no=PARTITION, next_offset=offset
        )
        statement = statement.on_conflict_do_update(
            index_elements=["group_id", "stream", "partition_no"],
            set_={"next_offset": statement.excluded.next_offset},
        )
        async with translated_db_errors(), self.log.engine.begin() as conn:
            await conn.execute(statement)

    async def committed(self) -> Position:
        query = select(log_group_offsets.c.partition_no, log_group_offsets.c.next_offset).where(
            log_group_offsets.c.group_id == self.group, log_group_offsets.c.stream == self.stream
        )
        async with translated_db_errors(), self.log.engine.connect() as conn:
            return {row.partition_no: row.next_offset for row in await conn.execute(query)}


def translated_db_errors() -> AbstractAsyncContextManager[None]:
    """Driver errors that mean "the database is not there now" become `LogUnavailable`."""
    return unavailable_as(LogUnavailable)
