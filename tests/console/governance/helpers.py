"""Signing people in on the in-process console, posting its forms, and reading the audit rows
a console action left."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from gateway.audit.tables import audit_rows
from tests.console.conftest import Console, csrf_in


async def signed(
    console: Console, role: str, department: str | None = None
) -> tuple[httpx.AsyncClient, str]:
    """A client signed in as a new person of `role`; and the person's username."""
    username, password = await console.add_person(role, department)
    client = console.client()
    answer = await console.post_signin(client, username, password)
    assert answer.status_code == 303, answer.text
    return client, username


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """GET `page` for its CSRF token, then POST `data` (lists: repeated fields) to `action`."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    return await client.post(action, data=data | {"csrf_token": csrf_in(shown.text)})


async def rows(console: Console, username: str) -> list[tuple[str, str | None, str]]:
    """(method, code, decision) of the audit rows naming `person:<username>`, in order."""
    async with console.services.engine.connect() as conn:
        found = await conn.execute(
            select(audit_rows.c.method, audit_rows.c.code, audit_rows.c.decision)
            .where(audit_rows.c.member_id == f"person:{username}")
            .order_by(audit_rows.c.seq)
        )
        return [(r.method, r.code, r.decision) for r in found]
