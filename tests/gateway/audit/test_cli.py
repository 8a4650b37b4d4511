"""`govgate audit`: verify (exit 0 / 1 naming each bad seq / 2), anchor, access-log."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.audit.log import AuditLog
from gateway.cli.audit import audit
from gateway.settings import Settings
from tests.conftest import free_port
from tests.gateway.audit import SECRET, entry, fresh_engine

HOLDER = "91330802MA2D4K7X0A"


@pytest.fixture
def runner(data_dir: Path) -> CliRunner:
    """The embedded default (SQLite and the SQL log) in `data_dir`, whatever the shell has set."""
    return CliRunner(
        env={
            "GOVGATE_DATA_DIR": str(data_dir),
            "GOVGATE_DATABASE_URL": None,
            "GOVGATE_KAFKA_BOOTSTRAP": None,
            "GOVGATE_CONFIG": None,
            "GOVGATE_AUDIT_SECRET": SECRET.decode(),
        }
    )


def fill(data_dir: Path, count: int, hash_alg: Any = "sha-256") -> None:
    async def run() -> None:
        async with fresh_engine(Settings(data_dir=data_dir).database_url) as engine:
            async with AuditLog(engine, SECRET, hash_alg=hash_alg) as log:
                for i in range(count):
                    holder = HOLDER if i % 3 == 0 else None
                    await log.record(entry(i, holder_id=holder, holder_type="ORGANIZATION"))

    asyncio.run(run())


def tamper(data_dir: Path, sql: str) -> None:
    with sqlite3.connect(data_dir / "govgate.db") as db:
        db.execute(sql)


def test_verify_an_intact_chain_exits_0_with_a_summary(runner: CliRunner, data_dir: Path) -> None:
    fill(data_dir, 30)
    result = runner.invoke(audit, ["verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit chain intact: 30 rows (seq 1..30), head ")
    assert "no signed anchors" in result.output

    anchored = runner.invoke(audit, ["anchor", "--gateway-id", "kecheng"])
    assert anchored.exit_code == 0, anchored.output
    assert anchored.output.startswith("anchored seq 30, head ")
    result = runner.invoke(audit, ["verify"])
    assert result.exit_code == 0, result.output
    assert "1 signed anchors checked (of 1), rows up to seq 30 anchored" in result.output
    result = runner.invoke(audit, ["verify", "--gateway-id", "xinhua"])
    assert "no signed anchors" in result.output


def test_verify_checks_each_chain_with_its_own_hash(runner: CliRunner, data_dir: Path) -> None:
    """A SHA-256 chain verifies after the setting switched to sm3 (and stays unmixed); an SM3
    chain says so in the summary, and its tampering is found (国密, issue #18)."""
    fill(data_dir, 4)
    sm3 = {"GOVGATE_GATEWAY_AUDIT_HASH": "sm3"}
    result = runner.invoke(audit, ["verify", "--no-anchors"], env=sm3)
    assert result.exit_code == 0, result.output
    assert "HMAC-SM3" not in result.output

    fill(data_dir, 5, "sm3")  # a new deployment (fresh_engine empties the chain)
    result = runner.invoke(audit, ["verify", "--no-anchors"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit chain intact: 5 rows (seq 1..5)")
    assert "rows hashed with HMAC-SM3" in result.output
    tamper(data_dir, "UPDATE audit_rows SET status = 500 WHERE seq = 3")
    result = runner.invoke(audit, ["verify", "--no-anchors"])
    assert result.exit_code == 1
    assert "seq 3: ALTERED" in result.output


def test_verify_names_each_bad_seq_and_exits_1(runner: CliRunner, data_dir: Path) -> None:
    fill(data_dir, 30)
    assert runner.invoke(audit, ["anchor"]).exit_code == 0
    tamper(data_dir, "UPDATE audit_rows SET member_id = 'someone-else' WHERE seq = 7")
    tamper(data_dir, "DELETE FROM audit_rows WHERE seq = 12")
    tamper(data_dir, "DELETE FROM audit_rows WHERE seq > 27")

    result = runner.invoke(audit, ["verify"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("audit chain BROKEN: 4 problems in 26 rows")
    assert lines[0].endswith("1 signed anchors checked (of 1), rows up to seq 30 anchored")
    assert lines[1] == "first bad or missing row: seq 7 (ALTERED)"
    assert lines[2] == "seq 7: ALTERED: the stored hash does not match the row's fields"
    assert lines[3] == "seq 12: DELETED: row 12 is missing before seq 13"
    head, deleted = sorted(lines[4:6], reverse=True)
    assert head.startswith("seq 28: HEAD_MISMATCH: the head is at seq 30")
    assert deleted.startswith("seq 28: DELETED: anchored at seq 30")

    without = runner.invoke(audit, ["verify", "--no-anchors"])
    assert without.exit_code == 1 and "anchors not checked" in without.output
    assert "anchored at seq 30" not in without.output


def test_verify_needs_the_audit_secret_and_never_makes_one(
    runner: CliRunner, data_dir: Path
) -> None:
    fill(data_dir, 3)
    result = runner.invoke(audit, ["verify"], env={"GOVGATE_AUDIT_SECRET": None})
    assert result.exit_code == 2 and "no audit secret" in result.output
    assert not (data_dir / "keys" / "audit.secret").exists()
    wrong = runner.invoke(audit, ["verify"], env={"GOVGATE_AUDIT_SECRET": "x" * 32})
    assert wrong.exit_code == 1 and "seq 1: ALTERED" in wrong.output


def test_a_missing_head_is_a_finding(runner: CliRunner, data_dir: Path) -> None:
    fill(data_dir, 3)
    tamper(data_dir, "DELETE FROM audit_head")
    result = runner.invoke(audit, ["verify", "--no-anchors"])
    assert result.exit_code == 1
    assert "seq 0: HEAD_MISMATCH: the audit_head row is missing" in result.output
    assert "3 rows" in result.output


def test_verify_without_a_database_exits_2(runner: CliRunner) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    result = runner.invoke(audit, ["verify"], env={"GOVGATE_DATABASE_URL": url})
    assert result.exit_code == 2
    assert result.output.startswith("could not verify the audit log: ")


def test_access_log_prints_a_holders_accesses_newest_first(
    runner: CliRunner, data_dir: Path
) -> None:
    fill(data_dir, 10)
    result = runner.invoke(audit, ["access-log", HOLDER.lower(), "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["seq"] for line in lines] == [10, 7, 4]
    assert lines[0]["member_id"] == "kecheng-window-0"
    assert lines[0]["purpose"] == "330802-XK-0017"
    assert lines[0]["at"].endswith("Z")

    result = runner.invoke(audit, ["access-log", HOLDER, "--after", "4"])
    assert [json.loads(line)["seq"] for line in result.output.splitlines()] == [1]

    no_secret = runner.invoke(audit, ["access-log", HOLDER], env={"GOVGATE_AUDIT_SECRET": None})
    assert no_secret.exit_code == 2 and "GOVGATE_AUDIT_SECRET" in no_secret.output


def test_verify_record_keeps_each_run_for_the_console(runner: CliRunner, data_dir: Path) -> None:
    from gateway.audit.verifications import Verifications
    from gateway.store import make_engine

    fill(data_dir, 12)
    assert runner.invoke(audit, ["verify", "--no-anchors"]).exit_code == 0  # not recorded
    assert runner.invoke(audit, ["verify", "--no-anchors", "--record"]).exit_code == 0
    tamper(data_dir, "UPDATE audit_rows SET member_id = 'someone-else' WHERE seq = 5")
    broken = runner.invoke(audit, ["verify", "--no-anchors", "--record"])
    assert broken.exit_code == 1 and "could not be recorded" not in broken.output

    async def recent() -> list[tuple[int, str, bool, int, str | None, bool]]:
        engine = make_engine(Settings(data_dir=data_dir).database_url)
        try:
            found = await Verifications(engine, SECRET).recent()
        finally:
            await engine.dispose()
        return [(v.id, v.actor, v.ok, v.rows_checked, v.first_problem, v.intact) for v in found]

    assert asyncio.run(recent()) == [
        (2, "cli", False, 13, "seq 5: ALTERED", True),  # 12 rows and the first run's own
        (1, "cli", True, 12, None, True),
    ]
