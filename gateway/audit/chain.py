"""The audit chain: how a row is hashed, and `verify`, which re-computes the chain.

Row hash (format v1). For a row with fields
`seq, at_ms, member_id, keyid, method, path, route, holder, holder_type, purpose, case_no,
decision, code, status, prev_hash` (in this order), the hash is the lowercase hex SHA-256 of

    b"govgate-audit-v1\\x00" + enc(seq) + enc(at_ms) + … + enc(status) + enc(prev_hash)

where each field is encoded by its value:

- null (None):  the byte 0x00;
- integer:      0x01, then 8 bytes big-endian two's complement (seq, at_ms, status);
- text:         0x02, then the length of its UTF-8 bytes as 4 bytes big-endian, then those bytes.

The encoding is length-prefixed and typed, so no two different rows serialize alike (no
separator or escaping to get wrong), and it can be re-implemented in a few lines in any language.
`prev_hash` is the `hash` of the row with seq − 1; the first row (seq 1) has 64 zeros. So
changing, inserting or deleting a row breaks either its own hash or the next row's link, and the
`audit_head` row (last seq and hash) exposes a truncated tail. A rewrite of the whole tail with
re-computed hashes is caught by the anchors on the `audit-anchors` stream.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.errors import AuditCorrupted
from gateway.audit.tables import HEAD_ID, audit_head, audit_rows, db_errors, read_head

GENESIS = "0" * 64
FORMAT = b"govgate-audit-v1\x00"
HASHED_FIELDS = (
    "seq",
    "at_ms",
    "member_id",
    "keyid",
    "method",
    "path",
    "route",
    "holder",
    "holder_type",
    "purpose",
    "case_no",
    "decision",
    "code",
    "status",
    "prev_hash",
)
_INT = struct.Struct(">q")
_LEN = struct.Struct(">I")


def row_hash(row: Mapping[str, Any] | RowMapping) -> str:
    """The v1 hash of `row` (a mapping holding every name of `HASHED_FIELDS`)."""
    parts = [FORMAT]
    for name in HASHED_FIELDS:
        value = row[name]
        if value is None:
            parts.append(b"\x00")
        elif isinstance(value, int):
            parts.append(b"\x01" + _INT.pack(value))
        else:
            data = str(value).encode("utf-8")
            parts.append(b"\x02" + _LEN.pack(len(data)) + data)
    return hashlib.sha256(b"".join(parts)).hexdigest()


class Checkpoint(Protocol):
    """A chain head recorded elsewhere (an `Anchor`): the hash the row at `seq` must have."""

    @property
    def seq(self) -> int: ...
    @property
    def head_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: `kind` is ALTERED, INSERTED, DELETED, HEAD_MISMATCH or ANCHOR_MISMATCH."""

    seq: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `verify` found; `ok` when the chain, its head and its anchors all agree."""

    rows: int  # rows re-hashed
    last_seq: int  # the last seq checked (0 when there are none)
    head_seq: int
    head_hash: str
    anchors_checked: int
    problem_count: int  # every problem found; `problems` keeps the first `max_problems`
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


class _Walk:
    """The state of one pass over the rows in seq order: what the next row must look like."""

    def __init__(self, anchors: Sequence[Checkpoint], max_problems: int) -> None:
        self.anchors = sorted((a for a in anchors if a.seq > 0), key=lambda a: a.seq)
        self.next_anchor = 0
        self.limit = max_problems
        self.count = 0
        self.problems: list[Problem] = []
        self.rows = self.last_seq = 0
        self.last_hash = GENESIS

    def add(self, seq: int, kind: str, detail: str) -> None:
        self.count += 1
        if len(self.problems) < self.limit:
            self.problems.append(Problem(seq, kind, detail))

    def row(self, row: RowMapping) -> None:
        seq, stored = int(row["seq"]), str(row["hash"])
        self.rows += 1
        expected = self.last_seq + 1
        if seq < expected:  # only a seq below 1 gets here (seq is the primary key)
            self.add(seq, "INSERTED", f"seq {seq} is not a valid position in the chain")
            return
        if seq > expected:
            missing = (
                f"row {expected} is" if seq == expected + 1 else f"rows {expected}..{seq - 1} are"
            )
            self.add(expected, "DELETED", f"{missing} missing before seq {seq}")
        elif row["prev_hash"] != self.last_hash:
            self.add(
                seq,
                "INSERTED",
                f"prev_hash does not match the hash of seq {seq - 1}: this row was forged "
                f"into the chain, or seq {seq - 1} was rewritten and re-hashed",
            )
        if row_hash(row) != stored:
            self.add(seq, "ALTERED", "the stored hash does not match the row's fields")
        while self.next_anchor < len(self.anchors) and self.anchors[self.next_anchor].seq <= seq:
            self.anchor(self.anchors[self.next_anchor], seq, stored)
            self.next_anchor += 1
        self.last_seq, self.last_hash = seq, stored

    def anchor(self, anchor: Checkpoint, seq: int, hash_: str) -> None:
        if anchor.seq < seq:
            self.add(anchor.seq, "ANCHOR_MISMATCH", f"anchored seq {anchor.seq} has no row")
        elif anchor.head_hash != hash_:
            self.add(
                seq,
                "ANCHOR_MISMATCH",
                f"the chain's hash here ({hash_[:16]}…) differs from the anchored head "
                f"({anchor.head_hash[:16]}…): rows up to seq {seq} were rewritten after anchoring",
            )

    def head(self, head_seq: int, head_hash: str) -> None:
        if self.last_seq < head_seq:
            self.add(
                self.last_seq + 1,
                "HEAD_MISMATCH",
                f"the head is at seq {head_seq} but the last row is seq {self.last_seq}: "
                f"rows {self.last_seq + 1}..{head_seq} are missing (tail truncated)",
            )
        elif head_seq and self.last_hash != head_hash:
            self.add(
                head_seq,
                "HEAD_MISMATCH",
                f"the head's hash ({head_hash[:16]}…) differs from the row's "
                f"({self.last_hash[:16]}…)",
            )

    def unreached_anchors(self, head_seq: int) -> None:
        for anchor in self.anchors[self.next_anchor :]:
            why = "the head was moved back" if anchor.seq > head_seq else "the tail is missing"
            self.add(
                anchor.seq,
                "ANCHOR_MISMATCH",
                f"anchored at seq {anchor.seq} ({anchor.head_hash[:16]}…) but the chain ends at "
                f"seq {self.last_seq}: rows were removed and {why}",
            )


async def verify(
    engine: AsyncEngine,
    anchors: Sequence[Checkpoint] = (),
    *,
    batch: int = 2000,
    max_problems: int = 1000,
) -> VerifyReport:
    """Re-compute every hash in seq order and check links, seqs, the head and `anchors`.

    Rows are read in batches of `batch` by seq, so memory stays flat whatever the table's size.
    Rows appended while verifying (beyond the head read at the start) are left for the next run.
    """
    walk = _Walk(anchors, max_problems)
    async with db_errors(), engine.connect() as conn:
        try:
            head_seq, head_hash = await read_head(conn)
            up_to: int | None = head_seq
        except AuditCorrupted:  # a finding like any other: check the rows all the same
            walk.add(0, "HEAD_MISMATCH", "the audit_head row is missing")
            head_seq, head_hash, up_to = 0, GENESIS, None
    async for row in _rows(engine, up_to, batch):
        walk.row(row)
    if up_to is not None:
        walk.head(head_seq, head_hash)
    walk.unreached_anchors(head_seq)
    for seq, at in await _rows_beyond_head(engine, max_problems):
        walk.add(seq, "INSERTED", f"row beyond the head (seq {at}): added without moving it")
    return VerifyReport(
        rows=walk.rows,
        last_seq=walk.last_seq,
        head_seq=head_seq,
        head_hash=head_hash,
        anchors_checked=len(walk.anchors),
        problem_count=walk.count,
        problems=walk.problems,
    )


async def _rows(engine: AsyncEngine, up_to: int | None, batch: int) -> AsyncIterator[RowMapping]:
    after = None
    while True:
        query = select(audit_rows)
        if up_to is not None:
            query = query.where(audit_rows.c.seq <= up_to)
        if after is not None:
            query = query.where(audit_rows.c.seq > after)
        query = query.order_by(audit_rows.c.seq).limit(batch)
        async with db_errors(), engine.connect() as conn:
            chunk = (await conn.execute(query)).mappings().all()
        for row in chunk:
            yield row
        if len(chunk) < batch:
            return
        after = chunk[-1]["seq"]


async def _rows_beyond_head(engine: AsyncEngine, limit: int) -> list[tuple[int, int]]:
    """(seq, head seq) of rows past the head: appended without moving it. One statement, so one
    snapshot: an honest writer moves the head in the same transaction as its rows."""
    head = select(audit_head.c.seq).where(audit_head.c.id == HEAD_ID).scalar_subquery()
    query = select(audit_rows.c.seq, head).where(audit_rows.c.seq > head)
    async with db_errors(), engine.connect() as conn:
        rows = await conn.execute(query.order_by(audit_rows.c.seq).limit(limit))
        return [(int(seq), int(at)) for seq, at in rows]
