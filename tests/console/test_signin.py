"""Signing in and out over HTTP (httpx against the app): sessions, lockout, CSRF, roles."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

import httpx
import pytest
from fastapi import Depends
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select, update

from gateway.api.console import Person, require_person
from gateway.api.console.auth import COOKIE, safe_next
from gateway.audit.tables import audit_rows
from gateway.people.tables import console_sessions, people
from tests.console.conftest import Console, csrf_in


async def audit_of(console: Console, actor: str) -> list[dict[str, object]]:
    async with console.services.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_rows).where(audit_rows.c.member_id == actor).order_by(audit_rows.c.seq)
        )
        return [dict(r._mapping) for r in rows]


async def audit_count(console: Console) -> int:
    async with console.services.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(audit_rows))).scalar_one())


async def test_a_page_sends_a_stranger_to_sign_in_and_back(console: Console) -> None:
    username, password = await console.add_person("operator")
    client = console.client()
    first = await client.get("/console/overview?x=1")
    assert first.status_code == 303
    assert first.headers["location"] == "/console/signin?next=%2Fconsole%2Foverview%3Fx%3D1"
    page = await client.get(first.headers["location"])
    assert 'value="/console/overview?x=1"' in page.text
    answer = await client.post(
        "/console/signin",
        data={
            "username": username.upper(),  # names are case-insensitive
            "password": password,
            "next": "/console/overview?x=1",
            "csrf_token": csrf_in(page.text),
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console/overview?x=1"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # http: see the https test
    shown = await client.get("/console/overview")
    assert shown.status_code == 200 and "总览" in shown.text
    [row] = await audit_of(console, f"person:{username}")
    assert row["code"] == "signin" and row["route"] == "console:signin"


async def test_sessions_keep_only_the_token_hash(console: Console) -> None:
    client = await console.sign_in("auditor")
    token = client.cookies[COOKIE]
    async with console.services.engine.connect() as conn:
        stored = (await conn.execute(select(console_sessions.c.token_hash))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored


@pytest.mark.parametrize("column", ["last_seen_ms", "expires_ms"])
async def test_an_ended_session_sends_the_person_to_sign_in_and_back(
    console: Console, column: str
) -> None:
    username, password = await console.add_person("supervisor")
    client = console.client()
    await console.post_signin(client, username, password)
    settings = console.services.settings.console
    ago = {"last_seen_ms": settings.session_idle_s, "expires_ms": 0}[column]
    async with console.services.engine.begin() as conn:
        now = int(time.time() * 1000)
        await conn.execute(update(console_sessions).values({column: now - ago * 1000 - 1}))
    answer = await client.get("/console/overview")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/signin?next=%2Fconsole%2Foverview&expired=1"
    page = await client.get(answer.headers["location"])
    assert "会话已过期" in page.text
    again = await console.post_signin(client, username, password, next="/console/overview")
    assert again.headers["location"] == "/console/overview"
    assert (await client.get("/console/overview")).status_code == 200


async def test_a_wrong_password_is_refused_and_five_lock_the_account(console: Console) -> None:
    username, password = await console.add_person("officer", "SCJG")
    client = console.client()
    before = await audit_count(console)
    for _ in range(4):
        refused = await console.post_signin(client, username, "not-the-password-at-all")
        assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    assert await audit_count(console) == before  # failures are tallied, not a row each
    fifth = await console.post_signin(client, username, "not-the-password-at-all")
    assert fifth.status_code == 401
    locked = await console.post_signin(client, username, password)
    assert locked.status_code == 401 and "账号已暂时锁定" in locked.text
    assert COOKIE not in client.cookies
    [row] = await audit_of(console, f"person:{username}")
    assert row["code"] == "locked" and row["decision"] == "deny"
    # the operator's reset (govgate users reset-password) unlocks it
    from gateway.people.accounts import PeopleStore
    from gateway.people.passwords import Passwords

    await PeopleStore(console.services.engine, Passwords()).reset_password(
        username, "a-brand-new-password"
    )
    assert (await console.post_signin(client, username, "a-brand-new-password")).status_code == 303


async def test_unknown_names_are_answered_alike_and_tallied_not_stored(console: Console) -> None:
    client = console.client()
    before = await audit_count(console)
    answers = [await console.post_signin(client, "nobody", "whatever-password") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 6
    assert "用户名或密码不正确" in answers[0].text
    assert "账号已暂时锁定" in answers[5].text  # as an account's would be: names cannot be probed
    assert await audit_count(console) == before
    assert console.services.refusals.pending == 6
    async with console.services.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(people))).scalar_one() == 0


async def test_a_post_without_the_csrf_token_is_refused_and_audited(console: Console) -> None:
    username, password = await console.add_person("readonly")
    client = console.client()
    await console.post_signin(client, username, password)
    refused = await client.post("/console/signout", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = await client.post("/console/signout", data={"csrf_token": "0" * 64})
    assert wrong.status_code == 403
    rows = await audit_of(console, f"person:{username}")
    assert [r["code"] for r in rows] == ["signin", "csrf_refused", "csrf_refused"]
    assert rows[1]["decision"] == "deny" and rows[1]["status"] == 403
    assert (await client.get("/console/overview")).status_code == 200  # still signed in
    page = await client.get("/console/overview")
    out = await client.post("/console/signout", data={"csrf_token": csrf_in(page.text)})
    assert out.status_code == 303
    assert (await client.get("/console/overview")).status_code == 303


async def test_a_post_from_another_origin_is_refused(console: Console) -> None:
    client = await console.sign_in("operator")
    page = await client.get("/console/overview")
    answer = await client.post(
        "/console/signout",
        data={"csrf_token": csrf_in(page.text)},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403


async def test_the_sign_in_form_needs_its_own_token(console: Console) -> None:
    username, password = await console.add_person("operator")
    client = console.client()
    answer = await client.post(
        "/console/signin", data={"username": username, "password": password, "csrf_token": "x"}
    )
    assert answer.status_code == 403 and COOKIE not in client.cookies


async def test_a_role_not_allowed_sees_the_403_page(console: Console) -> None:
    async def operators_only(
        person: Annotated[Person, Depends(require_person("operator"))],
    ) -> PlainTextResponse:
        return PlainTextResponse(person.username)

    console.app.add_api_route("/console/test-operators", operators_only)
    auditor = await console.sign_in("auditor")
    refused = await auditor.get("/console/test-operators")
    assert refused.status_code == 403 and "无权" in refused.text
    operator = await console.sign_in("operator")
    assert (await operator.get("/console/test-operators")).status_code == 200


async def test_console_answers_carry_the_security_headers(console: Console) -> None:
    client = console.client()
    for path in ("/console/signin", "/console/static/htmx.min.js", "/console/overview"):
        answer = await client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "htmx" in (await client.get("/console/static/htmx.min.js")).text[:200]


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        (None, "/console/"),
        ("/console/overview?a=1", "/console/overview?a=1"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/v1/certificates/x", "/console/"),
        ("/console/signout", "/console/"),
        ("/consolex", "/console/"),
    ],
)
def test_next_never_leaves_the_console(given: str | None, safe: str) -> None:
    assert safe_next(given) == safe


async def test_https_public_url_makes_the_cookie_secure(data_dir: object) -> None:
    from pathlib import Path

    from gateway.api.app import create_app
    from tests.console.conftest import console_settings

    settings = console_settings(Path(str(data_dir)))
    settings = settings.model_copy(
        update={"gateway": settings.gateway.model_copy(update={"public_url": "https://gw.example"})}
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        username, password = await found.add_person("operator")
        async with httpx.AsyncClient(
            transport=found.transport, base_url="https://gw.example"
        ) as client:
            answer = await found.post_signin(client, username, password)
            assert "Secure" in answer.headers["set-cookie"]


async def test_a_page_serves_only_its_roles_even_when_a_route_forgets_to_ask(
    console: Console,
) -> None:
    from fastapi import APIRouter

    from gateway.api.console.mount import include_page
    from gateway.api.console.nav import NavItem, Page

    router = APIRouter()

    @router.get("/console/test-careless")
    async def careless() -> PlainTextResponse:  # no require_person here
        return PlainTextResponse("audit figures")

    nav = NavItem(title="测试", path="/console/test-careless", roles=("auditor",))
    include_page(console.app, Page("careless", router, nav))
    stranger = console.client()
    assert (await stranger.get("/console/test-careless")).status_code == 303
    assert (
        await (await console.sign_in("readonly")).get("/console/test-careless")
    ).status_code == 403
    answer = await (await console.sign_in("auditor")).get("/console/test-careless")
    assert answer.status_code == 200 and answer.text == "audit figures"


def test_nav_items_refuse_paths_and_roles_outside_the_console() -> None:
    from gateway.api.console.nav import NavItem

    with pytest.raises(ValueError):
        NavItem(title="x", path="/v1/x", roles=("operator",))
    with pytest.raises(ValueError):
        NavItem(title="x", path="/console/x", roles=())
    with pytest.raises(ValueError):
        NavItem(title="x", path="/console/x", roles=("root",))  # type: ignore[arg-type]


def test_every_template_output_is_masked_unless_the_role_may_see() -> None:
    from gateway.api.console.templating import environment

    template = environment().from_string("{{ a }} | {{ b | safe }} | {{ c }}")
    values = {"a": "申请人 330802198904173748", "b": "<b>330802198904173748</b>", "c": None}
    masked = template.render(values | {"may_see_ids": False})
    assert "330802198904173748" not in masked and masked.count("330802********3748") == 2
    assert masked.endswith("| ")  # None shows as nothing
    assert "330802198904173748" in template.render(values | {"may_see_ids": True})


async def test_an_htmx_request_without_a_session_is_redirected_by_header(console: Console) -> None:
    client = console.client()
    answer = await client.get("/console/overview/figures", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer.headers["hx-redirect"] == "/console/signin?next=%2Fconsole%2Foverview%2Ffigures"


async def test_a_console_switched_off_serves_nothing(data_dir: object) -> None:
    from pathlib import Path

    from gateway.api.app import create_app
    from tests.console.conftest import console_settings

    app = create_app(console_settings(Path(str(data_dir)), enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for path in ("/console/", "/console/signin", "/console/static/htmx.min.js"):
                assert (await client.get(path)).status_code == 404
            assert (await client.get("/healthz")).status_code == 200
