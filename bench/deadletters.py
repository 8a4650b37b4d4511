"""Dead-letter index: index 100k dead letters, then time the pages and tallies the console shows.

Usage: python bench/deadletters.py [N] [--database-url URL] [--console]   (default 100,000;
SQLite in a temporary folder, or the PostgreSQL database named, which must be empty of govgate
tables; --console also times the console's 死信 pages, whole, through the app in process)

Appends N dead letters (6 connectors, 8 error codes, each raw record with a resident id) to
the SQL log, indexes them (`DeadLetterIndex.refresh`: decode, mask, insert), then times, as
medians of repeated runs: the first page (50 rows, newest first), a page deep in the keyset,
the first page filtered by connector and code, the tallies by code (all, one connector), and
the connector list. Yardstick in the same run: a bare `SELECT … ORDER BY id DESC LIMIT 50` of
the same table, so the figure that matters is the ratio. Human lines, then one JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from gateway.log import open_log  # noqa: E402
from gateway.operations.deadletters import DeadLetterIndex, Filter  # noqa: E402
from gateway.operations.tables import dl_index  # noqa: E402
from gateway.settings import DatabaseSettings, Settings  # noqa: E402
from gateway.store import open_database  # noqa: E402
from schemas.codec import EventCodec  # noqa: E402
from schemas.ids import event_id  # noqa: E402
from schemas.validators import make_resident_id  # noqa: E402

CONNECTORS = ("fgw-tzxm", "scjg-yyzz", "zrzy-bdcqz", "zrzy-ydys", "rs-cbdj", "rs-jfzm")
CODES = (
    "ID_NUMBER_CHECK",
    "USCC_CHECK",
    "DATE_UNPARSEABLE",
    "MISSING_FIELD",
    "UNKNOWN_CODE",
    "REGION_CODE",
    "PUBLISH_NOT_REGISTERED",
    "ID_NUMBER_FORMAT",
)
AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
RUNS = 30


def _letter(i: int) -> dict[str, Any]:
    connector = CONNECTORS[i % len(CONNECTORS)]
    pid = make_resident_id("330802", dt.date(1970 + i % 40, 1 + i % 12, 1 + i % 28), i % 1000)
    key = f"K{i:010d}"
    raw = {"SLBH": key, "SQRMC": "张伟", "SQRZJHM": pid, "BLZT": "99", "GXSJ": "2026-12-01"}
    return {
        "event_id": event_id(connector, "T", key, "1"),
        "connector": connector,
        "target_stream": "case-events",
        "raw": json.dumps(raw, ensure_ascii=False),
        "error_code": CODES[(i * 7) % len(CODES)],
        "field": "SQRZJHM",
        "reason": f"SQRZJHM: {pid[:6]}********{pid[-4:]} does not pass the check",
        "failed_at": AT + dt.timedelta(milliseconds=i),
        "provenance": {
            "source_system": connector,
            "source_table": "T",
            "source_key": key,
            "source_version": "1",
            "fetched_at": AT,
            "connector": connector,
        },
    }


async def _median_ms(work: Callable[[], Awaitable[object]]) -> float:
    await work()  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


async def run(n: int, settings: Settings, console: bool = False) -> dict[str, Any]:
    codec = EventCodec()
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        started = time.perf_counter()
        for first in range(0, n, 2000):
            batch = [_letter(i) for i in range(first, min(n, first + 2000))]
            await log.append("dead-letters", [codec.encode("DeadLetter", d) for d in batch])
        append_s = time.perf_counter() - started
        index = DeadLetterIndex(engine)
        started = time.perf_counter()
        indexed = 0
        while read := await index.refresh(log, limit=50_000, batch=5_000):
            indexed += read
        index_s = time.perf_counter() - started
        print(f"{n:,} dead letters appended in {append_s:.1f}s, indexed in {index_s:.1f}s")

        first_page = await index.page(limit=50)
        cursor = str(first_page.items[-1].id - n + 1000)  # ~1,000 rows from the oldest

        async def yardstick() -> object:
            query = select(dl_index).order_by(dl_index.c.id.desc()).limit(51)
            async with engine.connect() as conn:
                return (await conn.execute(query)).all()

        one = Filter.parse("scjg-yyzz", "UNKNOWN_CODE")
        figures = {
            "yardstick_ms": await _median_ms(yardstick),
            "first_page_ms": await _median_ms(lambda: index.page(limit=50)),
            "deep_page_ms": await _median_ms(lambda: index.page(after=cursor, limit=50)),
            "filtered_page_ms": await _median_ms(lambda: index.page(one, limit=50)),
            "tallies_ms": await _median_ms(lambda: index.tallies()),
            "tallies_one_connector_ms": await _median_ms(lambda: index.tallies("fgw-tzxm")),
            "connectors_ms": await _median_ms(lambda: index.connectors()),
        }
    out: dict[str, Any] = {
        "dead_letters": n,
        "backend": engine.dialect.name,
        "index_per_s": round(indexed / index_s),
        **figures,
        "first_page_ratio": round(figures["first_page_ms"] / figures["yardstick_ms"], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
    }
    if console:
        out |= await _console_pages(settings, first_page.items[0].event_id)
    for name, value in figures.items():
        print(f"{name.removesuffix('_ms').replace('_', ' ')}: {value} ms (median of {RUNS})")
    print(f"index: {out['index_per_s']:,} dead letters/s; load {out['load_1m']}")
    return out


async def _console_pages(settings: Settings, event_id: str) -> dict[str, float]:
    """GET /console/deadletters (index caught up) and one dead letter's page, signed in as an
    operator, through the whole app (middleware, session, template) in process."""
    import re

    import httpx

    from gateway.api.app import create_app
    from gateway.people.accounts import PeopleStore
    from gateway.people.passwords import Passwords

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        people = PeopleStore(app.state.services.engine, Passwords())
        await people.add("bench-ops", "运维", "operator", password="bench-ops-password-2026")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            form = await client.get("/console/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            signed = await client.post(
                "/console/signin",
                data={
                    "username": "bench-ops",
                    "password": "bench-ops-password-2026",
                    "next": "/console/deadletters",
                    "csrf_token": token.group(1),
                },
            )
            assert signed.status_code == 303, signed.text[:200]

            async def page(path: str) -> object:
                answer = await client.get(path)
                assert answer.status_code == 200, answer.status_code
                return answer

            figures = {
                "console_list_ms": await _median_ms(lambda: page("/console/deadletters")),
                "console_filtered_ms": await _median_ms(
                    lambda: page("/console/deadletters?connector=fgw-tzxm&code=USCC_CHECK")
                ),
                "console_detail_ms": await _median_ms(
                    lambda: page(f"/console/deadletters/{event_id}")
                ),
            }
    for name, value in figures.items():
        print(f"{name.removesuffix('_ms').replace('_', ' ')} page: {value} ms (median of {RUNS})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--database-url", help="PostgreSQL (empty); default SQLite in a temp dir")
    parser.add_argument("--console", action="store_true", help="also time the console's pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = DatabaseSettings(url=args.database_url) if args.database_url else None
        settings = (
            Settings(data_dir=Path(folder), database=database)
            if database
            else Settings(data_dir=Path(folder))
        )
        print(json.dumps(asyncio.run(run(args.n, settings, args.console))))


if __name__ == "__main__":
    main()
