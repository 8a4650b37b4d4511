"""The operations pages in a real browser (system Chromium through Playwright): a supervisor
sees the cards, an operator re-drives a dead letter once its source is fixed, and no page shows
a personal id in clear. Saves docs/screenshots/{supervision,deadletters,notices}.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.console.conftest import ConsoleServer, screenshot
from tests.console.ops import seed

pytestmark = pytest.mark.browser
ID_IN_CLEAR = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
Person = Callable[..., tuple[str, str]]
SignedIn = Callable[[Any, str, str], None]


def _no_id_in_clear(page: Any) -> None:
    assert not ID_IN_CLEAR.search(page.content())


def test_a_supervisor_sees_the_cards_and_the_bulletin(
    console_server: ConsoleServer, person: Person, browser_page: Any, signed_in: SignedIn
) -> None:
    console_server.run(seed.supervision_state)
    signed_in(browser_page, *person("supervisor"))
    browser_page.goto(f"{console_server.url}/console/supervision?month=2026-11")

    loads = browser_page.locator("#loads")
    assert "衢州市柯城区发展和改革局" in loads.inner_text()
    assert browser_page.locator("#recent-cards .state.red").count() == 1
    assert browser_page.locator("#recent-cards .state.yellow").count() == 2
    assert browser_page.locator("#cards-chart svg rect").count() >= 3
    assert "按时办结率" in browser_page.locator("#rate-chart").inner_text()
    _no_id_in_clear(browser_page)
    screenshot(browser_page, "supervision")

    browser_page.click("#loads a >> nth=0")
    assert browser_page.locator("#cases").inner_text().count("红牌") == 2  # both past 8 days now


def test_an_operator_redrives_a_dead_letter_after_the_source_is_fixed(
    console_server: ConsoleServer, person: Person, browser_page: Any, signed_in: SignedIn
) -> None:
    console_server.run(seed.bad_department_row)
    console_server.run(seed.dead_letters)
    signed_in(browser_page, *person("operator"))
    browser_page.goto(f"{console_server.url}/console/deadletters")
    assert "ID_NUMBER_CHECK" in browser_page.locator("#tallies").inner_text()
    _no_id_in_clear(browser_page)
    screenshot(browser_page, "deadletters")

    browser_page.select_option("#connector", "fgw-tzxm")
    browser_page.fill("#code", "ID_NUMBER_CHECK")
    browser_page.click("form.filters button")
    browser_page.click(f"#deadletters tr:has-text('{seed.BAD_ROW['SLBH']}') a")
    bad = seed.BAD_ROW["SQRZJHM"]
    assert bad[:6] + "********" + bad[-4:] in browser_page.locator("#raw").inner_text()
    _no_id_in_clear(browser_page)

    seed.correct_department_row(console_server.services.settings.data_dir)
    browser_page.once("dialog", lambda dialog: dialog.accept())
    browser_page.click("#redrive")
    browser_page.wait_for_selector("#redrive-outcome")
    assert "已重新发布" in browser_page.locator("#redrive-outcome").inner_text()
    assert "已重新投递" in browser_page.locator("#state").inner_text()
    _no_id_in_clear(browser_page)


def test_notices_and_the_pool(
    console_server: ConsoleServer, person: Person, browser_page: Any, signed_in: SignedIn
) -> None:
    console_server.run(seed.notices_and_checks)
    signed_in(browser_page, *person("supervisor"))
    browser_page.goto(f"{console_server.url}/console/notices")
    assert "待认领池" in browser_page.locator("#notice-loads").inner_text()
    assert browser_page.locator("#notices .state.red").count() == 3  # unclaimed past 5 days
    _no_id_in_clear(browser_page)
    screenshot(browser_page, "notices")

    browser_page.click("#credit-link")
    assert browser_page.locator("#checks tbody tr").count() == 3
    _no_id_in_clear(browser_page)
