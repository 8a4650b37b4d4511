"""Password hashes: argon2id (RFC 9106) through argon2-cffi, checked off the event loop.

Each check takes about 64 MiB and tens of milliseconds of one core, on purpose. A semaphore
lets at most `concurrency` run at once per process, so a flood of sign-in attempts waits in
line instead of taking memory without bound.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.people.errors import InvalidAccount

_HASHER = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4: RFC 9106's second recommendation
# A hash to check against when the account does not exist, so that a wrong name takes as
# long to refuse as a wrong password.
_DUMMY = _HASHER.hash("no such account: the time of a wrong password")


class Passwords:
    def __init__(self, *, min_length: int = 12, concurrency: int = 2) -> None:
        self.min_length = min_length
        self._slots = asyncio.Semaphore(concurrency)

    def check_policy(self, password: str) -> None:
        """`InvalidAccount` (field `password`) unless the password is long enough."""
        if len(password) < self.min_length:
            raise InvalidAccount(
                "password", f"the password must have at least {self.min_length} characters"
            )
        if password.strip() != password or "\x00" in password:
            raise InvalidAccount("password", "the password must not begin or end with spaces")

    async def hash(self, password: str) -> str:
        self.check_policy(password)
        async with self._slots:
            return await asyncio.to_thread(_HASHER.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored` (None: check a dummy, and say no)."""
        async with self._slots:
            return await asyncio.to_thread(_verify, stored, password)

    @staticmethod
    def needs_rehash(stored: str) -> bool:
        return _HASHER.check_needs_rehash(stored)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
