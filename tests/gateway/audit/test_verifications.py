"""Recorded verifications on SQLite and PostgreSQL: MAC'd, linked, in the chain, re-checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import verify
from gateway.audit.filters import AuditQuery
from gateway.audit.hashing import chain_keys
from gateway.audit.log import AuditLog
from gateway.audit.search import AuditSearch
from gateway.audit.verifications import ROUTE, Verifications, verify_now
from tests.gateway.audit import BACKENDS, SECRET, database_url, entry, execute, fresh_engine


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(database_url(request.param, request, data_dir)) as engine:
        yield engine


@pytest.fixture
async def audit(engine: AsyncEngine) -> AsyncIterator[AuditLog]:
    async with AuditLog(engine, SECRET) as audit:
        for i in range(20):
            await audit.record(entry(i))
        yield audit


async def run(engine: AsyncEngine, audit: AuditLog, actor: str) -> None:
    report = await verify(engine, chain_keys(SECRET))
    await Verifications(engine, SECRET).record(audit, report, actor)


async def test_a_verification_is_recorded_and_audited_in_the_chain(
    engine: AsyncEngine, audit: AuditLog
) -> None:
    verifications = Verifications(engine, SECRET)
    assert await verifications.latest() is None
    await run(engine, audit, "person:shenji")
    latest = await verifications.latest()
    assert latest is not None
    assert (latest.id, latest.actor, latest.ok, latest.intact) == (1, "person:shenji", True, True)
    assert (latest.rows_checked, latest.last_seq, latest.problem_count) == (20, 20, 0)
    assert latest.first_problem is None and latest.audit_seq == 21
    rows = (await AuditSearch(engine, SECRET).page(AuditQuery(member="person:shenji"))).rows
    assert [(r.seq, r.route, r.decision) for r in rows] == [(21, ROUTE, "allow")]
    assert (await verify(engine, chain_keys(SECRET))).ok  # the chain took its row


async def test_a_broken_chain_is_recorded_as_such(engine: AsyncEngine, audit: AuditLog) -> None:
    await execute(engine, "UPDATE audit_rows SET member_id = 'someone-else' WHERE seq = 7")
    await run(engine, audit, "cli")
    latest = await Verifications(engine, SECRET).latest()
    assert latest is not None and latest.intact
    assert (latest.ok, latest.first_problem) == (False, "seq 7: ALTERED")
    rows = (await AuditSearch(engine, SECRET).page(AuditQuery(member="cli"))).rows
    assert [(r.decision, r.code) for r in rows] == [("deny", "AUDIT_CHAIN_BROKEN")]


async def test_a_forged_record_and_a_removed_one_show_as_not_intact(
    engine: AsyncEngine, audit: AuditLog
) -> None:
    await execute(engine, "UPDATE audit_rows SET member_id = 'someone-else' WHERE seq = 7")
    for actor in ("cli", "person:a", "person:b", "person:c"):
        await run(engine, audit, actor)
    verifications = Verifications(engine, SECRET)
    assert [v.intact for v in await verifications.recent()] == [True] * 4

    await execute(engine, "UPDATE audit_verifications SET ok = :t WHERE id = 1", t=True)
    await execute(engine, "DELETE FROM audit_verifications WHERE id = 3")
    found = {v.id: v.intact for v in await verifications.recent()}
    assert found == {4: False, 2: True, 1: False}  # 4's link is gone; 1's MAC fails

    # a record re-computed without the key (a plain hash, a MAC of another key) fails too
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE audit_verifications SET mac = prev_mac WHERE id = 2"))
    assert {v.id: v.intact for v in await verifications.recent(2)} == {4: False, 2: False}


async def test_verify_now_checks_the_signed_anchors_on_the_log(
    engine: AsyncEngine, audit: AuditLog
) -> None:
    from gateway.audit.anchors import anchor
    from gateway.log import SqlLog
    from gateway.members.keys import generate_private_key, key_id
    from schemas.codec import EventCodec
    from tests.gateway.audit import GATEWAY_KEY

    log = SqlLog(engine)
    await anchor(engine, log, EventCodec(), "govgate", GATEWAY_KEY)
    keys = {key_id(GATEWAY_KEY): GATEWAY_KEY.public_key()}
    report = await verify_now(engine, log, SECRET, keys)
    assert report.ok and (report.signed_anchors, report.anchored_seq) == (1, 20)

    stranger = generate_private_key("ed25519")  # anchors signed by a key not the gateway's
    forged = await verify_now(engine, log, SECRET, {key_id(stranger): stranger.public_key()})
    assert not forged.ok and forged.first_problem is not None
    assert forged.first_problem.kind == "ANCHOR_FORGED"
    await Verifications(engine, SECRET).record(audit, forged, "person:shenji")
    latest = await Verifications(engine, SECRET).latest()
    assert latest is not None and latest.intact and not latest.ok
    assert latest.first_problem == "seq 20: ANCHOR_FORGED"
