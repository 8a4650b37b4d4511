"""`govgate audit`: verify the audit chain, anchor its head, export anchors, read an access log.

Exit codes of `verify`: 0 intact, 1 problems found (the first bad or missing row named, then
each problem by seq), 2 could not verify.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from dataclasses import asdict
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.api.services import load_audit_secret, load_signing_keys
from gateway.audit.anchor_file import anchor_line, append_lines, read_anchor_file
from gateway.audit.anchors import anchor, latest_anchors
from gateway.audit.chain import Problem, VerifyReport, verify
from gateway.audit.errors import AuditError
from gateway.audit.hashing import chain_keys
from gateway.audit.log import SECRET_ENV, Access, AuditLog, access_log, load_secret
from gateway.audit.signed_anchors import Anchor, check_signatures
from gateway.audit.verifications import Verifications, anchors_due
from gateway.log import LogError, open_log
from gateway.members.errors import KeyFormatError
from gateway.members.keys import PublicKey, key_id, read_private_key, read_public_key
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from schemas.errors import DecodeError

LOG = "log"


@click.group()
def audit() -> None:
    """The hash-chained audit log (审计日志) of every gateway request."""


@audit.command("verify")
@click.option(
    "--anchors",
    "sources",
    multiple=True,
    default=(LOG,),
    show_default=True,
    metavar="log|FILE",
    help="Where the signed anchors are: the audit-anchors stream ('log'), or a JSON-lines "
    "file (gateway.audit_anchor_file, `export-anchors`); repeat to use several.",
)
@click.option("--no-anchors", is_flag=True, help="Check the chain alone, without anchors.")
@click.option("--gateway-id", help="Only use anchors written by this gateway id (default: all).")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another PEM public key anchors may be signed with (besides the gateway's own).",
)
@click.option(
    "--anchors-due-s",
    type=float,
    help="Rows older than this must be covered by a signed anchor (default: twice "
    "gateway.audit_anchor_interval_s + 60; 0 or an interval of 0: not checked).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Record this run (who: cli, when, what it found) for the console's chain verification "
    "state, MAC'd and written to the chain as an audited action; for a scheduled verify.",
)
def verify_command(
    sources: tuple[str, ...],
    no_anchors: bool,
    gateway_id: str | None,
    public_keys: tuple[Path, ...],
    anchors_due_s: float | None,
    record: bool,
) -> None:
    """Re-compute every keyed hash; name the first bad or missing row, then each problem."""
    settings = Settings()
    try:
        report = asyncio.run(
            run_verify(
                settings,
                sources=() if no_anchors else sources,
                gateway_id=gateway_id,
                public_keys=public_keys,
                anchors_due_s=anchors_due_s,
                record=record,
            )
        )
    except (AuditError, LogError, DecodeError, SQLAlchemyError, OSError, ValueError) as exc:
        click.echo(f"could not verify the audit log: {exc!r}", err=True)
        if isinstance(exc, LogError):
            click.echo("(--anchors FILE or --no-anchors check without the event log)", err=True)
        raise SystemExit(2) from exc
    click.echo(summary(report, anchored=not no_anchors))
    if (first := report.first_problem) is not None:
        click.echo(f"first bad or missing row: seq {first.seq} ({first.kind})")
    for problem in report.problems:
        click.echo(str(problem))
    if report.problem_count > len(report.problems):
        click.echo(f"… and {report.problem_count - len(report.problems)} more problems")
    if not report.ok:
        raise SystemExit(1)


def due_s(settings: Settings, given: float | None) -> float | None:
    """How old a row may be without a signed anchor before `verify` calls it a finding."""
    if given is not None:
        return given or None
    return anchors_due(settings.gateway.audit_anchor_interval_s)


def anchor_keys(settings: Settings, extra: tuple[Path, ...] = ()) -> dict[str, PublicKey]:
    """The public keys anchors may be signed with: the gateway's response key (if its file is
    here), its previous keys, and `extra`, by key id."""
    keys: list[PublicKey] = [
        read_public_key(path) for path in (*settings.gateway.previous_keys, *extra)
    ]
    own = settings.gateway.response_key or settings.data_dir / "keys" / "gateway.private.pem"
    if own.exists():
        keys.append(read_private_key(own).public_key())
    return {key_id(key): key for key in keys}


async def run_verify(
    settings: Settings,
    *,
    sources: tuple[str, ...] = (LOG,),
    gateway_id: str | None = None,
    public_keys: tuple[Path, ...] = (),
    anchors_due_s: float | None = None,
    record: bool = False,
) -> VerifyReport:
    """Verify the chain in the database `settings` name, against the anchors of `sources`
    ('log' and/or files) whose signatures hold; with `record`, record the run (as `cli`)."""
    secret = await asyncio.to_thread(load_audit_secret, settings, create=False)
    key = chain_keys(secret)
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        found: list[Anchor] = []
        findings: list[Problem] = []
        for source in sources:
            if source == LOG:
                event_log = await stack.enter_async_context(open_log(settings, engine))
                found += await latest_anchors(event_log, gateway_id=gateway_id)
            else:
                more, bad = await asyncio.to_thread(read_anchor_file, Path(source))
                found += [a for a in more if gateway_id in (None, a.gateway_id)]
                findings += bad
        try:
            keys = anchor_keys(settings, public_keys)
        except KeyFormatError as exc:
            raise ValueError(f"a public key could not be read: {exc}") from exc
        checked, forged = check_signatures(_distinct(found), keys)
        due = due_s(settings, anchors_due_s) if sources else None
        report = await verify(
            engine, key, checked, anchors_due_s=due, findings=[*findings, *forged]
        )
        if record:
            audit = AuditLog(engine, secret, hash_alg=settings.gateway.audit_hash)
            try:
                await Verifications(engine, secret).record(audit, report, "cli")
            except AuditError as exc:  # the verdict stands; only its record is missing
                click.echo(f"this verification could not be recorded: {exc}", err=True)
        return report


def _distinct(anchors: list[Anchor]) -> list[Anchor]:
    """One of each anchor seen in several sources (same event id, same content)."""
    seen: dict[tuple[object, ...], Anchor] = {}
    for found in anchors:
        seen.setdefault((found.event_id, found.signature, found.head_hash, found.seq), found)
    return list(seen.values())


def summary(report: VerifyReport, anchored: bool) -> str:
    """The first line `verify` prints."""
    if report.ok:
        line = (
            f"audit chain intact: {report.rows} rows (seq 1..{report.last_seq}), "
            f"head {report.head_hash}"
        )
    else:
        line = f"audit chain BROKEN: {report.problem_count} problems in {report.rows} rows"
    if report.unkeyed_rows:
        line += f"; {report.unkeyed_rows} legacy rows unkeyed"
    if report.hash_alg != "sha-256":
        line += f"; rows hashed with HMAC-{report.hash_alg.upper()}"
    if not anchored:
        return line + "; anchors not checked"
    if report.signed_anchors == 0:
        return line + "; no signed anchors (a rewrite of the whole chain would go unseen)"
    return (
        line + f"; {report.signed_anchors} signed anchors checked (of {report.anchors_checked}), "
        f"rows up to seq {report.anchored_seq} anchored"
    )


@audit.command("anchor")
@click.option("--gateway-id", help="Default: gateway.id.")
def anchor_command(gateway_id: str | None) -> None:
    """Sign the chain's current head and put it on the audit-anchors stream (and the anchor
    file, if configured) now."""

    async def run() -> Anchor | None:
        settings = Settings()
        keys = await asyncio.to_thread(load_signing_keys, settings)
        async with AsyncExitStack() as stack:
            engine = await stack.enter_async_context(open_database(settings))
            event_log = await stack.enter_async_context(open_log(settings, engine))
            return await anchor(
                engine,
                event_log,
                EventCodec(),
                gateway_id or settings.gateway.id,
                keys.private_key,
                file=settings.gateway.audit_anchor_file,
            )

    done = asyncio.run(run())
    if done is None:
        click.echo("the audit chain is empty: nothing to anchor")
    else:
        click.echo(f"anchored seq {done.seq}, head {done.head_hash}, as event {done.event_id}")


@audit.command("export-anchors")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON-lines file to append to (made 0600 if missing); anchors already in it are skipped.",
)
@click.option("--gateway-id", help="Only this gateway's anchors (default: all).")
def export_anchors_command(out: Path, gateway_id: str | None) -> None:
    """Copy the audit-anchors stream's anchors to a file a database writer cannot reach."""

    async def run() -> list[Anchor]:
        settings = Settings()
        async with AsyncExitStack() as stack:
            engine = await stack.enter_async_context(open_database(settings))
            event_log = await stack.enter_async_context(open_log(settings, engine))
            return await latest_anchors(event_log, gateway_id=gateway_id)

    anchors = asyncio.run(run())
    have = {a.event_id for a in read_anchor_file(out)[0]} if out.exists() else set()
    lines = [anchor_line(a) for a in anchors if a.event_id not in have]
    if lines:
        append_lines(out, lines)
    click.echo(
        f"{len(lines)} anchors appended to {out} ({len(anchors) - len(lines)} already there)"
    )


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
