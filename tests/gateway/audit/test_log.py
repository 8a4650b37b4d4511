"""`AuditLog`: group commit, one chain across workers, durable on return; `access_log`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import verify
from gateway.audit.errors import AuditUnavailable, InvalidAuditEntry
from gateway.audit.log import AuditLog, access_log, holder_hash
from gateway.audit.pseudonyms import pseudonym
from gateway.store import make_engine
from schemas.validators import make_resident_id
from tests.conftest import free_port
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

HOLDER = make_resident_id("330802", date(1990, 3, 7), 42)
OTHER = make_resident_id("130105", date(1979, 11, 2), 7)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    return database_url(request.param, request, data_dir)


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(url) as engine:
        yield engine


async def test_hundreds_of_concurrent_records_get_dense_seqs_in_one_valid_chain(
    engine: AsyncEngine,
) -> None:
    async with AuditLog(engine, SECRET) as audit:
        seqs = await asyncio.gather(*(audit.record(entry(i)) for i in range(400)))

    assert sorted(seqs) == list(range(1, 401))
    rows = await audit_rows(engine)
    assert [r["seq"] for r in rows] == list(range(1, 401))
    assert len({r["case_no"] for r in rows}) == 400  # every caller got its own row
    report = await verify(engine, KEY)
    assert report.ok, report.problems
    assert (report.rows, report.head_seq, report.head_hash) == (400, 400, rows[-1]["hash"])


async def test_two_workers_on_two_engines_write_one_chain(url: str, engine: AsyncEngine) -> None:
    other = make_engine(url)  # a second gateway process: its own pool, its own writer
    try:
        async with AuditLog(engine, SECRET) as first, AuditLog(other, SECRET) as second:

            async def worker(audit: AuditLog, name: str) -> list[int]:
                seqs: list[int] = []
                for wave in range(8):
                    seqs += await asyncio.gather(
                        *(
                            audit.record(entry(i, member_id=name))
                            for i in range(wave * 25, wave * 25 + 25)
                        )
                    )
                return seqs

            a, b = await asyncio.gather(worker(first, "worker-a"), worker(second, "worker-b"))
    finally:
        await other.dispose()

    assert sorted(a + b) == list(range(1, 401))
    assert not set(a) & set(b)
    report = await verify(engine, KEY)
    assert report.ok, report.problems
    assert report.rows == 400


async def test_record_returns_only_once_the_row_is_committed(url: str, engine: AsyncEngine) -> None:
    reader = make_engine(url)  # another connection pool: sees only committed rows
    try:
        async with AuditLog(engine, SECRET, flush_interval_s=0.02) as audit:
            for i in range(5):
                seq = await audit.record(entry(i, decision="deny", status=403, code="NO_GRANT"))
                async with reader.connect() as conn:
                    row = (
                        await conn.execute(
                            text("SELECT seq, code FROM audit_rows WHERE seq = :seq"), {"seq": seq}
                        )
                    ).one_or_none()
                assert row is not None and tuple(row) == (seq, "NO_GRANT")
    finally:
        await reader.dispose()


async def test_close_commits_every_queued_row(engine: AsyncEngine) -> None:
    audit = AuditLog(engine, SECRET, flush_interval_s=0.05)
    await audit.start()
    waiting = [asyncio.create_task(audit.record(entry(i))) for i in range(50)]
    await asyncio.sleep(0)  # queued, not yet written
    waiting[0].cancel()  # the client went away: the request still happened
    await audit.close()

    assert sorted([await task for task in waiting[1:]]) == list(range(2, 51))
    assert waiting[0].cancelled()
    assert len(await audit_rows(engine)) == 50
    with pytest.raises(AuditUnavailable):
        await audit.record(entry())


async def test_access_log_finds_a_holders_rows_and_the_id_is_never_stored(
    engine: AsyncEngine,
) -> None:
    async with AuditLog(engine, SECRET) as audit:
        for i in range(12):
            holder = HOLDER if i % 2 == 0 else OTHER
            denied = i % 4 == 2
            await audit.record(
                entry(
                    i,
                    path=f"/v1/certificates?holder_id={holder}&type_code=YYZZ",
                    holder_id=holder,
                    holder_type="PERSON",
                    decision="deny" if denied else "allow",
                    status=403 if denied else 200,
                    code="PURPOSE_NOT_GRANTED" if denied else None,
                )
            )
        await audit.record(entry(99, path=f"/v1/materials/{HOLDER}", holder_id=HOLDER))

    page = await access_log(engine, SECRET, HOLDER, limit=4)
    assert [a.seq for a in page] == [13, 11, 9, 7]  # newest first
    rest = await access_log(engine, SECRET, HOLDER, limit=4, after=page[-1].seq)
    assert [a.seq for a in rest] == [5, 3, 1]
    assert [a.decision for a in rest] == ["allow", "deny", "allow"]
    assert rest[1].code == "PURPOSE_NOT_GRANTED"
    assert (page[1].member_id, page[1].purpose, page[1].case_no) == (
        "kecheng-window-1",
        "330802-XK-0017",
        "SL2026-00010",
    )
    assert page[0].path == "/v1/materials/" + pseudonym(SECRET, HOLDER)
    # the same id written in lower case or full width finds the same rows
    full_width = HOLDER.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789x"})
    assert [a.seq for a in await access_log(engine, SECRET, full_width, limit=50)] == [
        13,
        11,
        9,
        7,
        5,
        3,
        1,
    ]
    assert await access_log(engine, b"another-secret-0123456789", HOLDER) == []

    dump = repr(await audit_rows(engine)).upper()
    for holder in (HOLDER, OTHER):
        assert holder.upper() not in dump
        assert holder.upper()[:-1] not in dump  # not even without the check digit
    assert holder_hash(SECRET, HOLDER).upper() in dump


async def test_hostile_text_is_stored_and_the_chain_stays_valid(engine: AsyncEngine) -> None:
    """Whatever a caller puts in a path or header, the row must be writable: a refused row
    would fail every request of its batch."""
    async with AuditLog(engine, SECRET) as audit:
        await audit.record(
            entry(
                path="/v1/cases/" + "案" * 5000,
                case_no="SL\x00' OR 1=1 --",
                keyid="\ud800bad-surrogate",
                purpose="x" * 500,
                decision="deny",
                status=400,
                code="BAD_INPUT",
            )
        )
    [row] = await audit_rows(engine)
    assert len(row["path"]) == 1024 and row["path"].endswith("…")
    assert row["case_no"] == "SL\ufffd' OR 1=1 --"
    assert len(row["purpose"]) == 64
    assert (await verify(engine, KEY)).ok


async def test_entries_the_gateway_should_never_build_are_refused_before_queueing(
    engine: AsyncEngine,
) -> None:
    async with AuditLog(engine, SECRET) as audit:
        with pytest.raises(InvalidAuditEntry):
            await audit.record(entry(decision="maybe"))
        with pytest.raises(InvalidAuditEntry):
            await audit.record(entry(status=42))
        with pytest.raises(InvalidAuditEntry):
            await audit.record(entry(requests=0))
        assert await audit.record(entry()) == 1
    with pytest.raises(ValueError, match="at least 16 bytes"):
        AuditLog(engine, b"short")


async def test_an_unreachable_database_is_a_retriable_audit_unavailable() -> None:
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    try:
        async with AuditLog(engine, SECRET) as audit:
            results = await asyncio.gather(
                *(audit.record(entry(i)) for i in range(3)), return_exceptions=True
            )
    finally:
        await engine.dispose()
    assert all(isinstance(r, AuditUnavailable) and r.retriable for r in results), results


async def test_ids_in_paths_and_headers_are_pseudonymised_and_only_members_name_a_holder(
    engine: AsyncEngine,
) -> None:
    """Issue #12, finding 9: a refused or not-found request stored its raw path
    (`/v1/certificates/330802198904173748`), and an unsigned request was filed under whatever
    holder it named, so anyone could write into a person's access log."""
    company = "91330802MA2D4K7X09"
    async with AuditLog(engine, SECRET) as audit:
        await audit.record(
            entry(
                1,
                path=f"/v1/certificates/{HOLDER}?x={OTHER}",
                decision="deny",
                status=404,
                code="NOT_FOUND",
                case_no=f"GC-{OTHER}",
                purpose="11330802002493025K3330111703000",  # an item code: kept as it is
            )
        )
        await audit.record(entry(2, path=f"/v1/certificates/YYZZ-{company.lower()}"))
        wide = HOLDER.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
        await audit.record(entry(3, path=f"/v1/cases/{wide}"))
        await audit.record(  # unsigned: no member, so not under the holder it claims
            entry(
                4,
                member_id=None,
                keyid=None,
                holder_id=HOLDER,
                holder_type="RESIDENT_ID",
                decision="deny",
                status=401,
                code="SIGNATURE_MISSING",
            )
        )
        await audit.record(entry(5, holder_id=HOLDER))
    rows = await audit_rows(engine)
    dump = repr(rows).upper()
    for id_ in (HOLDER, OTHER, company):
        assert id_ not in dump and id_[:-1] not in dump
    assert rows[0]["path"] == "/v1/certificates/" + pseudonym(SECRET, HOLDER)
    assert rows[0]["case_no"] == "GC-" + pseudonym(SECRET, OTHER)
    assert rows[0]["purpose"] == "11330802002493025K3330111703000"
    assert rows[1]["path"] == "/v1/certificates/YYZZ-" + pseudonym(SECRET, company)
    assert rows[2]["path"] == "/v1/cases/" + pseudonym(SECRET, HOLDER)
    assert (rows[3]["holder"], rows[3]["holder_type"]) == (None, None)
    assert rows[4]["holder"] == holder_hash(SECRET, HOLDER)
    assert [a.seq for a in await access_log(engine, SECRET, HOLDER)] == [5]


async def test_rows_of_unidentified_callers_are_never_shown_to_a_holder(
    engine: AsyncEngine,
) -> None:
    """Rows written before issue #12 could name a holder for an unsigned request."""
    async with AuditLog(engine, SECRET) as audit:
        await audit.record(entry(1, holder_id=HOLDER))
    await execute(engine, "UPDATE audit_rows SET member_id = NULL")  # as such an old row
    assert await access_log(engine, SECRET, HOLDER) == []
