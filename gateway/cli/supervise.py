"""`govgate supervise`: the reference e-supervision (电子监察) subscriber, and its monthly report.

`govgate supervise` reads case-events (from the log with its own consumer group, or from a
gateway's HTTP feed as a subscriber member), keeps each case's clock in working days, and
raises yellow and red cards (黄牌/红牌) onto `supervision-alerts`, one line each on stdout.
`govgate supervise report --month 2026-11` writes the monthly per-department bulletin.
`govgate up --demo` runs the subscriber too, through `run_supervise`, in its parent process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.audit.errors import AuditError
from gateway.audit.log import content_fetches
from gateway.client import GatewayClient, GatewayError
from gateway.log import EventLog, LogError, open_log
from gateway.members.errors import MembersError
from gateway.members.keys import read_private_key
from gateway.settings import Settings, async_url
from gateway.store import open_database
from gateway.store.engine import make_engine
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cases import CaseFile
from gateway.supervision.errors import SupervisionError
from gateway.supervision.report import (
    add_notices,
    month_window,
    monthly_report,
    total,
    write_csv,
    write_xlsx,
)
from gateway.supervision.runner import started
from gateway.supervision.runner import supervise as run_supervisor
from gateway.supervision.sources import CaseSource, FeedSource, LogSource
from gateway.supervision.state import SupervisionState, open_state
from gateway.supervision.supervisor import Counts, Supervisor
from schemas.codec import EventCodec

_PEM_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _state_url(settings: Settings, given: str | None) -> str:
    configured = settings.supervision.state_url
    url = given or (configured.get_secret_value() if configured else None)
    return async_url(url or f"sqlite:///{settings.data_dir / 'supervise.db'}")


def _calendar(settings: Settings) -> WorkCalendar:
    return WorkCalendar(settings.supervision.notices_dir or settings.data_dir / "holiday-notices")


def _clock(now: dt.datetime | None) -> Callable[[], dt.datetime]:
    if now is None:
        return lambda: dt.datetime.now(dt.UTC)
    fixed = (
        now if now.tzinfo is not None else now.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    return lambda: fixed


_NOW = click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]),
    help="Hold the clock at this Asia/Shanghai time (tests, re-runs); default: the real time.",
)
_STATE = click.option(
    "--state",
    "state_url",
    metavar="URL",
    help="State database (SQLAlchemy URL); default supervision.state_url, else "
    "DATA_DIR/supervise.db.",
)
_SHARE = click.option(
    "--yellow-share",
    type=click.FloatRange(0, 1, min_open=True),
    help="Yellow card at this share of the promised limit (default supervision.yellow_share).",
)


@click.group(invoke_without_command=True)
@click.option("--feed", metavar="URL", help="Read the gateway's HTTP feed instead of the log.")
@click.option("--as", "member_id", help="With --feed: the subscriber member to sign as.")
@click.option("--key", "key_path", type=_PEM_FILE, help="With --feed: its private key (PEM).")
@click.option("--group", help="Consumer group on the log (default supervision.group).")
@click.option(
    "--publish/--no-publish",
    default=None,
    help="Put cards on the log's supervision-alerts (default: yes when reading the log, "
    "no with --feed).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    help="Seconds between checks of the open cases (default supervision.interval_s).",
)
@click.option("--once", is_flag=True, help="Stop once caught up with the source.")
@_STATE
@_SHARE
@_NOW
@click.pass_context
def supervise(
    ctx: click.Context,
    feed: str | None,
    member_id: str | None,
    key_path: Path | None,
    group: str | None,
    publish: bool | None,
    interval: float | None,
    once: bool,
    state_url: str | None,
    yellow_share: float | None,
    now: dt.datetime | None,
) -> None:
    """Keep case clocks and raise yellow and red cards (黄牌/红牌) on supervision-alerts.

    Reads case-events with its own consumer group (Kafka or the SQL log), or with --feed URL
    --as MEMBER --key PEM the gateway's HTTP feed. Open cases are checked every --interval
    seconds, so a case that sits past its limit gets its card with no new event. Each card is
    raised once per case and printed as one line.
    """
    if ctx.invoked_subcommand is not None:
        return
    if feed is not None and (member_id is None or key_path is None):
        raise click.UsageError("--feed needs --as MEMBER and --key PEM")
    settings = Settings()
    options = SuperviseOptions(
        settings=settings,
        feed=feed,
        member_id=member_id,
        key_path=key_path,
        group=group or settings.supervision.group,
        publish=publish if publish is not None else feed is None,
        interval=interval or settings.supervision.interval_s,
        once=once,
        state_url=_state_url(settings, state_url),
        yellow_share=yellow_share or settings.supervision.yellow_share,
        now=_clock(now),
    )
    try:
        asyncio.run(_run(options))
    except (LogError, SupervisionError, GatewayError, MembersError) as exc:
        raise click.ClickException(str(exc)) from exc


@dataclass(frozen=True)
class SuperviseOptions:
    """What one run of the subscriber reads, keeps and publishes (`govgate supervise`'s
    options, or `govgate up --demo`'s defaults from `from_settings`)."""

    settings: Settings
    feed: str | None
    member_id: str | None
    key_path: Path | None
    group: str
    publish: bool
    interval: float
    once: bool
    state_url: str
    yellow_share: float
    now: Callable[[], dt.datetime]

    @classmethod
    def from_settings(
        cls, settings: Settings, *, interval: float | None = None
    ) -> SuperviseOptions:
        """Reading the log with the configured group, publishing cards, on the real clock."""
        return cls(
            settings=settings,
            feed=None,
            member_id=None,
            key_path=None,
            group=settings.supervision.group,
            publish=True,
            interval=interval or settings.supervision.interval_s,
            once=False,
            state_url=_state_url(settings, None),
            yellow_share=settings.supervision.yellow_share,
            now=_clock(None),
        )


async def _run(options: SuperviseOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    counts = await run_supervise(options, stop, click.echo)
    click.echo(summary(counts), err=True)


def summary(counts: Counts) -> str:
    """The line a run ends with: what it applied, raised and published."""
    return (
        f"supervise: {counts.events} events applied, {counts.duplicates} duplicates, "
        f"{counts.skipped} skipped, {counts.cards} cards raised, {counts.published} published"
    )


async def run_supervise(
    options: SuperviseOptions, stop: asyncio.Event, echo: Callable[[str], None]
) -> Counts:
    """The subscriber until `stop` is set (or, with `options.once`, caught up): each card
    raised goes to `echo` as one line; returns what it did. Installs no signal handlers: the
    caller owns `stop` (the CLI sets it on SIGTERM/SIGINT, `govgate up --demo` on its own)."""
    settings = options.settings
    codec = EventCodec()
    async with AsyncExitStack() as stack:
        state = await started(
            stack, lambda: open_state(options.state_url), stop, "the state database"
        )
        log: EventLog | None = None
        if options.feed is None or options.publish:
            engine = None  # the SQL log lives in the gateway's database; Kafka needs none
            if settings.log_backend == "sql":
                engine = await started(
                    stack, lambda: open_database(settings), stop, "the SQL log's database"
                )
            log = await stack.enter_async_context(
                open_log(settings, engine, wait=settings.kafka.startup_wait_s)
            )
        supervisor = Supervisor(
            state,
            _calendar(settings),
            yellow_share=options.yellow_share,
            now=options.now,
            publish_to=log if options.publish else None,
            codec=codec,
            echo=echo,
        )
        opener = _source_opener(options, state, log, codec)
        await run_supervisor(supervisor, opener, stop, interval=options.interval, once=options.once)
        return supervisor.counts


def _source_opener(
    options: SuperviseOptions, state: SupervisionState, log: EventLog | None, codec: EventCodec
) -> Callable[[], AbstractAsyncContextManager[CaseSource]]:
    @asynccontextmanager
    async def from_log() -> AsyncIterator[CaseSource]:
        assert log is not None
        saved = await state.position(LogSource.source_id(options.group))
        async with LogSource(log, options.group, saved, codec).opened() as opened:
            yield opened

    @asynccontextmanager
    async def from_feed() -> AsyncIterator[CaseSource]:
        assert options.feed is not None and options.key_path is not None
        key = read_private_key(options.key_path)
        async with GatewayClient(
            options.feed, member_id=str(options.member_id), private_key=key
        ) as client:
            yield FeedSource(client, await state.position(FeedSource.source_id(client.base_url)))

    return from_log if options.feed is None else from_feed


@supervise.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2026-11.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write supervision-report-YYYY-MM.csv and .xlsx into.",
)
@_STATE
@_SHARE
@_NOW
@click.option(
    "--gateway-db",
    "gateway_url",
    metavar="URL",
    help="The gateway's database, whose audit log counts materials reused; default the "
    "gateway's own (database.url, or DATA_DIR/govgate.db when it exists).",
)
def report(
    month: str,
    out_dir: Path,
    state_url: str | None,
    yellow_share: float | None,
    now: dt.datetime | None,
    gateway_url: str | None,
) -> None:
    """Write the monthly per-department bulletin (电子监察月报) as CSV and XLSX.

    Per department: cases accepted and completed in the month, the on-time rate and average
    working days of completed cases, the yellow and red cards earned in the month, and the
    一网通办, 最多跑一次 and 即办件 rates and the materials reused (减证便民).
    """
    settings = Settings()
    try:
        window = month_window(month)
        rows, reused = asyncio.run(
            _report_rows(
                _state_url(settings, state_url), window, _gateway_url(settings, gateway_url)
            )
        )
        notices_url = _notices_url(settings)
        notice_rows = asyncio.run(_case_rows(notices_url, window)) if _exists(notices_url) else []
    except SupervisionError as exc:
        raise click.ClickException(str(exc)) from exc
    share = yellow_share or settings.supervision.yellow_share
    calendar = _calendar(settings)
    figures = monthly_report(
        rows, calendar, month, yellow_share=share, now=_clock(now)(), reused=reused
    )
    notice_figures = monthly_report(
        notice_rows, calendar, month, yellow_share=share, now=_clock(now)()
    )
    figures = add_notices(figures, notice_figures)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"supervision-report-{month}.csv"
    xlsx_path = out_dir / f"supervision-report-{month}.xlsx"
    write_csv(figures, csv_path)
    write_xlsx(figures, xlsx_path, month)
    for row in [*figures, total(figures)]:
        rate = "-" if row.on_time_rate is None else f"{row.on_time_rate}%"
        avg = "-" if row.avg_working_days is None else str(row.avg_working_days)
        flag = " (provisional)" if row.provisional else ""
        notices = ""
        if row.notices_received or row.notices_on_time or row.notices_overdue:
            notices = (
                f"; notices {row.notices_received}, claimed on time {row.notices_on_time}, "
                f"overdue {row.notices_overdue}"
            )
        click.echo(
            f"{row.department_name}: accepted {row.accepted}, completed {row.completed}, "
            f"on time {rate}, avg {avg} working days, yellow {row.yellow}, red {row.red}"
            f"{notices}{flag}; 一网通办 {_pct(row.online_rate)}, "
            f"最多跑一次 {_pct(row.at_most_once_rate)}, 即办 {_pct(row.on_the_spot_rate)}, "
            f"reused {_count(row.materials_reused)}"
        )
    click.echo(f"wrote {csv_path} and {xlsx_path}")


def _notices_url(settings: Settings) -> str:
    """The state of `govgate notices run` (its notices' claim clocks), for the 双告知 columns."""
    configured = settings.notices.state_url
    url = configured.get_secret_value() if configured else None
    return async_url(url or f"sqlite:///{settings.data_dir / 'notices.db'}")


def _exists(url: str) -> bool:
    """False for a SQLite file that is not there (no `govgate notices run` here yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).is_file()


async def _case_rows(url: str, window: tuple[dt.datetime, dt.datetime]) -> list[CaseFile]:
    async with open_state(url) as state:
        return await state.cases_between(*window)


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate}%"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _gateway_url(settings: Settings, given: str | None) -> str | None:
    """The gateway's database, when named or when the embedded one exists here."""
    if given:
        return async_url(given)
    if settings.database.url is not None:
        return settings.database_url
    embedded = settings.data_dir / "govgate.db"
    return settings.database_url if embedded.exists() else None


UNKNOWN_DEPARTMENT = ("", "未上报办件 cases not on the feed")


async def _report_rows(
    url: str, window: tuple[dt.datetime, dt.datetime], gateway_url: str | None
) -> tuple[list[CaseFile], dict[tuple[str, str], int] | None]:
    """The month's cases, and materials reused by the department of the case they served."""
    async with open_state(url) as state:
        cases = await state.cases_between(*window)
        fetches = await _fetches(gateway_url, window)
        if fetches is None:
            return cases, None
        known = await state.cases(fetches)
    reused: dict[tuple[str, str], int] = {}
    for case_no, count in fetches.items():
        case = known.get(case_no)
        key = (case.department_code, case.department_name) if case else UNKNOWN_DEPARTMENT
        reused[key] = reused.get(key, 0) + count
    return cases, reused


async def _fetches(
    gateway_url: str | None, window: tuple[dt.datetime, dt.datetime]
) -> dict[str, int] | None:
    """Content fetches per case from the gateway's audit log; None (and a note) without it."""
    if gateway_url is None:
        return None
    engine = make_engine(gateway_url)
    try:
        start, end = (int(t.timestamp() * 1000) for t in window)
        return await content_fetches(engine, start, end)
    except (AuditError, SQLAlchemyError) as exc:
        click.echo(f"materials reused left blank: the gateway's audit log: {exc}", err=True)
        return None
    finally:
        await engine.dispose()
