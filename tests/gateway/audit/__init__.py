"""Helpers shared by the audit tests: fresh databases (SQLite, PostgreSQL) and sample entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import GENESIS
from gateway.audit.hashing import chain_key
from gateway.audit.log import AuditEntry
from gateway.members.keys import generate_private_key
from gateway.store import make_engine, migrate

SECRET = b"audit-secret-for-tests-0123456789"
KEY = chain_key(SECRET)  # the chain key the writer derives from SECRET
GATEWAY_KEY = generate_private_key("ed25519")  # what anchors are signed with
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def database_url(backend: str, request: pytest.FixtureRequest, data_dir: Path) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{data_dir / 'govgate.db'}"


@asynccontextmanager
async def fresh_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine whose audit tables and SQL log start empty (PostgreSQL is shared by
    the session, so each test resets what it uses)."""
    engine = make_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_rows"))
            await conn.execute(
                text(
                    "UPDATE audit_head SET seq = 0, hash = :genesis, keyed_from = 1, "
                    "hash_alg = NULL"
                ),
                {"genesis": GENESIS},
            )
            await conn.execute(text("DELETE FROM audit_verifications"))
            await conn.execute(text("DELETE FROM log_records"))
            await conn.execute(text("DELETE FROM log_heads"))
        yield engine
    finally:
        await engine.dispose()


def entry(i: int = 0, **changes: Any) -> AuditEntry:
    """A plausible certificate lookup; `changes` override any field."""
    fields: dict[str, Any] = {
        "method": "GET",
        "path": "/v1/certificates",
        "route": "/v1/certificates",
        "decision": "allow",
        "status": 200,
        "member_id": f"kecheng-window-{i % 3}",
        "keyid": f"kecheng-window-{i % 3}-2026",
        "holder_id": None,
        "purpose": "330802-XK-0017",
        "case_no": f"SL2026-{i:05d}",
    }
    fields.update(changes)
    return AuditEntry(**fields)


async def audit_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT * FROM audit_rows ORDER BY seq"))
        return [dict(row) for row in result.mappings()]


async def execute(engine: AsyncEngine, sql: str, **params: Any) -> None:
    """Tamper with the database as an intruder would: plain SQL, no gateway code."""
    async with engine.begin() as conn:
        await conn.execute(text(sql), params)
