"""`govgate up --demo` as a real process on the SQL log: it runs the e-supervision subscriber
(as `govgate supervise` would) and the 双告知 router itself, so cards for the demo's forgotten 发改
cases reach supervision-alerts and the console, and licences their notices, with no manual step."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from schemas.codec import EventCodec
from tests.conftest import free_port
from tests.console.conftest import csrf_in

CARD = re.compile(r"supervise: (RED 红牌|YELLOW 黄牌) ")


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


def counts(db: Path, *tables: str) -> tuple[int, ...]:
    """Rows in each of `tables` (0 while the database or the table is not there yet)."""
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return tuple(
                int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables
            )
    except sqlite3.OperationalError:
        return tuple(0 for _ in tables)


def console_pages(port: int, deadline: float) -> tuple[str, str]:
    """The console's 电子监察 and 双告知 pages as the demo's supervisor sees them, signed in
    over HTTP; the 双告知 page once the materializer has its routed notices."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        form = client.get("/console/signin")
        signed = client.post(
            "/console/signin",
            data={
                "username": "supervisor",
                "password": "supervisor-demo-2026",
                "next": "/console/supervision",
                "csrf_token": csrf_in(form.text),
            },
        )
        assert signed.status_code == 303, signed.text
        supervision = client.get("/console/supervision")
        assert supervision.status_code == 200, supervision.text
        while True:
            notices = client.get("/console/notices")
            assert notices.status_code == 200, notices.text
            if 'id="notices"' in notices.text and "SGZ-" in notices.text:
                return supervision.text, notices.text
            assert time.monotonic() < deadline, f"no notices on the page: {notices.text}"
            time.sleep(0.5)


def test_demo_cases_earn_cards_and_licences_notices_with_no_manual_step(
    govgate_bin: str, data_dir: Path
) -> None:
    """`govgate up --demo` alone runs the subscriber and the 双告知 router, once, in its parent
    process (here beside two gateway workers): the state databases fill, the cards reach
    supervision-alerts and the console's 电子监察 page, the notices its 双告知 page, and SIGTERM
    still ends it all cleanly."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(port)}
    up_log = data_dir / "up.log"
    command = [govgate_bin, "up", "--demo", "--workers", "2"]
    with up_log.open("wb") as out:
        up = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        found: list[dict[str, object]] = []
        while not (
            {"RED", "YELLOW"} <= {a["card"] for a in found}
            and all(counts(data_dir / "supervise.db", "sv_cases", "sv_cards"))
            and all(counts(data_dir / "notices.db", "nt_routed"))
        ):
            assert up.poll() is None, up_log.read_text()
            assert time.monotonic() < deadline, f"no cards or notices in 60 s: {up_log.read_text()}"
            time.sleep(0.5)
            found = alerts(data_dir / "govgate.db")
        page, notices = console_pages(port, deadline)
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(60)
    printed = up_log.read_text()
    assert code == 0, printed
    assert "电子监察订阅尚未在本机运行" not in page
    recent = page[page.index('id="recent-cards"') :]
    assert '<span class="state red">红牌</span>' in recent and "FG330802" in recent
    assert "SGZ-" in notices[notices.index('id="notices"') :]
    red = [a for a in found if a["card"] == "RED"]
    assert all(str(a["case_no"]).startswith("FG330802") for a in red)
    assert all(int(str(a["elapsed_days"])) > int(str(a["statutory_limit"])) for a in red)
    assert len({(a["case_no"], a["card"]) for a in found}) == len(found)  # once each
    # once, in the parent: each card printed once however many workers serve
    cards = [line.split("supervise: ", 1)[1] for line in printed.splitlines() if CARD.search(line)]
    assert cards and len(cards) == len(set(cards)), cards
    assert {str(a["case_no"]) for a in found} <= {card.split()[2] for card in cards}
    assert " → " in printed  # the notices routed, one line each
    # both ended with the gateway, saying what they did
    assert "supervise: " in printed and " cards raised, " in printed
    assert "notices: " in printed and " licences routed, " in printed
    assert "Traceback" not in printed
    with socket.socket() as probe:  # nothing left holding the port
        probe.bind(("127.0.0.1", port))
    applicants = personal_ids(data_dir / "departments" / "fgw.db")
    assert applicants and not any(number in printed for number in applicants)
