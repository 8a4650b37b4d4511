"""What request verification asks of the members store, remembered for a moment.

Every signed request needs its key, its member and the member's grants: three queries, the
same for every request of a window system. `MemberCache` keeps the answers `ttl_s` seconds
(1 s by default, `gateway.member_cache_s`). A change made through this process's
`MembersStore` (revoking a key, adding a grant) clears it at once; one made by another process
(`govgate members revoke`, another worker) takes effect within `ttl_s`. Unknown keys are not
remembered, so a key registered a moment ago works at once, and a flood of made-up key ids
cannot fill the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gateway.members.store import Grant, Member, MembersStore
from gateway.signatures import KnownKey

MAX_ENTRIES = 4096
Value = TypeVar("Value")


class MemberCache:
    def __init__(
        self,
        store: MembersStore,
        ttl_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, asyncio.Future[Any]]] = {}
        self._generation = store.generation

    async def known_key(self, keyid: str) -> KnownKey | None:
        """`MembersStore.known_key`, remembered while the key is known."""
        return await self._get(("key", keyid), lambda: self.store.known_key(keyid))

    async def member(self, member_id: str) -> Member:
        return await self._get(("member", member_id), lambda: self.store.get_member(member_id))

    async def grants(self, member_id: str) -> tuple[Grant, ...]:
        async def fetch() -> tuple[Grant, ...]:
            return tuple(await self.store.grants_for(member_id))

        return await self._get(("grants", member_id), fetch)

    async def _get(self, key: tuple[str, str], fetch: Callable[[], Awaitable[Value]]) -> Value:
        if self.ttl_s <= 0:
            return await fetch()
        now = self.clock()
        if self._generation != self.store.generation:  # changed through this process
            self._entries.clear()
            self._generation = self.store.generation
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return await found[1]  # type: ignore[no-any-return]
        # Requests that miss together share one query: the future is cached, not the value.
        future: asyncio.Future[Value] = asyncio.get_running_loop().create_future()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + self.ttl_s, future)
        try:
            value = await fetch()
        except asyncio.CancelledError:
            self._entries.pop(key, None)
            future.cancel()
            raise
        except Exception as exc:
            self._entries.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        if value is None:  # unknown keys are not remembered
            self._entries.pop(key, None)
        future.set_result(value)
        return value
