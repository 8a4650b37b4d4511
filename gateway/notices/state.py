"""The router's own state: which licence was routed to which permit, and where it has read to.

It lives in the notices process's database (DATA_DIR/notices.db by default, beside the claim
clocks kept by `gateway.supervision.state`), and is written in one transaction with the read
position, so a restart neither routes a licence twice nor skips one. A licence amended later
(变更登记 with a wider scope) is routed only for the permits it did not call for before.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import Position
from gateway.notices.errors import NoticeStateUnavailable
from gateway.store import upsert_insert
from gateway.store.errors import unavailable_as

metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

nt_routed = Table(
    "nt_routed",
    metadata,
    Column("cert_id", String(128), primary_key=True),
    Column("target", String(64), primary_key=True),  # the rule id, or POOL
    Column("notice_id", String(64), nullable=False),
    Column("routed_ms", BigInteger, nullable=False),
)

nt_positions = Table(
    "nt_positions",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("position", Text, nullable=False),  # JSON {partition: next offset}
    Column("updated_ms", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Routed:
    cert_id: str
    target: str
    notice_id: str


class RouterState:
    """Reads and writes the router's tables; every public method is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = upsert_insert(engine)

    async def create(self) -> None:
        async with _translated(), self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def position(self, source: str) -> Position:
        query = select(nt_positions.c.position).where(nt_positions.c.source == source)
        async with _translated(), self.engine.connect() as conn:
            found = await conn.scalar(query)
        return {} if found is None else {int(p): int(o) for p, o in json.loads(found).items()}

    async def routed(self, cert_ids: Iterable[str]) -> dict[str, set[str]]:
        """The targets each licence was already routed to."""
        wanted = sorted(set(cert_ids))
        if not wanted:
            return {}
        query = select(nt_routed.c.cert_id, nt_routed.c.target).where(
            nt_routed.c.cert_id.in_(wanted)
        )
        found: dict[str, set[str]] = {}
        async with _translated(), self.engine.connect() as conn:
            for cert_id, target in await conn.execute(query):
                found.setdefault(cert_id, set()).add(target)
        return found

    async def save(self, routed: Sequence[Routed], source: str, position: Position) -> None:
        """The licences just routed and the position after them, all or nothing."""
        now = int(time.time() * 1000)
        text = json.dumps({str(p): o for p, o in sorted(position.items())})
        async with _translated(), self.engine.begin() as conn:
            if routed:
                await conn.execute(
                    self._insert(nt_routed).on_conflict_do_nothing(),
                    [
                        {
                            "cert_id": r.cert_id,
                            "target": r.target,
                            "notice_id": r.notice_id,
                            "routed_ms": now,
                        }
                        for r in routed
                    ],
                )
            await conn.execute(
                self._insert(nt_positions)
                .values(source=source, position=text, updated_ms=now)
                .on_conflict_do_update(
                    index_elements=["source"], set_={"position": text, "updated_ms": now}
                )
            )


def _translated() -> AbstractAsyncContextManager[None]:
    return unavailable_as(NoticeStateUnavailable)
