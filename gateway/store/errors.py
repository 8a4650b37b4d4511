"""Translate database driver errors at the boundary, as each caller's own retriable error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, OperationalError


@asynccontextmanager
async def unavailable_as(error: Callable[[str], Exception]) -> AsyncIterator[None]:
    """Driver errors that mean "the database is not there now" become `error(detail)`;
    anything else (a constraint, a bad statement) propagates unchanged."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise error(f"database: {exc.orig!r}") from exc
        raise
    except (OSError, ConnectionError) as exc:
        raise error(f"database: {exc!r}") from exc
