"""`blocking.read` on a SQLite file: in the event loop while nothing holds a lock, and in a
thread (the loop free meanwhile) once something does; its connection kept across reads. On
PostgreSQL: one autocommit statement, tried once more when its connection was dead."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import blocking, make_engine


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [("a", "1"), ("b", "2")])
    conn.close()
    return path


def _value(conn: Connection) -> tuple[str, int]:
    return str(conn.execute(text("SELECT v FROM t WHERE k = 'b'")).scalar()), threading.get_ident()


async def test_a_read_runs_in_the_loop_and_cannot_write(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    try:
        value, thread = await blocking.read(engine, _value)
        assert (value, thread) == ("2", threading.get_ident())  # no thread trip

        def write(conn: Connection) -> None:
            conn.execute(text("INSERT INTO t VALUES ('c', '3')"))

        with pytest.raises(Exception, match="readonly|query_only|read-only"):
            await blocking.read(engine, write)
    finally:
        blocking.dispose(engine)
        await engine.dispose()


async def test_a_read_that_meets_a_lock_waits_in_a_thread_not_in_the_loop(db: Path) -> None:
    """Another connection in exclusive locking mode keeps every reader out for 0.6 s."""
    holder = sqlite3.connect(db, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("UPDATE t SET v = '20' WHERE k = 'b'")
    holder.commit()  # the exclusive lock stays until the connection closes
    engine = make_engine(f"sqlite:///{db}")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.6, holder.close)
    started = time.monotonic()
    try:
        value, thread = await blocking.read(engine, _value)
    finally:
        ticking.cancel()
        blocking.dispose(engine)
        await engine.dispose()
    assert value == "20" and thread != threading.get_ident()  # read once the lock was gone
    assert time.monotonic() - started >= 0.5
    assert ticks >= 20  # the loop kept running while the read waited


async def test_the_reader_connection_is_kept_across_reads(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")

    def backend(conn: Connection) -> int:
        return id(conn.connection.dbapi_connection)

    try:
        first = await blocking.read(engine, backend)
        assert await blocking.read(engine, backend) == first  # not reopened per request
        sqlite3.connect(db).execute("UPDATE t SET v = '21' WHERE k = 'b'").connection.commit()
        assert (await blocking.read(engine, _value))[0] == "21"  # and it sees new commits
    finally:
        await blocking.close(engine)
        await engine.dispose()


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS blocking_t"))
        await conn.execute(text("CREATE TABLE blocking_t (k TEXT PRIMARY KEY, v TEXT)"))
        await conn.execute(text("INSERT INTO blocking_t VALUES ('a', '1'), ('b', '2')"))
    try:
        yield engine
    finally:
        await blocking.close(engine)
        await engine.dispose()


def _pg_read(conn: Connection) -> tuple[str, bool, int]:
    """The value, whether the statement ran alone (autocommit: no BEGIN before it, so the
    server reports no open transaction after it), and the server process that ran it."""
    row = conn.execute(text("SELECT v, pg_backend_pid() FROM blocking_t WHERE k = 'b'")).one()
    driver = conn.connection.driver_connection
    assert driver is not None
    return str(row[0]), not driver.is_in_transaction(), int(row[1])


@pytest.mark.postgres
async def test_a_postgres_read_is_one_autocommit_statement(pg_engine: AsyncEngine) -> None:
    value, alone, _ = await blocking.read(pg_engine, _pg_read)
    assert (value, alone) == ("2", True)

    def write(conn: Connection) -> None:
        conn.execute(text("UPDATE blocking_t SET v = '3' WHERE k = 'a'"))

    await blocking.run(pg_engine, write, write=True)
    async with pg_engine.connect() as conn:  # the shared pool sees the write (committed)
        assert (await conn.execute(text("SELECT v FROM blocking_t WHERE k = 'a'"))).scalar() == "3"


@pytest.mark.postgres
async def test_a_postgres_read_on_a_dead_connection_is_tried_once_more(
    pg_engine: AsyncEngine,
) -> None:
    _, _, pid = await blocking.read(pg_engine, _pg_read)
    async with pg_engine.connect() as conn:  # the server ends the reader's connection
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.2)
    value, _, again = await blocking.read(pg_engine, _pg_read)
    assert value == "2" and again != pid


@pytest.mark.postgres
async def test_a_postgres_read_error_that_is_not_a_dead_connection_is_raised(
    pg_engine: AsyncEngine,
) -> None:
    def bad(conn: Connection) -> None:
        conn.execute(text("SELECT no_such_column FROM blocking_t"))

    with pytest.raises(DBAPIError) as raised:
        await blocking.read(pg_engine, bad)
    assert not raised.value.connection_invalidated
    assert (await blocking.read(pg_engine, _pg_read))[0] == "2"  # the pool is still usable
