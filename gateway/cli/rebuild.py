"""`govgate rebuild`: replay the log into a fresh lookup store."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import LogError, open_log
from gateway.lookup import LookupStore, LookupStoreError, StreamStats, clear, replay
from gateway.settings import Settings
from gateway.store import blocking, make_engine, migrate, open_database
from gateway.store.errors import StoreError, store_unavailable


@click.command()
@click.option(
    "--into",
    metavar="URL",
    help="Rebuild into this database (SQLAlchemy URL), migrated first. Default: the gateway's "
    "own database, after emptying its lookup tables.",
)
def rebuild(into: str | None) -> None:
    """Replay certificates, materials and case events from the start of the log into a fresh
    lookup store, and print what was applied.

    The log is the source of truth, so the result is what the materializer would have built.
    Rebuilding in place leaves lookups incomplete until it ends; rebuild --into a new database
    and point the gateway at it to avoid that. Records appended after the replay began are
    left to the materializer.
    """
    started = time.monotonic()
    try:
        stats, counts, where = asyncio.run(_rebuild(Settings(), into))
    except (LogError, LookupStoreError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    for stream, s in stats.items():
        click.echo(
            f"{stream:<13} {s.records} records: {s.applied} applied, {s.duplicates} duplicates, "
            f"{s.stale} stale, {s.undecodable} undecodable (skipped)"
        )
    for table, rows in counts.items():
        click.echo(f"{table:<16} {rows} rows")
    click.echo(f"rebuilt {where} in {time.monotonic() - started:.1f} s")


async def _rebuild(
    settings: Settings, into: str | None
) -> tuple[dict[str, StreamStats], dict[str, int], str]:
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        log = await stack.enter_async_context(
            open_log(settings, engine, wait=settings.kafka.startup_wait_s)
        )
        target: AsyncEngine = engine
        if into is not None:
            target = make_engine(into)
            stack.push_async_callback(target.dispose)
            stack.push_async_callback(blocking.close, target)  # first: its read pools
            async with store_unavailable():
                await migrate(target)
        await clear(target)
        stats = await replay(log, target)
        counts = await LookupStore(target).counts()
        where = target.url.render_as_string(hide_password=True)
    return stats, counts, where
