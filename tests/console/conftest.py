"""Console fixtures: a gateway with the console, people of each role, and a real browser.

- `console` (async): the app in process, driven by httpx, with `add_person` and a signed-in
  client per person (`sign_in`);
- `console_server`: a real gateway on a loopback port (uvicorn in a thread, SQLite in tmp_path),
  with `run(coro)` to seed it from the test through its own services;
- `person(role, department=None)`: an account on `console_server`, returned with its password;
- `browser_page`: a Playwright page in the system Chromium (/usr/bin/chromium), skipped with a
  clear reason when there is none; `signed_in(page, username, password)` signs it in.

Browser tests are marked `browser` and run last (tests/conftest.py orders them): Playwright's
sync API leaves an event loop in the thread, which later asyncio tests would trip over.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from gateway.api.app import create_app
from gateway.api.services import Services
from gateway.people.accounts import PeopleStore
from gateway.people.passwords import Passwords
from gateway.settings import ConsoleSettings, DatabaseSettings, GatewaySettings, Settings
from tests.conftest import free_port

CHROMIUM = os.environ.get("GOVGATE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
T = TypeVar("T")
_names = itertools.count(1)


def console_settings(data_dir: Path, url: str | None = None, **console: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=url),
        gateway=GatewaySettings(audit_secret="test-audit-secret-0123456789", materialize=False),
        console=ConsoleSettings(**console),
    )


def password_of(username: str) -> str:
    return f"{username}-test-pass-2026"


async def make_person(
    services: Services, role: str, department: str | None = None, username: str | None = None
) -> tuple[str, str]:
    """An account of `role` (an officer of `department`); returns (username, password)."""
    name = username or f"{role}{next(_names)}"
    people = PeopleStore(services.engine, Passwords())
    display = {
        "operator": "王运维",
        "officer": "李专员",
        "supervisor": "赵监察",
        "auditor": "陈审计",
    }
    await people.add(
        name,
        display.get(role, "周只读"),
        role,
        department_code=department if role == "officer" else None,
        password=password_of(name),
    )
    return name, password_of(name)


PERSON_ID = "330802198904173748"  # a resident id (身份证号) a page must mask


async def seed_operations(services: Services) -> None:
    """Demo-like figures for the overview: case events, dead letters, two connectors (one
    error naming a person's id), a paused webhook subscription."""
    from gateway.feeds import Filter
    from gateway.store.tables import connector_status
    from schemas.codec import EventCodec
    from tests.samples import case_event, certificate, dead_letter

    codec = EventCodec()
    cases = [codec.encode("CaseEvent", case_event(f"SL3308022026112300{i:02}")) for i in range(7)]
    await services.log.append("case-events", cases)
    await services.log.append("certificates", [codec.encode("Certificate", certificate())])
    await services.log.append("dead-letters", [codec.encode("DeadLetter", dead_letter())] * 3)
    now = int(time.time() * 1000)
    rows = [
        ("fgw-tzxm", "running", 5210, 0, None),
        ("scjg-yyzz", "running", 1234, 3, f"row with {PERSON_ID}: bad date"),
    ]
    async with services.engine.begin() as conn:
        for name, state, records, dead, error in rows:
            await conn.execute(
                connector_status.insert().values(
                    connector=name,
                    state=state,
                    records=records,
                    dead_letters=dead,
                    last_error=error,
                    last_error_ms=now if error else None,
                    position="{}",
                    updated_ms=now,
                )
            )
    sub = await services.subscriptions.create(
        "supervision", "case-events", "https://sup.example/hook", Filter(), {}
    )
    await services.subscriptions.pause("supervision", sub.subscription_id)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


@dataclass
class Console:
    """The app in process and an httpx client per person signed in."""

    app: Any
    transport: httpx.ASGITransport
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def services(self) -> Services:
        found = self.app.state.services
        assert isinstance(found, Services)
        return found

    def client(self) -> httpx.AsyncClient:
        made = httpx.AsyncClient(transport=self.transport, base_url="http://gateway")
        self.clients.append(made)
        return made

    async def add_person(
        self, role: str, department: str | None = None, username: str | None = None
    ) -> tuple[str, str]:
        return await make_person(self.services, role, department, username)

    async def post_signin(
        self, client: httpx.AsyncClient, username: str, password: str, next: str = "/console/"
    ) -> httpx.Response:
        form = await client.get("/console/signin")
        data = {"username": username, "password": password, "next": next}
        return await client.post("/console/signin", data=data | {"csrf_token": csrf_in(form.text)})

    async def sign_in(self, role: str, department: str | None = None) -> httpx.AsyncClient:
        """A client signed in as a new person of `role`."""
        username, password = await self.add_person(role, department)
        client = self.client()
        answer = await self.post_signin(client, username, password)
        assert answer.status_code == 303, answer.text
        return client


@pytest.fixture
async def console(data_dir: Path) -> AsyncIterator[Console]:
    app = create_app(console_settings(data_dir))
    async with app.router.lifespan_context(app):
        found = Console(app, httpx.ASGITransport(app=app))
        try:
            yield found
        finally:
            for client in found.clients:
                await client.aclose()


@dataclass
class ConsoleServer:
    """A gateway serving on 127.0.0.1:`port` from a thread of its own."""

    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    @property
    def services(self) -> Services:
        found = self.app.state.services
        assert isinstance(found, Services)
        return found

    def run(self, make: Callable[[Services], Coroutine[Any, Any, T]]) -> T:
        """Run `make(services)` on the server's loop (seeding data), and return its result."""
        return asyncio.run_coroutine_threadsafe(make(self.services), self.loop).result(60)


def start_server(settings: Settings) -> tuple[ConsoleServer, Callable[[], None]]:
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    loops: list[asyncio.AbstractEventLoop] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve())
        loop.close()

    thread = threading.Thread(target=serve, name=f"console-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    return ConsoleServer(f"http://127.0.0.1:{port}", app, loops[0]), stop


@pytest.fixture
def console_server(data_dir: Path) -> Iterator[ConsoleServer]:
    server, stop = start_server(console_settings(data_dir))
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def person(console_server: ConsoleServer) -> Callable[..., tuple[str, str]]:
    """`person(role, department=None)`: a new account on the server; (username, password)."""

    def make(role: str, department: str | None = None) -> tuple[str, str]:
        return console_server.run(lambda svc: make_person(svc, role, department))

    return make


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("chromium") is None and not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not executable")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def sign_in_at(page: Any, base_url: str, username: str, password: str) -> None:
    """Sign `page` in at `base_url` as `username`; waits for the page after sign-in."""
    page.goto(f"{base_url}/console/signin")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def screenshot(page: Any, name: str) -> None:
    """Save docs/screenshots/<name>.png when GOVGATE_SCREENSHOTS=1 (the README's pictures)."""
    if os.environ.get("GOVGATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def signed_in(console_server: ConsoleServer) -> Callable[[Any, str, str], None]:
    """`signed_in(page, username, password)`: sign the browser page in on `console_server`."""

    def sign(page: Any, username: str, password: str) -> None:
        sign_in_at(page, console_server.url, username, password)

    return sign
