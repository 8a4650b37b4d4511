"""The operations overview (运行总览): figures an operator reads at a glance.

Each figure comes from what the gateway already keeps: the log's end positions and record
timestamps, `connector_status` (as `govgate connect status` shows it), the materializer's
`lag()`, the webhook subscriptions' positions, the audit chain's head. One is approximate
and says so (`Rate.lower_bound`): nothing counts events per minute, so they are counted over
the tail of each stream, a bounded read. Dead letters by code come from the dead-letter index
(gateway.operations.deadletters).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.tables import db_errors, read_head
from gateway.log import EventLog, LogError, Position
from gateway.lookup import Materializer
from gateway.operations.deadletters import DeadLetterIndex
from gateway.operations.errors import OperationsUnavailable
from gateway.store.errors import store_unavailable
from gateway.store.tables import connector_status
from gateway.webhooks.store import Subscription, SubscriptionStore
from schemas.codec import EventCodec

MINUTE_MS = 60_000
DEAD_LETTERS = "dead-letters"


@dataclass(frozen=True)
class Rate:
    """Events appended to one stream in each of the last minutes (oldest first)."""

    stream: str
    per_minute: tuple[int, ...]
    total: int  # records ever appended (the sum of the end offsets)
    lower_bound: bool  # the tail read ended inside the window: there were at least these
    available: bool = True  # False: the log did not answer in time

    @property
    def last_minute(self) -> int:
        return self.per_minute[-1] if self.per_minute else 0

    @property
    def peak(self) -> int:
        return max(self.per_minute, default=0)


@dataclass(frozen=True)
class ConnectorFigures:
    connector: str
    state: str
    records: int
    dead_letters: int
    last_error: str | None
    last_error_ms: int | None
    updated_ms: int


@dataclass(frozen=True)
class DeadLetterCounts:
    by_code: list[tuple[str, int]]  # most first
    by_connector: list[tuple[str, int]]
    indexed: int  # dead letters in the index (a re-delivered one counts once)
    total: int  # records on the dead-letters stream (-1: the log did not answer)


@dataclass(frozen=True)
class WebhookLag:
    subscription_id: str
    member_id: str
    stream: str
    state: str
    paused_reason: str | None
    behind: int  # records on its stream it has not been sent yet
    last_delivered_ms: int | None
    failures: int


def _total(position: Position) -> int:
    return sum(position.values())


async def stream_rates(
    log: EventLog,
    streams: list[str],
    *,
    minutes: int = 10,
    tail: int = 500,
    now_ms: int | None = None,
    timeout_s: float = 3.0,
) -> list[Rate]:
    """Per stream, the events of each of the last `minutes` minutes, from at most `tail`
    newest records per partition (a bounded read, whatever the stream's length)."""
    now = now_ms if now_ms is not None else time.time_ns() // 1_000_000

    async def one(stream: str) -> Rate:
        end = await log.end_position(stream)
        start = {p: max(0, off - tail) for p, off in end.items()}
        counts = [0] * minutes
        oldest: dict[int, int] = {}
        async for record in log.iterate(stream, start):
            oldest.setdefault(record.partition, record.timestamp_ms)
            ago = (now - record.timestamp_ms) // MINUTE_MS
            if 0 <= ago < minutes:
                counts[minutes - 1 - ago] += 1
        window_start = now - minutes * MINUTE_MS
        cut = any(start.get(p, 0) > 0 and ts > window_start for p, ts in oldest.items())
        return Rate(stream, tuple(counts), _total(end), cut)

    async def guarded(stream: str) -> Rate:
        try:
            return await asyncio.wait_for(one(stream), timeout_s)
        except (TimeoutError, LogError):
            return Rate(stream, (), 0, False, available=False)

    return list(await asyncio.gather(*(guarded(s) for s in streams)))


async def connectors(engine: AsyncEngine) -> list[ConnectorFigures]:
    """Each connector's state as it last reported it (the `connector_status` table)."""
    async with store_unavailable(), engine.connect() as conn:
        query = select(connector_status).order_by(connector_status.c.connector)
        rows = (await conn.execute(query)).mappings().all()
    return [
        ConnectorFigures(
            connector=row["connector"],
            state=row["state"],
            records=int(row["records"]),
            dead_letters=int(row["dead_letters"]),
            last_error=row["last_error"],
            last_error_ms=row["last_error_ms"],
            updated_ms=int(row["updated_ms"]),
        )
        for row in rows
    ]


async def dead_letters(
    engine: AsyncEngine,
    log: EventLog,
    codec: EventCodec,
    *,
    refresh_limit: int = 5_000,
    timeout_s: float = 3.0,
) -> DeadLetterCounts:
    """Dead letters by error code and by connector, from the dead-letter index
    (gateway.operations.deadletters), first brought up to date by at most `refresh_limit`
    records (the 死信 page and `govgate deadletters` index the rest)."""
    index = DeadLetterIndex(engine, codec)
    try:
        await asyncio.wait_for(index.refresh(log, limit=refresh_limit), timeout_s)
        total = _total(await log.end_position(DEAD_LETTERS))
    except (TimeoutError, LogError, OperationsUnavailable):
        total = -1
    by_code = await index.tallies()
    by_connector = sorted(await index.connectors(), key=lambda t: (-t[1], t[0]))
    return DeadLetterCounts(by_code, by_connector, sum(n for _, n in by_code), total)


async def materializer_lag(materializer: Materializer | None) -> dict[str, int] | None:
    """Records per stream not yet in the lookup store; None when this process does not
    materialize (`gateway.materialize = false`, or a worker other than worker 0)."""
    if materializer is None:
        return None
    try:
        return await asyncio.wait_for(materializer.lag(), 3.0)
    except (TimeoutError, LogError):
        return None


async def webhook_lags(log: EventLog, subscriptions: SubscriptionStore) -> list[WebhookLag]:
    """Every subscription and how far behind its stream's end it is, furthest first."""
    found = await subscriptions.of_member(None)
    ends: dict[str, Position] = {}
    lags = []
    for sub in found:
        if sub.stream not in ends:
            try:
                ends[sub.stream] = await log.end_position(sub.stream)
            except LogError:
                ends[sub.stream] = {}
        lags.append(_lag(sub, ends[sub.stream]))
    return sorted(lags, key=lambda lag: (-lag.behind, lag.subscription_id))


def _lag(sub: Subscription, end: Position) -> WebhookLag:
    behind = sum(max(0, off - sub.position.get(p, 0)) for p, off in end.items())
    return WebhookLag(
        subscription_id=sub.subscription_id,
        member_id=sub.member_id,
        stream=sub.stream,
        state=sub.state,
        paused_reason=sub.paused_reason,
        behind=behind,
        last_delivered_ms=sub.last_delivered_ms,
        failures=sub.failures,
    )


async def audit_head(engine: AsyncEngine) -> tuple[int, str]:
    """The audit chain's head: its last seq and that row's hash."""
    async with db_errors(), engine.connect() as conn:
        return await read_head(conn)
