"""Fixtures for the simulator tests: a department database on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest


def _drop_department_tables(url: str) -> None:
    """Start each PostgreSQL test from empty tables (the session database is shared)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute('DROP TABLE IF EXISTS "TZXM_SPBJ", "TZXM_FJ", "SCJG_YYZZ"')
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A plain SQLAlchemy URL of an empty department database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'department.db'}"
    url: str = request.getfixturevalue("pg_url")
    _drop_department_tables(url)
    return url
