"""`govgate deadletters`: browse the dead letters (死信) and re-drive a corrected record.

`list` and `show` read the dead-letter index, brought up to date with the `dead-letters`
stream first; reasons, raw records and source keys are masked there, always. `redrive` re-reads
the record from its department system through its connector (this command is the composition
root: it hands the connectors' re-fetcher to the gateway's `Redrives`) and publishes it if it
now passes.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from connectors.runtime.redrive import refetcher
from gateway.log import EventLog, LogError, open_log
from gateway.operations.deadletters import STATES, DeadLetter, DeadLetterIndex, Filter
from gateway.operations.errors import OperationsError
from gateway.operations.redrive import Outcome, Redrives
from gateway.settings import Settings
from gateway.store import open_database

T = TypeVar("T")


@dataclass
class _Opened:
    index: DeadLetterIndex
    log: EventLog
    redrives: Redrives


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[_Opened]:
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        log = await stack.enter_async_context(open_log(settings, engine))
        index = DeadLetterIndex(engine)
        while await index.refresh(log) > 0:
            pass
        yield _Opened(index, log, Redrives(index, log, refetcher(settings, log, engine)))


@click.group()
def deadletters() -> None:
    """Dead letters: records connectors could not map or validate (personal ids masked)."""


@deadletters.command("list")
@click.option("--connector", help="Only this connector's, e.g. fgw-tzxm.")
@click.option("--code", help="Only this error code, e.g. ID_NUMBER_CHECK.")
@click.option("--state", type=click.Choice(STATES), help="OPEN or REDRIVEN.")
@click.option("--after", help="The cursor printed after the previous page.")
@click.option("-n", "--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(
    connector: str | None,
    code: str | None,
    state: str | None,
    after: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Dead letters, newest first, then the counts by code."""

    async def work() -> None:
        where = Filter.parse(connector, code, state)
        async with _opened(Settings()) as opened:
            page = await opened.index.page(where, after, limit)
            tallies = await opened.index.tallies(where.connector)
        for letter in page.items:
            click.echo(
                json.dumps(_summary(letter), ensure_ascii=False) if as_json else _line(letter)
            )
        if not as_json:
            counts = ", ".join(f"{c} {n}" for c, n in tallies) or "none"
            click.echo(f"by code: {counts}")
            if page.next_after is not None:
                click.echo(f"more: --after {page.next_after}")

    _go(work())


@deadletters.command()
@click.argument("event_id")
def show(event_id: str) -> None:
    """One dead letter: its reason, the raw record (masked) and its re-drives."""

    async def work() -> None:
        async with _opened(Settings()) as opened:
            letter = await opened.index.get(event_id)
            attempts = await opened.redrives.attempts(letter.event_id)
        shown = _summary(letter) | {"raw": letter.raw_fields()}
        shown["redrives"] = [
            {"actor": a.actor, "at_ms": a.at_ms, "outcome": str(a.outcome), "code": a.code}
            for a in attempts
        ]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))

    _go(work())


@deadletters.command()
@click.argument("event_id")
def redrive(event_id: str) -> None:
    """Re-read EVENT_ID's record from its source and publish it if it now passes."""

    async def work() -> Outcome:
        async with _opened(Settings()) as opened:
            attempt = await opened.redrives.redrive(event_id, f"cli:{getpass.getuser()}")
        why = f" {attempt.code}: {attempt.detail}" if attempt.code else ""
        published = f" as {', '.join(attempt.event_ids)}" if attempt.event_ids else ""
        click.echo(f"{event_id}: {attempt.outcome}{published}{why}")
        return attempt.outcome

    if _go(work()) is not Outcome.REPUBLISHED:
        raise SystemExit(1)


@deadletters.command()
def reindex() -> None:
    """Rebuild the dead-letter index from the dead-letters stream (re-driven ones stay so)."""

    async def work() -> int:
        settings = Settings()
        async with open_database(settings) as engine, open_log(settings, engine) as log:
            return await DeadLetterIndex(engine).rebuild(log)

    click.echo(f"indexed {_go(work())} dead letters")


def _go(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except (OperationsError, LogError) as exc:
        raise click.ClickException(str(exc)) from exc


def _summary(letter: DeadLetter) -> dict[str, object]:
    return {
        "event_id": letter.event_id,
        "connector": letter.connector,
        "code": letter.error_code,
        "field": letter.field,
        "reason": letter.reason,
        "failed_at": letter.failed_at.isoformat(),
        "source": f"{letter.source_system}/{letter.source_table}/{letter.source_key}",
        "state": letter.state,
    }


def _line(letter: DeadLetter) -> str:
    return (
        f"{letter.failed_at:%Y-%m-%d %H:%M:%S} {letter.event_id} {letter.connector} "
        f"{letter.error_code} [{letter.state}] {letter.source_table}/{letter.source_key}: "
        f"{letter.reason}"
    )
