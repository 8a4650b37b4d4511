"""SM3 audit chains (国密, issue #18): HMAC-SM3 rows, one algorithm per chain, both verified.

The row hash is re-computed with GmSSL's HMAC-SM3 (`gmssl_pyx.sm3_hmac`) and an HKDF written
here from RFC 5869, so the chain is checked against an implementation other than the one that
writes it (OpenSSL's SM3 through hashlib / cryptography)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gmssl_pyx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import VerifyReport, verify
from gateway.audit.errors import AuditHashConflict
from gateway.audit.hashing import V2_FIELDS, RowHasher, chain_key, chain_keys, encode
from gateway.audit.log import AuditLog
from tests.gateway.audit import (
    BACKENDS,
    KEY,
    SECRET,
    audit_rows,
    database_url,
    entry,
    execute,
    fresh_engine,
)

SM3_KEYS = chain_keys(SECRET)


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(database_url(request.param, request, data_dir)) as engine:
        yield engine


async def fill(engine: AsyncEngine, count: int, alg: Any = "sm3") -> None:
    async with AuditLog(engine, SECRET, hash_alg=alg) as audit:
        for i in range(count):
            await audit.record(entry(i, holder_id="91330802MA2D4K7X0A"))


async def head_alg(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT hash_alg FROM audit_head"))).scalar_one()


def findings(report: VerifyReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def gmssl_hkdf_sm3(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 over GmSSL's HMAC-SM3: extract with an empty salt (HashLen zeros), expand."""
    prk = gmssl_pyx.sm3_hmac(b"\x00" * 32, secret)
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = gmssl_pyx.sm3_hmac(prk, block + info + bytes([counter]))
        out += block
    return out[:length]


def test_the_sm3_row_hash_is_the_documented_one_by_another_implementation() -> None:
    key = gmssl_hkdf_sm3(SECRET, b"govgate audit chain v2")
    assert chain_key(SECRET, "sm3") == key == SM3_KEYS["sm3"] != KEY
    row: dict[str, Any] = dict.fromkeys(V2_FIELDS) | {
        "seq": 1,
        "at_ms": 1_795_000_000_000,
        "method": "GET",
        "path": "/v1/certificates",
        "decision": "allow",
        "status": 200,
        "requests": 1,
        "prev_hash": "0" * 64,
    }
    message = b"govgate-audit-v2\x00" + encode(row[name] for name in V2_FIELDS)
    expected = gmssl_pyx.sm3_hmac(key, message).hex()
    assert RowHasher(key, "sm3")(row) == expected
    assert RowHasher(key, "sha-256")(row) != expected  # the same key under HMAC-SHA256
    assert hmac.new(key, message, hashlib.sha256).hexdigest() == RowHasher(key)(row)


async def test_an_sm3_chain_records_its_algorithm_and_verifies(engine: AsyncEngine) -> None:
    await fill(engine, 12)
    assert await head_alg(engine) == "sm3"
    rows = await audit_rows(engine)
    hasher = RowHasher(SM3_KEYS["sm3"], "sm3")
    assert all(hasher(row) == row["hash"] for row in rows)
    report = await verify(engine, SM3_KEYS, batch=5)
    assert report.ok, report.problems
    assert (report.rows, report.hash_alg, report.unkeyed_rows) == (12, "sm3", 0)


async def test_tampering_is_found_in_an_sm3_chain(engine: AsyncEngine) -> None:
    await fill(engine, 10)
    await execute(engine, "UPDATE audit_rows SET purpose = 'X' WHERE seq = 4")
    await execute(engine, "DELETE FROM audit_rows WHERE seq = 7")
    report = await verify(engine, SM3_KEYS)
    assert findings(report) == [(4, "ALTERED"), (7, "DELETED")]


async def test_an_sm3_row_rehashed_as_legacy_sha256_is_altered(engine: AsyncEngine) -> None:
    """An SM3 chain has no legacy rows: a row re-hashed the unkeyed v1 way is not accepted."""
    from gateway.audit.chain import row_hash

    await fill(engine, 3)
    row = (await audit_rows(engine))[1]
    await execute(engine, "UPDATE audit_rows SET hash = :h WHERE seq = 2", h=row_hash(row))
    assert findings(await verify(engine, SM3_KEYS))[0] == (2, "ALTERED")


async def test_a_head_switched_to_the_other_algorithm_breaks_every_row(
    engine: AsyncEngine,
) -> None:
    await fill(engine, 3)
    await execute(engine, "UPDATE audit_head SET hash_alg = 'sha-256'")
    report = await verify(engine, SM3_KEYS)
    assert findings(report) == [(1, "ALTERED"), (2, "ALTERED"), (3, "ALTERED")]
    await execute(engine, "UPDATE audit_head SET hash_alg = 'md5'")
    report = await verify(engine, SM3_KEYS)
    assert (0, "HEAD_MISMATCH") in findings(report)


async def test_a_sha256_chain_keeps_verifying_and_is_never_mixed(engine: AsyncEngine) -> None:
    """The setting switched to sm3 on a chain begun with SHA-256: the writer refuses (at start
    and on append), the chain verifies as before; and the reverse for an SM3 chain."""
    await fill(engine, 5, "sha-256")
    assert await head_alg(engine) == "sha-256"
    with pytest.raises(AuditHashConflict, match="hashed with sha-256"):
        async with AuditLog(engine, SECRET, hash_alg="sm3"):
            pass
    unchecked = AuditLog(engine, SECRET, hash_alg="sm3")  # `record` without `start`
    try:
        with pytest.raises(AuditHashConflict):
            await unchecked.record(entry(99))
    finally:
        await unchecked.close()
    report = await verify(engine, SM3_KEYS)
    assert report.ok and (report.rows, report.hash_alg) == (5, "sha-256")
    assert (await verify(engine, KEY)).ok  # the one-key form, as before issue #18
    await fill(engine, 2, "sha-256")  # the right setting appends as always
    assert (await verify(engine, SM3_KEYS)).rows == 7


async def test_an_sm3_chain_refuses_a_sha256_writer(engine: AsyncEngine) -> None:
    await fill(engine, 2)
    with pytest.raises(AuditHashConflict, match="hashed with sm3"):
        await fill(engine, 1, "sha-256")
    assert (await verify(engine, SM3_KEYS)).rows == 2


async def test_without_the_head_the_first_row_names_the_algorithm(engine: AsyncEngine) -> None:
    await fill(engine, 4)
    async with engine.connect() as conn:
        head = (await conn.execute(text("SELECT * FROM audit_head"))).mappings().one()
    await execute(engine, "DELETE FROM audit_head")
    try:
        report = await verify(engine, SM3_KEYS)
    finally:  # the head row back: PostgreSQL is shared by the session's tests
        await execute(
            engine,
            "INSERT INTO audit_head (id, seq, hash, keyed_from, hash_alg) "
            "VALUES (:id, :seq, :hash, :keyed_from, :hash_alg)",
            **head,
        )
    assert report.hash_alg == "sm3"
    assert findings(report) == [(0, "HEAD_MISMATCH")]
