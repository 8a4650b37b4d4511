"""The console's supervision views over a real subscriber state (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.charts import RED, YELLOW, Series, bar_chart, stacked_bar_chart
from gateway.supervision.clock import Card
from gateway.supervision.state import SupervisionState, metadata, open_state
from gateway.supervision.supervisor import Incoming, Supervisor
from gateway.supervision.views import (
    SupervisionViews,
    ViewInputError,
    bulletin_file,
    check_card,
    check_department,
    forget_bulletins,
)
from tests.gateway.supervision.cases import DEPARTMENTS, at, event

NOW = at("2026-11-16", 12)
FGW, SCJG = DEPARTMENTS["FGW"][0], DEPARTMENTS["SCJG"][0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SupervisionState]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'supervise.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    async with open_state(url) as opened:
        async with opened.engine.begin() as conn:  # a shared database: start empty
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await _fill(opened)
        forget_bulletins()  # one PostgreSQL database, one URL, for every test
        yield opened


async def _fill(state: SupervisionState) -> None:
    supervisor = Supervisor(
        state, WorkCalendar(), yellow_share=0.8, now=lambda: NOW, echo=lambda _: None
    )
    events = [
        event("FG-A", "ACCEPTED", "2026-11-02"),
        event("FG-B", "ACCEPTED", "2026-11-12"),
        event("SC-C", "ACCEPTED", "2026-11-09", department="SCJG"),
        event("SC-D", "ACCEPTED", "2026-11-02", department="SCJG"),
        event("SC-D", "COMPLETED", "2026-11-04", department="SCJG"),
        *(event(f"FG-Z{i:02d}", "ACCEPTED", "2026-11-13") for i in range(12)),
    ]
    await supervisor.apply([Incoming(f"t/{i}", e) for i, e in enumerate(events)])
    await supervisor.sweep()


def views(state: SupervisionState) -> SupervisionViews:
    return SupervisionViews(state, WorkCalendar(), yellow_share=0.8, now=lambda: NOW)


async def test_open_cases_by_department_with_cards(state: SupervisionState) -> None:
    loads = await views(state).departments()
    assert [(d.department_code, d.open_cases, d.yellow, d.red) for d in loads] == [
        (FGW, 14, 1, 1),
        (SCJG, 1, 1, 0),
    ]
    assert loads[0].department_name == DEPARTMENTS["FGW"][1]
    [mine] = await views(state).departments(SCJG)
    assert mine.department_code == SCJG


async def test_open_cases_carry_their_clocks_and_page_by_case_number(
    state: SupervisionState,
) -> None:
    seen, after = [], None
    while True:
        page = await views(state).open_cases(FGW, after, limit=5)
        seen += page.items
        if page.next_after is None:
            break
        after = page.next_after
    assert [c.case_no for c in seen] == sorted(c.case_no for c in seen) and len(seen) == 14
    by_no = {c.case_no: c for c in seen}
    assert by_no["FG-A"].card is Card.RED and by_no["FG-A"].card_name == "红牌"
    assert by_no["FG-A"].elapsed_days == 10 and by_no["FG-A"].statutory_due == dt.date(2026, 11, 12)
    assert by_no["FG-B"].card is Card.ON_TIME and by_no["FG-B"].running
    [c] = (await views(state).open_cases(SCJG)).items
    assert c.case_no == "SC-C" and c.card is Card.YELLOW


async def test_cards_newest_first_filtered_and_paged(state: SupervisionState) -> None:
    every = await views(state).cards(limit=200)
    assert {(c.case_no, c.card) for c in every.items} == {
        ("FG-A", Card.YELLOW),
        ("FG-A", Card.RED),
        ("SC-C", Card.YELLOW),
    }
    first = await views(state).cards(limit=2)
    second = await views(state).cards(after=first.next_after, limit=2)
    assert len(first.items) == 2 and len(second.items) == 1 and second.next_after is None
    assert {c.case_no for c in (await views(state).cards(SCJG)).items} == {"SC-C"}
    reds = await views(state).cards(card=Card.RED)
    assert [c.card for c in reds.items] == [Card.RED] and "FG-A" in reds.items[0].line


async def test_bulletin_and_downloads_reuse_the_monthly_report(state: SupervisionState) -> None:
    rows = (await views(state).bulletin("2026-11")).rows
    assert [(r.department_code, r.accepted, r.completed) for r in rows] == [
        (FGW, 14, 0),
        (SCJG, 2, 1),
    ]
    [one] = (await views(state).bulletin("2026-11", department=SCJG)).rows
    both = (await views(state).bulletin("2026-11", frozenset({SCJG, FGW}))).rows
    assert [r.department_code for r in both] == [FGW, SCJG]
    csv = (await bulletin_file([one], "2026-11", "csv")).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("部门编码 department_code") and SCJG in csv
    book = load_workbook(io.BytesIO(await bulletin_file(rows, "2026-11", "xlsx")))
    assert book.sheetnames == ["2026-11"]
    with pytest.raises(ViewInputError, match="format"):
        await bulletin_file(rows, "2026-11", "pdf")


async def test_bad_input_names_the_field(state: SupervisionState) -> None:
    with pytest.raises(ViewInputError, match="after"):
        await views(state).cards(after="not json")
    with pytest.raises(ViewInputError, match="limit"):
        await views(state).open_cases(limit=1000)
    with pytest.raises(ViewInputError, match="department"):
        check_department("FGW' OR 1=1")
    with pytest.raises(ViewInputError, match="card"):
        check_card("GREEN")


def test_charts_are_escaped_inline_svg() -> None:
    svg = bar_chart("按时办结率 <script>", [("发改局<b>", 92.5), ("市场监管局", 100)], unit="%")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "92.5" in svg
    stacked = stacked_bar_chart(
        "黄牌与红牌",
        [("发改局", [1, 1]), ("市场监管局", [1, 0])],
        [Series("黄牌", YELLOW), Series("红牌", RED)],
    )
    assert stacked.count("<rect") == 3 + 2  # bars with a value, and the legend
    assert json.dumps(stacked)  # plain text, embeddable as it is


async def test_a_recent_bulletin_is_reused_within_its_age(state: SupervisionState) -> None:
    first = await views(state).bulletin("2026-11", max_age_s=60)
    again = await views(state).bulletin("2026-11", SCJG, max_age_s=60)
    assert again.computed_at == first.computed_at and [r.department_code for r in again.rows] == [
        SCJG
    ]
    fresh = await views(state).bulletin("2026-11")  # max_age_s=0: counted again
    assert fresh.rows == first.rows
