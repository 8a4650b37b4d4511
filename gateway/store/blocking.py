"""Run a short piece of synchronous SQLAlchemy Core work against the gateway's database.

Hot paths (a lookup's query, a batch of audit rows or nonces) are written as plain functions
of a `Connection`. On PostgreSQL they run through the async engine (`run_sync`: asyncpg,
no thread). On SQLite they run in one worker thread with a pysqlite connection of their own:
through aiosqlite every DBAPI call (cursor, execute, fetch, close, commit, rollback) is a trip
to the connection's thread and back, five to seven per statement, each waiting for the GIL,
and a lookup spent more time in those trips than in SQLite. One `asyncio.to_thread` instead
keeps the event loop free (reads under WAL do not wait for writers; a writer waits for the
lock in its thread, up to the busy timeout) at the cost of one trip.

`read` goes one step further for the lookups' short, indexed, LIMITed reads: on SQLite it
runs them in the event loop itself, on a read-only connection whose busy timeout is zero, so
it never waits for a lock there; a read that meets one (rare under WAL) goes to the thread
like any other. A point read costs less than the trip to a thread and back with the GIL
handed over twice (README, Figures).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.sqlite import sqlite_pragmas

Result = TypeVar("Result")

_SQLITE_ENGINES: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()
_SQLITE_READERS: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()


def _sqlite_engine(engine: AsyncEngine) -> Engine:
    """The pysqlite engine paired with an aiosqlite engine: same file, same PRAGMAs."""
    found = _SQLITE_ENGINES.get(engine)
    if found is None:
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


def _sqlite_reader(engine: AsyncEngine) -> Engine:
    """Read-only pysqlite connections that never wait for a lock, for `read` in the loop."""
    found = _SQLITE_READERS.get(engine)
    if found is None:
        found = create_engine(
            engine.url.set(drivername="sqlite+pysqlite"),
            connect_args={"timeout": 0, "check_same_thread": False},
            pool_size=1,
            max_overflow=1,
        )
        event.listen(found, "connect", _reader_pragmas)
        _SQLITE_READERS[engine] = found
    return found


def _reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")  # SQLITE_BUSY at once, never a wait in the loop
    cursor.execute("PRAGMA query_only=ON")  # and never a write from the loop
    cursor.close()


def dispose(engine: AsyncEngine) -> None:
    """Close the SQLite connections made for `engine` (on shutdown)."""
    for engines in (_SQLITE_ENGINES, _SQLITE_READERS):
        found = engines.pop(engine, None)
        if found is not None:
            found.dispose()


def _sqlite_file(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


async def read(engine: AsyncEngine, work: Callable[[Connection], Result]) -> Result:
    """`work(connection)`, a short indexed read: on SQLite in the event loop unless it meets a
    lock (then in a thread, as `run`); elsewhere as `run(write=False)`."""
    if _sqlite_file(engine):
        try:
            with _sqlite_reader(engine).connect() as conn:
                return work(conn)
        except OperationalError as exc:
            if "locked" not in str(exc.orig):  # SQLITE_BUSY: "database is locked"
                raise
    return await run(engine, work, write=False)


async def run(engine: AsyncEngine, work: Callable[[Connection], Result], *, write: bool) -> Result:
    """`work(connection)` in one transaction, committed if `write`, else rolled back."""
    if not _sqlite_file(engine):
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
