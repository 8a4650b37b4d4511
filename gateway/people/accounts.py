"""People's accounts (`PeopleStore`): add, list, disable, reset a password, count failures."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.people.errors import AccountExists, InvalidAccount, UnknownAccount
from gateway.people.passwords import Passwords
from gateway.people.person import ROLES, Person, Role
from gateway.people.tables import console_sessions, people
from gateway.store.errors import store_unavailable

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
DEPARTMENT = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    department_code: str | None
    disabled: bool
    failed: int
    locked_until_ms: int | None
    has_password: bool
    sso_subject: str | None
    created_ms: int

    def person(self) -> Person:
        return Person(self.username, self.display_name, self.role, self.department_code)

    def locked(self, now_ms: int) -> bool:
        return self.locked_until_ms is not None and self.locked_until_ms > now_ms


def check_fields(
    username: str, display_name: str, role: str, department_code: str | None
) -> tuple[str, str, Role, str | None]:
    """The fields, normalized, or `InvalidAccount` naming the field and the value."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidAccount(
            "username",
            f"username {username[:80]!r}: 2–64 of a–z, 0–9, '.', '_', '-', beginning with a "
            "letter or digit",
        )
    shown = display_name.strip()
    if not 1 <= len(shown) <= 100 or _CONTROL.search(shown):
        raise InvalidAccount(
            "display_name", f"display name {display_name[:80]!r}: 1–100 characters"
        )
    if role not in ROLES:
        raise InvalidAccount("role", f"role {role[:40]!r}: one of {', '.join(ROLES)}")
    dept = department_code.strip() if department_code and department_code.strip() else None
    if role == "officer" and dept is None:
        raise InvalidAccount("department_code", "an officer (部门数据专员) needs a department code")
    if role != "officer" and dept is not None:
        raise InvalidAccount("department_code", f"only an officer has a department, not a {role}")
    if dept is not None and not DEPARTMENT.fullmatch(dept):
        raise InvalidAccount("department_code", f"department code {dept[:80]!r}: A–Z, 0–9, . _ -")
    return name, shown, role, dept


class PeopleStore:
    def __init__(
        self, engine: AsyncEngine, passwords: Passwords, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.passwords = passwords
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def add(
        self,
        username: str,
        display_name: str,
        role: str,
        *,
        department_code: str | None = None,
        password: str | None = None,
        sso_subject: str | None = None,
    ) -> Account:
        """A new account; `AccountExists` if the name (or the SSO subject) is taken."""
        name, shown, checked_role, dept = check_fields(
            username, display_name, role, department_code
        )
        hashed = None if password is None else await self.passwords.hash(password)
        now = self.now_ms()
        row = {
            "username": name,
            "display_name": shown,
            "role": checked_role,
            "department_code": dept,
            "password_hash": hashed,
            "sso_subject": sso_subject,
            "disabled": False,
            "failed": 0,
            "locked_until_ms": None,
            "created_ms": now,
            "updated_ms": now,
        }
        try:
            async with store_unavailable(), self.engine.begin() as conn:
                await conn.execute(people.insert().values(**row))
        except IntegrityError as exc:
            raise AccountExists(f"an account {name!r} already exists") from exc
        return account_of(row)

    async def get(self, username: str) -> Account | None:
        async with store_unavailable(), self.engine.connect() as conn:
            row = (
                (await conn.execute(select(people).where(people.c.username == username)))
                .mappings()
                .one_or_none()
            )
        return None if row is None else account_of(dict(row))

    async def credentials(self, username: str) -> tuple[Account, str | None] | None:
        """The account and its stored password hash, for a sign-in."""
        async with store_unavailable(), self.engine.connect() as conn:
            query = select(people).where(people.c.username == username)
            row = (await conn.execute(query)).mappings().one_or_none()
        return None if row is None else (account_of(dict(row)), row["password_hash"])

    async def by_sso_subject(self, subject: str) -> Account | None:
        async with store_unavailable(), self.engine.connect() as conn:
            query = select(people).where(people.c.sso_subject == subject)
            row = (await conn.execute(query)).mappings().one_or_none()
        return None if row is None else account_of(dict(row))

    async def list(self) -> list[Account]:
        async with store_unavailable(), self.engine.connect() as conn:
            rows = (await conn.execute(select(people).order_by(people.c.username))).mappings()
            return [account_of(dict(r)) for r in rows]

    async def update_sso(
        self, username: str, display_name: str, role: str, department_code: str | None
    ) -> Account:
        """An SSO account's name, role and department as the provider said at this sign-in."""
        name, shown, checked_role, dept = check_fields(
            username, display_name, role, department_code
        )
        await self._update(
            name, display_name=shown, role=checked_role, department_code=dept, revoke=False
        )
        found = await self.get(name)
        assert found is not None
        return found

    async def disable(self, username: str) -> None:
        """Disable the account and end its sessions (`UnknownAccount` if none)."""
        await self._update(username, disabled=True, revoke=True)

    async def enable(self, username: str) -> None:
        await self._update(username, disabled=False, failed=0, locked_until_ms=None, revoke=False)

    async def reset_password(self, username: str, password: str) -> None:
        """A new password; unlocks the account and ends its sessions."""
        hashed = await self.passwords.hash(password)
        await self._update(
            username, password_hash=hashed, failed=0, locked_until_ms=None, revoke=True
        )

    async def rehash(self, username: str, password: str) -> None:
        """Store `password` hashed with today's parameters (after a successful check)."""
        await self._update(
            username, password_hash=await self.passwords.hash(password), revoke=False
        )

    async def count_failure(self, username: str, failures: int, lockout_ms: int) -> int | None:
        """One more wrong password; the lock's end once `failures` are reached in a row."""
        now = self.now_ms()
        async with store_unavailable(), self.engine.begin() as conn:
            row = (
                await conn.execute(
                    update(people)
                    .where(people.c.username == username)
                    .values(failed=people.c.failed + 1, updated_ms=now)
                    .returning(people.c.failed)
                )
            ).one_or_none()
            if row is None or int(row.failed) < failures:
                return None
            until = now + lockout_ms
            await conn.execute(
                update(people)
                .where(people.c.username == username)
                .values(failed=0, locked_until_ms=until)
            )
            return until

    async def clear_failures(self, username: str) -> None:
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(
                update(people)
                .where(people.c.username == username, people.c.failed != 0)
                .values(failed=0)
            )

    async def _update(self, username: str, *, revoke: bool, **values: Any) -> None:
        async with store_unavailable(), self.engine.begin() as conn:
            result = await conn.execute(
                update(people)
                .where(people.c.username == username)
                .values(updated_ms=self.now_ms(), **values)
            )
            if result.rowcount == 0:
                raise UnknownAccount(f"no account {username[:80]!r}")
            if revoke:
                await conn.execute(
                    delete(console_sessions).where(console_sessions.c.username == username)
                )


def account_of(row: dict[str, Any]) -> Account:
    return Account(
        username=row["username"],
        display_name=row["display_name"],
        role=cast(Role, row["role"]),
        department_code=row["department_code"],
        disabled=bool(row["disabled"]),
        failed=int(row["failed"]),
        locked_until_ms=row["locked_until_ms"],
        has_password=row["password_hash"] is not None,
        sso_subject=row["sso_subject"],
        created_ms=int(row["created_ms"]),
    )
