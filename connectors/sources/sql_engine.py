"""The SQL source's connection to a department's database: the engine, and which driver errors
mean "the server is not there now" (retriable) rather than a wrong query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pymysql
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.errors import SourceConfigError
from gateway.settings import async_url

CONNECT_TIMEOUT_S = 10

# Errors that mean "the server is not there now", raised before SQLAlchemy can wrap them.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable; TimeoutError is one too
    PoolTimeout,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
)
# SQLSTATE classes of PostgreSQL errors that asyncpg raises as plain errors: connection (08),
# authorization (28), no such database (3D), resources (53), shutdown (57), system (58).
UNAVAILABLE_SQLSTATES = frozenset({"08", "28", "3D", "53", "57", "58"})
READ_ERRORS: tuple[type[Exception], ...] = (DBAPIError, *CONNECTION_ERRORS)


def connect_args(backend: str, driver: str) -> dict[str, Any]:
    if driver == "asyncpg":
        return {"timeout": CONNECT_TIMEOUT_S}
    if driver == "aiomysql":
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {"timeout": 30} if backend == "sqlite" else {}  # sqlite: wait for a writer's lock


def make_source_engine(url: SecretStr, table: str) -> AsyncEngine:
    """An engine for the department's database. A SQLite file must exist: the source reads a
    department's database, never creates one, and a wrong path fails now, not retried."""
    try:
        parsed = make_url(async_url(url.get_secret_value()))
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database).is_file():
                raise SourceConfigError(f"{table}: no SQLite database file at {parsed.database}")
        args = connect_args(parsed.get_backend_name(), parsed.get_driver_name())
        pool = {} if parsed.get_backend_name() == "sqlite" else {"pool_size": 1, "max_overflow": 1}
        return create_async_engine(parsed, connect_args=args, pool_pre_ping=True, **pool)
    except (ArgumentError, NoSuchModuleError, ValueError):
        # the message would quote the URL, password and all
        raise SourceConfigError(f"{table}: url is not a usable SQLAlchemy URL") from None
