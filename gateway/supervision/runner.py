"""The subscriber's main loop: read, apply, sweep, publish; wait and retry when something is down.

Errors marked ``retriable`` (the log, the state database or the gateway unreachable) are
logged and retried with backoff, the source reopened from the saved position; anything else
stops the subscriber, since carrying on would lose data silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.backoff import Backoff
from gateway.client import GatewayError
from gateway.log import LogError
from gateway.supervision.errors import SupervisionError
from gateway.supervision.sources import CaseSource
from gateway.supervision.supervisor import Supervisor

logger = logging.getLogger(__name__)

POLL_S = 1.0
Opened = TypeVar("Opened")


async def started(
    stack: AsyncExitStack,
    opener: Callable[[], AbstractAsyncContextManager[Opened]],
    stop: asyncio.Event,
    what: str,
) -> Opened:
    """`opener()` entered on `stack`. While what it reaches (the state database, the SQL
    log's database) is down, wait and try again, backing off up to 10 s, until it answers or
    `stop` is set; any other error is raised at once."""
    backoff = Backoff(0.5, 10.0, jitter="none")
    while True:
        try:
            return await stack.enter_async_context(opener())
        except Exception as exc:
            if stop.is_set() or not _unreachable(exc):
                raise
            logger.warning("%s unreachable (%s); retrying", what, _kind(exc))
        await backoff.wait(stop)


def _unreachable(exc: Exception) -> bool:
    if getattr(exc, "retriable", False) or isinstance(exc, OperationalError | OSError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _kind(exc: Exception) -> str:
    """The error's kind, not its text: a driver's message may name hosts and users."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return type(cause).__name__


async def supervise(
    supervisor: Supervisor,
    open_source: Callable[[], AbstractAsyncContextManager[CaseSource]],
    stop: asyncio.Event,
    *,
    interval: float,
    once: bool = False,
) -> None:
    """Run until ``stop`` is set (or, with ``once``, until the source is caught up)."""
    backoff = Backoff(0.5, 10.0, jitter="none")
    while not stop.is_set():
        try:
            async with open_source() as source:
                backoff.reset()
                await _loop(supervisor, source, stop, interval, once)
                return
        except (LogError, SupervisionError, GatewayError) as exc:
            if not exc.retriable:
                raise
            logger.warning("%s; retrying", exc)
            await backoff.wait(stop)


async def _loop(
    supervisor: Supervisor, source: CaseSource, stop: asyncio.Event, interval: float, once: bool
) -> None:
    next_sweep = 0.0
    while not stop.is_set():
        await supervisor.publish()
        batch = await source.next_batch(POLL_S)
        if batch is not None:
            await supervisor.apply(batch.items, source.id, batch.position)
            await source.saved()
            continue
        if (once or time.monotonic() >= next_sweep) and await source.caught_up():
            await supervisor.sweep()
            next_sweep = time.monotonic() + interval
            if once:
                await supervisor.publish()
                return
