"""The governance pages in a real Chromium: a department officer narrows an application and
the window's next signed lookup shows only the approved field; a suspension in the browser
refuses the next lookup; an officer publishes a new version. Each saves the README's picture
(docs/screenshots/*.png, with GOVGATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from gateway.api.services import Services
from gateway.catalogue.entries import parse_entry
from gateway.client import GatewayClient, GatewayRefused
from gateway.governance.acting import PersonActions
from gateway.governance.tables import review_steps
from gateway.people.person import Person
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.clock import BEIJING
from tests.console.conftest import ConsoleServer, screenshot
from tests.console.governance.story import CERT, Story, apply_for, approved, passed, seed
from tests.gateway.api.conftest import DEFAULT_CASE, PURPOSE
from tests.gateway.api.routes.test_governance_story import ENTRY

pytestmark = pytest.mark.browser
DAY_MS = 86_400_000
People = Callable[..., tuple[str, str]]
SignedIn = Callable[[Any, str, str], None]


def lookup(server: ConsoleServer, story: Story) -> tuple[int, dict[str, Any]]:
    """The window's signed lookup of the certificate: (status, surface fields or {})."""

    async def call(_: Services) -> tuple[int, dict[str, Any]]:
        async with GatewayClient(
            server.url, member_id="window", private_key=story.window_key
        ) as gw:
            try:
                answer = await gw.certificate(CERT, purpose=PURPOSE, case=DEFAULT_CASE)
            except GatewayRefused as exc:
                return exc.status, {}
            return answer.status, dict(answer.data["record"]["surface_fields"])

    return server.run(call)


async def more_entries(services: Services) -> None:
    """Entries of other departments, for a catalogue that looks like a city's."""
    actions = PersonActions(services.governance)
    for department, name, code, record, sharing, fields in (
        (
            "ZRZY",
            "自然资源和规划局",
            "ZRZY-BDCQZ",
            "BDCQZ",
            "CONDITIONAL",
            ["权利人", "坐落", "面积"],
        ),
        (
            "RSJ",
            "人力资源和社会保障局",
            "RSJ-SBCB",
            "SBCBZM",
            "UNCONDITIONAL",
            ["参保状态", "参保起始"],
        ),
        ("FGW", "发展和改革局", "FGW-TZXM", PURPOSE, "NOT_SHARED", ["项目代码", "投资额"]),
    ):
        officer = Person(f"seed-{department.lower()}", "专员", "officer", department)
        entry = ENTRY | {
            "code": code,
            "name": {"ZRZY": "不动产权证书", "RSJ": "社会保险参保证明", "FGW": "投资项目备案"}[
                department
            ],
            "kind": "case_events" if department == "FGW" else "certificate",
            "department_code": department,
            "department_name": name,
            "record_codes": [record],
            "sharing_class": sharing,
            "legal_basis": None if sharing == "UNCONDITIONAL" else ENTRY["legal_basis"],
            "fields": fields,
        }
        await actions.publish(officer, parse_entry(entry))


async def late(services: Services, application_id: str, working_days: int) -> None:
    """Move an open step's start back so that `working_days` have passed by today (a reviewer
    who sat on it), on the supervision calendar."""
    calendar = WorkCalendar()
    today = dt.datetime.now(BEIJING).date()
    back = 1
    while calendar.working_days_between(today - dt.timedelta(days=back), today) < working_days:
        back += 1
    async with services.engine.begin() as conn:
        await conn.execute(
            update(review_steps)
            .where(review_steps.c.application_id == application_id)
            .values(opened_ms=review_steps.c.opened_ms - back * DAY_MS)
        )


def test_an_officer_narrows_and_the_next_lookup_shows_it(
    console_server: ConsoleServer, person: People, signed_in: SignedIn, browser_page: Any
) -> None:
    server, page = console_server, browser_page
    story = server.run(seed)
    server.run(lambda svc: passed(svc, story.application_id))
    yellow = server.run(lambda svc: apply_for(svc, ("住所",), 90))
    server.run(lambda svc: passed(svc, yellow))
    server.run(lambda svc: late(svc, yellow, 4))
    red = server.run(lambda svc: apply_for(svc, ("注册资本",), 60))
    server.run(lambda svc: passed(svc, red))
    server.run(lambda svc: late(svc, red, 6))
    assert lookup(server, story)[0] == 403  # no grant yet

    username, password = person("officer", "SCJG")
    signed_in(page, username, password)
    page.goto(f"{server.url}/console/applications")
    queue = page.locator("#queue")
    assert queue.locator("tr", has_text=story.application_id).locator(".state.ok").count() == 1
    assert queue.locator("tr", has_text=red).get_by_text("红牌").count() == 1
    assert queue.locator("tr", has_text=yellow).get_by_text("黄牌").count() == 1
    screenshot(page, "applications")

    page.click(f"text={story.application_id}")
    page.check("input[name=decision][value=NARROW]")
    page.uncheck("input[name=fields][value=法定代表人]")
    page.fill("#days", "20")
    page.fill("#reason", "法定代表人属个人信息，企业开办核验住所即可")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("text=决定已提交")
    assert page.locator("#steps").get_by_text("部分批准（缩小范围）：住所").count() == 1

    status, surface = lookup(server, story)
    assert status == 200
    assert surface["住所"] == "衢州市柯城区荷花街道"
    assert surface["法定代表人"] == "***" and surface["注册资本"] == "***"


def test_a_suspension_in_the_browser_refuses_the_next_lookup(
    console_server: ConsoleServer, person: People, signed_in: SignedIn, browser_page: Any
) -> None:
    server, page = console_server, browser_page
    story = server.run(seed)
    grant_id = server.run(lambda svc: approved(svc, story.application_id))
    assert lookup(server, story)[0] == 200

    username, password = person("officer", "SCJG")
    signed_in(page, username, password)
    page.goto(f"{server.url}/console/grants")
    row = page.locator(f"#grants tr[data-grant='{grant_id}']")
    assert row.get_by_text("有效").count() == 1
    screenshot(page, "grants")
    row.get_by_role("link").last.click()
    page.fill("#reason-suspend", "核查违规调用")
    page.click("#grant-suspend button[type=submit]")
    page.wait_for_selector("text=授权已变更")
    assert page.locator("#grant-state").inner_text() == "已暂停"

    deadline = time.monotonic() + 10  # within the member cache's time (here: at once)
    while (status := lookup(server, story)[0]) != 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 403


def test_an_officer_publishes_a_new_version(
    console_server: ConsoleServer, person: People, signed_in: SignedIn, browser_page: Any
) -> None:
    server, page = console_server, browser_page
    server.run(lambda svc: seed(svc, apply=False))
    server.run(more_entries)
    username, password = person("officer", "SCJG")
    signed_in(page, username, password)
    page.goto(f"{server.url}/console/catalogue")
    assert page.locator("#catalogue tbody tr").count() == 4
    screenshot(page, "catalogue")
    page.fill("input[name=q]", "营业执照")
    page.click("form[role=search] button[type=submit]")
    assert page.locator("#catalogue tbody tr").count() == 1
    page.click("text=SCJG-YYZZ")
    page.click("text=发布新版本")
    page.select_option("#update_cycle", "DAILY")
    page.click("#entry-form button[type=submit]")
    page.wait_for_selector("text=已发布新版本")
    assert page.locator("#versions tbody tr").count() == 2
    assert page.get_by_text("每日").count() >= 1
