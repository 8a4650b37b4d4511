"""`govgate connect backfill` with a shipped profile, run as a real process from elsewhere.

The shipped profiles' default sources live under the data dir (`${GOVGATE_DATA_DIR}`), so the
same GOVGATE_DATA_DIR finds the same department database from any working directory; a
database that is not there is a clear, immediate failure, not a retry loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

from connectors.simulators.scjg import ScjgSimulator


def _register(govgate_bin: str, data_dir: Path, name: str) -> str:
    done = subprocess.run(
        [govgate_bin, "connect", "register", name],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    return env | {"GOVGATE_DATA_DIR": str(data_dir)}


async def _department(path: Path, licences: int) -> None:
    path.parent.mkdir(parents=True)
    async with ScjgSimulator(f"sqlite:///{path}") as scjg:
        await scjg.add_licences(licences)


def test_a_shipped_profile_finds_its_department_under_the_data_dir_from_anywhere(
    govgate_bin: str, data_dir: Path, tmp_path: Path
) -> None:
    asyncio.run(_department(data_dir / "departments" / "scjg.db", 7))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    registered = _register(govgate_bin, data_dir, "scjg-yyzz")
    assert registered == "scjg-yyzz: scjg publishes certificates:*@scjg-djxt\n"
    done = subprocess.run(
        [govgate_bin, "connect", "backfill", "scjg-yyzz"],
        cwd=elsewhere,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "scjg-yyzz: stopped, 7 records" in done.stdout
    assert not (elsewhere / "var").exists()  # nothing made relative to the working directory


def test_a_missing_department_database_fails_at_once_naming_the_file(
    govgate_bin: str, data_dir: Path, tmp_path: Path
) -> None:
    _register(govgate_bin, data_dir, "scjg-yyzz")
    started = time.monotonic()
    done = subprocess.run(
        [govgate_bin, "connect", "backfill", "scjg-yyzz"],
        cwd=tmp_path,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 30  # no retry loop
    missing = data_dir / "departments" / "scjg.db"
    assert f"SOURCE_CONFIG: SCJG_YYZZ: no SQLite database file at {missing}" in done.stderr
    assert not missing.exists()  # the source never creates a department's database


def test_a_connector_runs_only_as_a_registered_publisher(
    govgate_bin: str, data_dir: Path, tmp_path: Path
) -> None:
    """#12.1: connectors run as their department's publisher; unregistered, nothing is read."""
    asyncio.run(_department(data_dir / "departments" / "scjg.db", 3))
    done = subprocess.run(
        [govgate_bin, "connect", "backfill", "scjg-yyzz"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "PUBLISH_NOT_REGISTERED: publisher scjg is not registered for certificates" in (
        done.stderr
    )
    listed = subprocess.run(
        [govgate_bin, "members", "list"], env=_env(data_dir), capture_output=True, text=True
    )
    assert "scjg" not in listed.stdout
    _register(govgate_bin, data_dir, "scjg-yyzz")
    listed = subprocess.run(
        [govgate_bin, "members", "list"], env=_env(data_dir), capture_output=True, text=True
    )
    assert "publishes certificates:*@scjg-djxt" in listed.stdout
    again = subprocess.run(
        [govgate_bin, "connect", "backfill", "scjg-yyzz"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "scjg-yyzz: stopped, 3 records" in again.stdout
