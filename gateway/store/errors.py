"""Errors of the gateway's database, and the translation of driver errors at the boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.exc import DBAPIError, OperationalError

from schemas.errors import GovgateError


class StoreError(GovgateError):
    """Base of the gateway database's errors."""

    code = "STORE_ERROR"


class StoreUnavailable(StoreError):
    """The gateway's database cannot be reached now (members, nonces, lookups, webhooks).

    Retriable: wait and try again. Distinct from `LogUnavailable`, the event log's outage,
    even where the SQL log lives in the same database.
    """

    code = "STORE_UNAVAILABLE"
    retriable = True


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


def store_unavailable() -> AbstractAsyncContextManager[None]:
    """Driver errors that mean "the database is not there now" become `StoreUnavailable`."""
    return unavailable_as(StoreUnavailable)
