"""The console's audit pages on a large audit log: search pages, a holder's log, exports.

Usage: python bench/console_audit.py [--rows 100000] [--repeat 40] [--postgres URL]

Seeds `--rows` audit rows into a fresh database (SQLite in a temporary folder, or with
`--postgres URL` a new database on that server, dropped after) through the audit writer's own
append (`AuditLog.record_within`, 5,000 rows a transaction: a valid keyed chain), shaped like a
city's traffic: 40 members, 30 item codes (事项编码), 20,000 holders, 3 % refusals, 90 days.
Then, each `--repeat` times with varied values:
  page       a search page (50 rows) through gateway.audit.search, per filter: none, member,
             item, refused, a day's time range a month back, member + range; first pages
             and pages deep behind a cursor (the 20th)
  holder     a holder's access-log page (the holder id hashed as the writer does)
  yardstick  the same 50-row page read by the bare driver (sqlite3 / asyncpg) with a hand-written
             query on the same indexes: what the layers above it cost
  export     CSV and XLSX of one page (50 rows), of 10,000 rows, and CSV of every row (at the
             100,000 limit), streamed to nothing
  console    the pages themselves over HTTP (the app in process, httpx, signed in as an
             auditor): 审计查询 with no filter, by member, refused, member + a day, the 20th
             page; 个人访问记录 (POST of a holder id); each view also writes its own audit row
             (group commit, fsync), as in production; a CSV export of one member's rows
  verify     the whole chain verified (what the page's 立即校验 button runs)
  append     the cost of the search indexes on writes: rows/s appended with them and without
             (a second database, the four indexes of 0010_audit_search dropped)
Prints human-readable lines, the machine (CPUs, load), then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from gateway.audit.chain import verify  # noqa: E402
from gateway.audit.export import prepare  # noqa: E402
from gateway.audit.filters import AuditQuery, Cursor, parse_query  # noqa: E402
from gateway.audit.hashing import chain_keys  # noqa: E402
from gateway.audit.log import AuditEntry, AuditLog  # noqa: E402
from gateway.audit.search import AuditSearch  # noqa: E402
from gateway.store import make_engine, migrate  # noqa: E402

SECRET = b"bench-audit-secret-0123456789abcdef"
MEMBERS = [f"county-{i:02d}-window" for i in range(38)] + ["supervision", "citizen-portal"]
ITEMS = [f"11330802002493025K33301117030{i:02d}" for i in range(30)]
HOLDERS = 20_000
DAYS = 90
NOW_MS = 1_796_500_000_000  # 2026-12-05 (fixed: runs compare)
BATCH = 5000
SEARCH_INDEXES = (
    "ix_audit_rows_at",
    "ix_audit_rows_member_at",
    "ix_audit_rows_purpose_at",
    "ix_audit_rows_denied_at",
)


def holder_id(n: int) -> str:
    """A resident id-shaped number (the checksum is not needed here)."""
    return f"330802{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}{n % 10}"


def entries(count: int, rng: random.Random, start: int = 0) -> Iterator[list[AuditEntry]]:
    span = DAYS * 86_400_000
    for first in range(start, start + count, BATCH):
        batch = []
        for i in range(first, min(first + BATCH, start + count)):
            refused = rng.random() < 0.03
            holder = holder_id(rng.randrange(HOLDERS))
            batch.append(
                AuditEntry(
                    method="GET",
                    path="/v1/certificates",
                    route="/v1/certificates",
                    decision="deny" if refused else "allow",
                    status=403 if refused else 200,
                    member_id=rng.choice(MEMBERS),
                    keyid="k-2026",
                    holder_id=holder,
                    holder_type="PERSON",
                    purpose=rng.choice(ITEMS),
                    case_no=f"SL2026{i:08d}",
                    code="PURPOSE_NOT_GRANTED" if refused else None,
                    at_ms=NOW_MS - span + i * span // max(count, 1),
                )
            )
        yield batch


async def seed(engine: AsyncEngine, count: int, rng: random.Random) -> float:
    """Append `count` rows; returns rows/s."""
    audit = AuditLog(engine, SECRET)
    started = time.perf_counter()
    for batch in entries(count, rng):
        async with engine.begin() as conn:
            await AuditLog.lock_within(conn)
            await audit.record_within(conn, batch)
    return count / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
    }


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


def queries(rng: random.Random) -> dict[str, Callable[[], AuditQuery]]:
    def day() -> dict[str, str]:
        back = rng.randrange(25, 35)
        start = time.strftime("%Y-%m-%d", time.gmtime((NOW_MS / 1000) - back * 86_400))
        return {"since": start, "until": start}

    return {
        "none": lambda: AuditQuery(),
        "member": lambda: parse_query({"member": rng.choice(MEMBERS)}, SECRET),
        "item": lambda: parse_query({"item": rng.choice(ITEMS)}, SECRET),
        "refused": lambda: parse_query({"decision": "refused"}, SECRET),
        "day": lambda: parse_query(day(), SECRET),
        "member_day": lambda: parse_query({"member": rng.choice(MEMBERS), **day()}, SECRET),
    }


async def pages(search: AuditSearch, repeat: int, rng: random.Random) -> dict[str, Any]:
    result: dict[str, Any] = {}
    every: list[float] = []
    for name, make in queries(rng).items():
        first: list[float] = []
        deep: list[float] = []
        for _ in range(repeat):
            query = make()
            first.append(await timed(lambda q=query: search.page(q, None, 50)))  # type: ignore[misc]
            cursor: Cursor | None = None
            for _ in range(20):
                page = await search.page(query, cursor, 50)
                cursor = page.next_after
                if cursor is None:
                    break
            if cursor is not None:
                deep.append(await timed(lambda q=query, c=cursor: search.page(q, c, 50)))  # type: ignore[misc]
        every += first + deep
        result[name] = {"first": figures(first), "deep": figures(deep) if deep else None}
        print(
            f"page {name:<11} first p50 {result[name]['first']['p50_ms']:7.2f} ms  "
            f"p95 {result[name]['first']['p95_ms']:7.2f} ms"
            + (
                f"   20th page p50 {result[name]['deep']['p50_ms']:7.2f} ms  "
                f"p95 {result[name]['deep']['p95_ms']:7.2f} ms"
                if deep
                else ""
            )
        )
    result["all"] = figures(every)
    return result


async def holder_pages(search: AuditSearch, repeat: int, rng: random.Random) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        query = parse_query({"holder": holder_id(rng.randrange(HOLDERS))}, SECRET)
        times.append(await timed(lambda q=query: search.page(q, None, 50)))  # type: ignore[misc]
    found = figures(times)
    print(f"holder log page          p50 {found['p50_ms']:7.2f} ms  p95 {found['p95_ms']:7.2f} ms")
    return found


async def yardstick(url: str, repeat: int, rng: random.Random) -> dict[str, float]:
    """The member page by the bare driver: a hand-written query, rows fetched, nothing else."""
    sql = "SELECT * FROM audit_rows WHERE member_id = {p} ORDER BY at_ms DESC, seq DESC LIMIT 51"
    times = []
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for _ in range(repeat):
                member = rng.choice(MEMBERS)
                started = time.perf_counter()
                conn.execute(sql.format(p="?"), (member,)).fetchall()
                times.append(time.perf_counter() - started)
        finally:
            conn.close()
    else:
        import asyncpg

        pg = await asyncpg.connect(url)
        try:
            for _ in range(repeat):
                member = rng.choice(MEMBERS)
                started = time.perf_counter()
                await pg.fetch(sql.format(p="$1"), member)
                times.append(time.perf_counter() - started)
        finally:
            await pg.close()
    found = figures(times)
    print(f"yardstick (bare driver)  p50 {found['p50_ms']:7.2f} ms  p95 {found['p95_ms']:7.2f} ms")
    return found


async def drain(stream: AsyncIterator[bytes]) -> int:
    size = 0
    async for chunk in stream:
        size += len(chunk)
    return size


async def newest_from(engine: AsyncEngine, rows: int) -> AuditQuery:
    """The newest `rows` rows as a time range (at_ms are distinct here)."""
    async with engine.connect() as conn:
        at = await conn.scalar(
            text("SELECT at_ms FROM audit_rows ORDER BY at_ms DESC LIMIT 1 OFFSET :n"),
            {"n": rows - 1},
        )
    return AuditQuery() if at is None else AuditQuery(since_ms=int(at))  # fewer: them all


async def exports(search: AuditSearch) -> dict[str, Any]:
    found: dict[str, Any] = {}
    page_query = await newest_from(search.engine, 50)  # what the first page shows
    tenk_query = await newest_from(search.engine, 10_000)
    cases = [
        ("page_csv", page_query, "csv"),
        ("page_xlsx", page_query, "xlsx"),
        ("10k_csv", tenk_query, "csv"),
        ("10k_xlsx", tenk_query, "xlsx"),
        ("all_csv", AuditQuery(), "csv"),
    ]
    for name, query, fmt in cases:
        started = time.perf_counter()
        export = await prepare(search, query, fmt)  # type: ignore[arg-type]
        size = await drain(export.stream())
        took = time.perf_counter() - started
        found[name] = {"rows": export.rows, "ms": round(took * 1000, 1), "bytes": size}
        print(f"export {name:<9} {export.rows:>7,} rows  {took * 1000:9.1f} ms  {size:>11,} bytes")
    return found


async def console_pages(url: str, folder: Path, repeat: int, rng: random.Random) -> dict[str, Any]:
    """The pages over HTTP: render, audit write, search, on the seeded database."""
    import re

    import httpx

    from gateway.api.app import create_app
    from gateway.people.accounts import PeopleStore
    from gateway.people.passwords import Passwords
    from gateway.settings import DatabaseSettings, GatewaySettings, Settings

    settings = Settings(
        data_dir=folder / "data",
        database=DatabaseSettings(url=url),
        gateway=GatewaySettings(audit_secret=SECRET.decode(), materialize=False),
    )
    app = create_app(settings)
    found: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        services = app.state.services
        await PeopleStore(services.engine, Passwords()).add(
            "bench-auditor", "审计", "auditor", password="bench-auditor-pass-2026"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            form = await client.get("/console/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            signed = await client.post(
                "/console/signin",
                data={
                    "username": "bench-auditor",
                    "password": "bench-auditor-pass-2026",
                    "next": "/console/audit",
                    "csrf_token": token.group(1),
                },
            )
            assert signed.status_code == 303, signed.text
            page = await client.get("/console/audit")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            deep = await _cursor_of(services, 20)

            def day() -> str:
                back = rng.randrange(25, 35)
                start = time.strftime("%Y-%m-%d", time.gmtime((NOW_MS / 1000) - back * 86_400))
                return f"&since={start}&until={start}"

            gets: dict[str, Callable[[], str]] = {
                "none": lambda: "/console/audit",
                "member": lambda: f"/console/audit?member={rng.choice(MEMBERS)}",
                "refused": lambda: "/console/audit?decision=refused",
                "member_day": lambda: f"/console/audit?member={rng.choice(MEMBERS)}{day()}",
                "page_20": lambda: f"/console/audit?after={deep}",
            }
            every: list[float] = []
            for name, make in gets.items():
                times = []
                for _ in range(repeat):
                    target = make()
                    started = time.perf_counter()
                    answer = await client.get(target)
                    times.append(time.perf_counter() - started)
                    assert answer.status_code == 200, (target, answer.status_code)
                every += times
                found[name] = figures(times)
                print(
                    f"console {name:<10}        p50 {found[name]['p50_ms']:7.2f} ms  "
                    f"p95 {found[name]['p95_ms']:7.2f} ms"
                )
            holder_times = []
            for _ in range(repeat):
                data = {"holder": holder_id(rng.randrange(HOLDERS)), "csrf_token": csrf.group(1)}
                started = time.perf_counter()
                answer = await client.post("/console/audit/holder", data=data)
                holder_times.append(time.perf_counter() - started)
                assert answer.status_code == 200 and data["holder"] not in answer.text
            found["holder"] = figures(holder_times)
            print(
                f"console holder (POST)     p50 {found['holder']['p50_ms']:7.2f} ms  "
                f"p95 {found['holder']['p95_ms']:7.2f} ms"
            )
            started = time.perf_counter()
            export = await client.post(
                "/console/audit/export",
                data={"member": MEMBERS[0], "format": "csv", "csrf_token": csrf.group(1)},
            )
            took = time.perf_counter() - started
            assert export.status_code == 200
            rows = export.content.count(b"\n") - 1
            found["export_member_csv"] = {"rows": rows, "ms": round(took * 1000, 1)}
            print(f"console export CSV of one member: {rows:,} rows in {took * 1000:,.0f} ms")
            found["all"] = figures(every)
    return found


async def _cursor_of(services: Any, page: int) -> str:
    """The cursor after `page` - 1 pages of 50 with no filter."""
    search = AuditSearch(services.engine, SECRET)
    cursor: Cursor | None = None
    for _ in range(page - 1):
        cursor = (await search.page(AuditQuery(), cursor, 50)).next_after
    return str(cursor)


async def storage(engine: AsyncEngine) -> dict[str, int]:
    """Bytes of audit_rows and of each of its indexes (SQLite: its dbstat table, when the
    library has it; PostgreSQL: pg_relation_size)."""
    if engine.dialect.name == "postgresql":
        sql = (
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c WHERE c.relname = "
            "'audit_rows' OR c.oid IN (SELECT indexrelid FROM pg_index i JOIN pg_class t ON "
            "t.oid = i.indrelid WHERE t.relname = 'audit_rows')"
        )
    else:
        sql = (
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name = 'audit_rows' OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'audit_rows') GROUP BY name"
        )
    try:
        async with engine.connect() as conn:
            return {str(name): int(size) for name, size in await conn.execute(text(sql))}
    except Exception as exc:  # a SQLite built without dbstat: the figure is left out
        print(f"(sizes not measured: {exc.__class__.__name__})")
        return {}


async def append_cost(url_of: Callable[[str], Any], rows: int, rounds: int = 3) -> dict[str, Any]:
    """Rows/s appended with the search indexes and without: `rounds` rounds, each appending
    `rows` rows to a fresh database of each kind in turn (so a busy spell of the machine hits
    both alike); the best round of each is kept, the least disturbed."""
    rates: dict[str, list[float]] = {"with": [], "without": []}
    for round_ in range(rounds):
        for label in ("with", "without"):
            async with url_of(f"{label}_{round_}") as url:
                engine = make_engine(url)
                try:
                    await migrate(engine)
                    if label == "without":
                        async with engine.begin() as conn:
                            for name in SEARCH_INDEXES:
                                await conn.execute(text(f"DROP INDEX {name}"))
                    rates[label].append(await seed(engine, rows, random.Random(7)))
                finally:
                    await engine.dispose()
    best = {label: max(found) for label, found in rates.items()}
    pairs = list(zip(rates["with"], rates["without"], strict=True))
    ratio = best["with"] / best["without"]
    print(
        f"append {rows:,} rows, best of {rounds}: {best['with']:,.0f} rows/s with the search "
        f"indexes, {best['without']:,.0f} without ({ratio:.2f}×); every round: "
        + ", ".join(f"{a:,.0f}/{b:,.0f}" for a, b in pairs)
    )
    return {
        "with_rows_per_s": round(best["with"]),
        "without_rows_per_s": round(best["without"]),
        "ratio": round(ratio, 2),
        "rounds": [[round(a), round(b)] for a, b in pairs],
    }


@contextlib.asynccontextmanager
async def database(server: str | None, folder: Path, name: str) -> AsyncIterator[str]:
    """A fresh database: a SQLite file in `folder`, or a new PostgreSQL database (dropped)."""
    if server is None:
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    import asyncpg

    db = f"govgate_bench_{name}_{os.getpid()}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await admin(f'CREATE DATABASE "{db}"')
    try:
        yield f"{server.rpartition('/')[0]}/{db}"
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


async def main(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(2026)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with database(args.postgres, folder, "audit") as url:
            engine = make_engine(url)
            try:
                await migrate(engine)
                rate = await seed(engine, args.rows, rng)
                print(f"seeded {args.rows:,} audit rows at {rate:,.0f} rows/s")
                if engine.dialect.name == "postgresql":
                    async with engine.connect() as conn:
                        await conn.execute(text("ANALYZE audit_rows"))
                search = AuditSearch(engine, SECRET)
                page_figures = await pages(search, args.repeat, rng)
                holder = await holder_pages(search, args.repeat, rng)
                bare = await yardstick(
                    url.replace("postgresql+asyncpg", "postgresql"), args.repeat * 5, rng
                )
                export_figures = await exports(search)
                started = time.perf_counter()
                report = await verify(engine, chain_keys(SECRET))
                verify_s = time.perf_counter() - started
                assert report.ok, report.problems
                print(f"verify {report.rows:,} rows (the page's button): {verify_s * 1000:,.0f} ms")
                sizes = await storage(engine)
                search_bytes = sum(sizes.get(name, 0) for name in SEARCH_INDEXES)
                if sizes:
                    print(
                        f"audit_rows {sizes.get('audit_rows', 0) / 2**20:.1f} MiB; the search "
                        f"indexes {search_bytes / 2**20:.1f} MiB ("
                        + ", ".join(f"{n} {sizes.get(n, 0) / 2**20:.1f}" for n in SEARCH_INDEXES)
                        + ")"
                    )
            finally:
                await engine.dispose()
            console = await console_pages(url, folder, args.repeat, rng)
        cost = await append_cost(
            lambda label: database(args.postgres, folder, f"append_{label}"), args.append_rows
        )
    load_after = os.getloadavg()[0]
    store = "postgresql" if args.postgres else "sqlite"
    print(
        f"store {store}, {args.rows:,} rows, cpus {os.cpu_count()}, load average (1 min) "
        f"{load_before:.2f} before, {load_after:.2f} after"
    )
    every = page_figures.pop("all")
    return {
        "store": store,
        "rows": args.rows,
        "page_p50_ms": every["p50_ms"],
        "page_p95_ms": every["p95_ms"],
        "console_page_p50_ms": console["all"]["p50_ms"],
        "console_page_p95_ms": console["all"]["p95_ms"],
        "console_holder_p50_ms": console["holder"]["p50_ms"],
        "console_holder_p95_ms": console["holder"]["p95_ms"],
        "holder_page_p50_ms": holder["p50_ms"],
        "holder_page_p95_ms": holder["p95_ms"],
        "yardstick_p50_ms": bare["p50_ms"],
        "page_over_yardstick": round(every["p50_ms"] / max(bare["p50_ms"], 0.001), 1),
        "pages": page_figures,
        "exports": export_figures,
        "console": console,
        "append": cost,
        "verify_ms": round(verify_s * 1000),
        "sizes_bytes": sizes,
        "seed_rows_per_s": round(rate),
        "cpus": os.cpu_count(),
        "load_1m_before": round(load_before, 2),
        "load_1m_after": round(load_after, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--append-rows", type=int, default=20_000)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="store on PostgreSQL: new databases on this server (e.g. "
        "postgresql://postgres@127.0.0.1:5432/test), dropped after; default SQLite",
    )
    parsed = parser.parse_args()
    print(json.dumps(asyncio.run(main(parsed))))
