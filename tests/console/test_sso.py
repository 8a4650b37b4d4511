"""Single sign-on through OpenID Connect, against a small real provider on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.api.console.auth import COOKIE
from gateway.audit.tables import audit_rows
from gateway.people.tables import people
from tests.conftest import free_port
from tests.console.conftest import Console, console_settings
from tests.console.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    port = free_port()
    found.issuer = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(found.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the provider did not start"
        time.sleep(0.05)
    try:
        yield found
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture
async def sso(data_dir: Path, provider: Provider) -> AsyncIterator[Console]:
    settings = console_settings(
        data_dir,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_role_map={"dsj-yw": "operator", "bm-zy": "officer", "jc": "supervisor"},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        yield found
        for client in found.clients:
            await client.aclose()


async def through_provider(console: Console, next: str = "/console/overview") -> Any:
    """Start at the console, follow the provider's redirect, come back; the callback's answer."""
    client = console.client()
    page = await client.get("/console/signin")
    assert "统一身份认证登录" in page.text
    start = await client.get("/console/sso/start", params={"next": next})
    assert start.status_code == 303
    async with httpx.AsyncClient() as outside:
        at_provider = await outside.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = httpx.URL(at_provider.headers["location"])
    assert back.host == "gateway" and back.path == "/console/sso/callback"
    answer = await client.get(back.raw_path.decode())
    return client, answer


async def test_a_person_signs_in_through_the_provider(sso: Console, provider: Provider) -> None:
    provider.user = {
        "sub": "u-1001",
        "preferred_username": "zhang.san",
        "name": "张三",
        "govgate_role": "bm-zy",
        "department_code": "SCJG",
    }
    client, answer = await through_provider(sso)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/overview"
    assert COOKIE in client.cookies
    shown = await client.get("/console/overview")
    assert shown.status_code == 200 and "张三" in shown.text and "SCJG" in shown.text
    async with sso.services.engine.connect() as conn:
        [account] = (await conn.execute(select(people))).mappings().all()
        [row] = (
            (await conn.execute(select(audit_rows).where(audit_rows.c.route == "console:signin")))
            .mappings()
            .all()
        )
    assert account["username"] == "zhang.san" and account["role"] == "officer"
    assert account["password_hash"] is None
    assert account["sso_subject"] == f"{provider.issuer}#u-1001"
    assert row["member_id"] == "person:zhang.san" and row["path"].endswith(" oidc")
    # the next sign-in follows the provider's claims: a new role, the same account
    provider.user = provider.user | {"govgate_role": "jc"}
    client, answer = await through_provider(sso)
    assert answer.status_code == 303
    async with sso.services.engine.connect() as conn:
        [account] = (await conn.execute(select(people))).mappings().all()
    assert account["role"] == "supervisor" and account["department_code"] is None


@pytest.mark.parametrize("tamper", ["key", "nonce", "aud"])
async def test_a_forged_or_misdirected_id_token_is_refused(
    sso: Console, provider: Provider, tamper: str
) -> None:
    provider.user = {"sub": "u-2", "govgate_role": "dsj-yw"}
    provider.tamper = tamper
    client, answer = await through_provider(sso)
    assert answer.status_code == 401 and COOKIE not in client.cookies
    async with sso.services.engine.connect() as conn:
        assert (await conn.execute(select(people))).first() is None


async def test_a_role_claim_that_maps_to_no_role_is_refused(
    sso: Console, provider: Provider
) -> None:
    provider.user = {"sub": "u-3", "govgate_role": "citizen"}
    client, answer = await through_provider(sso)
    assert answer.status_code == 401 and "角色" in answer.text


async def test_a_callback_without_its_state_is_refused(sso: Console, provider: Provider) -> None:
    client = sso.client()
    answer = await client.get("/console/sso/callback", params={"code": "x", "state": "y"})
    assert answer.status_code == 401 and COOKIE not in client.cookies


async def test_no_provider_configured_no_sso(console: Console) -> None:
    client = console.client()
    assert "统一身份认证" not in (await client.get("/console/signin")).text
    assert (await client.get("/console/sso/start")).status_code == 404
