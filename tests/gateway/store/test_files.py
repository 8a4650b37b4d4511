"""Data files 0600 and the folders govgate makes 0700, whatever the umask (issue #12, 13).

Before, `govgate.db` (and its -wal and -shm) came out 0644 outside systemd: every user of the
machine could read the audit table and, on the embedded default, every record on the log."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.api.services import load_audit_secret, load_signing_keys, open_services
from gateway.settings import GatewaySettings, Settings
from gateway.store import make_engine, open_database


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a shell usually has outside systemd
    try:
        yield
    finally:
        os.umask(old)


async def test_the_embedded_default_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "govgate"
    settings = Settings(data_dir=data_dir)
    async with open_services(settings) as svc:
        async with svc.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await conn.execute(text("INSERT INTO probe VALUES (1)"))
        db = data_dir / "govgate.db"
        assert mode(db) == "0o600"
        for side in ("govgate.db-wal", "govgate.db-shm"):
            assert mode(data_dir / side) == "0o600", side
    assert mode(data_dir) == "0o700" and mode(data_dir.parent) == "0o700"
    assert mode(data_dir / "keys") == "0o700"
    assert mode(data_dir / "keys" / "audit.secret") == "0o600"
    assert mode(data_dir / "keys" / "gateway.private.pem") == "0o600"


async def test_an_existing_database_readable_by_others_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings(data_dir=data_dir)
    async with open_database(settings):
        pass
    for name in ("govgate.db", "govgate.db-wal"):
        path = data_dir / name
        path.touch()
        os.chmod(path, 0o644)
    engine = make_engine(settings.database_url)  # tightens before SQLite opens the file
    try:
        assert mode(data_dir / "govgate.db") == "0o600"
        assert mode(data_dir / "govgate.db-wal") == "0o600"
    finally:
        await engine.dispose()


def test_keys_and_secret_made_for_workers_are_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", gateway=GatewaySettings())
    load_signing_keys(settings)
    load_audit_secret(settings)
    assert mode(tmp_path / "d") == "0o700" and mode(tmp_path / "d" / "keys") == "0o700"
