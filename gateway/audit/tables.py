"""Tables of the audit log (审计日志), on the gateway's metadata; migration 0003_audit creates them.

`audit_rows` holds one row per request of an identified member, and one row per interval tallying
the refusals of unidentified callers (`requests` > 1 possible), chained by `prev_hash` → `hash`
(see gateway.audit.hashing). `audit_head` is a single row (`id` = 1) holding the last seq
and its hash; its row lock serializes appends, so the writers of several gateway processes
produce one chain with dense seqs in commit order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.errors import AuditCorrupted, AuditUnavailable
from gateway.store.errors import unavailable_as
from gateway.store.tables import metadata

HEAD_ID = 1

# Column widths, shared with the writer, which shortens request-supplied text to fit them.
WIDTHS: dict[str, int] = {
    "member_id": 128,
    "keyid": 256,
    "method": 16,
    "path": 1024,
    "route": 256,
    "holder_type": 32,
    "purpose": 64,
    "case_no": 64,
    "decision": 8,
    "code": 64,
}

audit_rows = Table(
    "audit_rows",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # 1, 2, 3 … no gaps
    Column("at_ms", BigInteger, nullable=False),  # when the request was audited, UTC ms
    Column("member_id", String(WIDTHS["member_id"]), nullable=True),  # None: caller unknown
    Column("keyid", String(WIDTHS["keyid"]), nullable=True),
    Column("method", String(WIDTHS["method"]), nullable=False),
    Column("path", String(WIDTHS["path"]), nullable=False),  # template or safe path, no query
    Column("route", String(WIDTHS["route"]), nullable=True),
    Column("holder", String(64), nullable=True),  # HMAC-SHA256 of the holder's id, hex
    Column("holder_type", String(WIDTHS["holder_type"]), nullable=True),
    Column("purpose", String(WIDTHS["purpose"]), nullable=True),  # 事项编码 from Gov-Purpose
    Column("case_no", String(WIDTHS["case_no"]), nullable=True),  # 办件编号 from Gov-Case
    Column("decision", String(WIDTHS["decision"]), nullable=False),  # allow / deny
    Column("code", String(WIDTHS["code"]), nullable=True),  # refusal code
    Column("status", Integer, nullable=False),  # HTTP status answered
    # requests this row stands for: 1, or a tally of unauthenticated refusals (0005_audit_keyed)
    Column("requests", BigInteger, nullable=False, server_default="1"),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # SHA-256 of a file served (a material's content); migration 0006_audit_content
    Column("content_sha256", String(64), nullable=True),
)
Index("ix_audit_rows_holder", audit_rows.c.holder, audit_rows.c.seq)
# the audit search's (gateway.audit.search), migration 0010_audit_search: filter, then its order
_DENIED = text("decision = 'deny'")
Index("ix_audit_rows_at", audit_rows.c.at_ms, audit_rows.c.seq)
Index("ix_audit_rows_member_at", audit_rows.c.member_id, audit_rows.c.at_ms, audit_rows.c.seq)
Index("ix_audit_rows_purpose_at", audit_rows.c.purpose, audit_rows.c.at_ms, audit_rows.c.seq)
Index(
    "ix_audit_rows_denied_at",
    audit_rows.c.at_ms,
    audit_rows.c.seq,
    sqlite_where=_DENIED,
    postgresql_where=_DENIED,
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),  # last seq appended; 0 before the first row
    Column("hash", String(64), nullable=False),  # hash of that row; 64 zeros before the first
    # the first seq hashed with the chain key (rows below are legacy v1); set by 0005_audit_keyed
    Column("keyed_from", BigInteger, nullable=True),
    # the chain's row hash: sha-256 or sm3 (gateway.audit.hashing), set by its first row; NULL
    # on a chain with rows is sha-256 (written before 0009_audit_sm3)
    Column("hash_alg", String(16), nullable=True),
)


# each run of `verify` (gateway.audit.verifications), migration 0010_audit_search
audit_verifications = Table(
    "audit_verifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # 1, 2, 3 … no gaps
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(128), nullable=False),  # person:<username>, or cli
    Column("ok", Boolean, nullable=False),
    Column("rows_checked", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("problem_count", BigInteger, nullable=False),
    Column("first_problem", String(256), nullable=True),  # "seq 12: ALTERED"
    Column("hash_alg", String(16), nullable=False),  # the chain's, and this MAC's
    Column("signed_anchors", BigInteger, nullable=False),
    Column("anchored_seq", BigInteger, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),  # the chain row recording this run
    Column("prev_mac", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
)


async def read_head(conn: AsyncConnection) -> tuple[int, str]:
    """The chain head: (last seq, its hash). `AuditCorrupted` if the head row is gone."""
    row = (
        await conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
        )
    ).one_or_none()
    if row is None:
        raise AuditCorrupted("the audit_head row is missing; run `govgate audit verify`")
    return int(row.seq), str(row.hash)


async def read_keyed_from(conn: AsyncConnection) -> int:
    """The first seq hashed with the chain key (1 for a chain keyed from the start)."""
    found = await conn.scalar(select(audit_head.c.keyed_from).where(audit_head.c.id == HEAD_ID))
    return 1 if found is None else int(found)


def recorded_alg(seq: int, stored: str | None) -> str | None:
    """The chain's hash algorithm as its head records it: None while it has no row (the first
    row decides), else `stored`, or SHA-256 when none is (rows written before the column)."""
    if seq <= 0:
        return None
    return "sha-256" if stored is None else stored


async def read_hash_alg(conn: AsyncConnection) -> str | None:
    """The chain's recorded hash algorithm (`recorded_alg`); None with no head or no rows."""
    row = (
        await conn.execute(
            select(audit_head.c.seq, audit_head.c.hash_alg).where(audit_head.c.id == HEAD_ID)
        )
    ).one_or_none()
    return None if row is None else recorded_alg(int(row.seq), row.hash_alg)


@asynccontextmanager
async def db_errors() -> AsyncIterator[None]:
    """Driver errors that mean "the database is not there now" become `AuditUnavailable`."""
    try:
        async with unavailable_as(AuditUnavailable):
            yield
    except IntegrityError as exc:  # a seq already taken: the head is behind the rows
        raise AuditCorrupted(f"audit tables disagree with their head: {exc.orig!r}") from exc
