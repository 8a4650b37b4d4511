"""Signing in with a password (`SignIn`): the lockout, and what a failure costs.

A wrong password for an account counts against it; `failures` in a row lock it for
`lockout_s` (the lock is the one audited row: a person's account was attacked or forgotten).
Failures for names that have no account are tallied (gateway.audit.refusals), never written
one row each, and answered exactly like a wrong password, locks included: a bounded
in-memory table counts them per name, so that probing names shows no difference between a
name that exists and one that does not.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.people.accounts import PeopleStore
from gateway.people.errors import AccountDisabled, AccountLocked, SignInRefused
from gateway.people.person import Person

UNKNOWN_NAMES_KEPT = 10_000  # names without an account whose failures are counted


class SignIn:
    def __init__(
        self,
        accounts: PeopleStore,
        *,
        failures: int,
        lockout_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.accounts = accounts
        self.failures = failures
        self.lockout_ms = lockout_s * 1000
        self.clock = clock
        self._unknown: OrderedDict[str, tuple[int, int]] = OrderedDict()  # name: (failed, until)

    async def password(self, username: str, password: str) -> Person:
        """The person, or `SignInRefused` (saying whether the name is an account's and whether
        this attempt locked it), `AccountLocked`, `AccountDisabled`."""
        name = username.strip().lower()[:64]
        now = int(self.clock() * 1000)
        found = await self.accounts.credentials(name) if name else None
        if found is None:
            await self.accounts.passwords.verify(None, password)  # the same time as a miss
            raise self._unknown_failure(name, now)
        account, stored = found
        if account.locked(now):
            raise _locked(account.username, account.locked_until_ms or now)
        if not await self.accounts.passwords.verify(stored, password):
            until = await self.accounts.count_failure(name, self.failures, self.lockout_ms)
            raise SignInRefused(name, known=True, locked_until_ms=until)
        if account.disabled:
            raise AccountDisabled(f"the account {name!r} is disabled")
        if account.failed:
            await self.accounts.clear_failures(name)
        if stored is not None and self.accounts.passwords.needs_rehash(stored):
            await self.accounts.rehash(name, password)
        return account.person()

    def _unknown_failure(self, name: str, now: int) -> SignInRefused | AccountLocked:
        failed, until = self._unknown.pop(name, (0, 0))
        if until > now:
            self._unknown[name] = (0, until)
            return _locked(name, until)
        failed += 1
        locked = now + self.lockout_ms if failed >= self.failures else None
        self._unknown[name] = (0, locked) if locked else (failed, 0)
        while len(self._unknown) > UNKNOWN_NAMES_KEPT:
            self._unknown.popitem(last=False)
        return SignInRefused(name, known=False, locked_until_ms=locked)


def _locked(name: str, until: int) -> AccountLocked:
    return AccountLocked(f"{name!r} is locked after repeated wrong passwords", until)
