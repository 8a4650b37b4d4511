"""Subscriptions and their delivery state in the gateway's database.

Members see only their own rows: every read and change by a member is filtered on its id, so
another member's subscription id answers exactly like one that does not exist.

Deliverers coordinate through the row alone, on SQLite and PostgreSQL alike: a worker claims a
due subscription with a conditional UPDATE (no owner, or the owner's lease expired) and every
later write of delivery state is conditional on still owning it. A worker that lost its lease
therefore cannot move the position; the new owner re-reads from the saved position.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.feeds import Filter
from gateway.log.base import Position
from gateway.members.tables import members
from gateway.store.errors import store_unavailable
from gateway.webhooks.tables import subscriptions as t

State = Literal["active", "paused"]
ERROR_CHARS = 200


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    member_id: str
    stream: str
    target_url: str
    filter: Filter
    state: State
    paused_reason: str | None
    position: Position
    delivered: int
    failures: int
    last_error: str | None
    last_error_ms: int | None
    last_delivered_ms: int | None
    next_attempt_ms: int
    created_ms: int


def _position(text: str) -> Position:
    return {int(p): int(o) for p, o in json.loads(text).items()}


def _position_text(position: Position) -> str:
    return json.dumps({str(p): o for p, o in sorted(position.items())})


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        member_id=row.member_id,
        stream=row.stream,
        target_url=row.target_url,
        filter=Filter(row.department_code, row.region_code, row.item_code),
        state=row.state,
        paused_reason=row.paused_reason,
        position=_position(row.position),
        delivered=row.delivered,
        failures=row.failures,
        last_error=row.last_error,
        last_error_ms=row.last_error_ms,
        last_delivered_ms=row.last_delivered_ms,
        next_attempt_ms=row.next_attempt_ms,
        created_ms=row.created_ms,
    )


class SubscriptionStore:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- what members do ---------------------------------------------------------------------

    async def create(
        self, member_id: str, stream: str, target_url: str, where: Filter, start: Position
    ) -> Subscription:
        now = self.now_ms()
        values = {
            "subscription_id": str(uuid.uuid4()),
            "member_id": member_id,
            "stream": stream,
            "target_url": target_url,
            "department_code": where.department_code,
            "region_code": where.region_code,
            "item_code": where.item_code,
            "state": "active",
            "paused_reason": None,
            "position": _position_text(start),
            "delivered": 0,
            "failures": 0,
            "next_attempt_ms": now,
            "created_ms": now,
        }
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(t.insert().values(values))
            query = select(t).where(t.c.subscription_id == values["subscription_id"])
            row = (await conn.execute(query)).one()
        return _subscription(row)

    async def count(self, member_id: str) -> int:
        async with store_unavailable(), self.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count()).select_from(t).where(t.c.member_id == member_id)
            )
        return int(found or 0)

    async def of_member(self, member_id: str | None) -> list[Subscription]:
        """The member's subscriptions, oldest first (None: every member's, for operators)."""
        query = select(t).order_by(t.c.created_ms, t.c.subscription_id)
        if member_id is not None:
            query = query.where(t.c.member_id == member_id)
        async with store_unavailable(), self.engine.connect() as conn:
            return [_subscription(row) for row in await conn.execute(query)]

    async def get(self, member_id: str | None, subscription_id: str) -> Subscription | None:
        """The subscription if `member_id` owns it (None: whoever owns it)."""
        query = select(t).where(t.c.subscription_id == subscription_id)
        if member_id is not None:
            query = query.where(t.c.member_id == member_id)
        async with store_unavailable(), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _subscription(row)

    async def delete(self, member_id: str, subscription_id: str) -> bool:
        async with store_unavailable(), self.engine.begin() as conn:
            done = await conn.execute(
                delete(t).where(t.c.subscription_id == subscription_id, t.c.member_id == member_id)
            )
        return done.rowcount == 1

    async def pause(self, member_id: str, subscription_id: str) -> Subscription | None:
        values = {"state": "paused", "paused_reason": "requested"}
        return await self._change(member_id, subscription_id, state="active", values=values)

    async def resume(self, member_id: str, subscription_id: str) -> Subscription | None:
        """Active again from where it stopped; the failure count starts afresh."""
        values = {
            "state": "active",
            "paused_reason": None,
            "failures": 0,
            "next_attempt_ms": self.now_ms(),
        }
        return await self._change(member_id, subscription_id, state="paused", values=values)

    async def _change(
        self, member_id: str, subscription_id: str, *, state: State, values: dict[str, Any]
    ) -> Subscription | None:
        mine = and_(t.c.subscription_id == subscription_id, t.c.member_id == member_id)
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(update(t).where(mine, t.c.state == state).values(**values))
            row = (await conn.execute(select(t).where(mine))).first()
        return None if row is None else _subscription(row)

    # -- what deliverers do ------------------------------------------------------------------

    async def due(self, limit: int) -> list[str]:
        """Ids of active subscriptions whose next attempt is due and that nobody holds."""
        now = self.now_ms()
        query = (
            select(t.c.subscription_id)
            .where(
                t.c.state == "active",
                t.c.next_attempt_ms <= now,
                self._free(now),
                self._member_may_receive(),
            )
            .order_by(t.c.next_attempt_ms)
            .limit(limit)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    @staticmethod
    def _free(now: int) -> Any:
        return or_(t.c.lease_owner.is_(None), t.c.lease_until_ms < now)

    @staticmethod
    def _member_may_receive() -> Any:
        """The owner is not revoked and still has the subscriber role: data goes to no one else."""
        return exists().where(
            members.c.member_id == t.c.member_id,
            members.c.revoked_ms.is_(None),
            members.c.roles.like("%subscriber%"),  # sorted role names; none else contains it
        )

    async def claim(self, subscription_id: str, owner: str, lease_ms: int) -> Subscription | None:
        """Take the subscription for `owner` if it is due and free; None if someone was first."""
        now = self.now_ms()
        claim = (
            update(t)
            .where(
                t.c.subscription_id == subscription_id,
                t.c.state == "active",
                t.c.next_attempt_ms <= now,
                self._free(now),
                self._member_may_receive(),
            )
            .values(lease_owner=owner, lease_until_ms=now + lease_ms)
        )
        async with store_unavailable(), self.engine.begin() as conn:
            if (await conn.execute(claim)).rowcount != 1:
                return None
            query = select(t).where(t.c.subscription_id == subscription_id)
            row = (await conn.execute(query)).one()
        return _subscription(row)

    async def renew(self, subscription_id: str, owner: str, lease_ms: int) -> bool:
        """Extend the lease; False once the subscription is paused, deleted or taken over, or
        its member revoked or no longer a subscriber."""
        return await self._owned(
            subscription_id, owner, {"lease_until_ms": self.now_ms() + lease_ms}, active=True
        )

    async def advance(
        self, subscription_id: str, owner: str, position: Position, delivered: int
    ) -> bool:
        """Save the position after events the receiver acknowledged; False if no longer ours."""
        values: dict[str, Any] = {"position": _position_text(position), "failures": 0}
        if delivered:
            values["delivered"] = t.c.delivered + delivered
            values["last_delivered_ms"] = self.now_ms()
        return await self._owned(subscription_id, owner, values)

    async def fail(
        self, subscription_id: str, owner: str, error: str, retry_in_ms: int, max_failures: int
    ) -> Subscription | None:
        """Count a failed attempt, schedule the retry and let go of the lease; pause the
        subscription on its `max_failures`-th consecutive failure."""
        now = self.now_ms()
        failures = t.c.failures + 1
        values = {
            "failures": failures,
            "last_error": error[:ERROR_CHARS],
            "last_error_ms": now,
            "next_attempt_ms": now + retry_in_ms,
            "lease_owner": None,
            "lease_until_ms": None,
            "state": _case_paused(failures >= max_failures, "paused", t.c.state),
            "paused_reason": _case_paused(failures >= max_failures, "failing", t.c.paused_reason),
        }
        if not await self._owned(subscription_id, owner, values):
            return None
        return await self.get(None, subscription_id)

    async def refuse(self, subscription_id: str, owner: str, reason: str) -> bool:
        """Pause the subscription (`not_allowed`): its target no longer passes the allowed
        hosts or networks. Its position is kept; `resume` tries again (and checks again)."""
        values = {
            "state": "paused",
            "paused_reason": "not_allowed",
            "last_error": reason[:ERROR_CHARS],
            "last_error_ms": self.now_ms(),
            "lease_owner": None,
            "lease_until_ms": None,
        }
        return await self._owned(subscription_id, owner, values)

    async def release(self, owner: str, subscription_id: str | None = None) -> None:
        """Let go of one lease, or of every lease `owner` holds (a stopping deliverer)."""
        query = update(t).where(t.c.lease_owner == owner)
        if subscription_id is not None:
            query = query.where(t.c.subscription_id == subscription_id)
        async with store_unavailable(), self.engine.begin() as conn:
            await conn.execute(query.values(lease_owner=None, lease_until_ms=None))

    async def _owned(
        self, subscription_id: str, owner: str, values: dict[str, Any], *, active: bool = False
    ) -> bool:
        query = update(t).where(t.c.subscription_id == subscription_id, t.c.lease_owner == owner)
        if active:
            query = query.where(t.c.state == "active", self._member_may_receive())
        async with store_unavailable(), self.engine.begin() as conn:
            return (await conn.execute(query.values(**values))).rowcount == 1


def _case_paused(condition: Any, then: str, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)
