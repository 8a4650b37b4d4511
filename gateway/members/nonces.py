"""Used request nonces (RFC 9421 `nonce`), shared by every gateway worker through the database.

A nonce is accepted once per key: the refusal is a primary-key conflict in the shared
database, so it holds however many gateway workers there are. A nonce is remembered until its
signature could no longer be accepted anyway (`expires_at`); after that its row may be taken
over or purged (at most once per `purge_interval` seconds per process, in passing).

Concurrent requests share one transaction (`gateway.store.group_commit`): one
`INSERT … ON CONFLICT … RETURNING` over the batch's rows tells which nonces were fresh. The
statement is built once and executed with the batch as its parameter sets (SQLAlchemy sends
them as multi-row VALUES, "insertmanyvalues"), so its SQL is compiled once per process, not
once per batch. The same nonce twice in one batch is fresh only the first time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.members.tables import used_nonces
from gateway.store import blocking
from gateway.store.engine import upsert_insert
from gateway.store.errors import store_unavailable
from gateway.store.group_commit import GroupCommit


class _Use(NamedTuple):
    keyid: str
    nonce: str
    expires_ms: int


class NonceStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        purge_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_batch: int = 500,
    ) -> None:
        self.engine = engine
        self.purge_interval = purge_interval
        self.clock = clock
        self._last_purge = float("-inf")
        statement = upsert_insert(engine)(used_nonces)
        self._upsert = statement.on_conflict_do_update(  # an expired row may be taken over
            index_elements=["keyid", "nonce"],
            set_={"expires_ms": statement.excluded.expires_ms},
            where=used_nonces.c.expires_ms < bindparam("now_ms"),
        ).returning(used_nonces.c.keyid, used_nonces.c.nonce)
        self._writer: GroupCommit[_Use, bool] = GroupCommit(
            self._use_batch, name="nonce-writer", max_batch=max_batch
        )

    async def use(self, keyid: str, nonce: str, expires_at: float) -> bool:
        """Record the nonce; False if it was already used (and has not yet expired)."""
        return await self._writer.submit(_Use(keyid, nonce, int(expires_at * 1000)))

    async def close(self) -> None:
        """Write what is queued, then stop the writer; safe twice."""
        await self._writer.close()

    async def _use_batch(self, uses: list[_Use]) -> list[bool]:
        now = self.clock()
        first = {(u.keyid, u.nonce): u for u in reversed(uses)}  # first use of each pair
        now_ms = int(now * 1000)
        rows = [u._asdict() | {"now_ms": now_ms} for u in first.values()]
        upsert = self._upsert
        async with store_unavailable():
            fresh = await blocking.run(
                self.engine,
                lambda conn: {tuple(row) for row in conn.execute(upsert, rows)},
                write=True,
            )
        if now - self._last_purge >= self.purge_interval:
            await self.purge()
        results = []
        for use in uses:
            pair = (use.keyid, use.nonce)
            results.append(pair in fresh and first[pair] is use)
        return results

    async def purge(self) -> int:
        """Delete expired nonces; the number deleted."""
        self._last_purge = now = self.clock()
        async with store_unavailable(), self.engine.begin() as conn:
            result = await conn.execute(
                delete(used_nonces).where(used_nonces.c.expires_ms < int(now * 1000))
            )
        return int(result.rowcount)
