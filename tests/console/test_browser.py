"""The console in a real browser (Playwright, the system Chromium): sign-in per role and the
nav each sees, wrong passwords and the lockout, a form without its CSRF token, and a session
that ended sending the person to sign in and back. Takes the README's screenshots
(GOVGATE_SCREENSHOTS=1)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.api.console.nav import discover
from gateway.audit.tables import audit_rows
from gateway.people.person import ROLE_NAMES, ROLES
from gateway.people.tables import console_sessions
from tests.console.conftest import PERSON_ID, ConsoleServer, screenshot, seed_operations

pytestmark = pytest.mark.browser

Person = Callable[..., tuple[str, str]]
SignedIn = Callable[[Any, str, str], None]


def nav_titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("nav.main a").all_inner_texts()]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_its_pages(
    console_server: ConsoleServer, browser_page: Any, person: Person, signed_in: SignedIn, role: str
) -> None:
    username, password = person(role, "SCJG")
    console_server.run(seed_operations)  # figures that carry a person's id (a connector error)
    signed_in(browser_page, username, password)
    assert browser_page.url.startswith(f"{console_server.url}/console/")
    expected = [p.nav.title for p in discover() if p.nav.show and p.nav.allows(role)]  # type: ignore[arg-type]
    assert nav_titles(browser_page) == expected
    shown = set(expected)
    assert "总览" in shown  # every role's first page
    assert ("审计查询" in shown) == (role in ("auditor", "operator"))  # search: theirs only
    assert ("个人访问记录" in shown) == (role == "auditor")  # a holder's log: auditors only
    for title in expected:  # each page the nav offers opens for the role
        with browser_page.expect_navigation(wait_until="load"):
            browser_page.click(f"nav.main a:text-is('{title}')")
        browser_page.wait_for_selector("main h1")
        assert "无权访问" not in browser_page.inner_text("main"), title
        assert PERSON_ID not in browser_page.content(), title  # no role may see ids by default
    assert ROLE_NAMES[role] in browser_page.inner_text("header .role")  # type: ignore[index]
    if role == "officer":
        assert "SCJG" in browser_page.inner_text("header .role")
    if role == "operator":
        browser_page.goto(f"{console_server.url}/console/overview")
        assert PERSON_ID not in browser_page.content()  # masked for every role by default
        screenshot(browser_page, "overview")
    browser_page.click("text=退出")
    assert browser_page.url.startswith(f"{console_server.url}/console/signin")


def test_a_wrong_password_is_refused_and_five_lock_the_account(
    console_server: ConsoleServer, browser_page: Any, person: Person, signed_in: SignedIn
) -> None:
    username, password = person("auditor")
    browser_page.goto(f"{console_server.url}/console/signin")
    screenshot(browser_page, "signin")
    for _ in range(5):
        signed_in(browser_page, username, "not-my-password-at-all")
        assert "用户名或密码不正确" in browser_page.inner_text(".error")
    signed_in(browser_page, username, password)
    assert "账号已暂时锁定" in browser_page.inner_text(".error")
    assert "/console/signin" in browser_page.url


def test_a_form_without_its_csrf_token_is_refused_and_audited(
    console_server: ConsoleServer, browser_page: Any, person: Person, signed_in: SignedIn
) -> None:
    username, password = person("operator")
    signed_in(browser_page, username, password)
    browser_page.locator("form[action='/console/signout'] input[name=csrf_token]").evaluate(
        "input => input.remove()"
    )
    browser_page.click("text=退出")
    assert "CSRF" in browser_page.inner_text(".error")

    async def rows(services: Any) -> list[tuple[str, str]]:
        async with services.engine.connect() as conn:
            query = select(audit_rows.c.code, audit_rows.c.decision).where(
                audit_rows.c.member_id == f"person:{username}"
            )
            return [(r.code, r.decision) for r in await conn.execute(query)]

    assert ("csrf_refused", "deny") in console_server.run(rows)
    browser_page.goto(f"{console_server.url}/console/overview")
    assert "总览" in browser_page.inner_text("h1")  # the refusal did not sign the person out


def test_an_ended_session_sends_the_person_to_sign_in_and_back(
    console_server: ConsoleServer, browser_page: Any, person: Person, signed_in: SignedIn
) -> None:
    username, password = person("supervisor")
    signed_in(browser_page, username, password)
    browser_page.goto(f"{console_server.url}/console/overview?from=test")

    async def idle(services: Any) -> None:
        long_ago = int(time.time() * 1000) - 31 * 60 * 1000
        async with services.engine.begin() as conn:
            await conn.execute(update(console_sessions).values(last_seen_ms=long_ago))

    console_server.run(idle)
    browser_page.reload()
    assert "/console/signin" in browser_page.url
    assert "会话已过期" in browser_page.inner_text(".notice")
    browser_page.fill("#username", username)
    browser_page.fill("#password", password)
    browser_page.click("button[type=submit]")
    browser_page.wait_for_url(f"{console_server.url}/console/overview?from=test")
    assert "总览" in browser_page.inner_text("h1")
