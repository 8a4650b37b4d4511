"""Async engines for the gateway's database, with SQLite tuned for a durable single-file log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.settings import Settings, async_url
from gateway.store import blocking
from gateway.store.files import private_file
from gateway.store.sqlite import sqlite_pragmas

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 0x676F7667617465  # "govgate": one migrator at a time on PostgreSQL


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`. SQLite gets WAL, full sync and a generous busy timeout."""
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))  # 0600, its folder 0700 (gateway.store.files)
        # Each aiosqlite connection is a thread: keep them rather than open one per busy
        # moment (the default pool of 5 + 10 overflow opened and closed overflow connections
        # under load, each with its thread and PRAGMAs).
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30},
            pool_size=2 * pool_size,
            max_overflow=2 * pool_size,
        )
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def upsert_insert(engine: AsyncEngine) -> Callable[[Table], Any]:
    """The dialect's INSERT, which offers ON CONFLICT (SQLite and PostgreSQL alike)."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
    command.upgrade(alembic_config(connection), "heads")  # each component has its branch


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (Alembic `upgrade head`)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The engine for `settings`, migrated when `database.migrate_on_start`; disposed on exit."""
    engine = make_engine(
        settings.database_url, pool_size=settings.database.pool_size, echo=settings.database.echo
    )
    try:
        if settings.database.migrate_on_start:
            await migrate(engine)
        yield engine
    finally:
        await blocking.close(engine)
        await engine.dispose()
