"""SIGKILL the connector process during a backfill, again and again: every source row still
reaches the log, and a row seen twice is the same event (same event id)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from connectors.simulators.fgw import FgwSimulator
from gateway.log import open_log
from gateway.settings import KafkaSettings, Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import Broker

ROWS = 60_000


async def department(url: str) -> None:
    sim = FgwSimulator(url, seed=7)
    try:
        await sim.create_schema()
        await sim.populate(ROWS)
    finally:
        await sim.close()


async def delivered(settings: Settings) -> tuple[Counter[str], dict[str, set[str]]]:
    """How often each case version is on the log, and the event ids each one carried."""
    codec = EventCodec()
    seen: Counter[str] = Counter()
    ids: dict[str, set[str]] = {}
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        async for record in log.iterate("case-events"):
            event = codec.decode(record.value).record
            version = f"{event['case_no']}@{event['provenance']['source_version']}"
            seen[version] += 1
            ids.setdefault(version, set()).add(event["event_id"])
    return seen, ids


def reported(data_dir: Path) -> int:
    """Records the connector has reported delivered (its status row), 0 before the first."""
    try:
        with sqlite3.connect(data_dir / "govgate.db", timeout=5) as db:
            row = db.execute("SELECT records FROM connector_status").fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    return int(row[0]) if row else 0


def backfill(govgate_bin: str, env: dict[str, str], data_dir: Path, kill: bool) -> int:
    """Run a backfill; with `kill`, SIGKILL it once it has delivered more than before."""
    before = reported(data_dir)
    process = subprocess.Popen(
        [govgate_bin, "connect", "backfill", "fgw-tzxm"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not kill:
        return process.wait(120)
    deadline = time.monotonic() + 60
    while reported(data_dir) <= before and process.poll() is None:
        assert time.monotonic() < deadline, "the backfill made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    return process.wait(10)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
def test_kill_9_during_backfill_loses_nothing(
    backend: str, govgate_bin: str, data_dir: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{data_dir / 'fgw.db'}"
    asyncio.run(department(url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_FGW_DB_URL": url}
    settings = Settings(data_dir=data_dir)
    if backend == "kafka":
        broker: Broker = request.getfixturevalue("kafka_broker")
        env |= {
            "GOVGATE_KAFKA_BOOTSTRAP": broker.bootstrap,
            "GOVGATE_KAFKA_TOPIC_PREFIX": "kill9",
            "GOVGATE_KAFKA_PARTITIONS": "3",
        }
        settings = Settings(
            data_dir=data_dir,
            kafka=KafkaSettings(bootstrap=broker.bootstrap, topic_prefix="kill9", partitions=3),
        )

    registered = subprocess.run(
        [govgate_bin, "connect", "register", "fgw-tzxm"], env=env, capture_output=True, timeout=60
    )
    assert registered.returncode == 0, registered.stderr
    for _ in range(3):  # each run resumes, delivers some more, and is killed mid-way
        assert backfill(govgate_bin, env, data_dir, kill=True) == -signal.SIGKILL
        assert 0 < reported(data_dir) < ROWS
    assert backfill(govgate_bin, env, data_dir, kill=False) == 0

    seen, ids = asyncio.run(delivered(settings))
    assert len(seen) == ROWS  # every source row is on the log
    assert all(len(event_ids) == 1 for event_ids in ids.values())  # a repeat is the same event
    assert sum(seen.values()) - ROWS < ROWS  # duplicates are bounded by the batches in flight
