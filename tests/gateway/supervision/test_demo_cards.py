"""`govgate up --demo` plus `govgate supervise`, as real processes on the SQL log: cards for the
demo's forgotten 发改 cases reach supervision-alerts with no manual step."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from schemas.codec import EventCodec
from tests.conftest import free_port
from tests.gateway.cli.test_cli import get_json


def alerts(db: Path) -> list[dict[str, object]]:
    codec = EventCodec()
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            rows = conn.execute(
                "SELECT value FROM log_records WHERE stream = 'supervision-alerts' "
                "ORDER BY log_offset"
            ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [codec.decode(bytes(value)).record for (value,) in rows]


def personal_ids(db: Path) -> set[str]:
    with sqlite3.connect(db, timeout=5) as conn:
        rows = conn.execute('SELECT "SQRZJHM" FROM "TZXM_SPBJ" WHERE "SQRZJLX" = \'10\'')
        return {str(r[0]) for r in rows if r[0]}


def test_demo_cases_earn_cards_with_no_manual_step(govgate_bin: str, data_dir: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(port)}
    up_log, supervise_log = data_dir / "up.log", data_dir / "supervise.log"
    with up_log.open("wb") as out:
        up = subprocess.Popen([govgate_bin, "up", "--demo"], env=env, stdout=out, stderr=out)
    supervise: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 60
        while True:  # the gateway has migrated its database once it serves
            assert up.poll() is None, up_log.read_text()
            try:
                get_json(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "govgate up did not serve in 60 s"
                time.sleep(0.2)
        with supervise_log.open("wb") as out:
            supervise = subprocess.Popen(
                [govgate_bin, "supervise", "--interval", "1"], env=env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 120
        found: list[dict[str, object]] = []
        while not {"RED", "YELLOW"} <= {a["card"] for a in found}:
            assert supervise.poll() is None, supervise_log.read_text()
            assert time.monotonic() < deadline, f"no cards in 120 s: {supervise_log.read_text()}"
            time.sleep(0.5)
            found = alerts(data_dir / "govgate.db")
    finally:
        for process in (supervise, up):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)
    red = [a for a in found if a["card"] == "RED"]
    assert all(str(a["case_no"]).startswith("FG330802") for a in red)
    assert all(int(str(a["elapsed_days"])) > int(str(a["statutory_limit"])) for a in red)
    assert len({(a["case_no"], a["card"]) for a in found}) == len(found)  # once each
    printed = supervise_log.read_text()
    assert "RED 红牌 FG330802" in printed
    applicants = personal_ids(data_dir / "departments" / "fgw.db")
    assert applicants and not any(number in printed for number in applicants)
