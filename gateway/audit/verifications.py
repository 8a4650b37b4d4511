"""Each verification of the audit chain, recorded: who ran it, when, what it found.

The console shows the chain's verification state from these records (审计链校验状态). A record
that could be edited would be worthless (a failed run turned into a passed one), so records are
tamper-evident as the chain's rows are:

- each carries a MAC, HMAC over the typed encoding of its fields (gateway.audit.hashing) with a
  key derived from the audit secret under a label of its own (`b"govgate audit verifications
  v1"`: no value made for the chain or the pseudonyms is ever valid here), with the chain's
  algorithm (HMAC-SHA256, or HMAC-SM3 on an SM3 chain);
- each links to the one before by `prev_mac`, and ids are dense, so a record removed from the
  middle breaks the next one's link;
- each run is also an audit row in the chain itself (route `audit.verify`, the actor as member,
  the outcome as decision and code), written in the same transaction: the newest records, which
  no later link covers, are vouched for by the chain and its signed anchors.

`recent` re-checks the MAC and link of every record it returns, so the page that shows them
shows a forged one as such.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.anchors import latest_anchors
from gateway.audit.chain import VerifyReport, verify
from gateway.audit.hashing import AUDIT_HASHES, GENESIS, AuditHash, _digestmod, chain_keys, encode
from gateway.audit.log import EPOCH, AuditEntry, AuditLog
from gateway.audit.signed_anchors import check_signatures
from gateway.audit.tables import audit_verifications, db_errors
from gateway.log import EventLog
from gateway.members.keys import PublicKey
from gateway.store import blocking

LABEL = b"govgate-audit-verification-v1\x00"
KEY_INFO = b"govgate audit verifications v1"
ROUTE = "audit.verify"
FIELDS = (
    "id",
    "at_ms",
    "actor",
    "ok",
    "rows_checked",
    "last_seq",
    "head_seq",
    "head_hash",
    "problem_count",
    "first_problem",
    "hash_alg",
    "signed_anchors",
    "anchored_seq",
    "audit_seq",
    "prev_mac",
)


@dataclass(frozen=True, slots=True)
class Verification:
    """One recorded run of `verify`. `intact`: this record's MAC and link re-checked."""

    id: int
    at_ms: int
    actor: str
    ok: bool
    rows_checked: int
    last_seq: int
    head_seq: int
    problem_count: int
    first_problem: str | None
    hash_alg: str
    signed_anchors: int
    anchored_seq: int
    audit_seq: int
    intact: bool

    @property
    def at(self) -> datetime:
        return EPOCH + timedelta(milliseconds=self.at_ms)


def verification_key(secret: bytes, alg: AuditHash = "sha-256") -> bytes:
    """The records' MAC key, derived from the audit secret under its own label."""
    algorithm: hashes.HashAlgorithm = hashes.SM3() if alg == "sm3" else hashes.SHA256()
    return HKDF(algorithm, 32, salt=b"", info=KEY_INFO).derive(secret)


class Verifications:
    """Records runs of `verify` and reads them back re-checked."""

    def __init__(self, engine: AsyncEngine, secret: bytes) -> None:
        self.engine = engine
        self._keys = {alg: verification_key(secret, alg) for alg in AUDIT_HASHES}

    def mac(self, row: RowMapping | dict[str, Any]) -> str:
        alg: AuditHash = "sm3" if row["hash_alg"] == "sm3" else "sha-256"
        values = [int(v) if isinstance(v, bool) else v for v in (row[f] for f in FIELDS)]
        return hmac.new(self._keys[alg], LABEL + encode(values), _digestmod(alg)).hexdigest()

    async def record(
        self, audit: AuditLog, report: VerifyReport, actor: str, *, at_ms: int | None = None
    ) -> Verification:
        """Record `report` as run by `actor` now: the record and its audit row in one
        transaction (the chain's append lock serialises records, so ids stay dense)."""
        first = report.first_problem
        at_ms = at_ms if at_ms is not None else time.time_ns() // 1_000_000
        async with db_errors(), self.engine.begin() as conn:
            await AuditLog.lock_within(conn)
            audit_seq = await audit.record_within(conn, [_entry(report, actor, at_ms)])
            last = (
                await conn.execute(
                    select(audit_verifications.c.id, audit_verifications.c.mac)
                    .order_by(audit_verifications.c.id.desc())
                    .limit(1)
                )
            ).one_or_none()
            row: dict[str, Any] = {
                "id": 1 if last is None else int(last.id) + 1,
                "at_ms": at_ms,
                "actor": actor[:128],
                "ok": report.ok,
                "rows_checked": report.rows,
                "last_seq": report.last_seq,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "problem_count": report.problem_count,
                "first_problem": None if first is None else f"seq {first.seq}: {first.kind}",
                "hash_alg": report.hash_alg,
                "signed_anchors": report.signed_anchors,
                "anchored_seq": report.anchored_seq,
                "audit_seq": audit_seq,
                "prev_mac": GENESIS if last is None else str(last.mac),
            }
            row["mac"] = self.mac(row)
            await conn.execute(audit_verifications.insert().values(**row))
        return _verification(row, intact=True)

    async def recent(self, limit: int = 10) -> list[Verification]:
        """The newest `limit` records, newest first, each re-checked: its MAC, and its link to
        the record before (read too, one more than shown)."""
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        query = (
            select(audit_verifications).order_by(audit_verifications.c.id.desc()).limit(limit + 1)
        )

        def work(conn: Connection) -> list[RowMapping]:
            return list(conn.execute(query).mappings())

        async with db_errors():
            rows = await blocking.run(self.engine, work, write=False)
        found: list[Verification] = []
        for i, row in enumerate(rows[:limit]):
            before = rows[i + 1] if i + 1 < len(rows) else None
            found.append(_verification(row, intact=self._intact(row, before)))
        return found

    async def latest(self) -> Verification | None:
        """The newest record, re-checked; None before the first verification."""
        found = await self.recent(1)
        return found[0] if found else None

    def _intact(self, row: RowMapping, before: RowMapping | None) -> bool:
        if not hmac.compare_digest(self.mac(row), str(row["mac"])):
            return False
        if before is None:  # the oldest shown: the first record, or its link is not read
            return int(row["id"]) != 1 or row["prev_mac"] == GENESIS
        return int(before["id"]) == int(row["id"]) - 1 and before["mac"] == row["prev_mac"]


ANCHOR_GRACE_S = 60.0


def anchors_due(interval_s: float) -> float | None:
    """How old a row may be without a signed anchor before `verify` calls it a finding: two
    anchoring intervals and a grace minute (None: anchoring is off, so not checked)."""
    return 2 * interval_s + ANCHOR_GRACE_S if interval_s > 0 else None


async def verify_now(
    engine: AsyncEngine,
    log: EventLog,
    secret: bytes,
    keys: dict[str, PublicKey],
    *,
    anchors_due_s: float | None = None,
) -> VerifyReport:
    """Verify the chain against the signed anchors on the log (as `govgate audit verify` does
    with its default source): anchors whose signature fails with `keys` are findings."""
    checked, forged = check_signatures(await latest_anchors(log), keys)
    return await verify(
        engine, chain_keys(secret), checked, anchors_due_s=anchors_due_s, findings=forged
    )


def _entry(report: VerifyReport, actor: str, at_ms: int) -> AuditEntry:
    return AuditEntry(
        method="POST",
        path="/audit/verifications",
        route=ROUTE,
        decision="allow" if report.ok else "deny",
        status=200,
        member_id=actor,
        code=None if report.ok else "AUDIT_CHAIN_BROKEN",
        at_ms=at_ms,
    )


def _verification(row: RowMapping | dict[str, Any], *, intact: bool) -> Verification:
    return Verification(
        id=int(row["id"]),
        at_ms=int(row["at_ms"]),
        actor=str(row["actor"]),
        ok=bool(row["ok"]),
        rows_checked=int(row["rows_checked"]),
        last_seq=int(row["last_seq"]),
        head_seq=int(row["head_seq"]),
        problem_count=int(row["problem_count"]),
        first_problem=row["first_problem"],
        hash_alg=str(row["hash_alg"]),
        signed_anchors=int(row["signed_anchors"]),
        anchored_seq=int(row["anchored_seq"]),
        audit_seq=int(row["audit_seq"]),
        intact=intact,
    )
