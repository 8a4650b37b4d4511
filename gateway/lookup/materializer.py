"""The materializer: certificates, materials and case events from the log, into the lookup store.

One consumer per stream, in consumer group `<group>.<stream>` (so a rebalance of one stream does
not pause the others). Per batch: decode, then apply in one database transaction, and only
after that transaction commits, commit the group position. A crash in between re-applies the
batch on restart; that is harmless because applying is idempotent by event id: the first thing
each transaction does is claim the batch's event ids in `lk_applied`, and only events whose id
was not there yet go further.

Order per key: the log keeps one key's records in order (one partition), and a batch is applied
in log order. That alone would let an older version delivered late (a department re-pushing an
old event, a connector replaying) overwrite a newer one, so certificates and materials also
compare `provenance.fetched_at`: a version replaces the stored one only if it was fetched at the
same time or later (ties go to the later record on the log). Source versions are not compared:
they are whatever each source calls a version (a timestamp, a cursor, a file hash) and do not
order across sources. The comparison is repeated in the upsert's WHERE clause, so two
materializers sharing a store during a rebalance cannot regress a row either.

A value that does not decode, or decodes to another record type than its stream carries, can
never be applied: it is logged (code, partition, offset), counted, and skipped, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.backoff import Backoff
from gateway.log import EventLog, GroupConsumer, LogError, LogRecord, LogUnavailable, Position
from gateway.lookup.errors import LookupStoreError, MaterializerError
from gateway.lookup.tables import LOOKUP_TABLES, PROJECTIONS, Projection, lk_applied
from gateway.store import upsert_insert
from gateway.store.errors import StoreError, StoreUnavailable, store_unavailable
from schemas.codec import EventCodec
from schemas.errors import DecodeError

logger = logging.getLogger(__name__)

DEFAULT_GROUP = "govgate-materializer"
MATERIALIZED = ("certificates", "materials", "case-events")
T = TypeVar("T")


@dataclass(slots=True)
class StreamStats:
    """What happened to the records of one stream."""

    records: int = 0  # read from the log
    applied: int = 0  # written (a later record of the same batch may have replaced it)
    duplicates: int = 0  # event id applied before: nothing to do
    stale: int = 0  # older than the version the store already has: not applied
    undecodable: int = 0  # not an event of this stream's type: skipped and logged
    batches: int = 0

    def add(self, other: StreamStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True, slots=True)
class _Event:
    event_id: str
    row: dict[str, Any]
    partition: int
    offset: int


class Projector:
    """Decodes a batch of one stream and applies it to the lookup store in one transaction."""

    def __init__(self, engine: AsyncEngine, codec: EventCodec | None = None) -> None:
        self.engine = engine
        self.codec = codec or EventCodec()
        self._insert = upsert_insert(engine)

    async def apply(self, stream: str, records: Sequence[LogRecord]) -> StreamStats:
        """Apply `records` (in log order) to the store; raises `StoreUnavailable` to retry."""
        projection = PROJECTIONS[stream]
        stats = StreamStats(records=len(records), batches=1)
        events = self._decode(stream, projection, records, stats)
        if not events:
            return stats
        async with store_unavailable(), self.engine.begin() as conn:
            fresh = await self._claim(conn, stream, events)
            stats.duplicates = len(events) - len(fresh)
            events = fresh
            if projection.versioned:
                events = await self._newest(conn, projection, events, stats)
                await self._upsert(conn, projection, [e.row for e in events])
            elif events:
                statement = self._insert(projection.table).on_conflict_do_nothing()
                await conn.execute(statement, [e.row for e in events])
                stats.applied = len(events)
        return stats

    def _decode(
        self,
        stream: str,
        projection: Projection,
        records: Sequence[LogRecord],
        stats: StreamStats,
    ) -> list[_Event]:
        events: list[_Event] = []
        for record in records:
            try:
                decoded = self.codec.decode(record.value or b"")  # None: a Kafka tombstone
                if decoded.name != projection.record_type:
                    raise DecodeError(
                        "WRONG_RECORD_TYPE",
                        f"{decoded.name} on a stream of {projection.record_type}",
                    )
            except DecodeError as exc:
                stats.undecodable += 1
                logger.warning(
                    "materializer: skipped %s[%d]@%d, it cannot be applied: %s %s",
                    stream,
                    record.partition,
                    record.offset,
                    exc.code,
                    exc.detail,
                )
                continue
            row = projection.row(decoded.record, record.timestamp_ms)
            events.append(_Event(row["event_id"], row, record.partition, record.offset))
        return events

    async def _claim(
        self, conn: AsyncConnection, stream: str, events: list[_Event]
    ) -> list[_Event]:
        """Record the batch's event ids; the events whose id was new, first occurrence only.

        A write as the transaction's first statement also takes SQLite's write lock up front,
        so a read in this transaction cannot be overtaken by another writer's commit.
        """
        rows = [
            {
                "event_id": e.event_id,
                "stream": stream,
                "log_partition": e.partition,
                "log_offset": e.offset,
            }
            for e in events
        ]
        statement = (
            self._insert(lk_applied)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(lk_applied.c.event_id)
        )
        new = set((await conn.execute(statement, rows)).scalars())
        fresh: list[_Event] = []
        for event in events:
            if event.event_id in new:
                new.discard(event.event_id)  # a second copy in this batch is a duplicate
                fresh.append(event)
        return fresh

    async def _newest(
        self,
        conn: AsyncConnection,
        projection: Projection,
        events: list[_Event],
        stats: StreamStats,
    ) -> list[_Event]:
        """Per key, the last event (in log order) fetched no earlier than what came before it."""
        if not events:
            return []
        key = projection.table.c[projection.key]
        keys = {e.row[projection.key] for e in events}
        query = select(key, projection.table.c.fetched_ms).where(key.in_(sorted(keys)))
        newest: dict[str, int] = {row[0]: row[1] for row in await conn.execute(query)}
        winners: dict[str, _Event] = {}
        for event in events:
            k, fetched = event.row[projection.key], event.row["fetched_ms"]
            if k in newest and fetched < newest[k]:
                stats.stale += 1
                logger.info(
                    "materializer: %s %s version %s (event %s) is older than the stored one",
                    projection.record_type,
                    k,
                    event.row["source_version"],
                    event.event_id,
                )
                continue
            newest[k] = fetched
            winners[k] = event
            stats.applied += 1
        return list(winners.values())

    async def _upsert(
        self, conn: AsyncConnection, projection: Projection, rows: list[dict[str, Any]]
    ) -> None:
        if not rows:
            return
        table = projection.table
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[projection.key],
            set_={c.name: statement.excluded[c.name] for c in table.c if c.name != projection.key},
            where=table.c.fetched_ms <= statement.excluded.fetched_ms,
        )
        await conn.execute(statement, rows)


class Materializer:
    """Keeps the lookup store up to date with the log until `stop()`; resumes where it stopped."""

    def __init__(
        self,
        log: EventLog,
        engine: AsyncEngine,
        *,
        group: str = DEFAULT_GROUP,
        streams: Sequence[str] = MATERIALIZED,
        codec: EventCodec | None = None,
        batch_size: int = 500,
        poll_timeout: float = 1.0,
        on_batch: Callable[[str, StreamStats], None] | None = None,
    ) -> None:
        unknown = set(streams) - set(PROJECTIONS)
        if unknown:
            raise ValueError(f"the materializer does not project {', '.join(sorted(unknown))}")
        self.log = log
        self.projector = Projector(engine, codec)
        self.group = group
        self.streams = tuple(streams)
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.on_batch = on_batch
        self.stats = {s: StreamStats() for s in self.streams}
        self._positions: dict[str, Position] = {}
        self._stopping = asyncio.Event()
        self._failure: MaterializerError | None = None

    def group_id(self, stream: str) -> str:
        return f"{self.group}.{stream}"

    async def stop(self) -> None:
        """Finish the current batches, commit them, then end `run()`. Safe twice."""
        self._stopping.set()

    async def run(self, *, until_caught_up: bool = False) -> dict[str, StreamStats]:
        """Apply the streams until `stop()` (or, with `until_caught_up`, until each has
        reached the end it had when this call began). Raises `MaterializerError` when the log
        or the store refuses for good; waits and retries while either is unavailable."""
        targets = {s: await self._end(s) if until_caught_up else None for s in self.streams}
        async with asyncio.TaskGroup() as tasks:
            for stream in self.streams:
                tasks.create_task(self._run_stream(stream, targets[stream]))
        if self._failure is not None:
            raise self._failure
        return self.stats

    async def lag(self) -> dict[str, int]:
        """Per stream, the offsets between this materializer's position and the log's end.

        Partitions whose position is not known yet (before `run()` has joined its group) count
        from 0. On compacted streams offsets have gaps, so this is an upper bound of records.
        """
        lags: dict[str, int] = {}
        for stream in self.streams:
            end = await self.log.end_position(stream)
            position = self._positions.get(stream, {})
            lags[stream] = sum(max(0, off - position.get(p, 0)) for p, off in end.items())
        return lags

    async def _end(self, stream: str) -> Position:
        """The log's end, waiting while the log is unavailable. Asked one stream at a time:
        the Kafka log opens its metadata client on first use, and two first uses at once
        would each open one (and leak the other)."""
        backoff = Backoff()
        while True:
            try:
                return await self.log.end_position(stream)
            except LogUnavailable as exc:
                logger.warning("materializer %s: log unavailable, waiting: %s", stream, exc.detail)
                await backoff.wait(self._stopping)
                if self._stopping.is_set():
                    return {}

    async def _run_stream(self, stream: str, target: Position | None) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                async with self.log.consumer(stream, self.group_id(stream)) as consumer:
                    self._positions[stream] = await consumer.committed()
                    await self._consume(stream, consumer, target, backoff)
                    return
            except LogUnavailable as exc:
                logger.warning("materializer %s: log unavailable, waiting: %s", stream, exc.detail)
                await backoff.wait(self._stopping)
            except (LogError, LookupStoreError, StoreError, SQLAlchemyError) as exc:
                self._fail(MaterializerError(f"{stream}: {exc}"), exc)

    async def _consume(
        self, stream: str, consumer: GroupConsumer, target: Position | None, backoff: Backoff
    ) -> None:
        while not self._stopping.is_set():
            position = self._positions[stream]
            if target is not None and all(position.get(p, 0) >= o for p, o in target.items()):
                return
            records = await consumer.poll(self.batch_size, self.poll_timeout)
            backoff.reset()
            if not records:
                continue
            if not await self._apply(stream, records):
                return  # stopped while the store was away: the batch stays uncommitted
            reached = consumer.position()
            try:
                await _uncancelled(consumer.commit(reached))
            except LogError as exc:
                # e.g. the group rebalanced and the partitions moved: nothing is lost, the batch
                # is re-applied (harmlessly) by whoever reads it next. Re-join and go on.
                raise LogUnavailable(f"position not committed: {exc.detail}") from exc
            position.update(reached)

    async def _apply(self, stream: str, records: list[LogRecord]) -> bool:
        backoff = Backoff()
        while True:
            try:
                batch = await _uncancelled(self.projector.apply(stream, records))
            except StoreUnavailable as exc:
                logger.warning("materializer %s: store unavailable, waiting: %s", stream, exc)
                if self._stopping.is_set():
                    return False
                await backoff.wait(self._stopping)
                continue
            self.stats[stream].add(batch)
            if self.on_batch is not None:
                self.on_batch(stream, batch)
            return True

    def _fail(self, error: MaterializerError, cause: BaseException) -> None:
        logger.error("materializer failed: %s", error)
        error.__cause__ = cause
        if self._failure is None:
            self._failure = error
        self._stopping.set()


async def _uncancelled(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` (a database transaction) to its end even if the caller is cancelled meanwhile,
    then re-raise the cancellation. A transaction abandoned mid-way by a cancelled aiosqlite call
    keeps SQLite's write lock until its connection is garbage-collected, stalling every writer."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: it is the cancellation that propagates
        raise


async def replay(
    log: EventLog,
    engine: AsyncEngine,
    *,
    streams: Sequence[str] = MATERIALIZED,
    batch_size: int = 1000,
    codec: EventCodec | None = None,
) -> dict[str, StreamStats]:
    """Apply every record of `streams`, from the beginning to the end as of the call, without
    any consumer group: what `govgate rebuild` does after clearing the tables."""
    projector = Projector(engine, codec)
    stats = {s: StreamStats() for s in streams}
    for stream in streams:
        batch: list[LogRecord] = []
        async for record in log.iterate(stream, batch=batch_size):
            batch.append(record)
            if len(batch) >= batch_size:
                stats[stream].add(await projector.apply(stream, batch))
                batch = []
        if batch:
            stats[stream].add(await projector.apply(stream, batch))
    return stats


async def clear(engine: AsyncEngine) -> None:
    """Empty the lookup tables (in one transaction), ready for a replay."""
    async with store_unavailable(), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in LOOKUP_TABLES)
            await conn.execute(text(f"TRUNCATE {names}"))
        else:
            for table in LOOKUP_TABLES:
                await conn.execute(delete(table))
