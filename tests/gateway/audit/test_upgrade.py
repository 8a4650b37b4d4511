"""A chain written before the chain was keyed keeps verifying after `0005_audit_keyed`.

The database is first migrated only as far as the old audit schema (0003_audit), filled with
rows hashed as the gateway hashed them then (v1, unkeyed), and migrated to the newest schema
the way `govgate db upgrade` does; then the gateway writes keyed rows and a signed anchor."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from gateway.audit.anchors import anchor
from gateway.audit.chain import GENESIS, row_hash, verify
from gateway.audit.log import AuditLog
from gateway.audit.signed_anchors import check_signatures
from gateway.log import SqlLog
from gateway.members.keys import key_id
from gateway.store import make_engine, migrate
from gateway.store.engine import alembic_config
from schemas.codec import EventCodec
from tests.gateway.audit import GATEWAY_KEY, KEY, SECRET, audit_rows, entry


async def test_a_legacy_chain_verifies_after_the_upgrade(data_dir: Path) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'govgate.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0003_audit"))
            prev = GENESIS
            for seq in range(1, 8):
                row = {
                    "seq": seq, "at_ms": 1_795_000_000_000 + seq, "member_id": "window",
                    "keyid": "k", "method": "GET", "path": "/v1/certificates",
                    "route": "/v1/certificates", "holder": None, "holder_type": None,
                    "purpose": "ITEM", "case_no": None, "decision": "allow", "code": None,
                    "status": 200, "prev_hash": prev,
                }  # fmt: skip
                prev = row["hash"] = row_hash(row)
                names = ", ".join(row)
                await conn.execute(
                    text(f"INSERT INTO audit_rows ({names}) VALUES (:{', :'.join(row)})"), row
                )
            await conn.execute(text("UPDATE audit_head SET seq = 7, hash = :h"), {"h": prev})
        await migrate(engine)  # to the newest schema, as `govgate db upgrade` does
        async with engine.connect() as conn:
            head = (
                await conn.execute(text("SELECT seq, keyed_from, hash_alg FROM audit_head"))
            ).one()
        assert tuple(head) == (7, 8, "sha-256")  # 0009_audit_sm3 records the chain's hash
        assert {r["requests"] for r in await audit_rows(engine)} == {1}

        async with AuditLog(engine, SECRET) as audit:
            for i in range(3):
                await audit.record(entry(i))
        log = SqlLog(engine)
        made = await anchor(engine, log, EventCodec(), "govgate", GATEWAY_KEY)
        assert made is not None and made.keyed_from == 8
        checked, problems = check_signatures(
            [made], {key_id(GATEWAY_KEY): GATEWAY_KEY.public_key()}
        )
        report = await verify(engine, KEY, checked, anchors_due_s=180)
        assert report.ok, report.problems
        assert (report.rows, report.unkeyed_rows, report.anchored_seq) == (10, 7, 10)
    finally:
        await engine.dispose()
