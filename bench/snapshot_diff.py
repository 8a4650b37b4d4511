"""Delete detection by key-snapshot diff over a large table: time and peak memory.

Usage: python bench/snapshot_diff.py [--keys N] [--deleted-share S] [--flat]
  --keys N            rows in the simulated 市场监管 table (default 1,000,000)
  --deleted-share S   share of rows deleted between the two scans (default 0.01)
  --flat              also run at N / 10 keys, to show that peak memory does not grow with N

Each measurement runs in a fresh child process (so its peak RSS is its own), against a SQLite
department table and a SQLite snapshot store on local disk:
  govgate    the SQL source's key scans (connectors/sources/sql_deletes.py): scan 1 marks every
             key in the snapshot store; S of the rows are deleted; scan 2 reads the table again
             and hands out the deleted keys, which are then committed (forgotten), as the
             connector runtime does after the log's acknowledgement
  yardstick  the same keyset pages read and thrown away (the least any scan costs), and, for
             memory, the naive diff: every key of the table in a Python set
Prints human-readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_table(path: Path, keys: int) -> None:
    """SCJG_YYZZ-shaped rows: an integer ID, an 18-character credit code, a timestamp."""
    conn = sqlite3.connect(path)
    conn.execute(
        'CREATE TABLE "SCJG_YYZZ" ("ID" INTEGER PRIMARY KEY, "TYSHXYDM" CHAR(18), "GXSJ" DATETIME)'
    )
    rows = ((i, f"91330802{i:09d}X", "2026-11-20 10:00:00") for i in range(1, keys + 1))
    conn.executemany('INSERT INTO "SCJG_YYZZ" VALUES (?, ?, ?)', rows)
    conn.commit()
    conn.close()


def delete_share(path: Path, keys: int, share: float) -> int:
    step = max(1, round(1 / share)) if share > 0 else keys + 1
    conn = sqlite3.connect(path)
    gone = conn.execute('DELETE FROM "SCJG_YYZZ" WHERE "ID" % ? = 0', (step,)).rowcount
    conn.commit()
    conn.close()
    return int(gone)


async def scan(source: Any) -> tuple[float, int]:
    """One key scan and what it hands out, committed; (seconds, deletes handed out)."""
    started = time.perf_counter()
    handed = 0
    async for batch in source.deletes.run(source._page, True):
        handed += len(batch)
        await source.deletes.committed(batch[-1].offset)
    return time.perf_counter() - started, handed


async def run_govgate(workdir: Path, keys: int, share: float) -> dict[str, Any]:
    from connectors.sources.sql import SqlSource, SqlSourceConfig

    table = workdir / "scjg.db"
    make_table(table, keys)
    config = SqlSourceConfig(
        url=f"sqlite:///{table}",
        table="SCJG_YYZZ",
        key_columns=["ID"],
        timestamp_column="GXSJ",
        deletes={"every_s": 3600, "snapshot_url": f"sqlite:///{workdir / 'snapshot.db'}"},
    )
    source = SqlSource("bench", config, remember=["TYSHXYDM"])

    class NoOffsets:
        async def get(self, partition: str) -> None:
            return None

    rss_before = peak_rss_mb()
    await source.start(NoOffsets())
    first, none = await scan(source)
    deleted = delete_share(table, keys, share)
    second, handed = await scan(source)
    await source.close()
    assert none == 0 and handed == deleted, (none, handed, deleted)
    return {
        "keys": keys,
        "first_scan_s": round(first, 2),
        "second_scan_s": round(second, 2),
        "keys_per_s": round(keys / second),
        "deleted": handed,
        "rss_before_scans_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


async def run_yardstick(workdir: Path, keys: int) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    table = workdir / "scjg.db"
    make_table(table, keys)
    engine = create_async_engine(f"sqlite+aiosqlite:///{table}")
    from sqlalchemy import Column, Integer, MetaData, String, Table

    t = Table("SCJG_YYZZ", MetaData(), Column("ID", Integer), Column("TYSHXYDM", String))
    started = time.perf_counter()
    last, read = 0, 0
    async with engine.connect() as conn:
        while True:
            query = select(t.c.ID, t.c.TYSHXYDM).where(t.c.ID > last).order_by(t.c.ID)
            rows = (await conn.execute(query.limit(5000))).all()
            if not rows:
                break
            read += len(rows)
            last = rows[-1][0]
    pages_s = time.perf_counter() - started
    rss_before_set = peak_rss_mb()
    async with engine.connect() as conn:
        everything = {r[0]: r[1] for r in await conn.execute(select(t.c.ID, t.c.TYSHXYDM))}
    await engine.dispose()
    return {
        "keys": read,
        "read_only_s": round(pages_s, 2),
        "naive_set_keys": len(everything),
        "naive_set_peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_set_mb": round(rss_before_set, 1),
    }


def child(kind: str, keys: int, share: float) -> None:
    with tempfile.TemporaryDirectory(prefix="snapshot-bench-") as tmp:
        if kind == "govgate":
            result = asyncio.run(run_govgate(Path(tmp), keys, share))
        else:
            result = asyncio.run(run_yardstick(Path(tmp), keys))
    print(json.dumps(result))


def in_child(kind: str, keys: int, share: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--keys",
            str(keys),
            "--deleted-share",
            str(share),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--deleted-share", type=float, default=0.01)
    parser.add_argument("--flat", action="store_true")
    parser.add_argument("--child", choices=["govgate", "yardstick"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.keys, args.deleted_share)
        return
    print(
        f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    figures: dict[str, Any] = {}
    sizes = [args.keys // 10, args.keys] if args.flat else [args.keys]
    for keys in sizes:
        ours = in_child("govgate", keys, args.deleted_share)
        print(
            f"govgate   {keys:>9,} keys: scan 1 {ours['first_scan_s']} s, scan 2 "
            f"{ours['second_scan_s']} s ({ours['keys_per_s']:,} keys/s), "
            f"{ours['deleted']:,} deletes, peak RSS {ours['peak_rss_mb']} MB "
            f"(before the scans {ours['rss_before_scans_mb']} MB)"
        )
        figures[f"govgate_{keys}"] = ours
    base = in_child("yardstick", args.keys, args.deleted_share)
    print(
        f"yardstick {args.keys:>9,} keys: keyset pages read only {base['read_only_s']} s; "
        f"naive diff (all keys in a set) peak RSS {base['naive_set_peak_rss_mb']} MB "
        f"(before {base['rss_before_set_mb']} MB)"
    )
    top = figures[f"govgate_{args.keys}"]
    summary = {
        "keys": args.keys,
        "scan_s": top["second_scan_s"],
        "keys_per_s": top["keys_per_s"],
        "deleted": top["deleted"],
        "peak_rss_mb": top["peak_rss_mb"],
        "read_only_s": base["read_only_s"],
        "ratio_to_read_only": round(base["read_only_s"] / top["second_scan_s"], 2),
        "naive_set_peak_rss_mb": base["naive_set_peak_rss_mb"],
    }
    if args.flat:
        summary["peak_rss_mb_small"] = figures[f"govgate_{args.keys // 10}"]["peak_rss_mb"]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
