"""Unauthenticated memory and connection exhaustion, against a real `govgate up` (issue #12, 6).

Before: one unsigned request with a 50 MB header was read whole (+94 MB RSS), eight of 100 MB
took the process to 1.14 GB, and 300 connections sending partial heads stayed open past 20 s.
Here, over raw sockets: eight 50 MB heads at once are refused (431) with the process's resident
memory staying within a bound; 300 slow heads are all closed soon after the head timeout (2 s
here); connections beyond the cap are answered 503 unread; the gateway serves throughout.
Then the same guard on uvicorn's h11 protocol, in this process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from gateway.api.guard import Limits, guarded_protocol
from tests.conftest import free_port

HEADER_TIMEOUT_S = 2
MAX_CONNECTIONS = 320
MB = 1024 * 1024


@pytest.fixture(scope="module")
def gateway(
    govgate_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, int]]:
    """`govgate up` on a free port; yields (port, pid)."""
    data_dir = tmp_path_factory.mktemp("guard")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_GATEWAY_PORT": str(port),
        "GOVGATE_GATEWAY_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "GOVGATE_GATEWAY_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "GOVGATE_GATEWAY_AUDIT_ANCHOR_INTERVAL_S": "0",
    }
    output = data_dir / "up.log"
    with output.open("wb") as out:
        process = subprocess.Popen([govgate_bin, "up"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while not healthy(port):
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, "govgate up did not serve in 60 s"
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(30)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def send_huge_head(port: int, size: int, answers: list[bytes]) -> None:
    """A request whose one header field is `size` bytes, sent as fast as the server takes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        chunk = b"a" * MB
        try:
            sock.sendall(b"GET /v1/certificates HTTP/1.1\r\nHost: gateway\r\nX-Big: ")
            for _ in range(size // MB):
                sock.sendall(chunk)
            sock.sendall(b"\r\n\r\n")
        except OSError:  # closed on us: what should happen
            pass
        try:
            answers.append(sock.recv(200))
        except OSError:
            answers.append(b"")


def test_huge_heads_are_refused_in_bounded_memory(gateway: tuple[int, int]) -> None:
    port, pid = gateway
    for _ in range(20):  # warm: the first requests allocate what every request uses
        assert healthy(port)
    before = rss_mb(pid)
    answers: list[bytes] = []
    senders = [
        threading.Thread(target=send_huge_head, args=(port, 50 * MB, answers)) for _ in range(8)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(120)
    grown = rss_mb(pid) - before
    assert len(answers) == 8
    assert all(a.startswith(b"HTTP/1.1 431") or a == b"" for a in answers), answers
    assert any(a.startswith(b"HTTP/1.1 431") for a in answers), answers
    assert grown < 40, f"resident memory grew {grown:.0f} MB for 8 refused 50 MB heads"
    assert healthy(port)


async def slow_head(port: int, closed: list[float], started: float) -> None:
    """A head that never completes: a byte every half second until the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
        await writer.drain()
        while time.monotonic() - started < 30:
            try:
                got = await asyncio.wait_for(reader.read(100), 0.5)
            except TimeoutError:
                writer.write(b"a")
                await writer.drain()
                continue
            if got == b"" or got.startswith(b"HTTP/1.1 408"):
                closed.append(time.monotonic() - started)
                return
    except (ConnectionError, OSError):
        closed.append(time.monotonic() - started)
    finally:
        writer.close()


def test_slow_heads_are_closed_after_the_head_timeout(gateway: tuple[int, int]) -> None:
    port, _ = gateway

    async def run() -> list[float]:
        closed: list[float] = []
        started = time.monotonic()
        await asyncio.gather(*(slow_head(port, closed, started) for _ in range(300)))
        return closed

    closed = asyncio.run(run())
    assert len(closed) == 300  # every one closed by the server, none left open for 30 s
    assert max(closed) < HEADER_TIMEOUT_S + 10, max(closed)
    assert healthy(port)


def test_connections_beyond_the_cap_are_refused_unread(gateway: tuple[int, int]) -> None:
    port, _ = gateway
    held: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        time.sleep(0.5)  # the server has accepted them
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
            assert extra.recv(100).startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while not healthy(port):  # the cap frees as the idle ones go
        assert time.monotonic() < deadline
        time.sleep(0.2)


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


@pytest.mark.parametrize("h11", [False, True], ids=["httptools", "h11"])
async def test_the_guard_holds_on_both_uvicorn_protocols(h11: bool) -> None:
    limits = Limits(max_header_bytes=8192, header_timeout_s=0.5, max_connections=5)
    port = free_port()
    config = uvicorn.Config(
        _app,
        port=port,
        http=guarded_protocol(limits, h11=h11),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        lifespan="off",
        log_level="error",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # served, kept alive ...
        assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # ... then a head that stalls
        assert await asyncio.wait_for(reader.read(), 5) in (b"", TIMEOUT_ANSWER)
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer.startswith(b"HTTP/1.1 400" if h11 else b"HTTP/1.1 431"), answer[:60]
        writer.close()
    finally:
        server.should_exit = True
        await serving


TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
