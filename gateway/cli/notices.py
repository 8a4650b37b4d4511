"""`govgate notices run`: 双告知 routing, and the clock on each department's claim (认领).

One process, two loops: the router reads `certificates` and appends a notice to `notices` for
each permit a new business licence's scope calls for (or one to the pool when no rule routes
it); the claim clock reads `notices` and, through the e-supervision subscriber's parts, raises
a yellow then a red card on `supervision-alerts` for a notice left unclaimed past its
working-day limit. It runs beside the gateway, like `govgate supervise`, not inside it: it is
the business of the 市场监管 / e-supervision side, keeps its own state, and one instance serves
however many gateway processes there are. (`govgate up --demo` runs it, through `run_notices`,
in its parent process, once, beside the simulated departments.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from gateway.backoff import Backoff
from gateway.cli.supervise import _NOW, _calendar, _clock, _notices_url
from gateway.log import EventLog, LogError, open_log
from gateway.notices.errors import NoticesError
from gateway.notices.router import NoticeRouter, RouterCounts
from gateway.notices.rules import load_rules
from gateway.notices.state import RouterState
from gateway.notices.tracker import NoticeSource
from gateway.settings import Settings, async_url
from gateway.store import open_database
from gateway.supervision.errors import SupervisionError
from gateway.supervision.runner import started
from gateway.supervision.runner import supervise as run_supervisor
from gateway.supervision.sources import CaseSource
from gateway.supervision.state import SupervisionState, open_state
from gateway.supervision.supervisor import Counts, Supervisor
from schemas.codec import EventCodec

logger = logging.getLogger(__name__)


def notices_state_url(settings: Settings, given: str | None = None) -> str:
    return async_url(given) if given else _notices_url(settings)


@click.group()
def notices() -> None:
    """双告知: new business licences routed to the departments that must follow them up."""


@notices.command("run")
@click.option("--once", is_flag=True, help="Stop once caught up (route, then check the clocks).")
@click.option(
    "--rules",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Routing rules (YAML); default notices.rules, else the shipped routing.yaml.",
)
@click.option("--state", "state_url", metavar="URL", help="State database (SQLAlchemy URL).")
@click.option("--interval", type=click.FloatRange(min=0.1), help="Seconds between clock checks.")
@_NOW
def run(
    once: bool,
    rules: Path | None,
    state_url: str | None,
    interval: float | None,
    now: dt.datetime | None,
) -> None:
    """Route new licences to departments and raise cards on notices left unclaimed.

    Each notice printed as one line (the business, the department, the permit); each card as
    one line, as `govgate supervise` prints them.
    """
    settings = Settings()
    options = NoticesOptions(
        settings=settings,
        once=once,
        rules=rules or settings.notices.rules,
        state_url=notices_state_url(settings, state_url),
        interval=interval or settings.notices.interval_s,
        now=_clock(now),
    )
    try:
        asyncio.run(_run(options))
    except (LogError, NoticesError, SupervisionError) as exc:
        raise click.ClickException(str(exc)) from exc


@dataclass(frozen=True)
class NoticesOptions:
    """What one run of the router and claim clock reads and keeps (`govgate notices run`'s
    options, or `govgate up --demo`'s defaults from `from_settings`)."""

    settings: Settings
    once: bool
    rules: Path | None
    state_url: str
    interval: float
    now: Callable[[], dt.datetime]

    @classmethod
    def from_settings(cls, settings: Settings, *, interval: float | None = None) -> NoticesOptions:
        """The configured rules and state, on the real clock, until stopped."""
        return cls(
            settings=settings,
            once=False,
            rules=settings.notices.rules,
            state_url=notices_state_url(settings),
            interval=interval or settings.notices.interval_s,
            now=_clock(None),
        )


async def _run(options: NoticesOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    router, clock = await run_notices(options, stop, click.echo)
    click.echo(summary(router, clock), err=True)


def summary(router: RouterCounts, clock: Counts) -> str:
    """The line a run ends with: licences routed, notices clocked, cards raised."""
    return (
        f"notices: {router.licences} licences routed, {router.notices} notices ({router.pooled} "
        f"to the pool), {clock.events} notice events clocked, {clock.cards} cards raised, "
        f"{clock.published} published"
    )


async def run_notices(
    options: NoticesOptions, stop: asyncio.Event, echo: Callable[[str], None]
) -> tuple[RouterCounts, Counts]:
    """The router and the claim clock until `stop` is set (or, with `options.once`, caught
    up): each notice and card goes to `echo` as one line; returns what each did. Installs no
    signal handlers: the caller owns `stop`. A router error that is not retriable sets `stop`,
    so the claim clock ends too, and is raised."""
    settings, codec = options.settings, EventCodec()
    table = load_rules(options.rules)
    async with AsyncExitStack() as stack:
        state = await started(
            stack, lambda: open_state(options.state_url), stop, "the notices state database"
        )
        router_state = RouterState(state.engine)
        await router_state.create()
        engine = None
        if settings.log_backend == "sql":
            engine = await started(
                stack, lambda: open_database(settings), stop, "the SQL log's database"
            )
        log = await stack.enter_async_context(
            open_log(settings, engine, wait=settings.kafka.startup_wait_s)
        )
        router = NoticeRouter(log, router_state, table, now=options.now, codec=codec, echo=echo)
        supervisor = Supervisor(
            state,
            _calendar(settings),
            yellow_share=settings.supervision.yellow_share,
            now=options.now,
            publish_to=log,
            codec=codec,
            echo=echo,
        )
        opener = _opener(state, log, codec)
        if options.once:
            await _route(router, stop, once=True)
            await run_supervisor(supervisor, opener, stop, interval=options.interval, once=True)
        else:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(_route(router, stop, once=False))
                tasks.create_task(
                    run_supervisor(supervisor, opener, stop, interval=options.interval)
                )
        return router.counts, supervisor.counts


async def _route(router: NoticeRouter, stop: asyncio.Event, *, once: bool) -> None:
    """The router, waited out with backoff while the log or the state is away."""
    backoff = Backoff(0.5, 10.0, jitter="none")
    while not stop.is_set():
        try:
            await router.run(stop, once=once)
            return
        except (LogError, NoticesError) as exc:
            if not exc.retriable:
                stop.set()
                raise
            logger.warning("notices router: %s; retrying", exc)
            await backoff.wait(stop)


def _opener(
    state: SupervisionState, log: EventLog, codec: EventCodec
) -> Callable[[], AbstractAsyncContextManager[CaseSource]]:
    @asynccontextmanager
    async def opened() -> AsyncIterator[CaseSource]:
        saved = await state.position(NoticeSource.source_id())
        async with NoticeSource(log, saved, codec).opened() as source:
            yield source

    return opened
