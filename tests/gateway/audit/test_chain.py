"""`verify` and anchors: every kind of tampering is found and named by its seq."""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.anchors import Anchor, anchor, latest_anchors
from gateway.audit.chain import GENESIS, VerifyReport, row_hash, verify
from gateway.audit.log import AuditLog
from gateway.log import SqlLog, open_log
from gateway.settings import KafkaSettings, Settings
from schemas.codec import EventCodec
from tests.conftest import Broker
from tests.gateway.audit import (
    BACKENDS,
    SECRET,
    audit_rows,
    database_url,
    entry,
    execute,
    fresh_engine,
)

codec = EventCodec()


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(database_url(request.param, request, data_dir)) as engine:
        yield engine


async def fill(engine: AsyncEngine, count: int) -> None:
    async with AuditLog(engine, SECRET) as audit:
        for i in range(count):
            await audit.record(entry(i, holder_id="91330802MA2D4K7X0A"))


def findings(report: VerifyReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def test_the_row_hash_is_the_documented_encoding() -> None:
    """Re-implemented from the docstring alone, and pinned, so the format cannot drift."""
    row: dict[str, Any] = {
        "seq": 1,
        "at_ms": 1_795_000_000_000,
        "member_id": "kecheng-window",
        "keyid": None,
        "method": "GET",
        "path": "/v1/certificates",
        "route": "/v1/certificates",
        "holder": None,
        "holder_type": None,
        "purpose": "330802-XK-0017",
        "case_no": None,
        "decision": "deny",
        "code": "PURPOSE_NOT_GRANTED",
        "status": 403,
        "prev_hash": GENESIS,
    }

    def enc(value: Any) -> bytes:
        if value is None:
            return b"\x00"
        if isinstance(value, int):
            return b"\x01" + struct.pack(">q", value)
        data = str(value).encode("utf-8")
        return b"\x02" + struct.pack(">I", len(data)) + data

    expected = hashlib.sha256(b"govgate-audit-v1\x00" + b"".join(map(enc, row.values())))
    assert row_hash(row) == expected.hexdigest()
    assert row_hash(row) == "82eb69a8fb5d84329145c8ef0065bc0c381f279d848efe53166e40f6cb99ac15"
    assert row_hash(row | {"keyid": ""}) != row_hash(row)  # null and empty text differ


async def test_an_intact_chain_verifies_across_batches(engine: AsyncEngine) -> None:
    await fill(engine, 23)
    report = await verify(engine, batch=5)
    assert report.ok, report.problems
    assert (report.rows, report.last_seq, report.head_seq) == (23, 23, 23)


async def test_an_empty_chain_verifies(engine: AsyncEngine) -> None:
    report = await verify(engine)
    assert report.ok and (report.rows, report.head_seq, report.head_hash) == (0, 0, GENESIS)


async def test_a_changed_field_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "UPDATE audit_rows SET purpose = 'ANOTHER-ITEM' WHERE seq = 7")
    await execute(engine, "UPDATE audit_rows SET holder = NULL WHERE seq = 12")
    report = await verify(engine, batch=6)
    assert findings(report) == [(7, "ALTERED"), (12, "ALTERED")]
    assert "does not match the row's fields" in str(report.problems[0])


async def test_a_rewritten_and_rehashed_row_breaks_the_next_link(engine: AsyncEngine) -> None:
    await fill(engine, 10)
    row = (await audit_rows(engine))[4]  # seq 5
    row["member_id"] = "intruder"
    await execute(
        engine,
        "UPDATE audit_rows SET member_id = 'intruder', hash = :h WHERE seq = 5",
        h=row_hash(row),
    )
    report = await verify(engine)
    assert findings(report) == [(6, "INSERTED")]
    assert "seq 5 was rewritten" in report.problems[0].detail


async def test_a_deleted_row_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "DELETE FROM audit_rows WHERE seq IN (5, 14, 15)")
    report = await verify(engine, batch=4)
    assert findings(report) == [(5, "DELETED"), (14, "DELETED")]
    assert report.problems[1].detail == "rows 14..15 are missing before seq 16"


async def test_a_forged_row_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 12)
    rows = await audit_rows(engine)
    forged = rows[5] | {"member_id": "intruder", "prev_hash": "ab" * 32}  # seq 6, self-consistent
    forged["hash"] = row_hash(forged)
    await execute(engine, "DELETE FROM audit_rows WHERE seq = 6")
    await insert_row(engine, forged)
    report = await verify(engine)
    assert findings(report) == [(6, "INSERTED"), (7, "INSERTED")]  # its link, and the next


async def test_a_row_appended_behind_the_heads_back_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 8)
    last = (await audit_rows(engine))[-1]
    forged = last | {"seq": 9, "prev_hash": last["hash"], "member_id": "intruder"}
    forged["hash"] = row_hash(forged)  # links perfectly to seq 8
    await insert_row(engine, forged)
    report = await verify(engine)
    assert findings(report) == [(9, "INSERTED")]
    assert "beyond the head" in report.problems[0].detail


async def test_a_truncated_tail_disagrees_with_the_head(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "DELETE FROM audit_rows WHERE seq > 15")
    report = await verify(engine)
    assert findings(report) == [(16, "HEAD_MISMATCH")]
    assert "rows 16..20 are missing (tail truncated)" in report.problems[0].detail

    await execute(engine, "UPDATE audit_head SET seq = 15, hash = :h", h="cd" * 32)
    assert findings(await verify(engine)) == [(15, "HEAD_MISMATCH")]


async def rewrite_chain(engine: AsyncEngine, from_seq: int, keep: int | None = None) -> None:
    """What an intruder with write access does to hide a change: re-hash everything after it
    (optionally dropping the tail after `keep`) and move the head to match."""
    rows = await audit_rows(engine)
    if keep is not None:
        await execute(engine, "DELETE FROM audit_rows WHERE seq > :keep", keep=keep)
        rows = rows[:keep]
    prev = rows[from_seq - 2]["hash"] if from_seq > 1 else GENESIS
    for row in rows[from_seq - 1 :]:
        if row["seq"] == from_seq:
            row["purpose"] = "FORGED-ITEM"
        row["prev_hash"] = prev
        prev = row["hash"] = row_hash(row)
        await execute(
            engine,
            "UPDATE audit_rows SET purpose = :purpose, prev_hash = :prev_hash, hash = :hash "
            "WHERE seq = :seq",
            purpose=row["purpose"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            seq=row["seq"],
        )
    await execute(engine, "UPDATE audit_head SET seq = :s, hash = :h", s=rows[-1]["seq"], h=prev)


async def test_anchors_catch_a_rewritten_chain(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    await fill(engine, 10)
    first = await anchor(engine, log, codec, "kecheng")
    await fill(engine, 10)
    second = await anchor(engine, log, codec, "kecheng")
    assert first is not None and second is not None
    assert (first.seq, second.seq) == (10, 20)

    anchors = await latest_anchors(log, codec)
    assert [(a.seq, a.head_hash, a.rows) for a in anchors] == [
        (10, first.head_hash, 10),
        (20, second.head_hash, 20),
    ]
    assert (await verify(engine, anchors)).ok

    await rewrite_chain(engine, from_seq=4)
    assert (await verify(engine)).ok  # internally consistent: only the anchors can tell
    report = await verify(engine, anchors)
    assert findings(report) == [(10, "ANCHOR_MISMATCH"), (20, "ANCHOR_MISMATCH")]
    assert report.anchors_checked == 2


async def test_anchors_catch_a_truncated_and_rewound_chain(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    await fill(engine, 12)
    await anchor(engine, log, codec, "kecheng")
    await rewrite_chain(engine, from_seq=3, keep=8)

    anchors = await latest_anchors(log, codec)
    assert (await verify(engine)).ok
    report = await verify(engine, anchors)
    assert findings(report) == [(12, "ANCHOR_MISMATCH")]
    assert "chain ends at seq 8" in report.problems[0].detail


async def test_latest_anchors_filters_by_gateway_and_keeps_the_newest(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    assert await anchor(engine, log, codec, "kecheng") is None  # nothing to anchor yet
    for _ in range(4):
        await fill(engine, 3)
        await anchor(engine, log, codec, "kecheng")
        await anchor(engine, log, codec, "xinhua")

    assert len(await latest_anchors(log, codec)) == 8
    kept = await latest_anchors(log, codec, gateway_id="xinhua", limit=2)
    assert [(a.gateway_id, a.seq) for a in kept] == [("xinhua", 9), ("xinhua", 12)]
    again = await anchor(engine, log, codec, "xinhua")  # same head: same deterministic event id
    assert again is not None and again.event_id == kept[-1].event_id
    [record] = await log.read("audit-anchors", {0: 8})
    assert record.key == b"xinhua"
    headers = dict(record.headers)
    assert headers["ce_type"] == b"cn.govgate.AuditAnchor.v1"
    assert headers["ce_source"] == b"/sources/govgate-gateway"


@pytest.mark.kafka
async def test_anchors_round_trip_through_kafka(
    kafka_broker: Broker, data_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(
            bootstrap=kafka_broker.bootstrap,
            topic_prefix=f"t{uuid.uuid4().hex[:12]}",
            partitions=3,
            request_timeout_ms=5000,
        ),
    )
    async with fresh_engine(f"sqlite:///{tmp_path / 'k.db'}") as engine:
        async with open_log(settings) as log:
            await fill(engine, 5)
            made: list[Anchor | None] = [await anchor(engine, log, codec, "kecheng")]
            await fill(engine, 5)
            made.append(await anchor(engine, log, codec, "kecheng"))
            anchors = await latest_anchors(log, codec)
        assert [(a.seq, a.head_hash) for a in anchors] == [
            (a.seq, a.head_hash) for a in made if a is not None
        ]
        assert (await verify(engine, anchors)).ok


async def insert_row(engine: AsyncEngine, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    await execute(engine, f"INSERT INTO audit_rows ({names}) VALUES ({values})", **row)
