"""`govgate db`: the gateway's own database."""

from __future__ import annotations

import asyncio

import click

from gateway.settings import Settings
from gateway.store import make_engine, migrate


@click.group()
def db() -> None:
    """The gateway's database (SQLite by default, PostgreSQL in production)."""


@db.command()
def upgrade() -> None:
    """Apply every pending migration (Alembic `upgrade head`)."""

    async def run() -> None:
        engine = make_engine(Settings().database_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo("database is at the newest schema")
