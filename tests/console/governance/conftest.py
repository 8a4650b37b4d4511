"""The in-process console of tests/console/conftest.py, on SQLite and on PostgreSQL: the
governance pages' tests run on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from tests.console.conftest import Console, console_settings
from tests.gateway.api.conftest import reset_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def console(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Console]:
    url = None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
        await reset_postgres(url)
    app = create_app(console_settings(data_dir, url))
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        try:
            yield found
        finally:
            for client in found.clients:
                await client.aclose()
