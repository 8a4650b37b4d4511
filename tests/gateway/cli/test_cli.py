"""The govgate command: help, schema checks, and `up` serving /healthz as a real process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.conftest import free_port

PERSON_ID = "11010519491231002X"  # a valid resident id number (GB 11643 check digit)


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "log", "schemas", "db"):
        assert command in result.output


def test_schemas_check_passes_on_the_shipped_schemas() -> None:
    result = CliRunner().invoke(main, ["schemas", "check", "--full"])
    assert result.exit_code == 0, result.output
    assert "10 schemas compatible with 12 released versions" in result.output


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_up_serves_healthz_and_readyz_on_the_embedded_default(
    govgate_bin: str, data_dir: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(port)}
    output = data_dir / "up.log"
    with output.open("wb") as out:
        process = subprocess.Popen([govgate_bin, "up"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, output.read_text()
            try:
                status, body = get_json(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "govgate up did not serve /healthz in 30 s"
                time.sleep(0.1)
        assert (status, body["status"], body["log"]) == (200, "ok", "sql")
        status, ready = get_json(f"http://127.0.0.1:{port}/readyz")
        assert status == 200 and ready["checks"] == {"database": "ok", "log": "ok"}
        assert (data_dir / "govgate.db").exists()
        status, problem = get_json(f"http://127.0.0.1:{port}/v1/certificates?holder_id={PERSON_ID}")
        assert (status, problem["code"]) == (401, "SIGNATURE_MISSING")
    finally:
        process.terminate()
        process.wait(15)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it, so the exit status is -15
    assert "Application shutdown complete" in output.read_text()
    assert PERSON_ID not in output.read_text()  # no personal id in the process's log


@pytest.mark.parametrize("workers", ["1", "2"])
def test_up_demo_has_events_flowing_and_stops_cleanly(
    govgate_bin: str, data_dir: Path, workers: str
) -> None:
    """The demo's connectors run in `govgate up` itself; with --workers 2 the gateway runs in
    two worker processes beside them, the materializer in worker 0."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(port)}
    output = data_dir / "up.log"
    command = [govgate_bin, "up", "--demo", "--workers", workers]
    with output.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    db = data_dir / "govgate.db"
    try:
        deadline = time.monotonic() + 60
        streams: dict[str, int] = {}
        while set(streams) < {"case-events", "certificates"} or not materialized(db):
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, f"no events after 60 s: {streams}"
            time.sleep(0.5)
            streams = stream_counts(db)
        assert get_json(f"http://127.0.0.1:{port}/healthz")[0] == 200
        console_signs_in(f"http://127.0.0.1:{port}", "officer.scjg", "officer.scjg-demo-2026")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code == 0, output.read_text()
    with sqlite3.connect(db, timeout=5) as conn:  # the departments' catalogue is published
        listed = {row[0] for row in conn.execute("SELECT code FROM catalogue_heads")}
    assert {"SCJG-YYZZ", "ZRZY-BDCQZ", "RS-SBJFZM", "XY-SXMD"} <= listed
    states = connector_states(db)
    assert states and set(states.values()) == {"stopped"}, states  # each finished its batch
    printed = output.read_text()  # the console's demo accounts, one per role
    assert f"console at http://127.0.0.1:{port}/console/" in printed
    for username in ("operator", "officer.scjg", "supervisor", "auditor", "readonly"):
        assert f"{username}-demo-2026" in printed
    assert "部门数据专员 · SCJG" in printed
    # the e-supervision subscriber and the 双告知 router ran beside them and ended with them
    assert " events applied, " in printed and " licences routed, " in printed


def console_signs_in(base: str, username: str, password: str) -> None:
    """A demo account signs in to the console and sees its pages, whichever worker answers
    each request (sessions live in the database)."""
    import re

    import httpx

    with httpx.Client(base_url=base, timeout=10) as client:
        form = client.get("/console/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        data = {"username": username, "password": password, "csrf_token": token.group(1)}
        assert client.post("/console/signin", data=data).status_code == 303
        for _ in range(4):  # several requests: with --workers 2 both workers answer some
            page = client.get("/console/overview")
            assert page.status_code == 200 and "部门数据专员" in page.text


def materialized(db: Path) -> int:
    """Certificates in the lookup store (0 before the materializer made its table)."""
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM lk_certificates").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def stream_counts(db: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return dict(
                conn.execute("SELECT stream, next_offset FROM log_heads WHERE next_offset > 0")
            )
    except sqlite3.OperationalError:
        return {}


def connector_states(db: Path) -> dict[str, str]:
    with sqlite3.connect(db, timeout=5) as conn:
        return dict(conn.execute("SELECT connector, state FROM connector_status"))
