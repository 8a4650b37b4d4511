"""Run a short piece of synchronous SQLAlchemy Core work against the gateway's database.

Hot paths (a lookup's query, a batch of audit rows or nonces) are written as plain functions
of a `Connection`. On PostgreSQL they run through the async engine (`run_sync`: asyncpg,
no thread). On SQLite they run in one worker thread with a pysqlite connection of their own:
through aiosqlite every DBAPI call (cursor, execute, fetch, close, commit, rollback) is a trip
to the connection's thread and back, five to seven per statement, each waiting for the GIL,
and a lookup spent more time in those trips than in SQLite. One `asyncio.to_thread` instead
keeps the event loop free (reads under WAL do not wait for writers; a writer waits for the
lock in its thread, up to the busy timeout) at the cost of one trip.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

Result = TypeVar("Result")

_SQLITE_ENGINES: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()


def _sqlite_engine(engine: AsyncEngine) -> Engine:
    """The pysqlite engine paired with an aiosqlite engine: same file, same PRAGMAs."""
    found = _SQLITE_ENGINES.get(engine)
    if found is None:
        from gateway.store.engine import sqlite_pragmas  # engine.py imports this module

        url = engine.url.set(drivername="sqlite+pysqlite")
        pool = engine.pool.size()  # type: ignore[attr-defined]
        found = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool,
            max_overflow=pool,
        )
        event.listen(found, "connect", sqlite_pragmas)
        _SQLITE_ENGINES[engine] = found
    return found


def dispose(engine: AsyncEngine) -> None:
    """Close the SQLite connections made for `engine` (on shutdown)."""
    found = _SQLITE_ENGINES.pop(engine, None)
    if found is not None:
        found.dispose()


async def run(engine: AsyncEngine, work: Callable[[Connection], Result], *, write: bool) -> Result:
    """`work(connection)` in one transaction, committed if `write`, else rolled back."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        # PostgreSQL (asyncpg: no thread), or an in-memory SQLite only this engine can see
        if write:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        async with engine.connect() as conn:
            return await conn.run_sync(work)
    return await asyncio.to_thread(_run_sqlite, _sqlite_engine(engine), work, write)


def _run_sqlite(engine: Engine, work: Callable[[Connection], Any], write: bool) -> Any:
    if write:
        with engine.begin() as conn:
            return work(conn)
    with engine.connect() as conn:
        return work(conn)
