"""双告知 the whole way round, on the SQL log and on Kafka: a simulated 市场监管 registration whose
scope names food service and road freight is pulled by the connector; the router sends notices
to 市场监管 and 交通运输 (and a licence with only boilerplate to the pool); each department sees
its own on the feed; 市场监管 claims in time, 交通运输 does not and gets a yellow, then a red
card on supervision-alerts; the monthly bulletin counts both."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from connectors.simulators.scjg import ScjgSimulator
from gateway.client import GatewayClient, GatewayRefused, NotFound
from gateway.members.store import Grant
from gateway.notices.router import NoticeRouter
from gateway.notices.rules import load_rules
from gateway.notices.state import RouterState
from gateway.notices.tracker import NoticeSource
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.report import add_notices, monthly_report
from gateway.supervision.runner import supervise
from gateway.supervision.sources import CaseSource
from gateway.supervision.state import SupervisionState, open_state
from gateway.supervision.supervisor import Supervisor
from tests.flows import Flow, flow

__all__ = ["flow"]
FOOD_AND_FREIGHT = (
    "许可项目：餐饮服务；道路货物运输（不含危险货物）（依法须经批准的项目，经相关部门批准后方可开展"
    "经营活动，具体经营项目以审批结果为准）。一般项目：餐饮管理；外卖递送服务（除依法须经批准的项目"
    "外，凭营业执照依法自主开展经营活动）。"
)
BOILERPLATE = "依法须经批准的项目，经相关部门批准后方可开展经营活动。"
BEIJING = dt.timezone(dt.timedelta(hours=8))


class Notices:
    """`govgate notices run --once`, in this process, at a time of the test's choosing."""

    def __init__(self, flow: Flow, state: SupervisionState) -> None:
        self.flow, self.state = flow, state
        self.calendar = WorkCalendar(flow.settings.data_dir / "holiday-notices")

    async def route(self, at: dt.datetime) -> None:
        router_state = RouterState(self.state.engine)
        await router_state.create()
        router = NoticeRouter(
            self.flow.services.log, router_state, load_rules(), now=lambda: at, echo=_quiet
        )
        await router.run(asyncio.Event(), once=True, poll_s=0.2)

    async def clock(self, at: dt.datetime) -> list[str]:
        lines: list[str] = []
        log = self.flow.services.log
        supervisor = Supervisor(
            self.state,
            self.calendar,
            yellow_share=0.8,
            now=lambda: at,
            publish_to=log,
            echo=lines.append,
        )

        @asynccontextmanager
        async def opened() -> AsyncIterator[CaseSource]:
            saved = await self.state.position(NoticeSource.source_id())
            async with NoticeSource(log, saved, supervisor.codec).opened() as source:
                yield source

        await supervise(supervisor, opened, asyncio.Event(), interval=1, once=True)
        return lines


def _quiet(_line: str) -> None:
    pass


def working_days_after(calendar: WorkCalendar, start: dt.datetime, days: int) -> dt.datetime:
    day = calendar.add_working_days(start.astimezone(BEIJING).date(), days)
    return dt.datetime.combine(day, dt.time(10, 0), BEIJING)


async def test_a_registration_reaches_the_departments_that_claim_it_or_get_carded(
    flow: Flow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    department = f"sqlite:///{tmp_path / 'scjg.db'}"
    monkeypatch.setenv("GOVGATE_SCJG_DB_URL", department)
    async with ScjgSimulator(department, seed=21) as scjg:
        [restaurant] = await scjg.add_licences(1, scope=FOOD_AND_FREIGHT)
        [vague] = await scjg.add_licences(1, scope=BOILERPLATE)
    await flow.pull(flow.profile("scjg-yyzz", deletes=None))
    routed_at = dt.datetime.now(BEIJING)
    async with open_state(f"sqlite:///{tmp_path / 'notices.db'}") as state:
        notices = Notices(flow, state)
        await notices.route(routed_at)
        await notices.route(routed_at)  # again: nothing is routed twice
        routed = [r for kind, r in await flow.records("notices") if r is not None]
        by_item = {n["item_code"]: n for n in routed}
        assert sorted(by_item) == ["DLYSXK-HY", "SGZ-POOL", "SPJYXK"]
        food, freight, pool = by_item["SPJYXK"], by_item["DLYSXK-HY"], by_item["SGZ-POOL"]
        assert food["department_code"] == "330802-SCJG"
        assert food["department_name"] == "衢州市柯城区市场监督管理局"
        assert (freight["department_code"], freight["department_name"]) == (
            "330802-JTYS",
            "衢州市柯城区交通运输局",
        )
        assert freight["matched_items"] == ["道路货物运输"]
        assert (pool["department_code"], pool["pool_reason"]) == ("330802-POOL", "BOILERPLATE_ONLY")
        assert (
            food["licence"]["cert_id"]
            == freight["licence"]["cert_id"]
            != pool["licence"]["cert_id"]
        )
        await flow.materialize()

        scjg_dept = await flow.member(
            "kecheng-scjg", "subscriber", grants=(Grant("notice", "330802-SCJG"),)
        )
        jtys_dept = await flow.member(
            "kecheng-jtys", "subscriber", grants=(Grant("notice", "330802-JTYS"),)
        )
        async with flow.client(scjg_dept) as gw:
            seen = await _feed(gw)
            assert [n["notice_id"] for n in seen] == [food["notice_id"]]
            claimed = (await gw.claim_notice(food["notice_id"], note="已联系企业办理")).data
            assert claimed["record"]["status"] == "CLAIMED"
            assert claimed["record"]["claimed_by"] == "kecheng-scjg"
            with pytest.raises(GatewayRefused) as twice:
                await gw.claim_notice(food["notice_id"])
            assert (twice.value.status, twice.value.code) == (409, "ALREADY_CLAIMED")
        async with flow.client(jtys_dept) as gw:
            assert [n["notice_id"] for n in await _feed(gw)] == [freight["notice_id"]]
            with pytest.raises(NotFound):  # another department's notice reads as none at all
                await gw.claim_notice(food["notice_id"])
        await flow.materialize()
        assert (await flow.services.lookup.notice(food["notice_id"]) or {})["status"] == "CLAIMED"

        yellow_day = working_days_after(notices.calendar, routed_at, 4)
        lines = await notices.clock(yellow_day)
        assert [line.split()[:3] for line in lines if freight["notice_id"] in line] == [
            ["YELLOW", "黄牌", freight["notice_id"]]
        ]
        late = working_days_after(notices.calendar, routed_at, 6)
        lines = await notices.clock(late)
        assert [line.split()[:3] for line in lines if freight["notice_id"] in line] == [
            ["RED", "红牌", freight["notice_id"]]
        ]
        cards = [r for _, r in await flow.records("supervision-alerts") if r is not None]
        assert [c["card"] for c in cards if c["case_no"] == freight["notice_id"]] == [
            "YELLOW",
            "RED",
        ]
        assert not [c for c in cards if c["case_no"] == food["notice_id"]]  # claimed in time
        red = next(c for c in cards if c["card"] == "RED" and c["case_no"] == freight["notice_id"])
        assert red["department_name"] == "衢州市柯城区交通运输局"
        assert red["item_name"] == "道路运输经营许可（货运）"

        bulletin = await _bulletin(state, notices.calendar, routed_at, red, late)
        by_dept = {row.department_code: row for row in bulletin}
        scjg_row, jtys_row = by_dept["330802-SCJG"], by_dept["330802-JTYS"]
        assert (scjg_row.notices_received, scjg_row.notices_on_time) == (1, 1)
        assert scjg_row.notices_overdue == 0
        assert (jtys_row.notices_received, jtys_row.notices_on_time) == (1, 0)
        assert jtys_row.notices_overdue == 1
    assert restaurant != vague


async def _feed(gw: GatewayClient) -> list[dict[str, Any]]:
    answer = await gw.request("GET", "/v1/feeds/notices", params={"limit": 100, "wait": 10})
    return [item["event"] for item in answer.data["items"]]


async def _bulletin(
    state: SupervisionState,
    calendar: WorkCalendar,
    routed_at: dt.datetime,
    red: dict[str, Any],
    now: dt.datetime,
) -> list[Any]:
    """The 双告知 columns of the bulletin over the months the notices and their cards fell in."""
    months = sorted({f"{routed_at:%Y-%m}", f"{red['crossed_on']:%Y-%m}"})
    rows: list[Any] = []
    for month in months:
        start = dt.datetime.fromisoformat(f"{month}-01T00:00:00+08:00")
        end = (start + dt.timedelta(days=32)).replace(day=1)
        cases = await state.cases_between(start, end)
        figures = monthly_report(cases, calendar, month, yellow_share=0.8, now=now)
        rows = add_notices(rows, figures)
    return rows
