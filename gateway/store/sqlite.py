"""How every SQLite connection of the gateway is set up, async (aiosqlite) or not (pysqlite)."""

from __future__ import annotations

from typing import Any


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """A connect-event listener: WAL, full sync, a busy timeout, foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives power loss
    cursor.execute("PRAGMA busy_timeout=30000")  # other processes wait for the write lock
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
