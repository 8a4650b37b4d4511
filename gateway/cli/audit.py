"""`govgate audit`: verify the audit chain, anchor its head, read a holder's access log.

Exit codes of `verify`: 0 intact, 1 problems found (each named by seq), 2 could not verify.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from dataclasses import asdict

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.audit.anchors import Anchor, anchor, latest_anchors
from gateway.audit.chain import VerifyReport, verify
from gateway.audit.errors import AuditError
from gateway.audit.log import SECRET_ENV, Access, access_log, load_secret
from gateway.log import LogError, open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from schemas.errors import DecodeError

DEFAULT_GATEWAY_ID = "govgate"


@click.group()
def audit() -> None:
    """The hash-chained audit log (审计日志) of every gateway request."""


@audit.command("verify")
@click.option(
    "--anchors/--no-anchors",
    "use_anchors",
    default=True,
    show_default=True,
    help="Also check the chain against the heads anchored on the audit-anchors stream.",
)
@click.option("--gateway-id", help="Only use anchors written by this gateway id (default: all).")
def verify_command(use_anchors: bool, gateway_id: str | None) -> None:
    """Re-compute every hash; name each altered, inserted or deleted row."""
    try:
        report = asyncio.run(run_verify(Settings(), anchors=use_anchors, gateway_id=gateway_id))
    except (AuditError, LogError, DecodeError, SQLAlchemyError, OSError) as exc:
        click.echo(f"could not verify the audit log: {exc!r}", err=True)
        if isinstance(exc, LogError):
            click.echo("(--no-anchors checks the chain without the event log)", err=True)
        raise SystemExit(2) from exc
    click.echo(summary(report, use_anchors))
    for problem in report.problems:
        click.echo(str(problem))
    if report.problem_count > len(report.problems):
        click.echo(f"… and {report.problem_count - len(report.problems)} more problems")
    if not report.ok:
        raise SystemExit(1)


async def run_verify(
    settings: Settings, *, anchors: bool = True, gateway_id: str | None = None
) -> VerifyReport:
    """Verify the chain in the database `settings` name, against the log's anchors if asked."""
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        checkpoints: list[Anchor] = []
        if anchors:
            event_log = await stack.enter_async_context(open_log(settings, engine))
            checkpoints = await latest_anchors(event_log, gateway_id=gateway_id)
        return await verify(engine, checkpoints)


def summary(report: VerifyReport, anchors: bool) -> str:
    """The first line `verify` prints."""
    if report.ok:
        line = (
            f"audit chain intact: {report.rows} rows (seq 1..{report.last_seq}), "
            f"head {report.head_hash}"
        )
    else:
        line = f"audit chain BROKEN: {report.problem_count} problems in {report.rows} rows"
    if not anchors:
        return line + "; anchors not checked"
    if report.anchors_checked == 0:
        return line + "; no anchors yet (a rewrite of the whole chain would go unseen)"
    return line + f"; {report.anchors_checked} anchors checked"


@audit.command("anchor")
@click.option("--gateway-id", default=DEFAULT_GATEWAY_ID, show_default=True)
def anchor_command(gateway_id: str) -> None:
    """Put the chain's current head on the audit-anchors stream now."""

    async def run() -> Anchor | None:
        settings = Settings()
        async with AsyncExitStack() as stack:
            engine = await stack.enter_async_context(open_database(settings))
            event_log = await stack.enter_async_context(open_log(settings, engine))
            return await anchor(engine, event_log, EventCodec(), gateway_id)

    done = asyncio.run(run())
    if done is None:
        click.echo("the audit chain is empty: nothing to anchor")
    else:
        click.echo(f"anchored seq {done.seq}, head {done.head_hash}, as event {done.event_id}")


@audit.command("access-log")
@click.argument("holder_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--after", type=int, help="Continue after this seq (the last one printed).")
def access_log_command(holder_id: str, limit: int, after: int | None) -> None:
    """Who looked at HOLDER_ID's data, when, for which item (newest first, JSON lines).

    Needs the gateway's audit secret in $GOVGATE_AUDIT_SECRET.
    """
    try:
        secret = load_secret()
    except ValueError as exc:
        raise click.UsageError(f"{exc} ({SECRET_ENV})") from exc
    for access in asyncio.run(run_access_log(Settings(), secret, holder_id, limit, after)):
        click.echo(json.dumps(jsonable(access), ensure_ascii=False))


async def run_access_log(
    settings: Settings, secret: bytes, holder_id: str, limit: int, after: int | None
) -> list[Access]:
    async with open_database(settings) as engine:
        return await access_log(engine, secret, holder_id, limit=limit, after=after)


def jsonable(access: Access) -> dict[str, object]:
    line = asdict(access)
    line["at"] = access.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return line
