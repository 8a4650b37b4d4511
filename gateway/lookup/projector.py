"""Apply one batch of a stream to the lookup store, in one transaction (the materializer's core).

Idempotent by event id: the transaction first claims the batch's event ids in `lk_applied`;
only events whose id was new go further (an id seen before with other content is not applied
either: the first on the log keeps it). Versioned streams (certificates, materials, notices,
credit entries) keep the newest version per key as `gateway.lookup.versions` orders them: only
the key's own source system may replace or delete it, by its source version where that is
ordered, else by `provenance.fetched_at` capped at the log's time (ties go to the later record
on the log), so an old version delivered late, a far-future fetch time or another department's
record never overwrites what the store has.

Deletes: on streams that carry them, a `Deletion` record (a record deleted at its source) and
the tombstone after it (a null value, which is how Kafka compaction forgets a key) remove the
key's row, if the row was fetched no later than the delete. The delete is remembered in
`lk_deletions`, so a version fetched before it and delivered late is stale, while one fetched
after it (the key came back at its source) is a new version; the deleted version's event id is
released, so the same source version read again after the key came back applies too.

A value that does not decode, or decodes to a record type its stream does not carry, can never
be applied: it is logged (code, partition, offset), counted, and skipped, never fatal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.log import LogRecord, tombstone_fetched_ms
from gateway.lookup.tables import PROJECTIONS, Projection, lk_applied, lk_deletions
from gateway.lookup.versions import Verdict, Version, capped_fetch_ms, verdict
from gateway.store import upsert_insert
from gateway.store.errors import store_unavailable
from schemas.codec import EventCodec
from schemas.errors import DecodeError

logger = logging.getLogger(__name__)

DELETION = "Deletion"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(slots=True)
class StreamStats:
    """What happened to the records of one stream."""

    records: int = 0  # read from the log
    applied: int = 0  # written (a later record of the same batch may have replaced it)
    duplicates: int = 0  # event id applied before: nothing to do
    stale: int = 0  # older than the version (or delete) the store already has: not applied
    foreign: int = 0  # from another source system than the stored record's: never applied
    deleted: int = 0  # deletes (Deletion records and tombstones) that removed or kept a key out
    undecodable: int = 0  # not an event of this stream's type: skipped and logged
    batches: int = 0

    def add(self, other: StreamStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True, slots=True)
class _Event:
    """A version to write (`row`), or a delete of `key` (`row` None) fetched at `fetched_ms`."""

    event_id: str | None  # None: a tombstone
    key: str
    fetched_ms: int | None  # None: a tombstone that does not say (it deletes what is there)
    row: dict[str, Any] | None
    partition: int
    offset: int
    source_system: str | None = None  # None: a tombstone (the log's own, after a Deletion)
    source_version: str = ""


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
            if projection.versioned:
                await self._apply_versions(conn, stream, projection, fresh, stats)
            elif fresh:
                statement = self._insert(projection.table).on_conflict_do_nothing()
                await conn.execute(statement, [e.row for e in fresh if e.row is not None])
                stats.applied = len(fresh)
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
                event = self._event(projection, record)
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
            events.append(event)
        return events

    def _event(self, projection: Projection, record: LogRecord) -> _Event:
        where = (record.partition, record.offset)
        if record.value is None:
            if not projection.deletions or not record.key:
                raise DecodeError("TOMBSTONE", "a tombstone on a stream that has no deletes")
            key = record.key.decode("utf-8", "replace")
            return _Event(None, key, tombstone_fetched_ms(record.headers), None, *where)
        decoded = self.codec.decode(record.value)
        if decoded.name == DELETION and projection.deletions:
            deletion = decoded.record
            if deletion["record_type"] != projection.record_type:
                raise DecodeError(
                    "WRONG_RECORD_TYPE",
                    f"a deletion of a {deletion['record_type']} on a stream of "
                    f"{projection.record_type}",
                )
            prov = deletion["provenance"]
            fetched = capped_fetch_ms(_ms(prov["fetched_at"]), record.timestamp_ms)
            return _Event(
                deletion["event_id"],
                deletion["key"],
                fetched,
                None,
                *where,
                prov["source_system"],
                prov["source_version"],
            )
        if decoded.name != projection.record_type:
            raise DecodeError(
                "WRONG_RECORD_TYPE", f"{decoded.name} on a stream of {projection.record_type}"
            )
        row = projection.row(decoded.record, record.timestamp_ms)
        key = str(row[projection.key])
        if "fetched_ms" in row:
            row["fetched_ms"] = capped_fetch_ms(row["fetched_ms"], record.timestamp_ms)
        prov = (decoded.record.get("provenance") or {}) if projection.owned else {}
        return _Event(
            row["event_id"],
            key,
            row.get("fetched_ms"),
            row,
            *where,
            prov.get("source_system"),
            str(prov.get("source_version", "")),
        )

    async def _claim(
        self, conn: AsyncConnection, stream: str, events: list[_Event]
    ) -> list[_Event]:
        """Record the batch's event ids; the events whose id was new (first occurrence only),
        and every tombstone (it has no id; applying it twice is harmless).

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
            if e.event_id is not None
        ]
        new: set[str] = set()
        if rows:
            statement = (
                self._insert(lk_applied)
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(lk_applied.c.event_id)
            )
            new = set((await conn.execute(statement, rows)).scalars())
        fresh: list[_Event] = []
        for event in events:
            if event.event_id is None:
                fresh.append(event)
            elif event.event_id in new:
                new.discard(event.event_id)  # a second copy in this batch is a duplicate
                fresh.append(event)
        return fresh

    async def _apply_versions(
        self,
        conn: AsyncConnection,
        stream: str,
        projection: Projection,
        events: list[_Event],
        stats: StreamStats,
    ) -> None:
        if not events:
            return
        table = projection.table
        key = table.c[projection.key]
        keys = sorted({e.key for e in events})
        query = select(key, table.c.fetched_ms, table.c.event_id, table.c.source_version)
        query = query.add_columns(table.c.record).where(key.in_(keys))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # another materializer (a rebalance) waits
        stored: dict[str, tuple[int, str]] = {}
        newest: dict[str, Version] = {}
        for row in await conn.execute(query):
            k, fetched, event_id, version, record = tuple(row)
            stored[k] = (fetched, event_id)
            if projection.owned:
                newest[k] = Version(_source_system(record), version, fetched)
            else:
                newest[k] = Version(None, "", fetched)
        if projection.deletions:
            gone = select(lk_deletions.c.record_key, lk_deletions.c.fetched_ms).where(
                lk_deletions.c.stream == stream, lk_deletions.c.record_key.in_(keys)
            )
            for k, fetched in await conn.execute(gone):
                if k not in newest or newest[k].fetched_ms < fetched:
                    owner = newest[k].source_system if k in newest else None
                    newest[k] = Version(owner, "", fetched)  # a delete orders by fetch time
        winners: dict[str, _Event] = {}
        for event in events:
            k = event.key
            fetched = event.fetched_ms
            if fetched is None:
                fetched = newest[k].fetched_ms if k in newest else 0
            mine = Version(event.source_system, event.source_version, fetched)
            found = verdict(mine, newest[k]) if k in newest else Verdict.NEWER
            if found is not Verdict.NEWER:
                self._not_applied(projection, event, found, stats)
                continue
            owner = event.source_system or (newest[k].source_system if k in newest else None)
            newest[k] = Version(owner, event.source_version, fetched)
            winners[k] = _Event(event.event_id, k, fetched, event.row, 0, 0)
            if event.row is None:
                stats.deleted += 1
            else:
                stats.applied += 1
        deletes = [e for e in winners.values() if e.row is None]
        await self._delete(conn, stream, projection, deletes, stored)
        rows = [e.row for e in winners.values() if e.row]
        await self._upsert(conn, projection, rows, stored)

    @staticmethod
    def _not_applied(
        projection: Projection, event: _Event, found: Verdict, stats: StreamStats
    ) -> None:
        if found is Verdict.FOREIGN:
            stats.foreign += 1
            logger.warning(
                "materializer: %s %s %s (event %s) comes from source system %s, not the "
                "record's own: not applied",
                projection.record_type,
                event.key,
                "delete" if event.row is None else "version",
                event.event_id,
                event.source_system,
            )
            return
        stats.stale += 1
        logger.info(
            "materializer: %s %s %s (event %s) is older than what the store has",
            projection.record_type,
            event.key,
            "delete" if event.row is None else "version",
            event.event_id,
        )

    async def _delete(
        self,
        conn: AsyncConnection,
        stream: str,
        projection: Projection,
        deletes: list[_Event],
        stored: dict[str, tuple[int, str]],
    ) -> None:
        """Remove each key's row (if fetched no later than its delete), release the removed
        version's event id, and remember the delete."""
        if not deletes:
            return
        table, key = projection.table, projection.table.c[projection.key]
        released = []
        for event in deletes:
            assert event.fetched_ms is not None  # `_apply_versions` settled it
            await conn.execute(
                delete(table).where(and_(key == event.key, table.c.fetched_ms <= event.fetched_ms))
            )
            if event.key in stored and stored[event.key][0] <= event.fetched_ms:
                released.append(stored[event.key][1])
        if released:
            await conn.execute(delete(lk_applied).where(lk_applied.c.event_id.in_(released)))
        rows = [
            {
                "stream": stream,
                "record_key": e.key,
                "fetched_ms": e.fetched_ms,
                "event_id": e.event_id,
                "updated_ms": e.fetched_ms,
            }
            for e in deletes
        ]
        statement = self._insert(lk_deletions)
        statement = statement.on_conflict_do_update(
            index_elements=["stream", "record_key"],
            set_={
                "fetched_ms": statement.excluded.fetched_ms,
                "event_id": statement.excluded.event_id,
                "updated_ms": statement.excluded.updated_ms,
            },
            where=lk_deletions.c.fetched_ms <= statement.excluded.fetched_ms,
        )
        await conn.execute(statement, rows)

    async def _upsert(
        self,
        conn: AsyncConnection,
        projection: Projection,
        rows: list[dict[str, Any]],
        stored: dict[str, tuple[int, str]],
    ) -> None:
        """Insert the keys the store did not have; replace the others only if they still hold
        the version this transaction read (compare-and-set on the event id), so a second
        materializer sharing the store during a rebalance cannot regress a row."""
        if not rows:
            return
        table, name = projection.table, projection.key
        new = [r for r in rows if r[name] not in stored]
        known = [r for r in rows if r[name] in stored]
        if new:
            statement = self._insert(table).on_conflict_do_nothing(index_elements=[name])
            await conn.execute(statement, new)
        if known:
            columns = [c.name for c in table.c if c.name != name]
            statement = (
                update(table)
                .where(
                    table.c[name] == bindparam("b_key"),
                    table.c.event_id == bindparam("b_expected"),
                )
                .values({c: bindparam(f"b_{c}") for c in columns})
            )
            params = [
                {
                    "b_key": r[name],
                    "b_expected": stored[r[name]][1],
                    **{f"b_{c}": r[c] for c in columns},
                }
                for r in known
            ]
            await conn.execute(statement, params)


def _source_system(record: str) -> str | None:
    """The source system of a stored row's record (JSON text), if it says."""
    try:
        found = json.loads(record).get("provenance", {}).get("source_system")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def _ms(value: datetime) -> int:
    return (value - _EPOCH) // _MS
