"""The audit writer (`AuditLog`) and the data subject's access log (`access_log`).

Every request of an identified member, allowed or refused, becomes one row. `record` returns
the row's seq only once the row is committed, and the gateway answers only after that, so no
answered request of a member can lack its row. (Refusals of callers the gateway could not
identify are tallied instead, one row per code and interval: gateway.audit.refusals.)

To keep this cheap, callers are queued and one writer task commits them together (group
commit, as databases do with their own WAL): the rows that arrive while one commit is in flight
share the next transaction, and its one fsync.

The holder's id number (身份证号, 统一社会信用代码) is never stored: the row keeps
HMAC-SHA256(secret, normalized id), which `access_log` recomputes to find a holder's rows, and
ids in the path or headers become keyed pseudonyms (gateway.audit.pseudonyms). A row names a
holder only when the member asking was identified, so no one can write into a person's access
log by claiming to ask about them. Rows are hashed with the chain key (gateway.audit.hashing),
with the chain's one algorithm: HMAC-SHA256, or HMAC-SM3 when the chain was begun with
`gateway.audit_hash = "sm3"`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import Connection, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.audit.errors import (
    AuditCorrupted,
    AuditError,
    AuditHashConflict,
    AuditUnavailable,
    InvalidAuditEntry,
)
from gateway.audit.hashing import AuditHash, RowHasher, chain_key
from gateway.audit.pseudonyms import holder_hash, pseudonymise
from gateway.audit.tables import (
    HEAD_ID,
    WIDTHS,
    audit_head,
    audit_rows,
    db_errors,
    read_hash_alg,
    recorded_alg,
)
from gateway.store import blocking
from gateway.store.group_commit import GroupCommit

SECRET_ENV = "GOVGATE_AUDIT_SECRET"
MIN_SECRET_BYTES = 16
Decision = Literal["allow", "deny"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One request as the gateway saw it. `holder_id` is in clear here and never stored.

    The query string of `path` is dropped; the holder's id, and any other id-shaped token, in the
    path, the purpose or the case number is replaced by its keyed pseudonym. `requests` > 1 is a
    tally (of unidentified callers' refusals, gateway.audit.refusals).
    """

    method: str
    path: str
    decision: Decision
    status: int
    member_id: str | None = None  # None when the caller could not be identified
    keyid: str | None = None
    route: str | None = None
    holder_id: str | None = None
    holder_type: str | None = None  # PERSON, ORGANIZATION …
    purpose: str | None = None  # 事项编码 from Gov-Purpose
    case_no: str | None = None  # 办件编号 from Gov-Case
    code: str | None = None  # the refusal's stable code
    at_ms: int | None = None  # default: when `record` is called
    requests: int = 1
    content_sha256: str | None = None  # the file served (a material's content), lowercase hex


def load_secret(value: str | None = None) -> bytes:
    """The HMAC secret for holder ids: `value`, else `$GOVGATE_AUDIT_SECRET`, as UTF-8 bytes."""
    text = value if value is not None else os.environ.get(SECRET_ENV)
    if not text:
        raise ValueError(f"no audit secret: set {SECRET_ENV}")
    secret = text.encode("utf-8")
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the audit secret must be at least {MIN_SECRET_BYTES} bytes")
    return secret


def _text(value: str | None, column: str) -> str | None:
    """Text the database will take whatever a caller sent: no NUL, valid UTF-8, fits its column.
    A row the database refused would fail the whole batch, and the requests waiting on it."""
    if value is None:
        return None
    clean = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    width = WIDTHS[column]
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def _sha256(value: str | None) -> str | None:
    if value is not None and not _HEX64.fullmatch(value):
        raise InvalidAuditEntry(f"content_sha256 {value[:80]!r} is not a SHA-256 in lowercase hex")
    return value


_HEX64 = re.compile(r"[0-9a-f]{64}")


class AuditLog:
    """Appends audit rows to one hash chain, however many gateway processes share the database.

    Appends serialize on the `audit_head` row lock (`UPDATE … SET seq = seq + n RETURNING`), held
    until commit, so seqs are dense and in commit order and every row links to the one before.

    Rows that arrive while a commit is in flight go together in the next one (at most
    `max_batch`), so batches grow with load by themselves. `flush_interval_s` adds a linger
    after an idle spell, as a Kafka producer's `linger.ms` does; since every caller waits for
    its row, a linger is pure latency unless commits are very expensive, so it is off by
    default.

    `hash_alg` (gateway.audit_hash): the row hash of a chain begun by this writer; appending to
    a chain of the other algorithm is refused (`AuditHashConflict`, at `start` already).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        secret: bytes,
        *,
        flush_interval_s: float = 0.0,
        max_batch: int = 500,
        hash_alg: AuditHash = "sha-256",
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the audit secret must be at least {MIN_SECRET_BYTES} bytes")
        if max_batch < 1 or flush_interval_s < 0:
            raise ValueError("max_batch must be ≥ 1 and flush_interval_s ≥ 0")
        self.engine = engine
        self._secret = secret
        self._hasher = RowHasher(chain_key(secret, hash_alg), hash_alg)
        self._writer: GroupCommit[dict[str, Any], int] = GroupCommit(
            self._append_batch,
            name="audit-writer",
            max_batch=max_batch,
            linger_s=flush_interval_s,
            failure=_failure,
            closed=lambda: AuditUnavailable("the audit log is closed"),
        )

    @property
    def pending(self) -> int:
        """Rows waiting for the writer (the audit lag, for /metrics)."""
        return self._writer.pending

    @property
    def hash_alg(self) -> AuditHash:
        return self._hasher.alg

    async def start(self) -> None:
        """Check the chain's algorithm is this writer's, then start the writer task (`record`
        starts it too, and each append checks again); safe twice."""
        try:
            async with db_errors(), self.engine.connect() as conn:
                recorded = await read_hash_alg(conn)
        except AuditUnavailable:  # not there yet: each append checks, and waits it out
            recorded = None
        _check_alg(recorded, self._hasher.alg)
        self._writer.start()

    async def close(self) -> None:
        """Commit every queued row, then stop the writer; safe twice."""
        await self._writer.close()

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def record(self, entry: AuditEntry) -> int:
        """Append `entry`; returns its seq once the row is committed.

        Raises `AuditUnavailable` (retriable) when the row could not be made durable: the
        request must then be refused, not answered.
        """
        return await self._writer.submit(self._row(entry))
        # a cancelled caller's row is still written: the request happened

    async def record_within(self, conn: AsyncConnection, entries: list[AuditEntry]) -> int:
        """Append `entries` in the caller's transaction (a governance action: its change, its
        audit rows and its log event commit together or not at all); returns the first seq.

        The `audit_head` row lock is held until that transaction ends, so the group writer
        waits for it like any other appender, and the chain stays one."""
        rows = [self._row(entry) for entry in entries]
        async with db_errors():
            return await conn.run_sync(lambda sync: _append_rows(sync, rows, self._hasher))

    @staticmethod
    async def lock_within(conn: AsyncConnection) -> None:
        """Take the chain's append lock in the caller's transaction now, before it reads what
        it will change: a governance action then reads, decides and appends as one, serialized
        with every other appender (on SQLite this is also the write lock: its reads before it
        would not be in the transaction at all)."""
        async with db_errors():
            await conn.execute(
                update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=audit_head.c.seq)
            )

    def _row(self, entry: AuditEntry) -> dict[str, Any]:
        if entry.decision not in ("allow", "deny"):
            raise InvalidAuditEntry(f"decision must be allow or deny, not {entry.decision!r}")
        if not 100 <= entry.status <= 599:
            raise InvalidAuditEntry(f"status {entry.status} is not an HTTP status")
        if entry.requests < 1:
            raise InvalidAuditEntry(f"a row stands for at least 1 request, not {entry.requests}")
        holder = entry.holder_id if entry.holder_id and entry.holder_id.strip() else None

        def safe(text: str | None, column: str) -> str | None:
            return None if text is None else _text(pseudonymise(self._secret, text, holder), column)

        identified = entry.member_id is not None  # else: not under the holder it names
        return {
            "at_ms": entry.at_ms if entry.at_ms is not None else time.time_ns() // 1_000_000,
            "member_id": _text(entry.member_id, "member_id"),
            "keyid": _text(entry.keyid, "keyid"),
            "method": _text(entry.method.upper(), "method"),
            "path": safe(entry.path.split("?", 1)[0], "path"),
            "route": _text(entry.route, "route"),
            "holder": holder_hash(self._secret, holder) if holder and identified else None,
            "holder_type": _text(entry.holder_type, "holder_type") if identified else None,
            "purpose": safe(entry.purpose, "purpose"),
            "case_no": safe(entry.case_no, "case_no"),
            "decision": entry.decision,
            "code": _text(entry.code, "code"),
            "status": entry.status,
            "requests": entry.requests,
            "content_sha256": _sha256(entry.content_sha256),
        }

    async def _append_batch(self, rows: list[dict[str, Any]]) -> list[int]:
        first = await self._append([dict(row) for row in rows])
        return [first + i for i in range(len(rows))]

    async def _append(self, rows: list[dict[str, Any]]) -> int:
        """Insert `rows` after the head in one transaction; returns the first row's seq."""
        async with db_errors():
            return await blocking.run(
                self.engine, lambda conn: _append_rows(conn, rows, self._hasher), write=True
            )


def _append_rows(conn: Connection, rows: list[dict[str, Any]], row_hash: RowHasher) -> int:
    bumped = conn.execute(
        update(audit_head)
        .where(audit_head.c.id == HEAD_ID)
        .values(seq=audit_head.c.seq + len(rows))
        .returning(audit_head.c.seq, audit_head.c.hash, audit_head.c.hash_alg)
    ).one_or_none()
    if bumped is None:
        raise AuditCorrupted("the audit_head row is missing; run `govgate audit verify`")
    first = int(bumped.seq) - len(rows) + 1
    recorded = recorded_alg(first - 1, bumped.hash_alg)
    _check_alg(recorded, row_hash.alg)  # raising rolls the bump back
    prev = str(bumped.hash)  # not yet updated: the hash of seq first - 1
    for i, row in enumerate(rows):
        row["seq"] = first + i
        row["prev_hash"] = prev
        prev = row["hash"] = row_hash(row)
    conn.execute(audit_rows.insert(), rows)
    conn.execute(
        update(audit_head)
        .where(audit_head.c.id == HEAD_ID)
        .values(hash=prev, hash_alg=row_hash.alg)  # the first row records the chain's
    )
    return first


def _check_alg(recorded: str | None, configured: AuditHash) -> None:
    """`AuditHashConflict` unless the chain is new (None) or hashed with `configured`."""
    if recorded is not None and recorded != configured:
        raise AuditHashConflict(
            f"the audit chain is hashed with {recorded}, and gateway.audit_hash says "
            f"{configured}: one chain never mixes algorithms. Set GOVGATE_GATEWAY_AUDIT_HASH="
            f"{recorded} for this database (an {configured} chain needs a new deployment)"
        )


def _failure(exc: Exception) -> AuditError:
    """A fresh error per waiting caller (one instance raised in many tasks tangles tracebacks)."""
    error = type(exc)(exc.detail) if isinstance(exc, AuditError) else None
    if error is None:
        error = AuditError(f"audit write failed: {exc!r}")
    error.__cause__ = exc
    return error


@dataclass(frozen=True, slots=True)
class Access:
    """One look at a holder's data: who, when, for which item (事项) and case, and the outcome."""

    seq: int
    at: datetime
    member_id: str | None
    keyid: str | None
    method: str
    path: str
    route: str | None
    holder_type: str | None
    purpose: str | None
    case_no: str | None
    decision: str
    code: str | None
    status: int
    content_sha256: str | None = None  # the file served, when the request fetched one


async def access_log(
    engine: AsyncEngine, secret: bytes, holder_id: str, *, limit: int = 50, after: int | None = None
) -> list[Access]:
    """The requests of identified members about `holder_id`, newest first, at most `limit`.

    For the next page pass `after` = the last seq of this one (rows older than it follow).
    (Rows written before issue #12 could name a holder for an unsigned request: they are not
    shown, since anyone could have written them.)
    """
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    query = select(audit_rows).where(
        audit_rows.c.holder == holder_hash(secret, holder_id), audit_rows.c.member_id.is_not(None)
    )
    if after is not None:
        query = query.where(audit_rows.c.seq < after)
    query = query.order_by(audit_rows.c.seq.desc()).limit(limit)
    async with db_errors(), engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        Access(
            seq=row["seq"],
            at=EPOCH + timedelta(milliseconds=row["at_ms"]),
            member_id=row["member_id"],
            keyid=row["keyid"],
            method=row["method"],
            path=row["path"],
            route=row["route"],
            holder_type=row["holder_type"],
            purpose=row["purpose"],
            case_no=row["case_no"],
            decision=row["decision"],
            code=row["code"],
            status=row["status"],
            content_sha256=row["content_sha256"],
        )
        for row in rows
    ]


CONTENT_ROUTE = "/v1/materials/{material_id}/content"


async def content_fetches(engine: AsyncEngine, start_ms: int, end_ms: int) -> dict[str, int]:
    """Materials' files served for a case in `[start_ms, end_ms)`: count by the case named in
    `Gov-Case` (a window reusing a holder's material for that case, 减证便民)."""
    c = audit_rows.c
    query = (
        select(c.case_no, func.count())
        .where(
            c.route == CONTENT_ROUTE,
            c.decision == "allow",
            c.case_no.is_not(None),
            c.at_ms >= start_ms,
            c.at_ms < end_ms,
        )
        .group_by(c.case_no)
    )
    async with db_errors(), engine.connect() as conn:
        return {str(case_no): int(count) for case_no, count in await conn.execute(query)}
