"""`blocking.read` on a SQLite file: in the event loop while nothing holds a lock, and in a
thread (the loop free meanwhile) once something does."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

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
