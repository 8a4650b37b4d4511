"""The audit pages in Chromium (Playwright): an auditor finds a holder's accesses, searches and
verifies the chain; no page shows a personal id in clear. Saves docs/screenshots/audit.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from gateway.api.services import Services
from gateway.audit.log import AuditEntry
from schemas.validators import make_resident_id, mask
from tests.console.conftest import ConsoleServer, screenshot

pytestmark = pytest.mark.browser

HOLDER = make_resident_id("330802", date(1988, 6, 1), 17)
OTHER = make_resident_id("520502", date(1995, 1, 9), 3)
ID_IN_CLEAR = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
WINDOWS = ["kecheng-window", "qujiang-window", "bijie-portal"]


def seed(server: ConsoleServer) -> None:
    """Lookups about two people by three windows, a few refused, ids in their paths too."""

    async def run(services: Services) -> None:
        for i in range(36):
            holder = OTHER if i % 4 == 0 else HOLDER
            refused = i % 7 == 0
            await services.audit.record(
                AuditEntry(
                    method="GET",
                    path=f"/v1/certificates/{holder}-BL",
                    route="/v1/certificates/{cert_id}",
                    decision="deny" if refused else "allow",
                    status=403 if refused else 200,
                    member_id=WINDOWS[i % 3],
                    keyid=f"{WINDOWS[i % 3]}-2026",
                    holder_id=holder,
                    holder_type="PERSON",
                    purpose="11330802002493025K3330111703000" if i % 2 else "330802-XK-0017",
                    case_no=f"SL2026-{i:05d}",
                    code="PURPOSE_NOT_GRANTED" if refused else None,
                )
            )

    server.run(run)


def no_id_in_clear(page: Any) -> None:
    html = page.content()
    assert ID_IN_CLEAR.search(html) is None, ID_IN_CLEAR.search(html)
    assert HOLDER not in page.url and OTHER not in page.url


def test_an_auditor_finds_a_holders_accesses(
    console_server: ConsoleServer,
    person: Callable[..., tuple[str, str]],
    browser_page: Any,
    signed_in: Callable[[Any, str, str], None],
) -> None:
    seed(console_server)
    username, password = person("auditor")
    signed_in(browser_page, username, password)
    page = browser_page
    page.click("nav.main >> text=个人访问记录")
    page.fill("#f-holder", HOLDER.lower())
    page.click("#holder-form button[type=submit]")
    page.wait_for_selector("#holder-accesses")
    heading = page.inner_text("#holder-accesses h2")
    assert mask(HOLDER) in heading
    rows = page.locator("#holder-accesses tbody tr")
    assert rows.count() == 27 + 1  # 27 lookups and this look itself
    first = rows.nth(0).inner_text()
    assert f"person:{username}" in first  # the look is an access of its own
    texts = "\n".join(rows.all_inner_texts())
    for window in WINDOWS:
        assert window in texts
    assert "拒绝" in texts and "PURPOSE_NOT_GRANTED" in texts and "允许" in texts
    no_id_in_clear(page)
    assert page.input_value("#f-holder") == ""  # the id is not put back into the form


def test_an_auditor_searches_verifies_and_never_sees_an_id(
    console_server: ConsoleServer,
    person: Callable[..., tuple[str, str]],
    browser_page: Any,
    signed_in: Callable[[Any, str, str], None],
) -> None:
    seed(console_server)
    username, password = person("auditor")
    signed_in(browser_page, username, password)
    page = browser_page
    page.goto(f"{console_server.url}/console/audit")
    assert page.locator("[data-state=never]").count() == 1
    page.click("#verification button[type=submit]")  # htmx: the panel swaps, then polls
    page.wait_for_selector("#verification [data-state=intact]", timeout=30_000)
    assert f"person:{username}" in page.inner_text("#verification")

    page.select_option("#f-decision", "deny")
    page.fill("#f-holder", HOLDER)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("table.audit-rows")
    refused = page.locator("table.audit-rows tbody tr")
    assert refused.count() >= 3
    for text in refused.all_inner_texts():
        assert "拒绝" in text
    no_id_in_clear(page)

    page.goto(f"{console_server.url}/console/audit?since=2026-13-01")
    assert page.locator("#filter-error[data-field=since]").count() == 1
    assert "开始时间" in page.inner_text("#filter-error")

    page.goto(f"{console_server.url}/console/audit?member=kecheng-window")
    page.click("table.audit-rows tbody tr:first-child td:nth-child(4) a")  # a holder pseudonym
    page.wait_for_load_state("load")
    assert "holder_key=" in page.url
    shown = page.locator("table.audit-rows tbody tr")
    assert shown.count() >= 1
    no_id_in_clear(page)

    page.goto(f"{console_server.url}/console/audit?limit=14")
    page.set_viewport_size({"width": 1440, "height": 900})
    no_id_in_clear(page)
    screenshot(page, "audit")


def test_an_operator_sees_the_search_but_not_a_holders_log(
    console_server: ConsoleServer,
    person: Callable[..., tuple[str, str]],
    browser_page: Any,
    signed_in: Callable[[Any, str, str], None],
) -> None:
    seed(console_server)
    username, password = person("operator")
    signed_in(browser_page, username, password)
    page = browser_page
    page.goto(f"{console_server.url}/console/audit")
    assert page.locator("#f-holder").count() == 0
    assert page.locator("nav.main >> text=个人访问记录").count() == 0
    assert page.locator("table.audit-rows tbody tr").count() == 38  # 36, the sign-in, the look
    no_id_in_clear(page)
    answer = page.goto(f"{console_server.url}/console/audit/holder")
    assert answer is not None and answer.status == 403
