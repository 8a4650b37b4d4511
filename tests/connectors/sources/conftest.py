"""Fixtures for the sources: a real MariaDB / MySQL database, like `pg_url` for PostgreSQL.

`GOVGATE_TEST_MYSQL_URL` names the server (default: the machine's local MariaDB, database
`test`); the session works in a database of its own, created and dropped here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pymysql
import pytest
from sqlalchemy.engine import URL, make_url

MYSQL_URL = os.environ.get("GOVGATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def _mysql_admin(url: URL, sql: str) -> None:
    """Run one statement on the server (pymysql is blocking; session fixtures run outside loops)."""
    conn = pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        connect_timeout=5,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB / MySQL database for this session; skips (saying why) if none answers."""
    url = make_url(MYSQL_URL)
    name = f"govgate_test_{uuid.uuid4().hex[:10]}"
    try:
        _mysql_admin(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except (pymysql.err.OperationalError, OSError) as exc:
        shown = url.render_as_string(hide_password=True)
        pytest.skip(f"no MariaDB / MySQL answers at GOVGATE_TEST_MYSQL_URL={shown}: {exc!r}")
    try:
        given = url.set(database=name).update_query_dict({"charset": "utf8mb4"})
        yield given.render_as_string(hide_password=False)
    finally:
        _mysql_admin(url, f"DROP DATABASE IF EXISTS `{name}`")
