"""The two SQL simulators' shared plumbing: an async engine for a plain URL, the lifecycle.

SQLite files get write-ahead logging and a busy timeout, because in the demo a connector
reads the same file while the simulator writes it; without WAL the reader would block the
writer (and the other way round) and fail with "database is locked".
"""

from __future__ import annotations

import random
from types import TracebackType
from typing import Any, ClassVar, Self

from sqlalchemy import MetaData, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.simulators.clock import SimClock
from connectors.simulators.defects import Defect, DefectBook
from connectors.simulators.people import REGIONS, PartyFactory
from gateway.settings import async_url

__all__ = ["SqlSimulator", "open_engine"]


def open_engine(url: str) -> AsyncEngine:
    """An async engine for `url` (postgresql://, sqlite:///, mysql:// or an async URL)."""
    engine = create_async_engine(async_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class SqlSimulator:
    """A department database the simulator owns: engine, generator, clock and defect book.

    `async with Simulator(url) as sim:` creates the schema if needed and disposes of the
    engine at the end.
    """

    metadata: ClassVar[MetaData]
    main_table: ClassVar[str | None] = None  # what `count` counts (default: the only table)

    def __init__(
        self, url: str, *, seed: int = 0, bad_share: float = 0.0, region: str = "330802"
    ) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        self.region = region
        self._engine = open_engine(url)
        self._rng = random.Random(seed)
        self._parties = PartyFactory(self._rng, region)
        self._clock = SimClock()
        self._book = DefectBook(self._rng, bad_share)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def bad_keys(self) -> set[str]:
        """Source keys of the rows generated with a defect."""
        return self._book.bad_keys

    @property
    def defects(self) -> dict[str, Defect]:
        """Each bad key's defect: kind, spoiled column, value written."""
        return self._book.defects

    async def create_schema(self) -> None:
        """Create the department's tables and indexes if they do not exist (idempotent)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(self.metadata.create_all)

    async def count(self) -> int:
        """How many rows the department's table holds."""
        name = self.main_table
        table = self.metadata.tables[name] if name else self.metadata.sorted_tables[0]
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        await self.create_schema()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
