"""The audit chain: `verify` re-computes it and names the first bad or missing row.

Each row carries `prev_hash`, the `hash` of the row with seq − 1 (the first row, seq 1, has 64
zeros), and its own `hash`, keyed with the chain key (gateway.audit.hashing). So changing,
inserting or deleting a row breaks either its own hash or the next row's link; the `audit_head`
row (last seq and hash) exposes a truncated tail; and without the key no one can re-compute the
hashes to hide a change.

What a database writer can still do without the key is cut the chain short and move the head
back. The anchors catch that (gateway.audit.anchors): signed chain heads, kept on the log and in
an append-only file a database writer does not reach. `verify` requires rows older than the
anchoring interval (plus grace) to be covered by a signed anchor, so deleting the anchors as
well is a finding too, and it refuses unkeyed (v1) rows except the legacy prefix that signed
anchors vouch for (`keyed_from`), so rows cannot be downgraded to the unkeyed format either.

The chain is re-computed with the algorithm its head records (SHA-256 or SM3,
gateway.audit.hashing), whatever `gateway.audit_hash` says today, so a chain begun before the
setting changed keeps verifying.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.errors import AuditCorrupted
from gateway.audit.hashing import AUDIT_HASHES, GENESIS, AuditHash, RowHasher, row_hash
from gateway.audit.tables import (
    HEAD_ID,
    audit_head,
    audit_rows,
    db_errors,
    read_hash_alg,
    read_head,
)

__all__ = ["GENESIS", "Checkpoint", "Problem", "VerifyReport", "row_hash", "verify"]

_ABOUT_ANCHORS = frozenset({"UNANCHORED", "ANCHOR_MISMATCH", "ANCHOR_FORGED"})


class Checkpoint(Protocol):
    """A chain head recorded elsewhere (an anchor): the hash the row at `seq` must have.

    `signed`: its signature was checked against the gateway's keys; only signed anchors vouch
    for rows (an unsigned one, from before issue #12, can only add findings). `keyed_from`: the
    first keyed row's seq the gateway saw when anchoring (rows below it are legacy v1 rows)."""

    @property
    def seq(self) -> int: ...
    @property
    def head_hash(self) -> str: ...
    @property
    def signed(self) -> bool: ...
    @property
    def keyed_from(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: `kind` is ALTERED, INSERTED, DELETED, UNKEYED, UNANCHORED, HEAD_MISMATCH,
    ANCHOR_MISMATCH or ANCHOR_FORGED."""

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
    signed_anchors: int = 0
    anchored_seq: int = 0  # the highest seq a signed anchor vouches for
    unkeyed_rows: int = 0  # legacy v1 rows (before the chain was keyed)
    hash_alg: str = "sha-256"  # the chain's row hash: sha-256 or sm3

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_problem(self) -> Problem | None:
        """The first bad or missing row, by seq (a finding about a row before one about the
        anchors: an ANCHOR_* or UNANCHORED finding says which rows are not vouched for, a row's
        own says where the chain was changed)."""
        rows = [p for p in self.problems if p.kind not in _ABOUT_ANCHORS]
        return min(rows or self.problems, key=lambda p: p.seq, default=None)


class _Walk:
    """The state of one pass over the rows in seq order: what the next row must look like."""

    def __init__(self, hasher: RowHasher, anchors: Sequence[Checkpoint], max_problems: int) -> None:
        self.hasher = hasher
        self.anchors = sorted((a for a in anchors if a.seq > 0), key=lambda a: a.seq)
        signed = [a for a in self.anchors if a.signed]
        self.anchored = max((a.seq for a in signed), default=0)
        vouched = [a.keyed_from for a in signed if a.keyed_from is not None]
        self.legacy_below = min(vouched, default=1)  # unkeyed rows allowed below this seq
        self.next_anchor = 0
        self.limit = max_problems
        self.count = 0
        self.problems: list[Problem] = []
        self.rows = self.last_seq = 0
        self.last_hash = GENESIS
        self.first_keyed = 0  # seq of the first keyed row seen
        self.unkeyed = 0
        self.bad_unkeyed: list[int] = []  # first and last seq of unkeyed rows out of place
        self.first_unanchored: tuple[int, int] | None = None  # (seq, at_ms) after `anchored`

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
                f"into the chain, or seq {seq - 1} was rewritten",
            )
        self._hash(row, seq, stored)
        if seq > self.anchored and self.first_unanchored is None:
            self.first_unanchored = (seq, int(row["at_ms"]))
        while self.next_anchor < len(self.anchors) and self.anchors[self.next_anchor].seq <= seq:
            self.anchor(self.anchors[self.next_anchor], seq, stored)
            self.next_anchor += 1
        self.last_seq, self.last_hash = seq, stored

    def _hash(self, row: RowMapping, seq: int, stored: str) -> None:
        if self.hasher(row) == stored:
            self.first_keyed = self.first_keyed or seq
            return
        if self.hasher.alg != "sha-256" or row_hash(row) != stored or row["requests"] != 1:
            self.add(seq, "ALTERED", "the stored hash does not match the row's fields")
            return
        if self.first_keyed or seq >= self.legacy_below:  # legacy only in the vouched prefix
            if not self.bad_unkeyed:
                self.bad_unkeyed.append(seq)
            self.bad_unkeyed[1:] = [seq]
        else:
            self.unkeyed += 1

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
            detail = (
                f"anchored at seq {anchor.seq} ({anchor.head_hash[:16]}…) but the chain ends at "
                f"seq {self.last_seq}: rows {self.last_seq + 1}..{anchor.seq} were removed and "
                f"{why}"
            )
            if anchor.signed:  # named by the first missing row
                self.add(self.last_seq + 1, "DELETED", detail)
            else:
                self.add(anchor.seq, "ANCHOR_MISMATCH", detail)

    def out_of_place_unkeyed(self) -> None:
        if not self.bad_unkeyed:
            return
        first, last = self.bad_unkeyed[0], self.bad_unkeyed[-1]
        where = f"seq {first}" if first == last else f"seqs {first}..{last}"
        if self.first_keyed and self.first_keyed < first:
            why = f"after keyed rows began (seq {self.first_keyed}): forged or downgraded"
        elif self.legacy_below > 1:
            why = f"though signed anchors say the chain is keyed from seq {self.legacy_below}"
        else:
            why = (
                "and no signed anchor vouches for unkeyed rows (anchor legacy rows once with "
                "`govgate audit anchor` or by starting the gateway)"
            )
        self.add(first, "UNKEYED", f"{where} hashed without the chain key {why}")

    def unanchored(self, due_ms: int | None, now_ms: int) -> None:
        if due_ms is None or self.first_unanchored is None:
            return
        seq, at_ms = self.first_unanchored
        if at_ms < now_ms - due_ms:
            covered = f"seq {self.anchored}" if self.anchored else "no row"
            self.add(
                seq,
                "UNANCHORED",
                f"rows from seq {seq} (the first written {(now_ms - at_ms) // 1000} s ago) are "
                f"not covered by a signed anchor (the last covers {covered}), though anchors "
                f"are due within {due_ms // 1000} s: anchors were deleted or withheld, or the "
                "gateway stopped without anchoring (`govgate audit anchor`)",
            )


async def verify(
    engine: AsyncEngine,
    key: bytes | Mapping[AuditHash, bytes],
    anchors: Sequence[Checkpoint] = (),
    *,
    anchors_due_s: float | None = None,
    findings: Sequence[Problem] = (),
    now: float | None = None,
    batch: int = 2000,
    max_problems: int = 1000,
) -> VerifyReport:
    """Re-compute every hash with the chain `key` in seq order; check links, seqs, the head,
    and `anchors`.

    `key`: the chain key of each algorithm (`hashing.chain_keys(secret)`), of which the one of
    the algorithm the chain records is used; or one key, used with that algorithm.

    `anchors_due_s`: rows older than this must be covered by a signed anchor (None: not
    checked). `findings`: problems found before (anchors that failed their signature check),
    reported with the rest. Rows are read in batches of `batch` by seq, so memory stays flat
    whatever the table's size; rows appended while verifying (beyond the head read at the
    start) are left for the next run.
    """
    found: list[Problem] = list(findings)
    async with db_errors(), engine.connect() as conn:
        try:
            head_seq, head_hash = await read_head(conn)
            up_to: int | None = head_seq
            recorded = await read_hash_alg(conn)
        except AuditCorrupted:  # a finding like any other: check the rows all the same
            found.append(Problem(0, "HEAD_MISMATCH", "the audit_head row is missing"))
            head_seq, head_hash, up_to, recorded = 0, GENESIS, None, None
    hasher = await _hasher(engine, key, recorded, found)
    walk = _Walk(hasher, anchors, max_problems)
    for problem in found:
        walk.add(problem.seq, problem.kind, problem.detail)
    async for row in _rows(engine, up_to, batch):
        walk.row(row)
    if up_to is not None:
        walk.head(head_seq, head_hash)
    walk.unreached_anchors(head_seq)
    walk.out_of_place_unkeyed()
    due_ms = None if anchors_due_s is None else int(anchors_due_s * 1000)
    walk.unanchored(due_ms, int((time.time() if now is None else now) * 1000))
    for seq, at in await _rows_beyond_head(engine, max_problems):
        walk.add(seq, "INSERTED", f"row beyond the head (seq {at}): added without moving it")
    walk.problems.sort(key=lambda p: p.seq)
    return VerifyReport(
        rows=walk.rows,
        last_seq=walk.last_seq,
        head_seq=head_seq,
        head_hash=head_hash,
        anchors_checked=len(walk.anchors),
        problem_count=walk.count,
        problems=walk.problems,
        signed_anchors=sum(1 for a in walk.anchors if a.signed),
        anchored_seq=walk.anchored,
        unkeyed_rows=walk.unkeyed,
        hash_alg=hasher.alg,
    )


async def _hasher(
    engine: AsyncEngine,
    key: bytes | Mapping[AuditHash, bytes],
    recorded: str | None,
    findings: list[Problem],
) -> RowHasher:
    """The row hasher of the chain's recorded algorithm. With no record (no head, or no row)
    the first row's stored hash says which (SHA-256 when none fits); an unknown record is a
    finding, and the chain is checked as SHA-256."""
    keys = {alg: key for alg in AUDIT_HASHES} if isinstance(key, bytes) else dict(key)
    if recorded is not None:
        for alg in AUDIT_HASHES:
            if recorded == alg and alg in keys:
                return RowHasher(keys[alg], alg)
        findings.append(
            Problem(0, "HEAD_MISMATCH", f"the head records an unknown hash algorithm {recorded!r}")
        )
        return RowHasher(keys["sha-256"], "sha-256")
    async with db_errors(), engine.connect() as conn:
        first = (
            (await conn.execute(select(audit_rows).order_by(audit_rows.c.seq).limit(1)))
            .mappings()
            .one_or_none()
        )
    hashers = [RowHasher(keys[alg], alg) for alg in AUDIT_HASHES if alg in keys]
    for hasher in hashers:
        if first is not None and hasher(first) == first["hash"]:
            return hasher
    return hashers[0]


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
