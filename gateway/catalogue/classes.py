"""The catalogue's sharing classes as the policy asks for them on every lookup: remembered for
a moment (`gateway.member_cache_s`, as grants are), so a lookup costs no extra query, and a
publication reaches every worker within that time (at once in the process that published)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from sqlalchemy import select

from gateway.catalogue.entries import stricter
from gateway.catalogue.store import CatalogueStore
from gateway.catalogue.tables import catalogue_codes, catalogue_heads
from gateway.store.errors import store_unavailable

Classes = Mapping[tuple[str, str], str]  # (kind, record code) → the strictest class listed


class SharingClasses:
    def __init__(
        self,
        store: CatalogueStore,
        ttl_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.ttl_s, self.clock = store, ttl_s, clock
        self._classes: Classes = {}
        self._until = float("-inf")

    def forget(self) -> None:
        self._until = float("-inf")

    async def current(self) -> Classes:
        now = self.clock()
        if now < self._until:
            return self._classes
        query = select(
            catalogue_codes.c.kind, catalogue_codes.c.record_code, catalogue_heads.c.sharing_class
        ).join(catalogue_heads, catalogue_heads.c.code == catalogue_codes.c.code)
        found: dict[tuple[str, str], str] = {}
        async with store_unavailable(), self.store.engine.connect() as conn:
            for kind, code, sharing in await conn.execute(query):
                found[(kind, code)] = stricter(sharing, found.get((kind, code)))
        self._classes, self._until = found, now + self.ttl_s
        return found
