"""`govgate governance run`: the clocks on the reviewers, grant expiry, and the outbox relay.

One loop beside the gateway (like `govgate notices run`): every interval it relays governance
events still in the outbox to the log, marks grants past their expiry EXPIRED (each an audited
action, on the log), and feeds the review steps on `governance` to the e-supervision
subscriber's parts, which raise a yellow card at `supervision.yellow_share` of a step's
working-day limit and a red card past it, on `supervision-alerts`, naming the department.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import click

from gateway.api.services import load_audit_secret
from gateway.audit.log import AuditLog
from gateway.catalogue.errors import CatalogueError
from gateway.governance.clocks import GovernanceSource
from gateway.governance.errors import GovernanceError
from gateway.governance.grants import GrantRecord
from gateway.governance.record import Actor
from gateway.governance.service import Governance
from gateway.log import EventLog, LogError, open_log
from gateway.members.store import MembersStore
from gateway.settings import Settings, async_url
from gateway.store import open_database
from gateway.store.errors import StoreError
from gateway.supervision.errors import SupervisionError
from gateway.supervision.runner import started
from gateway.supervision.runner import supervise as run_supervisor
from gateway.supervision.sources import CaseSource
from gateway.supervision.state import SupervisionState, open_state
from gateway.supervision.supervisor import Supervisor
from schemas.codec import EventCodec

ERRORS = (CatalogueError, GovernanceError, StoreError, LogError, SupervisionError)


@dataclass
class Opened:
    settings: Settings
    log: EventLog
    members: MembersStore
    governance: Governance


@asynccontextmanager
async def opened(
    settings: Settings, clock: Callable[[], float] | None = None
) -> AsyncIterator[Opened]:
    """The gateway's database, log, audit writer and governance parts, for one command."""
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        log = await stack.enter_async_context(open_log(settings, engine))
        secret = await asyncio.to_thread(load_audit_secret, settings)
        audit = await stack.enter_async_context(AuditLog(engine, secret))
        members = MembersStore(engine)
        extra = {} if clock is None else {"clock": clock}
        governance = Governance.build(
            engine, audit, log, EventCodec(), members, settings.governance, **extra
        )
        yield Opened(settings, log, members, governance)


def state_url(settings: Settings, given: str | None = None) -> str:
    configured = settings.governance.state_url
    url = given or (configured.get_secret_value() if configured else None)
    return async_url(url or f"sqlite:///{settings.data_dir / 'governance.db'}")


@click.group()
def governance() -> None:
    """共享治理: review clocks on sharing applications, grant expiry, the governance stream."""


_NOW = click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]),
    help="Hold the clock at this Asia/Shanghai time (tests, re-runs); default: the real time.",
)


def _clock(now: dt.datetime | None) -> Callable[[], dt.datetime]:
    if now is None:
        return lambda: dt.datetime.now(dt.UTC)
    fixed = now if now.tzinfo else now.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return lambda: fixed


@governance.command("run")
@click.option("--once", is_flag=True, help="Stop once caught up (relay, expire, check clocks).")
@click.option("--state", "state", metavar="URL", help="State database (SQLAlchemy URL).")
@click.option("--interval", type=click.FloatRange(min=0.1), help="Seconds between checks.")
@_NOW
def run(once: bool, state: str | None, interval: float | None, now: dt.datetime | None) -> None:
    """Expire grants, relay events, and raise cards on review steps left past their limit."""
    settings = Settings()
    clock = _clock(now)
    try:
        asyncio.run(
            _run(
                settings,
                once,
                state_url(settings, state),
                interval or settings.governance.interval_s,
                clock,
            )
        )
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


async def _run(
    settings: Settings,
    once: bool,
    url: str,
    interval: float,
    clock: Callable[[], dt.datetime],
) -> None:
    from gateway.cli.supervise import _calendar  # the supervision calendar, holidays and all

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        state = await started(stack, lambda: open_state(url), stop, "the governance state database")
        found = await stack.enter_async_context(opened(settings, lambda: clock().timestamp()))
        codec = EventCodec()
        supervisor = Supervisor(
            state,
            _calendar(settings),
            yellow_share=settings.supervision.yellow_share,
            now=clock,
            publish_to=found.log,
            codec=codec,
            echo=click.echo,
        )
        source = _opener(state, found.log, codec, settings.governance.region_code)
        expired = 0

        async def upkeep() -> None:
            nonlocal expired
            while True:
                await found.governance.recorder.relay()
                expired += await found.governance.grants.expire_due(int(clock().timestamp() * 1000))
                await found.governance.recorder.relay()
                if once:
                    return
                try:
                    await asyncio.wait_for(stop.wait(), interval)
                    return
                except TimeoutError:
                    continue

        if once:
            await upkeep()
            await run_supervisor(supervisor, source, stop, interval=interval, once=True)
        else:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(upkeep())
                tasks.create_task(run_supervisor(supervisor, source, stop, interval=interval))
        c = supervisor.counts
        click.echo(
            f"governance: {expired} grants expired, {c.events} review events clocked, "
            f"{c.cards} cards raised, {c.published} published",
            err=True,
        )


def _opener(
    state: SupervisionState, log: EventLog, codec: EventCodec, region: str
) -> Callable[[], AbstractAsyncContextManager[CaseSource]]:
    @asynccontextmanager
    async def opened_source() -> AsyncIterator[CaseSource]:
        saved = await state.position(GovernanceSource.source_id())
        async with GovernanceSource(log, saved, codec, region).opened() as source:
            yield source

    return opened_source


@governance.command("grants")
@click.option("--member", "member_id", help="Only this member's grants.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per grant.")
def grants_command(member_id: str | None, as_json: bool) -> None:
    """Every grant with its state (ACTIVE, SUSPENDED, REVOKED, EXPIRED), expiry and origin."""

    async def go() -> list[GrantRecord]:
        async with opened(Settings()) as found:
            return await found.governance.grants.visible(Actor.command_line(), member_id)

    try:
        found = asyncio.run(go())
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    for grant in found:
        if as_json:
            click.echo(json.dumps(grant.to_json(), ensure_ascii=False))
            continue
        expires = "no expiry"
        if grant.expires_ms is not None:
            until = dt.datetime.fromtimestamp(grant.expires_ms / 1000, dt.UTC)
            expires = f"expires {until:%Y-%m-%d %H:%M}Z"
        fields = "-" if grant.fields is None else ",".join(grant.fields)  # as the grant says
        origin = grant.application_id or "operator"
        click.echo(
            f"{grant.grant_id} {grant.member_id} {grant.kind}:{grant.code}:{grant.purpose} "
            f"[{fields}] {grant.status} {expires} ({origin})"
        )


@governance.command("change")
@click.argument("grant_id")
@click.argument("change", type=click.Choice(["narrow", "suspend", "reinstate", "revoke"]))
@click.option("--reason", help="Why (required but to reinstate).")
@click.option("--field", "fields", multiple=True, help="With narrow: a field the grant keeps.")
def change_command(grant_id: str, change: str, reason: str | None, fields: tuple[str, ...]) -> None:
    """Narrow, suspend, reinstate or revoke GRANT_ID as the operator (for the bureau)."""

    async def go() -> GrantRecord:
        async with opened(Settings()) as found:
            return await found.governance.grants.change(
                Actor.command_line(), grant_id, change, reason, list(fields) or None
            )

    try:
        grant = asyncio.run(go())
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{grant.grant_id} {grant.status}")
