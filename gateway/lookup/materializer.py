"""The materializer: certificates, materials and case events from the log, into the lookup store.

One consumer per stream, in consumer group `<group>.<stream>` (so a rebalance of one stream does
not pause the others). Per batch: decode, then apply in one database transaction (`projector`),
and only after that transaction commits, commit the group position. A crash in between
re-applies the batch on restart; that is harmless because applying is idempotent by event id:
the first thing each transaction does is claim the batch's event ids in `lk_applied`, and only
events whose id was not there yet go further.

Order per key: the log keeps one key's records in order (one partition), and a batch is applied
in log order. That alone would let an older version delivered late (a department re-pushing an
old event, a connector replaying) overwrite a newer one, so versioned streams also compare
`provenance.fetched_at`: a version replaces the stored one only if it was fetched at the same
time or later (ties go to the later record on the log). Source versions are not compared: they
are whatever each source calls a version (a timestamp, a cursor, a file hash) and do not order
across sources. The comparison is repeated in the upsert's WHERE clause, so two materializers
sharing a store during a rebalance cannot regress a row either. Deletes (a `Deletion` record
and its tombstone) take part in the same order; see `projector`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.backoff import Backoff
from gateway.log import EventLog, GroupConsumer, LogError, LogRecord, LogUnavailable, Position
from gateway.lookup.errors import LookupStoreError, MaterializerError
from gateway.lookup.projector import Projector, StreamStats
from gateway.lookup.tables import LOOKUP_TABLES, PROJECTIONS
from gateway.store.errors import StoreError, StoreUnavailable, store_unavailable
from schemas.codec import EventCodec

logger = logging.getLogger(__name__)

DEFAULT_GROUP = "govgate-materializer"
MATERIALIZED = ("certificates", "materials", "case-events", "credit-entries", "notices")
T = TypeVar("T")


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
