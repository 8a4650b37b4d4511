"""A holiday notice dropped while `govgate supervise` runs counts without a restart: the real
command as a process, on the embedded SQL log, with its clock held at Tue 2027-01-05 08:00.

The case, accepted Wed 2026-12-30 with a statutory limit of 3 working days, counts 12-31 and,
without a notice for 2027, Mon 01-04 and Tue 01-05 (元旦 forecast as a holiday): its last day is
01-05, not over yet. The notice dropped meanwhile makes Sat 01-02 a make-up working day, so the
last day becomes Mon 01-04: overdue since 01-05 00:00, and no longer provisional.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.log import open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.gateway.supervision.cases import event
from tests.gateway.supervision.test_demo_cards import alerts

NOTICE = {
    "year": 2027,
    "holidays": ["2027-01-01"],
    "workdays": ["2027-01-02"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试用）",
}


async def _publish(settings: Settings) -> None:
    codec = EventCodec()
    accepted = event("N1", "ACCEPTED", "2026-12-30", promised=None, statutory=3)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        await log.append("case-events", [codec.encode("CaseEvent", accepted)])


def _wait_for(
    condition: str, check: Callable[[], object], log: Path, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"no {condition} in 60 s: {log.read_text()}"
        time.sleep(0.2)


def test_a_notice_dropped_while_supervise_runs_counts_at_the_next_sweep(
    govgate_bin: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("GOVGATE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(data_dir))
    env = dict(os.environ)
    asyncio.run(_publish(Settings()))
    notices = data_dir / "holiday-notices"
    notices.mkdir()
    log = data_dir / "supervise.log"
    args = [govgate_bin, "supervise", "--interval", "0.5", "--now", "2027-01-05 08:00:00"]
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=out)
    try:
        # The first sweep asks about 2027 and says how it counts it until a notice comes.
        _wait_for("forecast", lambda: "no holiday notice for 2027" in log.read_text(), log, process)
        time.sleep(1.5)  # a few sweeps more: still in time on the forecast
        assert alerts(data_dir / "govgate.db") == []

        staged = notices / "2027.json.tmp"  # written whole, then renamed into place
        staged.write_text(json.dumps(NOTICE, ensure_ascii=False), encoding="utf-8")
        staged.rename(notices / "2027.json")
        _wait_for("card", lambda: alerts(data_dir / "govgate.db"), log, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    [red] = alerts(data_dir / "govgate.db")
    assert (red["case_no"], red["card"], red["provisional"]) == ("N1", "RED", False)
    assert red["crossed_on"] == dt.date(2027, 1, 4)
    printed = log.read_text()
    assert f"holiday notice {notices / '2027.json'} read: 2027 counted from it" in printed
    assert "RED 红牌 N1" in printed and "overdue since the end of 2027-01-04" in printed
