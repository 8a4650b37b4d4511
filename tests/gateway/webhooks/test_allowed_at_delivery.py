"""The allow-list holds at every delivery, for host names and the addresses they resolve to.

Issue #12, finding 5: after a restart with a narrower `GOVGATE_WEBHOOKS_ALLOWED_HOSTS`, old
subscriptions to `localhost` went on posting (87 times a minute): the list was checked only when
a subscription was made. Now a delivery re-checks the host and every address it resolves to
(loopback and the other private ranges only inside `allowed_networks`), pauses a subscription
that no longer passes (`not_allowed`, with the reason, in GET /v1/subscriptions and
`govgate subscriptions list`), and connects to exactly the address it checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from gateway.cli import main
from gateway.members.store import Grant as _Grant
from gateway.webhooks.errors import TargetNotAllowed
from gateway.webhooks.pinning import PinnedTransport
from gateway.webhooks.targets import address_refusal, parse_networks
from tests.conftest import free_port
from tests.gateway.webhooks.conftest import (
    RECEIVER_PATH,
    Hooks,
    Receiver,
    case_events,
    until,
)

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "non-public"),  # shared (CGNAT)
        ("192.0.2.1", "private"),  # documentation
        ("::1", "loopback"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("::127.0.0.1", "IPv4-mapped"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo, client 10.0.0.1
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str, refused: str | None) -> None:
    why = address_refusal(address, ())
    if refused is None:
        assert why is None
    else:
        assert why is not None and refused in why


def test_the_operator_allows_networks_on_purpose() -> None:
    allowed = parse_networks(["10.0.0.0/8", "127.0.0.1", "::ffff:0:0/96"])
    assert address_refusal("10.20.30.40", allowed) is None
    assert address_refusal("127.0.0.1", allowed) is None
    assert address_refusal("127.0.0.2", allowed) is not None
    assert address_refusal("::ffff:10.0.0.1", allowed) is None
    assert address_refusal("192.168.0.1", allowed) is not None
    assert address_refusal("0.0.0.0", parse_networks(["0.0.0.0/0"])) is not None


def cli_list(hooks: Hooks) -> list[dict[str, Any]]:
    settings = hooks.services.settings
    result = CliRunner().invoke(
        main,
        ["subscriptions", "list", "--json"],
        env={"GOVGATE_DATA_DIR": str(settings.data_dir), "GOVGATE_DATABASE_URL": None},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def localhost_url(receiver: Receiver) -> str:
    return receiver.url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("backend", ["sqlite"])  # the deliverer's check, whatever the backend
async def test_a_narrower_host_list_after_a_restart_pauses_old_subscriptions(
    make_hooks: Callable[..., contextlib.AbstractAsyncContextManager[Hooks]],
    receiver: Receiver,
    backend: str,
) -> None:
    await receiver.start()
    wide = {
        "allowed_hosts": ("127.0.0.1", "localhost"),
        "allowed_networks": ("127.0.0.0/8", "::1/128"),  # localhost may resolve to ::1 too
    }
    async with make_hooks(**wide) as hooks:
        await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        sub = await hooks.subscribe(receiver, target_url=localhost_url(receiver))
        await hooks.append(case_events(2, 1))
        await until(lambda: len(receiver.events) == 2)
        sup = hooks.members["sup"]
    async with make_hooks(allowed_hosts=("127.0.0.1",)) as hooks:
        hooks.members["sup"] = sup
        await hooks.append(case_events(3, 1))

        async def paused() -> bool:
            return (await hooks.subscription(sub["id"]))["state"] == "paused"

        await until(paused)
        shown = await hooks.subscription(sub["id"])
        assert shown["paused_reason"] == "not_allowed"
        assert "'localhost' is not among the gateway's allowed webhook hosts" in shown["last_error"]
        [listed] = await asyncio.to_thread(cli_list, hooks)
        assert listed["state"] == "paused (not_allowed)"
        assert "allowed webhook hosts" in listed["last_error"]
        await asyncio.sleep(0.5)
        assert len(receiver.events) == 2  # nothing posted since
        resumed = await hooks.call("POST", f"/v1/subscriptions/{sub['id']}/resume", "sup")
        assert resumed.status_code == 200
        await until(paused)  # checked again: paused again
        assert len(receiver.events) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_address_outside_the_allowed_networks_pauses_at_delivery(
    make_hooks: Callable[..., contextlib.AbstractAsyncContextManager[Hooks]],
    receiver: Receiver,
    backend: str,
) -> None:
    await receiver.start()
    async with make_hooks() as hooks:  # 127.0.0.0/8 allowed
        await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        sub = await hooks.subscribe(receiver)
        sup = hooks.members["sup"]
    async with make_hooks(allowed_networks=()) as hooks:  # public addresses only
        hooks.members["sup"] = sup
        await hooks.append(case_events(2, 1))

        async def paused() -> bool:
            return (await hooks.subscription(sub["id"]))["state"] == "paused"

        await until(paused)
        shown = await hooks.subscription(sub["id"])
        assert shown["paused_reason"] == "not_allowed"
        assert "resolves to 127.0.0.1 is a loopback address" in shown["last_error"]
        assert receiver.events == []
        refused = await hooks.post_json(
            "/v1/subscriptions", {"stream": "case-events", "target_url": receiver.url}, "sup"
        )
        assert refused.status_code == 403 and refused.json()["code"] == "TARGET_NOT_ALLOWED"


class _HostEcho:
    """A receiver that answers with the Host header it got."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        self.hosts.append(headers[b"host"].decode())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def echo() -> AsyncIterator[tuple[_HostEcho, int]]:
    app = _HostEcho()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield app, port
    finally:
        server.should_exit = True
        await task


async def test_the_connection_goes_to_the_address_that_was_checked(
    echo: tuple[_HostEcho, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: `rebind.test` answers 127.0.0.1 (allowed) and, asked again, 10.9.9.9.
    The transport resolves once per connection and connects to what it checked, keeping the
    host name in Host; a new connection that resolves to 10.9.9.9 is refused before any
    connect. (The resolver is the one thing stood in for: no test DNS server rebinds.)"""
    app, port = echo
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers = [["127.0.0.1"], ["10.9.9.9"], ["127.0.0.1", "10.9.9.9"]]
    asked: list[str] = []

    async def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return await real(host, *args, **kwargs)
        asked.append(host)
        found = answers.pop(0) if answers else ["10.9.9.9"]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in found]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    allowed = parse_networks(["127.0.0.0/8"])
    url = f"http://rebind.test:{port}{RECEIVER_PATH}"
    async with httpx.AsyncClient(transport=PinnedTransport(allowed), trust_env=False) as client:
        assert (await client.post(url, content=b"{}")).status_code == 204
    assert asked == ["rebind.test"] and app.hosts == [f"rebind.test:{port}"]
    for _ in range(2):  # 10.9.9.9 alone, then mixed with an allowed address: both refused
        async with httpx.AsyncClient(transport=PinnedTransport(allowed)) as client:
            with pytest.raises(TargetNotAllowed, match="10.9.9.9 is a private address"):
                await client.post(url, content=b"{}")
    assert len(app.hosts) == 1
