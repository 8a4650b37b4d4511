"""The console's credit views (SQLite and PostgreSQL): the lists on a day by status, and the
checks made, from the real audit writer (subjects pseudonymised, never in clear)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateway.audit.log import AuditEntry, AuditLog
from gateway.credit.views import CREDIT_ROUTE, CreditViewError, CreditViews, check_member
from gateway.lookup.tables import _credit_entry_row, lk_credit_entries
from tests.gateway.operations.conftest import World, person_id

TODAY = dt.date(2026, 11, 16)
SECRET = b"0123456789abcdef0123456789abcdef"


def entry(i: int, list_code: str, **dates: dt.date | None) -> dict[str, Any]:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return {
        "entry_id": f"E{i}",
        "list_code": list_code,
        "subject": {"type": "PERSON", "id_type": "RESIDENT_ID", "id_number": person_id(i)},
        "valid_from": dates.get("valid_from") or dt.date(2026, 1, 1),
        "valid_until": dates.get("valid_until"),
        "removed_on": dates.get("removed_on"),
        "event_id": f"00000000-0000-5000-8000-{i:012d}",
        "provenance": {"source_version": "1", "fetched_at": at},
    }


async def test_lists_by_status_on_a_day(world: World) -> None:
    rows = [
        entry(1, "SXBZXR"),
        entry(2, "SXBZXR", removed_on=dt.date(2026, 6, 1)),
        entry(3, "SXBZXR", valid_until=dt.date(2026, 3, 1)),
        entry(4, "SXBZXR", valid_from=dt.date(2026, 12, 1)),
        entry(5, "ZDSSWF"),
    ]
    async with world.engine.begin() as conn:
        await conn.execute(lk_credit_entries.insert(), [_credit_entry_row(r, 1) for r in rows])
    found = await CreditViews(world.engine).lists(TODAY)
    assert [(s.list_code, s.active, s.not_yet, s.expired, s.removed) for s in found] == [
        ("SXBZXR", 1, 1, 1, 1),
        ("ZDSSWF", 1, 0, 0, 0),
    ]


async def test_checks_newest_first_pseudonymous_and_paged(world: World) -> None:
    async with AuditLog(world.engine, SECRET) as audit:
        for i in range(5):
            await audit.record(
                AuditEntry(
                    method="GET",
                    path=f"/v1/credit/{person_id(i)}",
                    decision="allow" if i != 3 else "deny",
                    status=200 if i != 3 else 403,
                    member_id="window-kc" if i % 2 == 0 else "window-xh",
                    route=CREDIT_ROUTE,
                    holder_id=person_id(i),
                    holder_type="PERSON",
                    purpose="ZFCG",
                    code=None if i != 3 else "NOT_GRANTED",
                )
            )
        await audit.record(
            AuditEntry(
                method="GET",
                path="/v1/cases/x",
                decision="allow",
                status=200,
                member_id="m",
                route="/v1/cases/{case_no}",
            )
        )
    credit = CreditViews(world.engine)
    first = await credit.checks(limit=3)
    rest = await credit.checks(after=first.next_after, limit=3)
    seqs = [c.seq for c in first.items + rest.items]
    assert len(seqs) == 5 and seqs == sorted(seqs, reverse=True) and rest.next_after is None
    refused = [c for c in first.items + rest.items if c.decision == "deny"]
    assert [c.code for c in refused] == ["NOT_GRANTED"]
    for c in first.items + rest.items:
        assert c.subject and len(c.subject) == 12 and c.subject not in person_id(0)
    mine = await credit.checks(check_member("window-xh"))
    assert {c.member_id for c in mine.items} == {"window-xh"} and len(mine.items) == 2


def test_bad_input_names_the_field() -> None:
    with pytest.raises(CreditViewError, match="member"):
        check_member("a b")


async def test_bad_cursor(world: World) -> None:
    with pytest.raises(CreditViewError, match="after"):
        await CreditViews(world.engine).checks(after="-1")
