"""The console's e-supervision views over a large subscriber state: what a page costs.

Usage: python bench/supervision_views.py [N]   (default 20,000 cases; SQLite in a temp dir)

Fills a `govgate supervise` state with N cases of two departments accepted through one month
(a third of them completed), sweeps once for the cards, then times, as medians: the counts by
department, the first page of open cases with their clocks, the newest cards, and the month's
bulletin (`monthly_report`, counted in a thread by the page; reused for 60 s after). Yardstick
in the same run: reading the month's cases from the state (`cases_between`), which the bulletin
must do before counting. Human lines, then one JSON line last.
"""

from __future__ import annotations

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.supervision.calendar import WorkCalendar  # noqa: E402
from gateway.supervision.report import month_window  # noqa: E402
from gateway.supervision.state import open_state  # noqa: E402
from gateway.supervision.supervisor import Incoming, Supervisor  # noqa: E402
from gateway.supervision.views import SupervisionViews  # noqa: E402
from tests.gateway.supervision.cases import event  # noqa: E402

RUNS = 7
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def _median_ms(work: Callable[[], Awaitable[object]]) -> float:
    await work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


async def run(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        async with open_state(f"sqlite:///{folder}/supervise.db") as state:
            supervisor = Supervisor(
                state, WorkCalendar(), yellow_share=0.8, now=lambda: NOW, echo=lambda _: None
            )
            started = time.perf_counter()
            for first in range(0, n, 2000):
                events = []
                for i in range(first, min(n, first + 2000)):
                    where = "FGW" if i % 2 else "SCJG"
                    events.append(event(f"C{i:07d}", "ACCEPTED", _day(i), department=where))
                    if i % 3 == 0:
                        done = _day(i + 1)
                        events.append(
                            event(f"C{i:07d}", "COMPLETED", done, department=where, hour=17)
                        )
                await supervisor.apply([Incoming(str(j), e) for j, e in enumerate(events)])
            cards = await supervisor.sweep()
            print(f"{n:,} cases, {cards:,} cards, in {time.perf_counter() - started:.1f}s")
            views = SupervisionViews(state, WorkCalendar(), yellow_share=0.8, now=lambda: NOW)
            window = month_window("2026-11")
            figures = {
                "yardstick_cases_read_ms": await _median_ms(lambda: state.cases_between(*window)),
                "departments_ms": await _median_ms(views.departments),
                "open_cases_page_ms": await _median_ms(lambda: views.open_cases(limit=50)),
                "cards_page_ms": await _median_ms(lambda: views.cards(limit=50)),
                "bulletin_ms": await _median_ms(lambda: views.bulletin("2026-11")),
            }
    for name, value in figures.items():
        print(f"{name.removesuffix('_ms').replace('_', ' ')}: {value} ms (median of {RUNS})")
    return {
        "cases": n,
        **figures,
        "bulletin_ratio": round(figures["bulletin_ms"] / figures["yardstick_cases_read_ms"], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def _day(i: int) -> str:
    return f"2026-11-{1 + i % 27:02d}"


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))))
