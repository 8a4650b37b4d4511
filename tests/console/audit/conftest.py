"""The audit pages' tests run on SQLite and on PostgreSQL: `console` here is the console's
fixture (tests/console/conftest.py) over both stores, the audit tables reset on PostgreSQL
(the session's database is shared)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from tests.console.conftest import Console, console_settings
from tests.gateway.audit import BACKENDS, fresh_engine


@pytest.fixture(params=BACKENDS)
async def console(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Console]:
    url: str | None = None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
        async with fresh_engine(url):
            pass  # migrated, its audit chain and verifications emptied
    app = create_app(console_settings(data_dir, url))
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        try:
            yield found
        finally:
            for client in found.clients:
                await client.aclose()
