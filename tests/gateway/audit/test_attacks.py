"""The five rewrites of issue #12 (finding 2) that left `govgate audit verify` at exit 0.

Each is made as an intruder with write access to `govgate.db` alone would make it on the
embedded default (SQLite, the SQL log in the same file): plain SQL, the documented hash formats,
the shipped Avro schemas — but neither the audit secret nor the gateway's signing key. Each must
now fail verify (exit 1) and name the first bad or missing row.

Before the chain was keyed and the anchors signed, each passed: the intruder re-computed every
row hash (unkeyed SHA-256, documented) and re-encoded the anchors (unsigned) to match, deleted
the anchors ("no anchors yet" was only a note), or cut the tail and moved the head back.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.api.services import load_signing_keys
from gateway.audit.anchors import anchor
from gateway.audit.chain import GENESIS, row_hash
from gateway.audit.log import AuditLog
from gateway.log import SqlLog
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.gateway.audit import SECRET, entry

codec = EventCodec()
HOUR_MS = 3_600_000


@pytest.fixture
def runner(data_dir: Path, tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={
            "GOVGATE_DATA_DIR": str(data_dir),
            "GOVGATE_DATABASE_URL": None,
            "GOVGATE_KAFKA_BOOTSTRAP": None,
            "GOVGATE_CONFIG": None,
            "GOVGATE_AUDIT_SECRET": SECRET.decode(),
            "GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE": str(tmp_path / "offsite" / "anchors.jsonl"),
        }
    )


def settings(runner: CliRunner) -> Settings:
    env = runner.env
    return Settings(
        data_dir=Path(str(env["GOVGATE_DATA_DIR"])),
        gateway={"audit_anchor_file": env["GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE"]},
    )


def gateway_writes(runner: CliRunner, rows: int, *, anchor_after: bool, age_ms: int) -> None:
    """What the gateway does: keyed rows (written `age_ms` ago), then a signed anchor."""

    async def run() -> None:
        found = settings(runner)
        key = load_signing_keys(found).private_key
        async with open_database(found) as engine:
            start = time.time_ns() // 1_000_000 - age_ms
            async with AuditLog(engine, SECRET) as audit:
                for i in range(rows):
                    await audit.record(entry(i, at_ms=start + i, holder_id="91330802MA2D4K7X09"))
            if anchor_after:
                file = found.gateway.audit_anchor_file
                await anchor(engine, SqlLog(engine), codec, "govgate", key, file=file)

    asyncio.run(run())


def verify(runner: CliRunner, *args: str) -> tuple[int, list[str]]:
    result = runner.invoke(main_audit(), ["verify", *args])
    return result.exit_code, result.output.splitlines()


def main_audit() -> Any:
    from gateway.cli.audit import audit

    return audit


class Intruder:
    """Write access to govgate.db, and nothing else."""

    def __init__(self, data_dir: Path) -> None:
        self.db = sqlite3.connect(data_dir / "govgate.db")
        self.db.row_factory = sqlite3.Row

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM audit_rows ORDER BY seq")]

    def rehash_from(self, seq: int, change: dict[str, Any] | None = None) -> None:
        """Change row `seq`, then re-hash it and every later row (the documented, unkeyed
        format: the key is out of reach) and move the head."""
        rows = self.rows()
        prev = rows[seq - 2]["hash"] if seq > 1 else GENESIS
        for row in rows[seq - 1 :]:
            if row["seq"] == seq:
                row.update(change or {})
            row["prev_hash"] = prev
            prev = row["hash"] = row_hash(row)
            self.db.execute(
                "UPDATE audit_rows SET member_id = ?, purpose = ?, prev_hash = ?, hash = ? "
                "WHERE seq = ?",
                (row["member_id"], row["purpose"], row["prev_hash"], row["hash"], row["seq"]),
            )
        self.db.execute("UPDATE audit_head SET seq = ?, hash = ?", (rows[-1]["seq"], prev))
        self.db.commit()

    def reencode_anchors(self) -> None:
        """Make every anchor on the SQL log agree with the rewritten chain."""
        hashes = {r["seq"]: r["hash"] for r in self.rows()}
        found = self.db.execute(
            "SELECT log_offset, value FROM log_records WHERE stream = 'audit-anchors'"
        ).fetchall()
        assert found, "the gateway anchored"
        for offset, value in found:
            record = codec.decode(value).record
            record["head_hash"] = hashes[record["seq"]]
            record["provenance"]["source_version"] = record["head_hash"]
            encoded = codec.encode("AuditAnchor", record)
            self.db.execute(
                "UPDATE log_records SET value = ? WHERE stream = 'audit-anchors' "
                "AND log_offset = ?",
                (encoded.value, offset),
            )
        self.db.commit()

    def delete_anchors(self) -> None:
        self.db.execute("DELETE FROM log_records WHERE stream = 'audit-anchors'")
        self.db.commit()

    def append_forged(self) -> int:
        last = self.rows()[-1]
        forged = last | {"seq": last["seq"] + 1, "prev_hash": last["hash"], "member_id": "x"}
        forged["hash"] = row_hash(forged)
        names = ", ".join(forged)
        self.db.execute(
            f"INSERT INTO audit_rows ({names}) VALUES ({', '.join('?' * len(forged))})",
            tuple(forged.values()),
        )
        self.db.execute("UPDATE audit_head SET seq = ?, hash = ?", (forged["seq"], forged["hash"]))
        self.db.commit()
        return int(forged["seq"])

    def truncate(self, keep: int) -> None:
        kept = self.rows()[keep - 1]
        self.db.execute("DELETE FROM audit_rows WHERE seq > ?", (keep,))
        self.db.execute("UPDATE audit_head SET seq = ?, hash = ?", (keep, kept["hash"]))
        self.db.commit()

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def intruder(data_dir: Path) -> Any:
    found: list[Intruder] = []

    def make() -> Intruder:
        found.append(Intruder(data_dir))
        return found[-1]

    yield make
    for one in found:
        one.close()


def assert_names(lines: list[str], seq: int, *kinds: str) -> None:
    assert lines[0].startswith("audit chain BROKEN"), lines
    first = lines[1]
    assert first.startswith(f"first bad or missing row: seq {seq} ("), lines
    assert first.split("(")[1].rstrip(")") in kinds, lines


def test_an_intact_deployment_verifies(runner: CliRunner, intruder: Any) -> None:
    gateway_writes(runner, 40, anchor_after=True, age_ms=HOUR_MS)
    code, lines = verify(runner)
    assert code == 0, lines
    file = runner.env["GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE"]
    code, lines = verify(runner, "--anchors", str(file))
    assert code == 0 and "1 signed anchors checked" in lines[0], lines
    [line] = Path(str(file)).read_text().splitlines()
    assert json.loads(line)["seq"] == 40
    assert oct(Path(str(file)).stat().st_mode & 0o777) == "0o600"


def test_1_a_changed_row_rehashed_with_the_anchors_reencoded(
    runner: CliRunner, intruder: Any
) -> None:
    gateway_writes(runner, 40, anchor_after=True, age_ms=HOUR_MS)
    bad = intruder()
    bad.rehash_from(7, {"member_id": "someone-else"})
    bad.reencode_anchors()
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 7, "UNKEYED", "ALTERED")
    assert any("ANCHOR_FORGED" in line for line in lines)  # the re-encoded anchor's signature
    code, lines = verify(runner, "--anchors", str(runner.env["GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE"]))
    assert code == 1
    assert_names(lines, 7, "UNKEYED", "ALTERED")


def test_2_the_same_with_every_anchor_deleted(runner: CliRunner, intruder: Any) -> None:
    gateway_writes(runner, 40, anchor_after=True, age_ms=HOUR_MS)
    bad = intruder()
    bad.rehash_from(7, {"purpose": "FORGED-ITEM"})
    bad.delete_anchors()
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 7, "UNKEYED")
    assert any(line.startswith("seq 1: UNANCHORED") for line in lines), lines  # an hour old
    # and the off-site copy still has the anchor: the rewrite itself is named
    code, lines = verify(runner, "--anchors", str(runner.env["GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE"]))
    assert code == 1
    assert_names(lines, 7, "UNKEYED")
    assert any("ANCHOR_MISMATCH" in line for line in lines), lines


def test_2b_anchors_deleted_alone_leave_old_rows_unanchored(
    runner: CliRunner, intruder: Any
) -> None:
    gateway_writes(runner, 10, anchor_after=True, age_ms=HOUR_MS)
    intruder().delete_anchors()
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 1, "UNANCHORED")


def test_3_a_forged_row_appended_with_the_head_moved(runner: CliRunner, intruder: Any) -> None:
    gateway_writes(runner, 40, anchor_after=True, age_ms=HOUR_MS)
    seq = intruder().append_forged()
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, seq, "UNKEYED")


def test_4_a_forged_row_after_the_last_anchor(runner: CliRunner, intruder: Any) -> None:
    gateway_writes(runner, 30, anchor_after=True, age_ms=HOUR_MS)
    gateway_writes(runner, 5, anchor_after=False, age_ms=0)  # not anchored yet, and recent
    code, lines = verify(runner)
    assert code == 0, lines  # recent rows may wait for the next anchor
    intruder().rehash_from(33, {"member_id": "someone-else"})
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 33, "UNKEYED")


def test_5_the_last_30_rows_deleted_with_the_head_moved_back(
    runner: CliRunner, intruder: Any
) -> None:
    gateway_writes(runner, 60, anchor_after=True, age_ms=HOUR_MS)
    bad = intruder()
    bad.truncate(keep=30)
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 31, "DELETED")
    bad.delete_anchors()  # and the anchors with them: the remaining rows are unanchored
    code, lines = verify(runner)
    assert code == 1
    assert_names(lines, 1, "UNANCHORED")
    code, lines = verify(runner, "--anchors", str(runner.env["GOVGATE_GATEWAY_AUDIT_ANCHOR_FILE"]))
    assert code == 1
    assert_names(lines, 31, "DELETED")
