"""Checking the audit hash chain from the console, and when it was last checked.

A check re-computes every row's hash (gateway.audit.chain.verify, rows read in batches, memory
flat) and is itself an audited action (`audit_verified`) naming the person and the result, so
"the last verification" is read back from the chain, shared by every worker. It checks the
chain, its links and its head, not the signed anchors on the log (reading them all is
`govgate audit verify`'s job, off the request path).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.api.console.audit import audit_action
from gateway.api.services import Services
from gateway.audit.chain import VerifyReport, verify
from gateway.audit.hashing import chain_keys
from gateway.audit.tables import audit_rows, db_errors, read_head
from gateway.people.person import Person

ACTION = "audit_verified"
ROUTE = f"console:{ACTION}"
TARGET = "audit-chain"
_one_at_a_time = asyncio.Lock()


@dataclass(frozen=True)
class Verification:
    at: datetime
    by: str  # person:<username>
    summary: str  # "intact rows=… head=…" or "BROKEN problems=…"
    ok: bool


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


async def verify_chain(services: Services, person: Person) -> VerifyReport:
    """Verify the chain now (one check at a time per process) and audit the result."""
    async with _one_at_a_time:
        report = await verify(services.engine, chain_keys(services.audit_secret))
    if report.ok:
        summary = f"intact rows={report.rows} head={report.head_seq} alg={report.hash_alg}"
    else:
        first = report.first_problem
        where = f" first={first.kind}@{first.seq}" if first else ""
        summary = f"BROKEN problems={report.problem_count} rows={report.rows}{where}"
    await audit_action(services, person, ACTION, TARGET, summary)
    return report


async def last_verification(engine: AsyncEngine) -> Verification | None:
    """The newest console check of the chain, from the chain itself."""
    c = audit_rows.c
    query = (
        select(c.at_ms, c.member_id, c.path).where(c.route == ROUTE).order_by(c.seq.desc()).limit(1)
    )
    async with db_errors(), engine.connect() as conn:
        row = (await conn.execute(query)).one_or_none()
    if row is None:
        return None
    summary = str(row.path).partition(" ")[2]
    return Verification(
        at=datetime.fromtimestamp(row.at_ms / 1000, UTC),
        by=str(row.member_id),
        summary=summary,
        ok=summary.startswith("intact"),
    )


async def chain_head(engine: AsyncEngine) -> ChainHead:
    async with db_errors(), engine.connect() as conn:
        seq, hashed = await read_head(conn)
    return ChainHead(seq, hashed)
