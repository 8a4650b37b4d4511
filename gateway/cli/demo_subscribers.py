"""`govgate up --demo`'s reference subscribers, run in the gateway's parent process: the
e-supervision subscriber (电子监察, `govgate supervise`) and the 双告知 router with its claim
clock (`govgate notices run`), so the console's pages have clocks, cards and notices from the
start. Each keeps the state its command keeps (DATA_DIR/supervise.db, DATA_DIR/notices.db, or
the configured URLs), so running the commands later carries on from where the demo left off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from gateway.backoff import Backoff
from gateway.cli.notices import NoticesOptions, run_notices
from gateway.cli.notices import summary as notices_summary
from gateway.cli.supervise import SuperviseOptions, run_supervise
from gateway.cli.supervise import summary as supervise_summary
from gateway.settings import Settings
from schemas.errors import GovgateError

logger = logging.getLogger(__name__)

DEMO_INTERVAL_S = 5.0  # open cases and notices checked this often (unless configured oftener)
Run = Callable[[asyncio.Event], Awaitable[str]]  # runs until the event is set; its last line


async def run_subscribers(settings: Settings, stop: asyncio.Event) -> None:
    """Both subscribers until `stop` is set; an error in one restarts it, never the gateway."""
    supervise = SuperviseOptions.from_settings(
        settings, interval=min(settings.supervision.interval_s, DEMO_INTERVAL_S)
    )
    notices = NoticesOptions.from_settings(
        settings, interval=min(settings.notices.interval_s, DEMO_INTERVAL_S)
    )

    async def supervising(until: asyncio.Event) -> str:
        return supervise_summary(await run_supervise(supervise, until, _echo("supervise")))

    async def routing(until: asyncio.Event) -> str:
        return notices_summary(*await run_notices(notices, until, _echo("notices")))

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(kept_running("supervise", supervising, stop))
        tasks.create_task(kept_running("notices", routing, stop))


def _echo(name: str) -> Callable[[str], None]:
    """The command's lines (each card, each notice) into the log, under the command's name."""

    def echo(line: str) -> None:
        logger.info("%s: %s", name, line)

    return echo


async def kept_running(
    name: str, run: Run, stop: asyncio.Event, backoff: Backoff | None = None
) -> None:
    """`run` until `stop` is set, started again (after a backoff) whenever it fails or ends.

    Each attempt gets its own event, set when `stop` is: a subscriber that gives up sets its
    own event (the notices router does, to end its claim clock), which must not stop the
    gateway. Restarting loses nothing: each subscriber resumes from the position it saved with
    its state, and raises each card once.
    """
    backoff = backoff or Backoff(1.0, 30.0)
    while not stop.is_set():
        attempt = asyncio.Event()
        relay = asyncio.create_task(_relay(stop, attempt))
        began = time.monotonic()
        try:
            last = await run(attempt)
        except Exception as exc:  # anything: the gateway keeps serving, the subscriber retries
            logger.error("demo %s stopped: %s; starting it again", name, _described(exc))
            logger.debug("demo %s stopped", name, exc_info=exc)
        else:
            if stop.is_set():
                logger.info("%s", last)
                return
            logger.error("demo %s ended early (%s); starting it again", name, last)
        finally:
            relay.cancel()  # not awaited: that could swallow a cancellation of this task
        if time.monotonic() - began > backoff.max_s:
            backoff.reset()  # it ran a good while: a new run of failures starts
        await backoff.wait(stop)


async def _relay(stop: asyncio.Event, attempt: asyncio.Event) -> None:
    await stop.wait()
    attempt.set()


def _described(exc: BaseException) -> str:
    """A govgate error's code and detail; another's kind only (a driver's message may name
    hosts and users). An exception group (the notices router's two loops) by its parts."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_described(e) for e in exc.exceptions)
    if isinstance(exc, GovgateError):
        return str(exc)  # its code and detail
    return type(exc).__name__
