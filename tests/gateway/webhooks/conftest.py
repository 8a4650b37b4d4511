"""A real webhook receiver (uvicorn on a loopback port) and gateways with fast retry settings.

The receiver verifies every delivery with `gateway.signatures.deliveries.verify_delivery` against
the gateway's published keys and the URL it was actually reached at, refuses replayed nonces,
and records what it accepted. It can be down (not listening: connection refused), answer an
error status, or be slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.api.app import create_app
from gateway.members.keys import PublicKey, jwks, keys_from_jwks
from gateway.members.store import Grant as _Grant
from gateway.settings import (
    DatabaseSettings,
    GatewaySettings,
    KafkaSettings,
    Settings,
    WebhooksSettings,
)
from gateway.signatures.deliveries import verify_delivery
from gateway.signatures.errors import SignatureError
from schemas.codec import EventCodec
from tests.conftest import Broker, free_port
from tests.gateway.api.conftest import PROFILES, Gateway, Profile, reset_postgres
from tests.samples import case_event

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

codec = EventCodec()
RECEIVER_PATH = "/回调/电子监察"  # non-ASCII on purpose: signed percent-encoded
FAST = {
    "allowed_hosts": ("127.0.0.1",),
    "allowed_networks": ("127.0.0.0/8",),  # the receiver is local: allowed on purpose
    "backoff_base_s": 0.05,
    "backoff_cap_s": 0.4,
    "poll_interval_s": 0.1,
    "timeout_s": 2.0,
    "lease_s": 4.0,
    "max_failures": 1000,
    "batch_size": 5,
}


class _Server(uvicorn.Server):
    """uvicorn without signal handlers of its own (it runs inside the test's loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.keys: dict[str, PublicKey] = {}
        self.fail_with: int | None = None
        self.delay = 0.0
        self.events: list[dict[str, Any]] = []  # every event accepted, duplicates included
        self.deliveries: list[str] = []  # subscription id of each accepted event
        self.rejected: list[str] = []  # codes of deliveries that did not verify
        self.refused = 0  # deliveries answered with `fail_with`
        self.raw: list[tuple[str, dict[str, str], bytes]] = []  # (url, headers, body) accepted
        self.in_flight: dict[str, int] = {}  # by subscription id
        self.max_in_flight = 0  # the most deliveries of one subscription seen at once
        self._nonces: set[tuple[str, str]] = set()
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{RECEIVER_PATH}?token=t1"

    async def _fresh(self, keyid: str, nonce: str, _expires: float) -> bool:
        if (keyid, nonce) in self._nonces:
            return False
        self._nonces.add((keyid, nonce))
        return True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", f"127.0.0.1:{self.port}")  # as the sender named it
        reached = f"http://{host}{scope['raw_path'].decode('latin-1')}"
        if scope["query_string"]:
            reached += "?" + scope["query_string"].decode("latin-1")
        sub = headers.get("govgate-subscription", "")
        self.in_flight[sub] = self.in_flight.get(sub, 0) + 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight[sub])
        try:
            status = await self._handle(scope["method"], reached, headers, body)
        finally:
            self.in_flight[sub] -= 1
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def _handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> int:
        if self.fail_with is not None:
            self.refused += 1
            return self.fail_with
        try:
            verified = await verify_delivery(
                url, headers, body, keys=self.keys, method=method, nonces=self._fresh
            )
        except SignatureError as exc:
            self.rejected.append(exc.code)
            return 401
        if self.delay:
            await asyncio.sleep(self.delay)
        self.events.extend(verified.events)
        self.raw.append((url, headers, body))
        self.deliveries.extend(verified.subscription_id for _ in verified.events)
        return 200

    async def start(self) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            assert not self._task.done(), "the receiver did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None

    def ids(self) -> list[str]:
        return [e["id"] for e in self.events]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    try:
        yield found
    finally:
        await found.stop()


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def case_events(cases: int, steps: int, department: str | None = None) -> list[dict[str, Any]]:
    """`steps` versions of each of `cases` cases, interleaved (case 0 v1, case 1 v1, …); the
    case numbers are distinct per department."""
    out = []
    series = f"{sum(map(ord, department or '')) % 100:02d}"
    for step in range(steps):
        for n in range(cases):
            record = case_event(f"SL330802202611{series}{n:04d}", version=str(step + 1))
            if department is not None:
                record["department_code"] = department
            out.append(record)
    return out


def assert_in_order_per_key(delivered: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    """Every sent event delivered; per key, never a later event before an earlier one has
    come at least once; a duplicate is the same event again (same id, same data)."""
    expected: dict[str, list[str]] = {}
    for record in sent:
        expected.setdefault(record["case_no"], []).append(str(record["event_id"]))
    first_seen: dict[str, list[str]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for event in delivered:
        key = event["subject"]
        seen = first_seen.setdefault(key, [])
        if event["id"] in by_id:
            assert event["data"] == by_id[event["id"]]["data"]  # a duplicate, nothing else
            continue
        by_id[event["id"]] = event
        seen.append(event["id"])
        assert seen == expected[key][: len(seen)], f"out of order for {key}"
    assert first_seen == expected


def webhook_settings(
    data_dir: Path,
    backend: str,
    request: pytest.FixtureRequest,
    **webhooks: Any,
) -> Settings:
    url = str(request.getfixturevalue("pg_url")) if backend == "postgres" else None
    kafka = KafkaSettings()
    if backend == "kafka":
        broker: Broker = request.getfixturevalue("kafka_broker")
        kafka = KafkaSettings(
            bootstrap=broker.bootstrap,
            topic_prefix=f"t{uuid.uuid4().hex[:12]}",
            partitions=3,
            request_timeout_ms=5000,
            session_timeout_ms=1500,
        )
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=url),
        kafka=kafka,
        gateway=GatewaySettings(
            audit_secret="test-audit-secret-0123456789",  # type: ignore[arg-type]
            materialize=False,
            audit_anchor_interval_s=0,
        ),
        webhooks=WebhooksSettings(**(FAST | webhooks)),
    )


class Hooks(Gateway):
    """A gateway (in this process) with a subscriber `sup` and a receiver's keys set."""

    async def append(self, records: list[dict[str, Any]]) -> None:
        await self.services.log.append(
            "case-events", [codec.encode("CaseEvent", r) for r in records]
        )

    async def subscribe(self, receiver: Receiver, **fields: Any) -> dict[str, Any]:
        body = {"stream": "case-events", "target_url": receiver.url} | fields
        response = await self.post_json("/v1/subscriptions", body, member="sup")
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    async def subscription(self, subscription_id: str, member: str = "sup") -> dict[str, Any]:
        response = await self.call("GET", f"/v1/subscriptions/{subscription_id}", member)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def published_keys(app: FastAPI) -> dict[str, PublicKey]:
    return keys_from_jwks(jwks(app.state.services.keys.published))


@contextlib.asynccontextmanager
async def open_hooks(
    settings: Settings, receiver: Receiver | None = None, profile: Profile = PROFILES[0]
) -> AsyncIterator[Hooks]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if receiver is not None:
            receiver.keys = published_keys(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Hooks(app, client, profile=profile)


BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("kafka", marks=pytest.mark.kafka),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def make_hooks(
    backend: str, data_dir: Path, request: pytest.FixtureRequest, receiver: Receiver
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[Hooks]]]:
    """Gateways on the test's backend; settings override FAST. Members `sup` (subscriber)."""
    if backend == "postgres":
        await reset_postgres(str(request.getfixturevalue("pg_url")))

    base = webhook_settings(data_dir, backend, request)  # one database, one set of topics

    @contextlib.asynccontextmanager
    async def make(**webhooks: Any) -> AsyncIterator[Hooks]:
        settings = base.model_copy(update={"webhooks": WebhooksSettings(**(FAST | webhooks))})
        async with open_hooks(settings, receiver) as hooks:
            yield hooks

    yield make


@pytest.fixture
async def hooks(
    make_hooks: Callable[..., contextlib.AbstractAsyncContextManager[Hooks]],
) -> AsyncIterator[Hooks]:
    async with make_hooks() as found:
        await found.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        yield found
