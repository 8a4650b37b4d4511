"""Console sessions (`SessionStore`): a random token in the person's cookie, its hash here.

A session ends after `idle_s` without a request and in any case `absolute_s` after sign-in
(and when the account is disabled or its password reset). The token never rests in the
database: a copy of the table signs no one in. The CSRF token of a session's forms is derived
from its token (HMAC), so it needs no storage and changes with every sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.people.accounts import account_of
from gateway.people.person import Person
from gateway.people.tables import console_sessions, people
from gateway.store.errors import store_unavailable

TOUCH_EVERY_MS = 60_000  # last_seen is written at most once a minute per session
_MAX_TOKEN = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of the session whose cookie holds `token`."""
    return hmac.new(token.encode("utf-8"), b"govgate-console-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    person: Person
    token: str  # from the cookie; never stored
    created_ms: int
    expires_ms: int

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


class SessionStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        idle_s: int,
        absolute_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.idle_ms = idle_s * 1000
        self.absolute_ms = absolute_s * 1000
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def create(self, person: Person) -> Session:
        """A new session for `person`; sweeps away sessions that have ended."""
        token = secrets.token_urlsafe(32)
        now = self.now_ms()
        expires = now + self.absolute_ms
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(
                delete(console_sessions).where(
                    or_(
                        console_sessions.c.expires_ms <= now,
                        console_sessions.c.last_seen_ms <= now - self.idle_ms,
                    )
                )
            )
            await conn.execute(
                console_sessions.insert().values(
                    token_hash=token_hash(token),
                    username=person.username,
                    created_ms=now,
                    last_seen_ms=now,
                    expires_ms=expires,
                )
            )
        return Session(person, token, now, expires)

    async def resolve(self, token: str) -> Session | None:
        """The live session of `token`, or None (unknown, idle too long, past its end, or its
        account disabled). Notes the request as the session's last use."""
        if not token or len(token) > _MAX_TOKEN:
            return None
        hashed = token_hash(token)
        now = self.now_ms()
        s = console_sessions.c
        query = (
            select(
                people,
                s.created_ms.label("session_created_ms"),
                s.last_seen_ms.label("session_seen_ms"),
                s.expires_ms.label("session_expires_ms"),
            )
            .select_from(console_sessions)
            .join(people, people.c.username == console_sessions.c.username)
            .where(console_sessions.c.token_hash == hashed)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().one_or_none()
        if row is None:
            return None
        seen = int(row["session_seen_ms"])
        ended = row["session_expires_ms"] <= now or seen <= now - self.idle_ms
        if ended or row["disabled"]:
            await self._drop(hashed)
            return None
        if now - seen >= TOUCH_EVERY_MS:
            async with store_unavailable(), self.engine.begin() as conn:
                await conn.execute(
                    update(console_sessions)
                    .where(console_sessions.c.token_hash == hashed)
                    .values(last_seen_ms=now)
                )
        account = account_of(dict(row))
        created, expires = int(row["session_created_ms"]), int(row["session_expires_ms"])
        return Session(account.person(), token, created, expires)

    async def revoke(self, token: str) -> None:
        await self._drop(token_hash(token))

    async def _drop(self, hashed: str) -> None:
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(
                delete(console_sessions).where(console_sessions.c.token_hash == hashed)
            )
