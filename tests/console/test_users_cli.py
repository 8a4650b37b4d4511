"""`govgate users`: add, list, disable, reset-password; passwords never from argv; audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from gateway.audit.tables import audit_rows
from gateway.cli import main
from gateway.people.tables import people
from gateway.settings import Settings
from gateway.store import open_database


def env_of(data_dir: Path) -> dict[str, str]:
    return {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_GATEWAY_AUDIT_SECRET": "test-audit-secret-0123456789",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    assert result.exit_code == code, result.output
    return result.output


def table(data_dir: Path, query: object) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        async with open_database(Settings(data_dir=data_dir)) as engine:
            async with engine.connect() as conn:
                return [dict(r._mapping) for r in await conn.execute(query)]  # type: ignore[call-overload]

    return asyncio.run(read())


def test_add_list_disable_reset(data_dir: Path) -> None:
    env = env_of(data_dir)
    out = run(
        env, "users", "add", "zhang.wei", "--role", "officer", "--department", "SCJG",
        "--name", "张伟", "--password-stdin", stdin="zhang-wei-secret-1\n",
    )  # fmt: skip
    assert "added zhang.wei (部门数据专员, SCJG)" in out
    prompted = run(
        env, "users", "add", "li.na", "--role", "auditor",
        stdin="li-na-secret-2026\nli-na-secret-2026\n",
    )  # fmt: skip
    assert "added li.na (审计)" in prompted
    listed = [json.loads(line) for line in run(env, "users", "list", "--json").splitlines()]
    assert [(p["username"], p["role"], p["department_code"], p["state"]) for p in listed] == [
        ("li.na", "auditor", None, "active"),
        ("zhang.wei", "officer", "SCJG", "active"),
    ]
    assert "disabled zhang.wei" in run(env, "users", "disable", "zhang.wei")
    assert "zhang.wei\tofficer SCJG\tdisabled\t张伟" in run(env, "users", "list")
    run(env, "users", "reset-password", "li.na", "--password-stdin", stdin="another-secret-99\n")
    [row] = table(data_dir, select(people).where(people.c.username == "li.na"))
    assert str(row["password_hash"]).startswith("$argon2id$")
    assert "another-secret-99" not in str(row)
    codes = [r["code"] for r in table(data_dir, select(audit_rows).order_by(audit_rows.c.seq))]
    assert codes == ["users.add", "users.add", "users.disable", "users.reset_password"]


def test_bad_input_names_the_field(data_dir: Path) -> None:
    env = env_of(data_dir)
    out = run(
        env, "users", "add", "x y", "--role", "operator", "--password-stdin",
        stdin="long-enough-password\n", code=1,
    )  # fmt: skip
    assert "INVALID_ACCOUNT" in out and "username" in out
    short = run(env, "users", "add", "wang", "--role", "operator", "--password-stdin",
                stdin="short\n", code=1)  # fmt: skip
    assert "at least 12 characters" in short
    officer = run(env, "users", "add", "zhao", "--role", "officer", "--password-stdin",
                  stdin="long-enough-password\n", code=1)  # fmt: skip
    assert "department" in officer
    assert "UNKNOWN_ACCOUNT" in run(env, "users", "disable", "nobody", code=1)
    # no --password option exists: a password never travels on the command line
    assert "No such option" in run(env, "users", "add", "a1", "--role", "operator",
                                   "--password", "x", code=2)  # fmt: skip
