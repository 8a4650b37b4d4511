"""`govgate users`: the people who sign in to the console (add, list, disable, reset-password).

Passwords are read from a hidden prompt (asked twice) or, with `--password-stdin`, from the
first line of standard input; never from the command line, where `ps` and the shell's
history would show them. Each change is an audited action of the operator at the command line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click

from gateway.api.services import load_audit_secret
from gateway.audit.log import AuditEntry, AuditLog
from gateway.governance.record import OPERATOR
from gateway.people.accounts import PeopleStore
from gateway.people.errors import PeopleError
from gateway.people.passwords import Passwords
from gateway.people.person import ROLE_NAMES, ROLES
from gateway.settings import Settings
from gateway.store import open_database

T = TypeVar("T")


def _with_people(action: Callable[[PeopleStore, AuditLog], Awaitable[T]]) -> T:
    """Run `action` on the people store of the configured database (migrated first)."""
    settings = Settings()

    async def run() -> T:
        async with open_database(settings) as engine:
            secret = await asyncio.to_thread(load_audit_secret, settings)
            passwords = Passwords(min_length=settings.console.password_min_length)
            async with AuditLog(engine, secret, hash_alg=settings.gateway.audit_hash) as audit:
                return await action(PeopleStore(engine, passwords), audit)

    try:
        return asyncio.run(run())
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from exc


async def _audit(audit: AuditLog, action: str, username: str, detail: str = "") -> None:
    path = f"/console/users/{username}" + (f" {detail}" if detail else "")
    await audit.record(
        AuditEntry(
            method="CLI",
            path=path,
            route=f"console:{action}",
            decision="allow",
            status=200,
            member_id=OPERATOR,
            code=action,
        )
    )


def read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.UsageError("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def users() -> None:
    """People who sign in to the console at /console, and their roles.

    Roles: operator (大数据局运维), officer (部门数据专员, with --department), supervisor
    (电子监察), auditor (审计), readonly (只读).
    """


@users.command()
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The person's role.")
@click.option("--department", help="An officer's department code (部门编码), e.g. SCJG.")
@click.option("--name", "display_name", help="The name shown (default: the user name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(
    username: str,
    role: str,
    department: str | None,
    display_name: str | None,
    password_stdin: bool,
) -> None:
    """Add a person (the password is asked for, never taken from the command line).

    People who sign in through single sign-on need no account here: theirs is made at their
    first sign-in, with the role the identity provider's claim gives."""
    password = read_password(password_stdin)

    async def action(people: PeopleStore, audit: AuditLog) -> None:
        found = await people.add(
            username,
            display_name or username,
            role,
            department_code=department,
            password=password,
        )
        await _audit(audit, "users.add", found.username, found.role)
        where = f", {found.department_code}" if found.department_code else ""
        click.echo(f"added {found.username} ({ROLE_NAMES[found.role]}{where})")

    _with_people(action)


@users.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per person.")
def list_(as_json: bool) -> None:
    """Every person, with role, department and state."""

    async def action(people: PeopleStore, audit: AuditLog) -> None:
        now = int(datetime.now(UTC).timestamp() * 1000)
        for found in await people.list():
            state = "disabled" if found.disabled else "locked" if found.locked(now) else "active"
            if as_json:
                row = {
                    "username": found.username,
                    "display_name": found.display_name,
                    "role": found.role,
                    "department_code": found.department_code,
                    "state": state,
                    "password": found.has_password,
                    "sso": found.sso_subject is not None,
                }
                click.echo(json.dumps(row, ensure_ascii=False))
                continue
            dept = f" {found.department_code}" if found.department_code else ""
            click.echo(f"{found.username}\t{found.role}{dept}\t{state}\t{found.display_name}")

    _with_people(action)


@users.command()
@click.argument("username")
def disable(username: str) -> None:
    """Disable a person's account and end their sessions."""

    async def action(people: PeopleStore, audit: AuditLog) -> None:
        await people.disable(username)
        await _audit(audit, "users.disable", username)
        click.echo(f"disabled {username}; their sessions ended")

    _with_people(action)


@users.command()
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again (and lift a lockout)."""

    async def action(people: PeopleStore, audit: AuditLog) -> None:
        await people.enable(username)
        await _audit(audit, "users.enable", username)
        click.echo(f"enabled {username}")

    _with_people(action)


@users.command(name="reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password: unlocks the account and ends its sessions."""
    password = read_password(password_stdin)

    async def action(people: PeopleStore, audit: AuditLog) -> None:
        await people.reset_password(username, password)
        await _audit(audit, "users.reset_password", username)
        click.echo(f"new password set for {username}; their sessions ended")

    _with_people(action)


async def demo_people(settings: Settings) -> list[str]:
    """Make the demo's accounts (one per role) when missing; the lines that present them."""
    from gateway.people.demo import ensure_demo_people

    async with open_database(settings) as engine:
        made = await ensure_demo_people(PeopleStore(engine, Passwords()))
    lines = []
    for demo, account in made:
        where = f" · {account.department_code}" if account.department_code else ""
        role = f"{ROLE_NAMES[account.role]}{where}"
        lines.append(f"  {demo.username:<14} {demo.password:<26} {role}")
    return lines
