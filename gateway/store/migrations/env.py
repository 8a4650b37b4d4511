"""Alembic environment: used programmatically by gateway.store.migrate (a connection is
passed in), or from the command line with alembic.ini (an engine is made from GOVGATE_*)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

# Every module that defines tables on the shared metadata, so autogenerate sees them all.
from gateway.audit import tables as _audit_tables  # noqa: F401
from gateway.catalogue import tables as _catalogue_tables  # noqa: F401
from gateway.governance import tables as _governance_tables  # noqa: F401
from gateway.lookup import tables as _lookup_tables  # noqa: F401
from gateway.members import tables as _members_tables  # noqa: F401
from gateway.operations import tables as _operations_tables  # noqa: F401
from gateway.publishing import tables as _publishing_tables  # noqa: F401
from gateway.settings import Settings
from gateway.store.tables import metadata
from gateway.webhooks import tables as _webhooks_tables  # noqa: F401


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_engine() -> None:
    from gateway.store.engine import make_engine

    engine = make_engine(Settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_engine())
