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
handed over twice (README, Figures). The connection stays checked out across requests
(`_HeldReader`), so a read pays neither a connect and its PRAGMAs nor a pool checkout.

On PostgreSQL, `read` goes through a small pool of its own in autocommit mode and without a
pre-ping on checkout: a point read is then one round trip (the statement, prepared once per
connection by asyncpg), where the shared pool spent four (the ping, BEGIN, the statement,
ROLLBACK). A connection found dead is dropped and the read tried once more on a fresh one.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.store.sqlite import sqlite_pragmas

Result = TypeVar("Result")

_SQLITE_ENGINES: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()
_SQLITE_READERS: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()
_HELD_READERS: weakref.WeakKeyDictionary[AsyncEngine, _HeldReader] = weakref.WeakKeyDictionary()
_PG_READERS: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()
# Point reads in flight at once; more wait for a connection. No overflow: under load an
# overflow connection was opened and closed again per burst (a connect is several round trips
# and a TLS attempt, a sixth of the gateway's CPU in a profile), and PostgreSQL, on the same
# few cores, gains nothing from more at once.
PG_READER_POOL = 8


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


class _HeldReader:
    """The read-only connection `read` uses in the event loop, checked out once and kept.

    Reads run in the loop's thread one at a time (`work` is synchronous), so one connection
    serves them all; a checkout and check-in per read cost as much as the read itself. After
    each read its transaction is ended (under WAL the next read sees every commit made since).
    Another thread (a second event loop on the same engine) checks out a connection of its own.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._thread = threading.get_ident()

    def read(self, work: Callable[[Connection], Result]) -> Result:
        if threading.get_ident() != self._thread:
            with self.engine.connect() as conn:
                return work(conn)
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        conn = self._conn
        try:
            return work(conn)
        finally:
            if conn.invalidated:  # the driver said the connection is unusable: a fresh one next
                conn.close()
                self._conn = None
            else:
                conn.rollback()  # ends the read transaction; after an error, a clean connection

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()


def _held_reader(engine: AsyncEngine) -> _HeldReader:
    found = _HELD_READERS.get(engine)
    if found is None:
        found = _HELD_READERS[engine] = _HeldReader(_sqlite_reader(engine))
    return found


def _reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")  # SQLITE_BUSY at once, never a wait in the loop
    cursor.execute("PRAGMA query_only=ON")  # and never a write from the loop
    cursor.close()


def _pg_reader(engine: AsyncEngine) -> AsyncEngine:
    """Autocommit connections to the same PostgreSQL database, no pre-ping, for `read`."""
    found = _PG_READERS.get(engine)
    if found is None:
        found = create_async_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",  # no BEGIN before, no ROLLBACK after, a read
            pool_pre_ping=False,
            pool_reset_on_return=None,  # nothing to reset: no transaction is ever open
            pool_size=PG_READER_POOL,
            max_overflow=0,
        )
        _PG_READERS[engine] = found
    return found


def dispose(engine: AsyncEngine) -> None:
    """Close the SQLite connections made for `engine` (on shutdown; `close` does all)."""
    held = _HELD_READERS.pop(engine, None)
    if held is not None:
        held.close()
    for engines in (_SQLITE_ENGINES, _SQLITE_READERS):
        found = engines.pop(engine, None)
        if found is not None:
            found.dispose()


async def close(engine: AsyncEngine) -> None:
    """Close every connection made for `engine` here, SQLite and PostgreSQL (on shutdown)."""
    dispose(engine)
    reader = _PG_READERS.pop(engine, None)
    if reader is not None:
        await reader.dispose()


def _sqlite_file(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


async def read(engine: AsyncEngine, work: Callable[[Connection], Result]) -> Result:
    """`work(connection)`, a short indexed read: on SQLite in the event loop unless it meets a
    lock (then in a thread, as `run`); on PostgreSQL one autocommit round trip (no pre-ping,
    retried once on a dead connection); elsewhere as `run(write=False)`."""
    if _sqlite_file(engine):
        try:
            return _held_reader(engine).read(work)
        except OperationalError as exc:
            if "locked" not in str(exc.orig):  # SQLITE_BUSY: "database is locked"
                raise
    elif engine.dialect.name == "postgresql":
        return await _read_postgres(_pg_reader(engine), work)
    return await run(engine, work, write=False)


async def _read_postgres(reader: AsyncEngine, work: Callable[[Connection], Result]) -> Result:
    """One autocommit statement; once more on a fresh connection if the first was dead (a
    server restart, an idle connection cut): without a pre-ping, that is how one is found."""
    try:
        async with reader.connect() as conn:
            return await conn.run_sync(work)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    async with reader.connect() as conn:  # the pool dropped the dead connections it held
        return await conn.run_sync(work)


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
