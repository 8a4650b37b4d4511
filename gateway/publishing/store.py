"""Publish scopes and published event ids in the gateway's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.members.errors import UnknownMember
from gateway.members.tables import members
from gateway.publishing.errors import EventIdConflict
from gateway.publishing.scopes import PublishScope
from gateway.publishing.tables import publish_scopes, published_events
from gateway.store.engine import upsert_insert
from gateway.store.errors import store_unavailable


class PublishingStore:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._insert = upsert_insert(engine)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def register(self, member_id: str, scopes: Iterable[PublishScope]) -> None:
        """Register `member_id` (which must exist) to publish `scopes`; registering twice is
        harmless."""
        rows = [
            {
                "member_id": member_id,
                "kind": s.kind,
                "code": s.code,
                "source_system": s.source_system,
                "created_ms": self._now_ms(),
            }
            for s in scopes
        ]
        async with store_unavailable(), self.engine.begin() as conn:
            found = await conn.scalar(
                select(members.c.member_id).where(members.c.member_id == member_id)
            )
            if found is None:
                raise UnknownMember(member_id)
            if rows:
                await conn.execute(self._insert(publish_scopes).on_conflict_do_nothing(), rows)

    async def unregister(self, member_id: str, scopes: Iterable[PublishScope]) -> int:
        """Withdraw scopes; how many there were."""
        removed = 0
        async with store_unavailable(), self.engine.begin() as conn:
            for s in scopes:
                result = await conn.execute(
                    delete(publish_scopes).where(
                        publish_scopes.c.member_id == member_id,
                        publish_scopes.c.kind == s.kind,
                        publish_scopes.c.code == s.code,
                        publish_scopes.c.source_system == s.source_system,
                    )
                )
                removed += result.rowcount or 0
        return removed

    async def scopes_of(self, member_id: str) -> list[PublishScope]:
        query = select(publish_scopes).where(publish_scopes.c.member_id == member_id)
        async with store_unavailable(), self.engine.connect() as conn:
            rows = list(await conn.execute(query))
        return sorted(PublishScope(r.kind, r.code, r.source_system) for r in rows)

    async def all_scopes(self) -> dict[str, list[PublishScope]]:
        """Every member's scopes, by member (for `govgate members list`)."""
        async with store_unavailable(), self.engine.connect() as conn:
            rows = list(await conn.execute(select(publish_scopes)))
        found: dict[str, list[PublishScope]] = {}
        for r in rows:
            found.setdefault(r.member_id, []).append(PublishScope(r.kind, r.code, r.source_system))
        return {m: sorted(s) for m, s in found.items()}

    async def claim_event(
        self, event_id: str, stream: str, content_sha256: str, member_id: str
    ) -> None:
        """Note that `event_id` stands for this content; EVENT_ID_CONFLICT if it already
        stands for other content. The same content again is fine (a retry)."""
        row = {
            "event_id": event_id,
            "stream": stream,
            "content_sha256": content_sha256,
            "member_id": member_id,
            "created_ms": self._now_ms(),
        }
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(self._insert(published_events).on_conflict_do_nothing(), [row])
            found = await conn.scalar(
                select(published_events.c.content_sha256).where(
                    published_events.c.event_id == event_id
                )
            )
        if found != content_sha256:
            raise EventIdConflict(
                f"event_id {event_id}: published before with other content; a changed record "
                "is a new version with its own event id"
            )
