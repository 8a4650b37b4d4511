"""The people's tables and the console's core flows on PostgreSQL (the production database):
sign-in, the lockout's counting, CSRF, an ended session, the users' audit rows."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from gateway.api.app import create_app
from gateway.audit.tables import audit_rows
from gateway.people.tables import console_sessions
from tests.console.conftest import Console, console_settings, csrf_in
from tests.gateway.api.conftest import reset_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
async def console_pg(data_dir: Path, pg_url: str) -> AsyncIterator[Console]:
    await reset_postgres(pg_url)
    app = create_app(console_settings(data_dir, pg_url))
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        yield found
        for client in found.clients:
            await client.aclose()


async def test_sign_in_lockout_csrf_and_expiry_on_postgres(console_pg: Console) -> None:
    console = console_pg
    username, password = await console.add_person("officer", "SCJG")
    client = console.client()
    for _ in range(4):
        assert (await console.post_signin(client, username, "wrong-password-x")).status_code == 401
    signed = await console.post_signin(client, username, password)
    assert signed.status_code == 303  # four failures do not lock; success clears the count
    page = await client.get("/console/overview")
    assert page.status_code == 200
    assert (await client.post("/console/signout", data={})).status_code == 403
    async with console.services.engine.begin() as conn:
        await conn.execute(update(console_sessions).values(expires_ms=int(time.time() * 1000) - 1))
    assert (await client.get("/console/overview")).status_code == 303
    other = console.client()
    for _ in range(5):
        await console.post_signin(other, username, "wrong-password-x")
    locked = await console.post_signin(other, username, password)
    assert "账号已暂时锁定" in locked.text
    async with console.services.engine.connect() as conn:
        query = select(audit_rows.c.code).where(audit_rows.c.member_id == f"person:{username}")
        codes = [r.code for r in await conn.execute(query.order_by(audit_rows.c.seq))]
    assert codes == ["signin", "csrf_refused", "locked"]
    assert csrf_in(page.text)
