"""Grants and members (授权与成员) as a person sees them: who may see what, for which item and
until when; the members, their public keys and when those expire.

Filtered to the person's role, deny by default: the bureau's operators, supervisors, auditors
and read-only people see every grant and member; an officer sees the grants on its department's
resources and the grants to its department's members, and its department's members with their
keys; any other role nothing. Each grant says which changes the person may make to it
(`acting.grant_changes`), so a page offers only those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.governance.acting import OFFICER, Acting, grant_changes, officer_of
from gateway.governance.errors import NotForYourRole
from gateway.governance.grants import GrantBook, GrantRecord
from gateway.members.store import Member, MemberKey, MembersStore

READERS = ("operator", "officer", "supervisor", "auditor", "readonly")
DAY_MS = 86_400_000
SOON_DAYS = 30  # a key or grant that ends within this many days is flagged (即将到期)
MAX_PAGE = 200


@dataclass(frozen=True)
class GrantView:
    grant: GrantRecord
    consumer_name: str | None
    consumer_department: str | None
    state: str  # the status, or EXPIRED once an ACTIVE grant is past its expiry
    days_left: int | None  # whole days until expiry; None without one
    expiring_soon: bool
    may: tuple[str, ...]  # the changes the person may make: suspend, reinstate, revoke


@dataclass(frozen=True)
class KeyView:
    key: MemberKey
    state: str  # active, expiring, expired, revoked, not yet valid
    days_left: int | None


@dataclass(frozen=True)
class MemberView:
    member: Member
    keys: tuple[KeyView, ...]
    active_grants: int


def _check(person: Acting) -> str | None:
    """The officer's department (None for the roles that see everything)."""
    if person.role not in READERS:
        raise NotForYourRole(f"role {person.role!r}: may not see grants and members")
    if person.role != OFFICER:
        return None
    department = officer_of(person)
    if department is None:
        raise NotForYourRole("role 'officer': bound to no department, sees nothing")
    return department


def _days_left(until_ms: int | None, now_ms: int) -> int | None:
    return None if until_ms is None else (until_ms - now_ms) // DAY_MS


def key_view(key: MemberKey, now: dt.datetime) -> KeyView:
    reason = key.inactive_reason(now)
    until = None if key.not_after is None else int(key.not_after.timestamp() * 1000)
    days = _days_left(until, int(now.timestamp() * 1000))
    state = reason or ("expiring" if days is not None and days < SOON_DAYS else "active")
    return KeyView(key, state, days)


class Roster:
    def __init__(self, grants: GrantBook, members: MembersStore) -> None:
        self.grants, self.members = grants, members

    async def _members(self) -> dict[str, Member]:
        return {m.member_id: m for m in await self.members.list_members()}

    async def grant_views(
        self,
        person: Acting,
        now: dt.datetime,
        *,
        member_id: str | None = None,
        state: str | None = None,
        resource: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[GrantView], int]:
        """One page of the grants `person` may see (filtered), and how many match in all."""
        views = [
            v
            for v in await self._visible(person, now)
            if (member_id is None or v.grant.member_id == member_id)
            and (not resource or resource in (v.grant.code, v.grant.provider_code))
            and (state is None or v.state == state)
        ]
        limit = max(1, min(limit, MAX_PAGE))
        return views[offset : offset + limit], len(views)

    async def grant(self, person: Acting, grant_id: str, now: dt.datetime) -> GrantView | None:
        """One grant the person may see, or None."""
        return next(
            (v for v in await self._visible(person, now) if v.grant.grant_id == grant_id), None
        )

    async def _visible(self, person: Acting, now: dt.datetime) -> list[GrantView]:
        department = _check(person)
        known = await self._members()
        now_ms = int(now.timestamp() * 1000)
        views = []
        for g in await self.grants.all():
            consumer = known.get(g.member_id)
            consumer_department = None if consumer is None else consumer.department
            if department is not None and department not in (
                g.provider_code,
                consumer_department,
            ):
                continue
            expired = g.expires_ms is not None and g.expires_ms <= now_ms
            shown = "EXPIRED" if g.status == "ACTIVE" and expired else g.status
            days = _days_left(g.expires_ms, now_ms)
            views.append(
                GrantView(
                    grant=g,
                    consumer_name=None if consumer is None else consumer.name,
                    consumer_department=consumer_department,
                    state=shown,
                    days_left=days,
                    expiring_soon=shown == "ACTIVE" and days is not None and days < SOON_DAYS,
                    may=() if shown == "EXPIRED" else grant_changes(person, g),
                )
            )
        return views

    async def member_views(self, person: Acting, now: dt.datetime) -> list[MemberView]:
        """The members `person` may see, with their keys' expiry and how many grants are in
        force for each."""
        department = _check(person)
        now_ms = int(now.timestamp() * 1000)
        active: dict[str, int] = {}
        for g in await self.grants.all():
            if g.status == "ACTIVE" and (g.expires_ms is None or g.expires_ms > now_ms):
                active[g.member_id] = active.get(g.member_id, 0) + 1
        views = []
        for m in await self.members.list_members():
            if department is not None and m.department != department:
                continue
            keys = tuple(key_view(k, now) for k in await self.members.keys_of(m.member_id))
            views.append(MemberView(m, keys, active.get(m.member_id, 0)))
        return views
