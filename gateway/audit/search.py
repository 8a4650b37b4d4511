"""Audit search (审计查询): pages of audit rows by member, holder, item code, decision and time.

Rows come newest first, ordered by (at_ms, seq), and a page continues after the last row of
the one before (keyset pagination): every page is one indexed range read of at most `limit`
+ 1 rows, whatever the table holds; nothing is counted or skipped by offset. Migration
0010_audit_search adds an index per filter that leads with the filter's column and continues
with (at_ms, seq), so a filter and a time range read in order with no sort; refusals, rare
among millions of allowed rows, have a partial index of their own.

Each row shown is re-hashed with the chain key (`check`): a row altered in the database shows
as such on the page that shows it. Links and gaps are the whole-chain verification's job
(gateway.audit.verifications records each run). The holder is shown as its pseudonym
(`{id:<16 hex>}`), as ids in paths are; the id itself is not in the table to show.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    and_,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.filters import AuditQuery, Cursor
from gateway.audit.hashing import AUDIT_HASHES, RowHasher, chain_key, row_hash
from gateway.audit.log import EPOCH
from gateway.audit.pseudonyms import PSEUDONYM_HEX
from gateway.audit.tables import HEAD_ID, audit_head, audit_rows, db_errors, recorded_alg
from gateway.store import blocking

Check = Literal["intact", "unkeyed", "altered"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit row as an auditor reads it. `holder` is a pseudonym, never an id."""

    seq: int
    at_ms: int
    member_id: str | None
    keyid: str | None
    method: str
    path: str
    route: str | None
    holder: str | None
    holder_type: str | None
    purpose: str | None
    case_no: str | None
    decision: str
    code: str | None
    status: int
    requests: int
    content_sha256: str | None
    check: Check  # the row's stored hash re-computed: intact, legacy unkeyed, or altered

    @property
    def at(self) -> datetime:
        return EPOCH + timedelta(milliseconds=self.at_ms)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at_ms, self.seq)


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: list[AuditRecord]
    next_after: Cursor | None  # None: this is the last page


class AuditSearch:
    """Searches one gateway's audit rows; `secret` is the audit secret (the chain key's root)."""

    def __init__(self, engine: AsyncEngine, secret: bytes) -> None:
        self.engine = engine
        self._hashers = {alg: RowHasher(chain_key(secret, alg), alg) for alg in AUDIT_HASHES}

    async def page(
        self, query: AuditQuery, after: Cursor | None = None, limit: int = 50
    ) -> SearchPage:
        """Up to `limit` rows matching `query`, newest first, after `after`."""
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        rows = await self._read(query, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return SearchPage(rows, rows[-1].cursor if more and rows else None)

    async def batches(
        self, query: AuditQuery, *, batch: int = 2000, max_rows: int | None = None
    ) -> AsyncIterator[list[AuditRecord]]:
        """Every row matching `query` (at most `max_rows`), newest first, `batch` at a time:
        memory stays flat whatever the result's size (an export streams from this)."""
        after: Cursor | None = None
        left = max_rows
        while left is None or left > 0:
            size = batch if left is None else min(batch, left)
            rows = await self._read(query, after, size)
            if rows:
                yield rows
            if len(rows) < size:
                return
            after = rows[-1].cursor
            left = None if left is None else left - len(rows)

    async def count_upto(self, query: AuditQuery, most: int) -> int:
        """How many rows match `query`, counting no further than `most` (a bounded count: an
        export asks whether there are more than it may write, not how many)."""
        inner = select(audit_rows.c.seq).where(*_where(query)).limit(most).subquery()
        bounded = select(func.count()).select_from(inner)

        def work(conn: Connection) -> int:
            return int(conn.execute(bounded).scalar_one())

        async with db_errors():
            return await blocking.run(self.engine, work, write=False)

    async def _read(self, query: AuditQuery, after: Cursor | None, limit: int) -> list[AuditRecord]:
        statement = _statement(query, after, limit)

        def work(conn: Connection) -> tuple[str | None, list[RowMapping]]:
            rows = list(conn.execute(statement).mappings())
            return _alg(conn) if rows else None, rows

        async with db_errors():
            alg, rows = await blocking.run(self.engine, work, write=False)
        hasher = self._hashers["sm3" if alg == "sm3" else "sha-256"]
        return [_record(row, hasher) for row in rows]


def _alg(conn: Connection) -> str | None:
    """The chain's recorded hash algorithm, read with the rows (one snapshot)."""
    head = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash_alg).where(audit_head.c.id == HEAD_ID)
    ).one_or_none()
    return None if head is None else recorded_alg(int(head.seq), head.hash_alg)


def _where(query: AuditQuery) -> list[ColumnElement[bool]]:
    c = audit_rows.c
    found: list[ColumnElement[bool]] = []
    if query.member is not None:
        found.append(c.member_id == query.member)
    if query.holder is not None:
        if len(query.holder) == 64:
            found.append(c.holder == query.holder)
        else:  # a pseudonym's prefix: a range on the holder index
            pad = 64 - len(query.holder)
            found.append(c.holder.between(query.holder + "0" * pad, query.holder + "f" * pad))
        # as `access_log`: rows of unidentified callers never name a holder (pre-#12 ones could)
        found.append(c.member_id.is_not(None))
    if query.item is not None:
        found.append(c.purpose == query.item)
    if query.decision is not None:
        if query.decision not in ("allow", "deny"):  # it goes into the SQL as a literal
            raise ValueError(f"decision must be allow or deny, not {query.decision!r}")
        # a literal, not a parameter: the planners use the partial index of refusals only when
        # they can see the query's condition is the index's (a validated Literal, not input)
        found.append(c.decision == literal_column(f"'{query.decision}'"))
    if query.since_ms is not None:
        found.append(c.at_ms >= query.since_ms)
    if query.until_ms is not None:
        found.append(c.at_ms < query.until_ms)
    return found


def _statement(query: AuditQuery, after: Cursor | None, limit: int) -> Select[tuple[object]]:
    c = audit_rows.c
    where = _where(query)
    if after is not None:
        where.append(tuple_(c.at_ms, c.seq) < tuple_(after.at_ms, after.seq))
    return (
        select(audit_rows)
        .where(and_(*where) if where else literal_column("1") == 1)
        .order_by(c.at_ms.desc(), c.seq.desc())
        .limit(limit)
    )


def _record(row: RowMapping, hasher: RowHasher) -> AuditRecord:
    holder = row["holder"]
    return AuditRecord(
        seq=int(row["seq"]),
        at_ms=int(row["at_ms"]),
        member_id=row["member_id"],
        keyid=row["keyid"],
        method=row["method"],
        path=row["path"],
        route=row["route"],
        holder=None if holder is None else "{id:" + str(holder)[:PSEUDONYM_HEX] + "}",
        holder_type=row["holder_type"],
        purpose=row["purpose"],
        case_no=row["case_no"],
        decision=row["decision"],
        code=row["code"],
        status=int(row["status"]),
        requests=int(row["requests"]),
        content_sha256=row["content_sha256"],
        check=_check(row, hasher),
    )


def _check(row: RowMapping, hasher: RowHasher) -> Check:
    if hasher(row) == row["hash"]:
        return "intact"
    if hasher.alg == "sha-256" and row["requests"] == 1 and row_hash(row) == row["hash"]:
        return "unkeyed"  # a legacy v1 row; whether it may be is the verification's to say
    return "altered"
