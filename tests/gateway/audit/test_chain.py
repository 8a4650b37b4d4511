"""`verify` and anchors: every kind of tampering is found and named by its seq.

The five attacks of issue #12 (finding 2), as a database-only attacker makes them on the
embedded default, are in test_attacks.py; here, the chain's and the anchors' own rules."""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.anchors import Anchor, anchor, latest_anchors
from gateway.audit.chain import GENESIS, VerifyReport, row_hash, verify
from gateway.audit.hashing import RowHasher, chain_key
from gateway.audit.log import AuditLog
from gateway.audit.signed_anchors import check_signatures, sign_anchor
from gateway.log import SqlLog, open_log
from gateway.members.keys import generate_private_key, key_id
from gateway.settings import KafkaSettings, Settings
from schemas.codec import EventCodec
from tests.conftest import Broker
from tests.gateway.audit import (
    BACKENDS,
    GATEWAY_KEY,
    KEY,
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


def enc(value: Any) -> bytes:
    if value is None:
        return b"\x00"
    if isinstance(value, int):
        return b"\x01" + struct.pack(">q", value)
    data = str(value).encode("utf-8")
    return b"\x02" + struct.pack(">I", len(data)) + data


SAMPLE_ROW: dict[str, Any] = {
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


def test_the_legacy_row_hash_is_the_documented_encoding() -> None:
    """Re-implemented from the docstring alone, and pinned, so the format cannot drift."""
    row = SAMPLE_ROW
    expected = hashlib.sha256(b"govgate-audit-v1\x00" + b"".join(map(enc, row.values())))
    assert row_hash(row) == expected.hexdigest()
    assert row_hash(row) == "82eb69a8fb5d84329145c8ef0065bc0c381f279d848efe53166e40f6cb99ac15"
    assert row_hash(row | {"keyid": ""}) != row_hash(row)  # null and empty text differ


def test_the_keyed_row_hash_is_the_documented_encoding() -> None:
    """v2: HMAC-SHA256 with a key HKDF-derived from the audit secret, over the fields with
    `requests` and `content_sha256` before `prev_hash`; re-implemented from
    gateway.audit.hashing's docstring."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(hashes.SHA256(), 32, salt=b"", info=b"govgate audit chain v2").derive(SECRET)
    assert chain_key(SECRET) == key == KEY
    row = {k: v for k, v in SAMPLE_ROW.items() if k != "prev_hash"} | {
        "requests": 1,
        "content_sha256": None,
        "prev_hash": GENESIS,
    }
    message = b"govgate-audit-v2\x00" + b"".join(map(enc, row.values()))
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    assert RowHasher(key)(row) == expected
    assert RowHasher(chain_key(b"another-secret-0123456789"))(row) != expected
    assert RowHasher(key)(row | {"requests": 2}) != expected
    assert RowHasher(key)(row | {"content_sha256": "ab" * 32}) != expected


async def test_an_intact_chain_verifies_across_batches(engine: AsyncEngine) -> None:
    await fill(engine, 23)
    report = await verify(engine, KEY, batch=5)
    assert report.ok, report.problems
    assert (report.rows, report.last_seq, report.head_seq) == (23, 23, 23)
    assert report.unkeyed_rows == 0


async def test_an_empty_chain_verifies(engine: AsyncEngine) -> None:
    report = await verify(engine, KEY)
    assert report.ok and (report.rows, report.head_seq, report.head_hash) == (0, 0, GENESIS)


async def test_without_the_secret_no_row_verifies(engine: AsyncEngine) -> None:
    await fill(engine, 3)
    report = await verify(engine, chain_key(b"not-the-audit-secret-0123"))
    assert findings(report) == [(1, "ALTERED"), (2, "ALTERED"), (3, "ALTERED")]


async def test_a_changed_field_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "UPDATE audit_rows SET purpose = 'ANOTHER-ITEM' WHERE seq = 7")
    await execute(engine, "UPDATE audit_rows SET holder = NULL WHERE seq = 12")
    await execute(engine, "UPDATE audit_rows SET requests = 5 WHERE seq = 15")
    report = await verify(engine, KEY, batch=6)
    assert findings(report) == [(7, "ALTERED"), (12, "ALTERED"), (15, "ALTERED")]
    assert "does not match the row's fields" in str(report.problems[0])
    assert report.first_problem is not None and report.first_problem.seq == 7


async def test_a_row_rehashed_without_the_key_is_named(engine: AsyncEngine) -> None:
    """Re-hashed in the legacy (unkeyed) format, the only one a writer without the secret can
    compute: the row is refused as unkeyed, and the next row's link breaks."""
    await fill(engine, 10)
    row = (await audit_rows(engine))[4]  # seq 5
    row["member_id"] = "intruder"
    await execute(
        engine,
        "UPDATE audit_rows SET member_id = 'intruder', hash = :h WHERE seq = 5",
        h=row_hash(row),
    )
    report = await verify(engine, KEY)
    assert findings(report) == [(5, "UNKEYED"), (6, "INSERTED")]
    assert "after keyed rows began (seq 1)" in report.problems[0].detail
    assert "seq 5 was rewritten" in report.problems[1].detail


async def test_a_deleted_row_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "DELETE FROM audit_rows WHERE seq IN (5, 14, 15)")
    report = await verify(engine, KEY, batch=4)
    assert findings(report) == [(5, "DELETED"), (14, "DELETED")]
    assert report.problems[1].detail == "rows 14..15 are missing before seq 16"


async def test_a_forged_row_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 12)
    rows = await audit_rows(engine)
    forged = rows[5] | {"member_id": "intruder", "prev_hash": "ab" * 32}  # seq 6
    forged["hash"] = RowHasher(chain_key(b"a-guessed-secret-0123456"))(forged)
    await execute(engine, "DELETE FROM audit_rows WHERE seq = 6")
    await insert_row(engine, forged)
    report = await verify(engine, KEY)
    assert findings(report) == [(6, "INSERTED"), (6, "ALTERED"), (7, "INSERTED")]


async def test_a_row_appended_behind_the_heads_back_is_named(engine: AsyncEngine) -> None:
    await fill(engine, 8)
    last = (await audit_rows(engine))[-1]
    forged = last | {"seq": 9, "prev_hash": last["hash"], "member_id": "intruder"}
    forged["hash"] = RowHasher(KEY)(forged)  # even with the key: the head was not moved
    await insert_row(engine, forged)
    report = await verify(engine, KEY)
    assert findings(report) == [(9, "INSERTED")]
    assert "beyond the head" in report.problems[0].detail


async def test_a_truncated_tail_disagrees_with_the_head(engine: AsyncEngine) -> None:
    await fill(engine, 20)
    await execute(engine, "DELETE FROM audit_rows WHERE seq > 15")
    report = await verify(engine, KEY)
    assert findings(report) == [(16, "HEAD_MISMATCH")]
    assert "rows 16..20 are missing (tail truncated)" in report.problems[0].detail

    await execute(engine, "UPDATE audit_head SET seq = 15, hash = :h", h="cd" * 32)
    assert findings(await verify(engine, KEY)) == [(15, "HEAD_MISMATCH")]


async def signed(log: SqlLog, **kw: Any) -> list[Anchor]:
    checked, problems = check_signatures(
        await latest_anchors(log, codec, **kw), {key_id(GATEWAY_KEY): GATEWAY_KEY.public_key()}
    )
    assert problems == []
    return checked


async def test_signed_anchors_catch_a_truncated_chain_with_its_head_moved_back(
    engine: AsyncEngine,
) -> None:
    log = SqlLog(engine)
    await fill(engine, 12)
    made = await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)
    assert made is not None and made.keyid == key_id(GATEWAY_KEY) and made.keyed_from == 1
    rows = await audit_rows(engine)
    await execute(engine, "DELETE FROM audit_rows WHERE seq > 8")
    await execute(engine, "UPDATE audit_head SET seq = 8, hash = :h", h=rows[7]["hash"])
    assert (await verify(engine, KEY)).ok  # a prefix of a good chain: only anchors can tell
    anchors = await signed(log)
    assert [(a.seq, a.signed) for a in anchors] == [(12, True)]
    report = await verify(engine, KEY, anchors)
    assert findings(report) == [(9, "DELETED")]
    assert "rows 9..12 were removed and the head was moved back" in report.problems[0].detail


async def test_rows_older_than_the_interval_need_a_signed_anchor(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    async with AuditLog(engine, SECRET) as audit:
        for i in range(6):
            await audit.record(entry(i, at_ms=1_795_000_000_000 + i * 1000))
    later = 1_795_000_000 + 3600.0
    report = await verify(engine, KEY, anchors_due_s=180, now=later)
    assert findings(report) == [(1, "UNANCHORED")]
    assert "not covered by a signed anchor (the last covers no row)" in report.problems[0].detail
    await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)
    assert (await verify(engine, KEY, await signed(log), anchors_due_s=180, now=later)).ok
    async with AuditLog(engine, SECRET) as audit:
        await audit.record(entry(9, at_ms=1_795_000_100_000))
    report = await verify(engine, KEY, await signed(log), anchors_due_s=180, now=later)
    assert findings(report) == [(7, "UNANCHORED")]
    assert "(the last covers seq 6)" in report.problems[0].detail
    # an unsigned anchor (as written before the anchors were signed) vouches for nothing
    unsigned = [a for a in await latest_anchors(log, codec)]
    assert not any(a.signed for a in unsigned)
    report = await verify(engine, KEY, unsigned, anchors_due_s=180, now=later)
    assert findings(report) == [(1, "UNANCHORED")]


async def test_a_forged_or_unknown_anchor_signature_is_a_finding(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    await fill(engine, 4)
    made = await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)
    assert made is not None
    keys = {key_id(GATEWAY_KEY): GATEWAY_KEY.public_key()}
    forged = replace(made, head_hash="ab" * 32)
    other = generate_private_key("ed25519")
    stranger = sign_anchor(replace(made, signature=None, keyid=None), other)
    checked, problems = check_signatures([made, forged, stranger], keys)
    assert [a.signed for a in checked] == [True]
    assert [(p.seq, p.kind) for p in problems] == [(4, "ANCHOR_FORGED"), (4, "ANCHOR_FORGED")]
    assert "does not verify" in problems[0].detail
    assert "not one of the gateway's keys" in problems[1].detail
    for alg in ("ecdsa-p256-sha256", "sm2-sm3"):  # whatever the gateway's response key
        other_key = generate_private_key(alg)
        resigned = sign_anchor(made, other_key)
        checked, problems = check_signatures(
            [resigned], {key_id(other_key): other_key.public_key()}
        )
        assert problems == [] and checked[0].signed, alg
        checked, problems = check_signatures(
            [replace(resigned, seq=5)], {key_id(other_key): other_key.public_key()}
        )
        assert [p.kind for p in problems] == ["ANCHOR_FORGED"], alg


async def test_legacy_unkeyed_rows_verify_below_where_signed_anchors_say_keys_began(
    engine: AsyncEngine,
) -> None:
    """A chain written before issue #12 (v1 hashes) keeps verifying after the upgrade: the
    migration records where keyed rows begin, the first signed anchor vouches for it. An
    unkeyed row anywhere else is a downgrade."""
    await fill_legacy(engine, 5)
    await execute(engine, "UPDATE audit_head SET keyed_from = 6")  # as 0005_audit_keyed does
    log = SqlLog(engine)
    report = await verify(engine, KEY)
    assert findings(report) == [(1, "UNKEYED")]
    assert "no signed anchor vouches for unkeyed rows" in report.problems[0].detail
    await fill(engine, 3)
    await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)
    report = await verify(engine, KEY, await signed(log))
    assert report.ok, report.problems
    assert report.unkeyed_rows == 5

    rows = await audit_rows(engine)  # the last row, downgraded: re-hashed unkeyed
    last = rows[-1] | {"member_id": "intruder"}
    await execute(
        engine,
        "UPDATE audit_rows SET member_id = 'intruder', hash = :h WHERE seq = 8",
        h=row_hash(last),
    )
    report = await verify(engine, KEY, await signed(log))
    assert (8, "UNKEYED") in findings(report)


async def fill_legacy(engine: AsyncEngine, count: int) -> None:
    """Rows as the gateway wrote them before issue #12: unkeyed (v1) hashes."""
    prev = GENESIS
    for seq in range(1, count + 1):
        row = SAMPLE_ROW | {"seq": seq, "prev_hash": prev, "case_no": f"SL-{seq}"}
        prev = row["hash"] = row_hash(row)
        await insert_row(engine, row)
    await execute(engine, "UPDATE audit_head SET seq = :s, hash = :h", s=count, h=prev)


async def test_latest_anchors_filters_by_gateway_and_keeps_the_newest(engine: AsyncEngine) -> None:
    log = SqlLog(engine)
    assert await anchor(engine, log, codec, "kecheng", GATEWAY_KEY) is None  # nothing yet
    for _ in range(4):
        await fill(engine, 3)
        await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)
        await anchor(engine, log, codec, "xinhua", GATEWAY_KEY)

    assert len(await latest_anchors(log, codec)) == 8
    kept = await latest_anchors(log, codec, gateway_id="xinhua", limit=2)
    assert [(a.gateway_id, a.seq) for a in kept] == [("xinhua", 9), ("xinhua", 12)]
    again = await anchor(engine, log, codec, "xinhua", GATEWAY_KEY)  # same head: same event id
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
            made: list[Anchor | None] = [await anchor(engine, log, codec, "kecheng", GATEWAY_KEY)]
            await fill(engine, 5)
            made.append(await anchor(engine, log, codec, "kecheng", GATEWAY_KEY))
            anchors = await latest_anchors(log, codec)
        assert [(a.seq, a.head_hash) for a in anchors] == [
            (a.seq, a.head_hash) for a in made if a is not None
        ]
        checked, problems = check_signatures(
            anchors, {key_id(GATEWAY_KEY): GATEWAY_KEY.public_key()}
        )
        assert problems == [] and all(a.signed for a in checked)
        assert (await verify(engine, KEY, checked)).ok


async def insert_row(engine: AsyncEngine, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    await execute(engine, f"INSERT INTO audit_rows ({names}) VALUES ({values})", **row)
