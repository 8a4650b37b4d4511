"""The key snapshot of a table, kept on disk so that finding its deletes costs no memory.

A source that detects deletes by diffing key snapshots (Kafka Connect's JDBC source cannot)
keeps here every key it has seen, with a mark, and what it must remember of the row to rebuild
its canonical key once the row is gone. Scans are numbered as they start. A key gets the
number of the scan that saw it, or, when the source emitted it, the number of the newest scan
started then. When scan N has read the whole table, the keys still marked below N are the rows
deleted since: seen by no scan that started after they were last read.

- A key emitted while scan N runs, behind its position, is marked N: not taken for deleted.
- A key emitted between scans N-1 and N, and deleted before N saw it, is marked N-1: deleted.
- A scan that fails half-way never completes: nothing is taken for deleted until a later scan
  reads the whole table.

Deletes are handed out in key order and forgotten only once the log has acknowledged them, so
a restart hands out the rest again (duplicates carry the same event id). The store is any
SQLAlchemy database (a SQLite file next to the connector by default); lose it and the next scan
starts a new snapshot, missing only the rows deleted in between.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import SourceUnavailable
from gateway.store import make_engine, upsert_insert
from gateway.store.errors import unavailable_as

metadata = MetaData()

snapshot_keys = Table(
    "snapshot_keys",
    metadata,
    Column("scope", String(200), primary_key=True),  # connector/partition
    Column("record_key", String(500), primary_key=True),
    Column("mark", Integer, nullable=False),  # the scan that saw it, or the newest started
    Column("data", Text, nullable=False),  # JSON: the columns remembered of the row
)

snapshot_scans = Table(
    "snapshot_scans",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("started", Integer, nullable=False),  # scans started so far
    Column("completed", Integer, nullable=False),  # the newest scan that read the whole table
    Column("completed_ms", BigInteger, nullable=True),
)


# One encoder (its C encoder) for every row, not one built per call as json.dumps(default=…)
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_SQLITE_MARK = (
    "INSERT INTO snapshot_keys (scope, record_key, mark, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (scope, record_key) DO UPDATE SET mark = excluded.mark, data = excluded.data"
)


@dataclass(frozen=True, slots=True)
class ScanState:
    started: int
    completed: int
    completed_ms: int | None


@dataclass(frozen=True, slots=True)
class Gone:
    """A key no complete scan has seen since it was last read: its row is deleted."""

    key: str
    data: Any  # what was remembered of the row, as given to `mark`


class SnapshotStore:
    """Marks and completions of one source's scans (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, scope: str) -> None:
        self.engine = engine
        self.scope = scope
        self._insert = upsert_insert(engine)
        self._state = ScanState(0, 0, None)

    @property
    def state(self) -> ScanState:
        return self._state

    async def load(self) -> ScanState:
        """Create the tables if needed and read where the scans are."""
        async with _translated():
            async with self.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(snapshot_scans).where(snapshot_scans.c.scope == self.scope)
                    )
                ).first()
        if row is not None:
            self._state = ScanState(row.started, row.completed, row.completed_ms)
        return self._state

    async def begin_scan(self) -> int:
        """Number a new scan; keys emitted from now on are marked with it."""
        state = ScanState(self._state.started + 1, self._state.completed, self._state.completed_ms)
        await self._save(state)
        return state.started

    async def complete(self, scan: int) -> ScanState:
        """Scan `scan` has read the whole table: keys marked below it are deleted."""
        state = ScanState(self._state.started, scan, time.time_ns() // 1_000_000)
        await self._save(state)
        return state

    async def mark(self, rows: Sequence[tuple[str, Any]], scan: int | None) -> None:
        """Keys seen by `scan`, or (None) emitted by the source now."""
        if not rows:
            return
        mark = self._state.started if scan is None else scan
        scope, dumps = self.scope, _DUMPS
        if self.engine.dialect.name == "sqlite":  # the driver's executemany: 3x the Core path
            tuples = [(scope, key, mark, dumps(data)) for key, data in rows]
            async with _translated(), self.engine.begin() as conn:
                await conn.exec_driver_sql(_SQLITE_MARK, tuples)
            return
        values = [
            {"scope": scope, "record_key": key, "mark": mark, "data": dumps(data)}
            for key, data in rows
        ]
        statement = self._insert(snapshot_keys)
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "record_key"],
            set_={"mark": statement.excluded.mark, "data": statement.excluded.data},
        )
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(statement, values)

    async def gone(self, after: str | None, limit: int) -> list[Gone]:
        """Up to `limit` keys after `after` that the newest complete scan did not see."""
        c = snapshot_keys.c
        query = select(c.record_key, c.data).where(
            c.scope == self.scope, c.mark < self._state.completed
        )
        if after is not None:
            query = query.where(c.record_key > after)
        query = query.order_by(c.record_key).limit(limit)
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Gone(row.record_key, json.loads(row.data)) for row in rows]

    async def forget(self, scan: int, through: str) -> None:
        """The deletes of complete scan `scan` up to key `through` are on the log."""
        c = snapshot_keys.c
        statement = delete(snapshot_keys).where(
            and_(c.scope == self.scope, c.mark < scan, c.record_key <= through)
        )
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(statement)

    async def _save(self, state: ScanState) -> None:
        values = {
            "started": state.started,
            "completed": state.completed,
            "completed_ms": state.completed_ms,
        }
        statement = self._insert(snapshot_scans).values(scope=self.scope, **values)
        statement = statement.on_conflict_do_update(index_elements=["scope"], set_=values)
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(statement)
        self._state = state


def open_snapshot_engine(url: str) -> AsyncEngine:
    """An engine for the snapshot store (a SQLite file is created with its folder)."""
    return make_engine(url, pool_size=1)


def _translated() -> Any:
    return unavailable_as(SourceUnavailable)
