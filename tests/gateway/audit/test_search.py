"""Audit search on SQLite and PostgreSQL: filters, keyset pages, row checks, index use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.filters import AuditQuery, parse_query
from gateway.audit.log import AuditLog
from gateway.audit.pseudonyms import holder_hash
from gateway.audit.search import AuditRecord, AuditSearch
from schemas.validators import make_resident_id
from tests.gateway.audit import BACKENDS, SECRET, database_url, entry, execute, fresh_engine

HOLDERS = [make_resident_id("330802", date(1990, 3, 7), 42), "91330802MA2D4K7X0X"]
MEMBERS = ["kecheng-window", "qujiang-window", "person:auditor"]
ITEMS = ["330802-XK-0017", "330802-XK-0020"]
T0 = 1_764_900_000_000  # 2025-12-05, UTC ms
ROWS = 240


@dataclass(frozen=True)
class Seeded:
    seq: int
    at_ms: int
    member: str
    holder: str | None
    item: str
    decision: str


def plan(i: int) -> Seeded:
    """Row i's fields; at_ms goes back and forth (equal times too), as clocks of workers do."""
    return Seeded(
        seq=i + 1,
        at_ms=T0 + (i // 3) * 60_000 - (i % 3) * 1000 * (i % 2),
        member=MEMBERS[i % 3],
        holder=HOLDERS[i % 2] if i % 5 else None,
        item=ITEMS[i % 4 // 3],
        decision="deny" if i % 7 == 0 else "allow",
    )


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(database_url(request.param, request, data_dir)) as engine:
        yield engine


@pytest.fixture
async def seeded(engine: AsyncEngine) -> list[Seeded]:
    rows = [plan(i) for i in range(ROWS)]
    async with AuditLog(engine, SECRET) as audit:
        for row in rows:  # one by one: seq order is the plan's
            await audit.record(
                entry(
                    row.seq,
                    member_id=row.member,
                    holder_id=row.holder,
                    holder_type="PERSON" if row.holder == HOLDERS[0] else "ORGANIZATION",
                    purpose=row.item,
                    decision=row.decision,
                    status=403 if row.decision == "deny" else 200,
                    code="PURPOSE_NOT_GRANTED" if row.decision == "deny" else None,
                    at_ms=row.at_ms,
                    path=f"/v1/certificates/{row.holder or ''}",
                )
            )
    return rows


def newest_first(rows: list[Seeded]) -> list[int]:
    return [r.seq for r in sorted(rows, key=lambda r: (r.at_ms, r.seq), reverse=True)]


async def every_page(search: AuditSearch, query: AuditQuery, limit: int) -> list[AuditRecord]:
    found: list[AuditRecord] = []
    page = await search.page(query, None, limit)
    while True:
        assert len(page.rows) <= limit
        found += page.rows
        if page.next_after is None:
            return found
        assert len(page.rows) == limit
        page = await search.page(query, page.next_after, limit)


QUERIES: list[tuple[dict[str, str], object]] = [
    ({}, lambda r: True),
    ({"member": "qujiang-window"}, lambda r: r.member == "qujiang-window"),
    ({"holder": HOLDERS[0]}, lambda r: r.holder == HOLDERS[0]),
    ({"item": ITEMS[1]}, lambda r: r.item == ITEMS[1]),
    ({"decision": "refused"}, lambda r: r.decision == "deny"),
    (
        {"decision": "allowed", "member": "person:auditor"},
        lambda r: r.decision == "allow" and r.member == "person:auditor",
    ),
    (
        {"since": "2025-12-05T10:10:00+08:00", "until": "2025-12-05T10:40:00+08:00"},
        lambda r: T0 + 10 * 60_000 <= r.at_ms < T0 + 40 * 60_000,
    ),
    (
        {"holder": HOLDERS[1], "decision": "deny", "since": "2025-12-05T10:00:00+08:00"},
        lambda r: r.holder == HOLDERS[1] and r.decision == "deny" and r.at_ms >= T0,
    ),
]


@pytest.mark.parametrize(("raw", "keep"), QUERIES)
async def test_each_filter_pages_through_exactly_its_rows_newest_first(
    engine: AsyncEngine, seeded: list[Seeded], raw: dict[str, str], keep: object
) -> None:
    assert callable(keep)
    expected = newest_first([r for r in seeded if keep(r)])
    assert expected or raw == {}  # every query here finds something
    search = AuditSearch(engine, SECRET)
    query = parse_query(raw, SECRET)
    for limit in (7, 50):
        found = await every_page(search, query, limit)
        assert [r.seq for r in found] == expected
    assert await search.count_upto(query, 10_000) == len(expected)
    assert await search.count_upto(query, 3) == min(3, len(expected))


async def test_rows_show_the_holder_as_its_pseudonym_and_no_id(
    engine: AsyncEngine, seeded: list[Seeded]
) -> None:
    search = AuditSearch(engine, SECRET)
    page = await search.page(parse_query({"holder": HOLDERS[0].lower()}, SECRET), limit=200)
    assert page.rows and page.next_after is None
    pseudonym = "{id:" + holder_hash(SECRET, HOLDERS[0])[:16] + "}"
    for row in page.rows:
        assert row.holder == pseudonym and row.check == "intact"
        assert HOLDERS[0] not in repr(row)
        assert row.path == f"/v1/certificates/{pseudonym}"  # the writer pseudonymised it
    by_pseudonym = await search.page(parse_query({"holder_key": pseudonym}, SECRET), limit=200)
    assert [r.seq for r in by_pseudonym.rows] == [r.seq for r in page.rows]


async def test_rows_of_unidentified_callers_never_show_under_a_holder(
    engine: AsyncEngine, seeded: list[Seeded]
) -> None:
    await execute(engine, "UPDATE audit_rows SET member_id = NULL WHERE seq = 2")  # pre-#12 style
    search = AuditSearch(engine, SECRET)
    found = await every_page(search, parse_query({"holder": HOLDERS[1]}, SECRET), 100)
    assert 2 not in [r.seq for r in found]


async def test_an_altered_row_shows_as_altered_where_it_is_shown(
    engine: AsyncEngine, seeded: list[Seeded]
) -> None:
    await execute(engine, "UPDATE audit_rows SET decision = 'allow' WHERE seq = 8")  # a refusal
    search = AuditSearch(engine, SECRET)
    rows = await every_page(search, AuditQuery(), 100)
    assert {r.seq: r.check for r in rows if r.check != "intact"} == {8: "altered"}


async def test_an_empty_table_and_a_query_matching_nothing(engine: AsyncEngine) -> None:
    search = AuditSearch(engine, SECRET)
    page = await search.page(AuditQuery(member="nobody"))
    assert (page.rows, page.next_after) == ([], None)
    assert [b async for b in search.batches(AuditQuery())] == []


async def test_batches_stop_at_max_rows(engine: AsyncEngine, seeded: list[Seeded]) -> None:
    search = AuditSearch(engine, SECRET)
    batches = [b async for b in search.batches(AuditQuery(), batch=50, max_rows=120)]
    assert [len(b) for b in batches] == [50, 50, 20]
    assert [r.seq for b in batches for r in b] == newest_first(seeded)[:120]


@pytest.mark.parametrize(
    ("raw", "index"),
    [
        ({}, "ix_audit_rows_at"),
        ({"member": "kecheng-window"}, "ix_audit_rows_member_at"),
        ({"item": ITEMS[0], "since": "2025-12-05"}, "ix_audit_rows_purpose_at"),
        ({"decision": "deny"}, "ix_audit_rows_denied_at"),
        ({"holder": HOLDERS[0]}, "ix_audit_rows_holder"),
    ],
)
async def test_sqlite_reads_a_page_from_its_index(
    data_dir: Path, raw: dict[str, str], index: str
) -> None:
    """The plan of a page (after a cursor) uses the filter's index and, but for the holder
    (whose few rows are sorted), no sort: a page costs the same with 100k rows as with 10."""
    from gateway.audit.filters import Cursor
    from gateway.audit.search import _statement

    async with fresh_engine(f"sqlite:///{data_dir / 'plan.db'}") as engine:
        statement = _statement(parse_query(raw, SECRET), Cursor(T0, 10), 51)
        compiled = statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
        async with engine.connect() as conn:
            found = (await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
    plan_text = " | ".join(str(row[-1]) for row in found)
    assert index in plan_text, plan_text
    assert ("TEMP B-TREE" in plan_text) == (index == "ix_audit_rows_holder"), plan_text


def test_a_decision_outside_the_two_never_reaches_the_sql() -> None:
    from gateway.audit.search import _where

    with pytest.raises(ValueError, match="allow or deny"):
        _where(AuditQuery(decision="deny' OR '1'='1"))  # type: ignore[arg-type]
