"""The bulletin's 一网通办 figures for a month of simulated 发改 cases, checked against counts
this test computes itself from the case events on the log (and the audit rows it wrote).

The simulated department works through November 2026: every working day it accepts cases
(online, at a window, a terminal, on a mobile app, by mail) and moves open ones along, twice;
its connector reads after every change, as a poll would, so every step becomes a CaseEvent
with its channel (SBQD) and visits so far (PDCS). A window fetched materials for some cases
through the gateway (audit rows of the content route naming the case).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from connectors.mapping import load_connector_spec
from connectors.runtime.host import open_host, register_publishers, run_connectors
from connectors.simulators.fgw import FgwSimulator
from gateway.audit.log import CONTENT_ROUTE, AuditEntry, AuditLog
from gateway.cli import main
from gateway.settings import Settings
from gateway.supervision.clock import BEIJING
from schemas.codec import EventCodec
from tests.gateway.supervision.test_subscriber import run_once

PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "profiles" / "fgw-tzxm.yaml"
ONLINE = {"ONLINE", "MOBILE"}
codec = EventCodec()


def _day(d: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, d, hour, 0, tzinfo=BEIJING)


def _pct(part: int, whole: int) -> str:
    if not whole:
        return ""
    return str(float((Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)))


async def _simulate_november(settings: Settings, department_db: str) -> None:
    spec = load_connector_spec(PROFILE, {"GOVGATE_FGW_DB_URL": department_db})
    async with FgwSimulator(department_db, seed=21) as fgw, open_host(settings) as host:
        await register_publishers(host.engine, [spec])
        for d in range(2, 28):
            if _day(d, 9).weekday() >= 5:
                continue
            for hour, step in ((9, "add"), (11, "advance"), (16, "advance")):
                if step == "add":
                    await fgw.add_cases(4, at=_day(d, hour))
                else:
                    await fgw.advance(6, at=_day(d, hour))
                await run_connectors(host, [spec], asyncio.Event(), backfill=True)


def _expected(events: list[dict[str, Any]]) -> dict[str, str]:
    """The figures, counted here from the events themselves."""
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        cases[event["case_no"]].append(event)
    completed = channel_known = online = visits_known = once = seen = on_the_spot = 0
    for steps in cases.values():
        steps.sort(key=lambda e: e["occurred_at"])
        done = [e for e in steps if e["stage"] == "COMPLETED"]
        when = done[0]["occurred_at"].astimezone(BEIJING).date() if done else None
        if when is None or when.month != 11:
            continue
        completed += 1
        channels = {e["channel"] for e in steps if e["channel"] is not None}
        visits = [e["visits"] for e in steps if e["visits"] is not None]
        if channels:
            channel_known += 1
            online += channels <= ONLINE and not max(visits, default=0)
        if visits:
            visits_known += 1
            once += max(visits) <= 1
        accepted = [e for e in steps if e["stage"] == "ACCEPTED"]
        if accepted:
            seen += 1
            on_the_spot += accepted[0]["occurred_at"].astimezone(BEIJING).date() == when
    assert completed > 30 and 0 < online < channel_known and 0 < once < visits_known
    assert 0 < on_the_spot < seen
    return {
        "completed": str(completed),
        "online_rate": _pct(online, channel_known),
        "at_most_once_rate": _pct(once, visits_known),
        "on_the_spot_rate": _pct(on_the_spot, seen),
    }


async def test_the_bulletin_shows_the_one_window_rates_of_a_simulated_month(
    tmp_path: Path, monkeypatch: Any
) -> None:
    data_dir = tmp_path / "var"
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(data_dir))
    settings = Settings(data_dir=data_dir)
    department_db = f"sqlite:///{tmp_path / 'fgw.db'}"
    await _simulate_november(settings, department_db)

    async with open_host(settings) as host:
        events = [codec.decode(r.value).record async for r in host.log.iterate("case-events")]
        state = f"sqlite:///{tmp_path / 'supervise.db'}"
        await run_once(host.log, state, dt.datetime(2026, 12, 15, 10, tzinfo=BEIJING))
        # A window fetched materials for three November cases, twice for one; one in December.
        reused = sorted({e["case_no"] for e in events})[:3]
        async with AuditLog(host.engine, b"test-audit-secret-0123456789") as audit:
            for case_no, day in [*((c, 20) for c in reused), (reused[0], 21)]:
                await audit.record(_fetch(case_no, _day(day, 10)))
            await audit.record(_fetch(reused[1], dt.datetime(2026, 12, 1, 10, tzinfo=BEIJING)))
    expected = _expected(events)

    out = tmp_path / "out"
    args = ["supervise", "report", "--month", "2026-11", "--state", state, "--now", "2026-12-15"]
    result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "supervision-report-2026-11.csv").read_text(encoding="utf-8-sig")
    header, row, _total = (
        csv.DictReader(text.splitlines()).fieldnames,
        *csv.reader(text.splitlines()[1:]),
    )
    assert header is not None
    found = dict(zip(header, row, strict=True))
    assert found["办结 completed"] == expected["completed"]
    assert found["一网通办率% online_rate"] == expected["online_rate"]
    assert found["最多跑一次率% at_most_once_rate"] == expected["at_most_once_rate"]
    assert found["即办件率% on_the_spot_rate"] == expected["on_the_spot_rate"]
    assert found["材料复用 materials_reused"] == "4"
    assert found["部分观测 partially_observed"] == "0"  # the connector saw every case from 受理


def _fetch(case_no: str, at: dt.datetime) -> AuditEntry:
    return AuditEntry(
        method="GET",
        path="/v1/materials/FGW-X-01/content",
        decision="allow",
        status=200,
        member_id="window",
        route=CONTENT_ROUTE,
        case_no=case_no,
        content_sha256="0" * 64,
        at_ms=int(at.timestamp() * 1000),
    )
