"""The subscriber's own state (监察状态库): cases, cards raised, and where it has read up to.

A separate database from the gateway's (SQLite under the data dir by default, any SQLAlchemy
URL otherwise), as an e-supervision system would keep its own. Cases, new cards and the source
position are written in one transaction, so a restart resumes exactly where the state is: no
event applied twice, none lost. Cards double as an outbox: each is stored with its encoded
SupervisionAlert and marked published once the log has acknowledged it.

The tables are created on open (``create_all``): they belong to this subscriber alone and
hold a projection that can be rebuilt by replaying the log into an empty database.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.log import OutRecord
from gateway.store import make_engine, upsert_insert
from gateway.store.errors import unavailable_as
from gateway.supervision.cases import CaseFile, StageAt
from gateway.supervision.clock import Card, LimitUnit, Stage
from gateway.supervision.errors import StateUnavailable
from schemas.codec import EncodedEvent

metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s", "ix": "ix_%(column_0_label)s"})

sv_cases = Table(
    "sv_cases",
    metadata,
    Column("case_no", String(64), primary_key=True),
    Column("department_code", String(64), nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("accepted_ms", BigInteger, nullable=True),  # clock start; null: never started
    Column("ended_ms", BigInteger, nullable=True),  # 办结 or 退回/撤回
    Column("checked", Boolean, nullable=False),  # cards evaluated since the last event
    Column("data", Text, nullable=False),  # CaseFile as JSON
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_sv_cases_open", "closed", "accepted_ms"),
)

sv_cards = Table(
    "sv_cards",
    metadata,
    Column("case_no", String(64), primary_key=True),
    Column("card", String(8), primary_key=True),
    Column("limit_days", Integer, nullable=False),
    Column("crossed_on", String(10), nullable=False),  # ISO date, Asia/Shanghai
    Column("raised_ms", BigInteger, nullable=False),
    Column("line", Text, nullable=False),  # what the operator was shown
    Column("record_key", LargeBinary, nullable=False),
    Column("value", LargeBinary, nullable=False),  # the encoded SupervisionAlert
    Column("headers", Text, nullable=False),
    Column("published", Boolean, nullable=False),
    Index("ix_sv_cards_unpublished", "published"),
)

sv_positions = Table(
    "sv_positions",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("position", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class NewCard:
    """A card to store: which case, which card, and its encoded alert."""

    case_no: str
    card: Card
    limit: int
    crossed_on: dt.date
    raised_at: dt.datetime
    line: str
    alert: EncodedEvent


class SupervisionState:
    """Reads and writes the state tables; every public method is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = upsert_insert(engine)

    async def create(self) -> None:
        async with _translated(), self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def position(self, source: str) -> str | None:
        query = select(sv_positions.c.position).where(sv_positions.c.source == source)
        async with _translated(), self.engine.connect() as conn:
            found = await conn.scalar(query)
        return None if found is None else str(found)

    async def cases(self, case_nos: Iterable[str]) -> dict[str, CaseFile]:
        wanted = sorted(set(case_nos))
        if not wanted:
            return {}
        query = select(sv_cases.c.data).where(sv_cases.c.case_no.in_(wanted))
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        return {c.case_no: c for c in (case_from_json(r) for r in rows)}

    async def to_check(self) -> list[CaseFile]:
        """Cases to evaluate: open ones with a running clock, and any changed since last time."""
        query = (
            select(sv_cases.c.data)
            .where(
                or_(
                    sv_cases.c.checked.is_(False),
                    and_(sv_cases.c.closed.is_(False), sv_cases.c.accepted_ms.is_not(None)),
                )
            )
            .order_by(sv_cases.c.case_no)
        )
        async with _translated(), self.engine.connect() as conn:
            return [case_from_json(r) for r in (await conn.execute(query)).scalars()]

    async def cases_between(self, start: dt.datetime, end: dt.datetime) -> list[CaseFile]:
        """Cases whose clock ran, or that ended, at some time in ``[start, end)``."""
        start_ms, end_ms = _ms(start), _ms(end)
        query = (
            select(sv_cases.c.data)
            .where(
                or_(
                    and_(
                        sv_cases.c.accepted_ms < end_ms,
                        or_(sv_cases.c.ended_ms.is_(None), sv_cases.c.ended_ms >= start_ms),
                    ),
                    # seen only when it ended (no clock): counts if it ended in the window
                    and_(
                        sv_cases.c.accepted_ms.is_(None),
                        sv_cases.c.ended_ms >= start_ms,
                        sv_cases.c.ended_ms < end_ms,
                    ),
                )
            )
            .order_by(sv_cases.c.case_no)
        )
        async with _translated(), self.engine.connect() as conn:
            return [case_from_json(r) for r in (await conn.execute(query)).scalars()]

    async def raised(self, case_nos: Iterable[str]) -> set[tuple[str, Card]]:
        wanted = sorted(set(case_nos))
        if not wanted:
            return set()
        query = select(sv_cards.c.case_no, sv_cards.c.card).where(sv_cards.c.case_no.in_(wanted))
        async with _translated(), self.engine.connect() as conn:
            return {(r.case_no, Card(r.card)) for r in await conn.execute(query)}

    async def save(
        self,
        cases: Sequence[CaseFile],
        cards: Sequence[NewCard],
        source: str | None = None,
        position: str | None = None,
        *,
        checked: Iterable[str] = (),
    ) -> None:
        """Cases (changed: to be checked), new cards, the cases now ``checked``, and the
        source's position, all or nothing."""
        now = int(time.time() * 1000)
        async with _translated(), self.engine.begin() as conn:
            for case in cases:
                await self._save_case(conn, case, now)
            if done := sorted(set(checked)):
                await conn.execute(
                    update(sv_cases).where(sv_cases.c.case_no.in_(done)).values(checked=True)
                )
            for card in cards:
                await conn.execute(
                    self._insert(sv_cards)
                    .values(
                        case_no=card.case_no,
                        card=str(card.card),
                        limit_days=card.limit,
                        crossed_on=card.crossed_on.isoformat(),
                        raised_ms=_ms(card.raised_at),
                        line=card.line,
                        record_key=card.alert.key,
                        value=card.alert.value,
                        headers=json.dumps([[k, v.decode()] for k, v in card.alert.headers]),
                        published=False,
                    )
                    .on_conflict_do_nothing(index_elements=["case_no", "card"])
                )
            if source is not None and position is not None:
                await conn.execute(
                    self._insert(sv_positions)
                    .values(source=source, position=position, updated_ms=now)
                    .on_conflict_do_update(
                        index_elements=["source"], set_={"position": position, "updated_ms": now}
                    )
                )

    async def unpublished(self, limit: int = 500) -> list[tuple[str, str, OutRecord]]:
        """Cards not yet on the log, oldest first: (case_no, card, record to append)."""
        query = (
            select(sv_cards)
            .where(sv_cards.c.published.is_(False))
            .order_by(sv_cards.c.raised_ms, sv_cards.c.crossed_on, sv_cards.c.case_no)
            .limit(limit)
        )
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            (
                r.case_no,
                r.card,
                OutRecord(
                    r.record_key, r.value, [(k, v.encode()) for k, v in json.loads(r.headers)]
                ),
            )
            for r in rows
        ]

    async def mark_published(self, keys: Iterable[tuple[str, str]]) -> None:
        async with _translated(), self.engine.begin() as conn:
            for case_no, card in keys:
                await conn.execute(
                    update(sv_cards)
                    .where(and_(sv_cards.c.case_no == case_no, sv_cards.c.card == card))
                    .values(published=True)
                )

    async def _save_case(self, conn: AsyncConnection, case: CaseFile, now: int) -> None:
        accepted, ended = case.accepted, case.ended
        values: dict[str, Any] = {
            "department_code": case.department_code,
            "closed": ended is not None,
            "accepted_ms": None if accepted is None else _ms(accepted.at),
            "ended_ms": None if ended is None else _ms(ended.at),
            "checked": False,
            "data": case_to_json(case),
            "updated_ms": now,
        }
        await conn.execute(
            self._insert(sv_cases)
            .values(case_no=case.case_no, **values)
            .on_conflict_do_update(index_elements=["case_no"], set_=values)
        )


@asynccontextmanager
async def open_state(url: str) -> AsyncIterator[SupervisionState]:
    """The state database at ``url``, its tables created; disposed on exit."""
    engine = make_engine(url, pool_size=2)
    try:
        state = SupervisionState(engine)
        await state.create()
        yield state
    finally:
        await engine.dispose()


def case_to_json(case: CaseFile) -> str:
    return json.dumps(
        {
            "case_no": case.case_no,
            "item_code": case.item_code,
            "item_name": case.item_name,
            "department_code": case.department_code,
            "department_name": case.department_name,
            "region_code": case.region_code,
            "limit_unit": str(case.limit_unit),
            "promised_limit": case.promised_limit,
            "statutory_limit": case.statutory_limit,
            "stages": [
                [s.event_id, str(s.stage), s.at.isoformat(), s.channel, s.visits]
                for s in case.stages
            ],
        },
        ensure_ascii=False,
    )


def case_from_json(text: str) -> CaseFile:
    raw = json.loads(text)
    stages = [
        # [id, stage, at] before channel and visits were kept, [id, stage, at, channel, visits]
        StageAt(i, Stage(s), dt.datetime.fromisoformat(at), *rest)
        for i, s, at, *rest in raw.pop("stages")
    ]
    raw["limit_unit"] = LimitUnit(raw["limit_unit"])
    return CaseFile(**raw, stages=stages)


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _translated() -> AbstractAsyncContextManager[None]:
    return unavailable_as(StateUnavailable)
