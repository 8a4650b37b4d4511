"""The console's 双告知 views over the lookup store (SQLite and PostgreSQL): counts by
department, the claim clock's verdict, the pool, pages and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateway.lookup.tables import _notice_row, lk_notices
from gateway.notices.rules import DirectoryEntry, RoutingTable, load_rules
from gateway.notices.views import NoticeFilter, NoticeViewError, NoticeViews
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.clock import BEIJING
from tests.gateway.operations.conftest import World

NOW = dt.datetime(2026, 11, 16, 12, tzinfo=BEIJING)  # a Monday


def notice(
    i: int,
    department: str,
    received: str,
    claimed: str | None = None,
    *,
    pool: bool = False,
) -> dict[str, Any]:
    at = dt.datetime.fromisoformat(received).replace(tzinfo=BEIJING)
    claimed_at = (
        None if claimed is None else dt.datetime.fromisoformat(claimed).replace(tzinfo=BEIJING)
    )
    return {
        "event_id": f"00000000-0000-5000-8000-{i:012d}",
        "notice_id": f"SGZ-{i:020d}",
        "status": "CLAIMED" if claimed else "PENDING",
        "routed_by": "POOL" if pool else "RULE",
        "rule_id": None if pool else "food",
        "pool_reason": "no rule matched 经营范围" if pool else None,
        "item_code": "ITEM",
        "item_name": "食品经营许可",
        "department_code": department,
        "department_name": {"330802-SCJG": "市场监管局", "330802-POOL": "待认领池"}.get(
            department, "交通运输局"
        ),
        "region_code": "330802",
        "licence": {
            "cert_id": f"C{i}",
            "uscc": "91330802MA2D4K7X0K",
            "name": f"示例{i}有限公司",
            "issuer_name": "衢州市柯城区市场监督管理局",
            "issue_date": at.date(),
        },
        "scope": "",
        "matched_items": [],
        "received_at": at,
        "claim_days": 5,
        "claimed_at": claimed_at,
        "claimed_by": "scjg-member" if claimed else None,
        "claim_note": None,
        "provenance": {
            "source_system": "govgate-notices",
            "source_table": "certificates",
            "source_key": f"C{i}",
            "source_version": "1",
            "fetched_at": at,
            "connector": None,
        },
    }


async def _fill(world: World) -> None:
    records = [
        notice(1, "330802-SCJG", "2026-11-02T10:00:00"),  # pending, 5 days passed long ago
        notice(2, "330802-SCJG", "2026-11-13T10:00:00"),  # pending, in time
        notice(3, "330802-SCJG", "2026-11-02T10:00:00", "2026-11-04T09:00:00"),  # on time
        notice(4, "330802-SCJG", "2026-11-02T10:00:00", "2026-11-12T09:00:00"),  # late
        notice(5, "330802-JTYS", "2026-11-12T10:00:00"),
        notice(6, "330802-POOL", "2026-11-03T10:00:00", pool=True),  # overdue in the pool
    ]
    async with world.engine.begin() as conn:
        await conn.execute(lk_notices.insert(), [_notice_row(r, 1) for r in records])


async def test_counts_by_department_with_overdue_now(world: World) -> None:
    await _fill(world)
    found = await NoticeViews(world.engine, WorkCalendar(), now=lambda: NOW).departments()
    assert [(d.department_code, d.received, d.claimed, d.pending, d.overdue) for d in found] == [
        ("330802-SCJG", 4, 2, 2, 1),
        ("330802-JTYS", 1, 0, 1, 0),
        ("330802-POOL", 1, 0, 1, 1),
    ]
    assert found[-1].pool and found[0].department_name == "市场监管局"


async def test_pages_show_each_clock_and_filter(world: World) -> None:
    await _fill(world)
    notices = NoticeViews(world.engine, WorkCalendar(), now=lambda: NOW)
    first = await notices.page(NoticeFilter.parse("330802-SCJG"), limit=3)
    rest = await notices.page(NoticeFilter.parse("330802-SCJG"), first.next_after, limit=3)
    items = first.items + rest.items
    assert [i.notice_id[-1] for i in items] == ["1", "2", "3", "4"] and rest.next_after is None
    assert [i.overdue for i in items] == [True, False, False, True]  # 4: claimed late
    assert items[0].last_day == dt.date(2026, 11, 9)  # counted from the next day
    pool = await notices.page(NoticeFilter.parse(pool=True))
    assert [i.notice_id[-1] for i in pool.items] == ["6"] and pool.items[0].pool_reason
    claimed = await notices.page(NoticeFilter.parse(status="CLAIMED"))
    assert {i.claimed_by for i in claimed.items} == {"scjg-member"}


@pytest.mark.parametrize(("field", "value"), [("department", "SCJG'--"), ("status", "LOST")])
def test_bad_filters_name_the_field(field: str, value: str) -> None:
    with pytest.raises(NoticeViewError) as caught:
        NoticeFilter.parse(**{field: value})
    assert caught.value.field == field and repr(value) in str(caught.value)


async def test_bad_cursor_and_limit(world: World) -> None:
    notices = NoticeViews(world.engine, WorkCalendar(), now=lambda: NOW)
    with pytest.raises(NoticeViewError, match="after"):
        await notices.page(after="x' or 1=1")
    with pytest.raises(NoticeViewError, match="limit"):
        await notices.page(limit=500)


async def test_a_kind_matches_its_department_in_every_region_and_its_directory_codes(
    world: World,
) -> None:
    await _fill(world)
    notices = NoticeViews(world.engine, WorkCalendar(), now=lambda: NOW)
    kind = await notices.page(NoticeFilter.parse("SCJG"))
    assert {i.department_code for i in kind.items} == {"330802-SCJG"} and len(kind.items) == 4
    assert [d.department_code for d in await notices.departments(NoticeFilter.parse("JTYS"))] == [
        "330802-JTYS"
    ]
    like = await notices.page(NoticeFilter.parse("CJG"))  # a suffix of a kind is not the kind
    assert like.items == []
    listed = await notices.page(NoticeFilter.parse("WJW", also=frozenset({"330802-POOL"})))
    assert [i.notice_id[-1] for i in listed.items] == ["6"]


def test_codes_of_a_kind_include_the_directory() -> None:
    spec = load_rules().spec.model_copy(
        update={
            "directory": {
                "330802": {
                    "SCJG": DirectoryEntry(code="113308020024930577", name="柯城区市场监管局")
                }
            }
        }
    )
    assert RoutingTable(spec).codes_of("SCJG") == {"SCJG", "113308020024930577"}
    assert RoutingTable(spec).codes_of("JTYS") == {"JTYS"}
