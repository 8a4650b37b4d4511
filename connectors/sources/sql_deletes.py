"""Deletes at an SQL source, found by diffing key snapshots on a schedule (`deletes:` in a
connector's `source:` settings).

A timestamp-and-key reader never sees a deleted row again (the gap Kafka Connect's JDBC source
leaves open), so a revoked licence deleted from its table would stay valid downstream. Every
`every_s` seconds (and at the end of a backfill) the source reads the table's keys in keyset
pages of `page_size`, marks them in its snapshot store (`snapshot`), and once the whole table is
read, hands out the keys no complete scan has seen since as deleted records. Memory holds one
page at a time, whatever the size of the table; a scan that fails half-way deletes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import Table, select, type_coerce
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import NullType

from connectors.sources.base import Offset, SourceRecord
from connectors.sources.keyset import after as keyset_after
from connectors.sources.snapshot import SnapshotStore, open_snapshot_engine
from gateway.settings import async_url

log = logging.getLogger(__name__)

HOW = "SNAPSHOT_DIFF"


class DeletesConfig(BaseModel):
    """How often to look for deleted rows, and where the key snapshot is kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_s: float = Field(default=3600, gt=0, description="seconds between key scans")
    snapshot_url: SecretStr = Field(
        description="SQLAlchemy URL of the snapshot store, e.g. "
        "sqlite:///${GOVGATE_DATA_DIR}/snapshots/NAME.db"
    )
    page_size: int = Field(default=5000, ge=1, description="keys per query of a scan")


ReadPage = Callable[[Any], Awaitable[Sequence[Row[Any]]]]


class KeyScans:
    """One SQL source's delete detection: scans, the snapshot, and the deleted records."""

    def __init__(
        self, connector: str, table: str, config: DeletesConfig, remember: Sequence[str]
    ) -> None:
        self.table = table
        self.config = config
        self.remember = list(remember)
        self.partition = f"{table}#deletes"
        self._scope = f"{connector}/{table}"
        self._engine: AsyncEngine | None = None
        self._store: SnapshotStore | None = None
        self._keys: list[ColumnElement[Any]] = []
        self._selected: list[ColumnElement[Any]] = []
        self._names: list[str] = []
        self._resume = False
        self.on_page: Callable[[int], Awaitable[None]] | None = None  # after each page: progress

    async def start(self, table: Table, keys: dict[str, str], remembered: dict[str, str]) -> None:
        """Open the snapshot store and bind the scan's columns: `keys` and `remembered` map
        the table's spelling of each column to the connector's."""
        await self.close()
        raw = table.c  # selected untyped, as the main scan does, so keys bind back as read
        self._keys = [type_coerce(raw[n], NullType()).label(v) for n, v in keys.items()]
        extra = {n: v for n, v in remembered.items() if n not in keys}
        self._selected = self._keys + [
            type_coerce(raw[n], NullType()).label(v) for n, v in extra.items()
        ]
        self._names = list(extra.values())  # what a page row holds after its key columns
        self._order = [raw[n] for n in keys]
        self._engine = open_snapshot_engine(async_url(self.config.snapshot_url.get_secret_value()))
        self._store = SnapshotStore(self._engine, self._scope)
        await self._store.load()
        self._resume = True  # hand out, once, what a crash left of the last scan's deletes

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine, self._store = self._engine, None, None
            await engine.dispose()

    def due(self, backfill: bool) -> bool:
        """A backfill always ends with a scan; otherwise every `every_s` seconds."""
        state = self._snapshot().state
        if backfill or state.completed_ms is None:
            return True
        return time.time() * 1000 - state.completed_ms >= self.config.every_s * 1000

    async def emitted(self, batch: Sequence[SourceRecord]) -> None:
        """Keys the source is handing out now (a scan running now will not take them for
        deleted; the next one will, if they are gone by then)."""
        names = self._names
        rows = [(r.key, [r.data.get(c) for c in names]) for r in batch if not r.deleted]
        await self._snapshot().mark(rows, None)

    async def committed(self, offset: Offset) -> None:
        """The deletes up to `offset` are on the log: the snapshot forgets those keys."""
        await self._snapshot().forget(int(offset["scan"]), str(offset["key"]))

    async def run(
        self, read_page: Callable[[Any], Awaitable[Sequence[Row[Any]]]], scan: bool
    ) -> AsyncGenerator[list[SourceRecord]]:
        """Hand out the deletes the last complete scan left (once, after a restart), else,
        with `scan`, scan the table and hand out what it finds. Looking for deletes reads the
        whole snapshot, so it is done only then, not on every poll; and no scan follows a
        resumed hand-out in the same round, which would hand the same keys out again (they
        are forgotten only once the log has them) under the new scan's version."""
        if self._resume:
            self._resume = False
            resumed = False
            async for batch in self._deleted():
                resumed = True
                yield batch
            if resumed:
                return
        if not scan:
            return
        store = self._snapshot()
        number = await store.begin_scan()
        started = time.monotonic()
        keys = await self._scan(read_page, number)
        await store.complete(number)
        took = time.monotonic() - started
        log.info("%s: key scan %d read %d keys in %.1f s", self.table, number, keys, took)
        async for batch in self._deleted():
            yield batch

    async def _scan(self, read_page: ReadPage, number: int) -> int:
        """Read every key page by page, marking each page while the next one is read (the
        source's database and the snapshot's work at once); raises what a page raises."""
        store, width = self._snapshot(), len(self._keys)
        pages = keys = 0
        last: tuple[Any, ...] | None = None
        marking: asyncio.Task[None] | None = None
        try:
            while True:
                rows = await read_page(self.page_query(last))
                if marking is not None:
                    await marking
                    marking = None
                if rows:
                    if width == 1:
                        marked: list[tuple[str, list[Any]]] = [
                            (str(r[0]), list(r[1:])) for r in rows
                        ]
                    else:
                        marked = [(_key(r, width), list(r[width:])) for r in rows]
                    marking = asyncio.ensure_future(store.mark(marked, number))
                    last = tuple(rows[-1][:width])
                    keys += len(rows)
                pages += 1
                if self.on_page is not None:
                    await self.on_page(pages)
                if len(rows) < self.config.page_size:
                    break
            if marking is not None:
                await marking
        finally:
            if marking is not None and not marking.done():
                marking.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await marking
        return keys

    def page_query(self, after: tuple[Any, ...] | None) -> Any:
        """The next page of keys (and remembered columns) after `after`, in key order."""
        query = select(*self._selected)
        if after is not None:
            positions = [type_coerce(c, NullType()) for c in self._order]
            query = query.where(keyset_after(positions, after))
        return query.order_by(*self._order).limit(self.config.page_size)

    async def _deleted(self) -> AsyncGenerator[list[SourceRecord]]:
        store = self._snapshot()
        state = store.state
        if state.completed == 0:
            return
        version = f"deleted@{state.completed_ms}"
        after: str | None = None
        while gone := await store.gone(after, self.config.page_size):
            after = gone[-1].key
            offset = {"scan": state.completed, "key": after}
            yield [
                SourceRecord(
                    partition=self.partition,
                    offset=offset,
                    table=self.table,
                    key=g.key,
                    version=version,
                    data=self._data(g.key, g.data),
                    deleted=True,
                    how=HOW,
                )
                for g in gone
            ]

    def _data(self, key: str, remembered: Any) -> dict[str, Any]:
        """A deleted row as far as it is known: its key columns and the remembered ones."""
        values = remembered if isinstance(remembered, list) else []
        data: dict[str, Any] = dict(zip(self._names, values, strict=False))
        labels = [str(c.key) for c in self._keys]
        parts = [key] if len(labels) == 1 else key.split("|")
        if len(parts) == len(labels):
            data.update(zip(labels, parts, strict=True))
        return data

    def _snapshot(self) -> SnapshotStore:
        if self._store is None:
            raise RuntimeError(f"{self.table}: start() the key scans first")
        return self._store


def _key(row: Row[Any], width: int) -> str:
    return "|".join(str(v) for v in row[:width])
