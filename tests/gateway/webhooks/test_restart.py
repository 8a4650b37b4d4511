"""A gateway process killed (SIGKILL) in the middle of deliveries loses nothing.

The gateway runs as `govgate up` in a process of its own; the test appends to the same log
(the SQL log in the same SQLite file, or the same Kafka topics), kills the process while the
receiver is taking deliveries, starts it again, and checks that every event arrived, in order
per key, duplicates only as the same event again, every delivery's signature verified.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.client import GatewayClient
from gateway.log import open_log
from gateway.members.keys import generate_private_key, keys_from_jwks
from gateway.members.store import Grant as _Grant
from gateway.members.store import MembersStore
from gateway.settings import KafkaSettings, Settings
from gateway.store import open_database
from tests.conftest import Broker, free_port
from tests.gateway.webhooks.conftest import (
    Receiver,
    assert_in_order_per_key,
    case_events,
    codec,
    until,
)
from tests.samples import company

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

AUDIT_SECRET = "test-audit-secret-0123456789"


def gateway_env(data_dir: Path, port: int, kafka: KafkaSettings | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_GATEWAY_PORT": str(port),
        "GOVGATE_GATEWAY_AUDIT_SECRET": AUDIT_SECRET,
        "GOVGATE_GATEWAY_MATERIALIZE": "false",
        "GOVGATE_GATEWAY_AUDIT_ANCHOR_INTERVAL_S": "0",
        "GOVGATE_LOG_POLL_INTERVAL_MS": "20",
        "GOVGATE_WEBHOOKS_ALLOWED_HOSTS": '["127.0.0.1"]',
        "GOVGATE_WEBHOOKS_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "GOVGATE_WEBHOOKS_BATCH_SIZE": "2",
        "GOVGATE_WEBHOOKS_TIMEOUT_S": "1",
        "GOVGATE_WEBHOOKS_LEASE_S": "2",
        "GOVGATE_WEBHOOKS_POLL_INTERVAL_S": "0.1",
        "GOVGATE_WEBHOOKS_BACKOFF_BASE_S": "0.05",
        "GOVGATE_WEBHOOKS_BACKOFF_CAP_S": "0.3",
    }
    if kafka is not None:
        env |= {
            "GOVGATE_KAFKA_BOOTSTRAP": str(kafka.bootstrap),
            "GOVGATE_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "GOVGATE_KAFKA_PARTITIONS": str(kafka.partitions),
        }
    return env


@contextmanager
def gateway_process(
    govgate_bin: str, env: dict[str, str], output: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with output.open("ab") as out:
        process = subprocess.Popen([govgate_bin, "up"], env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_serving(base: str, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=1) as http:
        while True:
            assert process.poll() is None, output.read_text()[-3000:]
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start in 60 s"
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def test_a_gateway_killed_during_deliveries_loses_nothing(
    backend: str,
    govgate_bin: str,
    data_dir: Path,
    request: pytest.FixtureRequest,
    receiver: Receiver,
) -> None:
    kafka = None
    if backend == "kafka":
        broker: Broker = request.getfixturevalue("kafka_broker")
        kafka = KafkaSettings(
            bootstrap=broker.bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:12]}", partitions=3
        )
    settings = Settings(data_dir=data_dir, kafka=kafka or KafkaSettings())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = gateway_env(data_dir, port, kafka)
    output = data_dir / "up.log"
    key = generate_private_key("ed25519")
    sent = case_events(4, 10)
    async with open_database(settings) as engine, open_log(settings, engine, wait=10) as log:
        await MembersStore(engine).add_member(
            "sup", ["subscriber"], keys=[key.public_key()], grants=[EVERY_CASE]
        )
        with gateway_process(govgate_bin, env, output) as first:
            await wait_serving(base, first, output)
            async with httpx.AsyncClient() as http:
                published = await http.get(f"{base}/.well-known/govgate-keys")
                receiver.keys = keys_from_jwks(published.json())
            receiver.delay = 0.05  # slow enough to be caught mid-delivery
            await receiver.start()
            async with GatewayClient(base, member_id="sup", private_key=key) as gw:
                await gw.subscribe("case-events", receiver.url)
            await log.append("case-events", [codec.encode("CaseEvent", r) for r in sent])
            await until(lambda: len(receiver.events) >= 8)
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        at_kill = len(set(receiver.ids()))
        assert at_kill < len(sent), "everything was delivered before the kill"
        with gateway_process(govgate_bin, env, output) as second:
            await wait_serving(base, second, output)
            await until(lambda: len(set(receiver.ids())) == len(sent), timeout=30)
    assert receiver.rejected == []
    assert_in_order_per_key(receiver.events, sent)
    # resumed from the saved position: only what was in flight at the kill came again
    assert len(receiver.events) - len(sent) <= 2 * 2  # batch_size 2
    logged = output.read_text()
    assert company()["id_number"] not in logged and f":{receiver.port}/" not in logged
