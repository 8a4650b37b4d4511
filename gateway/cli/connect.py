"""`govgate connect`: run, backfill and inspect connectors."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from datetime import UTC, datetime

import click

from connectors.errors import MappingSpecError
from connectors.runtime.host import (
    connector_files,
    load_specs,
    open_host,
    register_publishers,
    run_connectors,
)
from connectors.sources.factory import build_source
from gateway.settings import Settings


@click.group()
def connect() -> None:
    """Connectors: pull records from department systems into the log."""


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def _specs(names: tuple[str, ...]) -> tuple[Settings, list]:  # type: ignore[type-arg]
    settings = Settings()
    try:
        return settings, load_specs(settings, list(names) or None)
    except MappingSpecError as exc:
        raise click.ClickException(exc.detail) from exc


@connect.command("list")
def list_connectors() -> None:
    """The connector files found (shipped profiles and GOVGATE_CONNECTORS_DIR)."""
    settings = Settings()
    for name, path in connector_files(settings).items():
        click.echo(f"{name:<16} {path}")


@connect.command()
@click.argument("names", nargs=-1)
def register(names: tuple[str, ...]) -> None:
    """Register connectors NAMES' (default: all) publisher members for their stream and
    source system, adding each member (publisher role, no key) if it does not exist. A
    connector runs as its department's publisher and does not start before this."""
    settings, specs = _specs(names)

    async def main() -> list[str]:
        async with open_host(settings) as host:
            return await register_publishers(host.engine, specs)

    try:
        lines = asyncio.run(main())
    except MappingSpecError as exc:
        raise click.ClickException(exc.detail) from exc
    for line in lines:
        click.echo(line)


@connect.command()
@click.argument("names", nargs=-1)
def run(names: tuple[str, ...]) -> None:
    """Run connectors NAMES (default: all) until SIGTERM; each finishes its batch first."""
    settings, specs = _specs(names)

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        async with open_host(settings) as host:
            states = await run_connectors(host, specs, stop)
        for state in states:
            click.echo(
                f"{state.connector}: {state.state}, {state.records} records, "
                f"{state.dead_letters} dead letters"
            )

    asyncio.run(main())


@connect.command()
@click.argument("name")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Extra processes that map and encode while this one reads and produces.",
)
def backfill(name: str, workers: int) -> None:
    """Read everything connector NAME's source has now, with a progress line, then exit."""
    settings, specs = _specs((name,))

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        total = await build_source(specs[0], backfill=True).pending()
        progress = _Progress(total)
        async with open_host(settings) as host:
            [state] = await run_connectors(
                host, specs, stop, backfill=True, on_batch=progress, workers=workers
            )
        progress.finish()
        click.echo(
            f"{state.connector}: {state.state}, {state.records} records, "
            f"{state.dead_letters} dead letters"
        )
        if state.state == "failed":
            raise click.ClickException(state.last_error or "failed")

    asyncio.run(main())


class _Progress:
    """records, rate and ETA on one refreshing stderr line."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.shown = 0.0

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= 0.5:
            self.shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-6)
        line = f"\r{self.done:,} records  {rate:,.0f}/s"
        if self.total:
            eta = max(self.total - self.done, 0) / rate if rate else 0
            line += f"  {min(self.done / self.total, 1):.0%} of {self.total:,}  ETA {eta:,.0f}s"
        click.echo(line.ljust(70), nl=False, err=True)

    def finish(self) -> None:
        self._show(time.monotonic())
        click.echo("", err=True)


@connect.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per connector.")
def status(as_json: bool) -> None:
    """Each connector's state, records, dead letters, last error and position."""

    async def main() -> list[dict[str, object]]:
        async with open_host(Settings()) as host:
            return await host.status.all()

    rows = asyncio.run(main())
    for row in rows:
        updated = datetime.fromtimestamp(int(row["updated_ms"]) / 1000, UTC)  # type: ignore[call-overload]
        if as_json:
            click.echo(
                json.dumps(
                    {**row, "position": json.loads(str(row["position"] or "{}"))},
                    ensure_ascii=False,
                    default=str,
                )
            )
            continue
        click.echo(
            f"{row['connector']}: {row['state']}, {row['records']:,} records, "
            f"{row['dead_letters']:,} dead letters, updated {updated:%Y-%m-%d %H:%M:%S}Z"
        )
        if row["last_error"]:
            click.echo(f"  last error: {row['last_error']}")
        click.echo(f"  position: {row['position']}")
    if not rows:
        click.echo("no connector has run yet", err=True)
        sys.exit(0)
