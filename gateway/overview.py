"""The operations overview (运行总览): figures an operator reads at a glance.

Each figure comes from what the gateway already keeps: the log's end positions and record
timestamps, `connector_status` (as `govgate connect status` shows it), the materializer's
`lag()`, the webhook subscriptions' positions, the audit chain's head. Two are approximate
and say so (`Rate.lower_bound`, `DeadLetterCounts.window`): nothing counts events per minute
or dead letters per code, so both are counted over the tail of their stream, a bounded read.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import EventLog, LogError, Position
from gateway.lookup import Materializer
from gateway.store.errors import store_unavailable
from gateway.store.tables import connector_status
from gateway.webhooks.store import Subscription, SubscriptionStore
from schemas.codec import EventCodec
from schemas.errors import GovgateError

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
    window: int  # how many of the newest dead letters were counted
    total: int  # dead letters ever appended


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
    log: EventLog, codec: EventCodec, *, window: int = 1000, timeout_s: float = 3.0
) -> DeadLetterCounts:
    """Dead letters by error code and by connector, over the newest `window` of them."""
    by_code: Counter[str] = Counter()
    by_connector: Counter[str] = Counter()
    counted = 0

    async def count() -> int:
        nonlocal counted
        end = await log.end_position(DEAD_LETTERS)
        share = max(1, window // max(1, len(end)))
        start = {p: max(0, off - share) for p, off in end.items()}
        async for record in log.iterate(DEAD_LETTERS, start):
            try:
                value = codec.decode(record.value or b"").record
            except GovgateError:
                by_code["(undecodable)"] += 1
            else:
                by_code[str(value.get("error_code") or "?")] += 1
                by_connector[str(value.get("connector") or "?")] += 1
            counted += 1
        return _total(end)

    try:
        total = await asyncio.wait_for(count(), timeout_s)
    except (TimeoutError, LogError):
        total = -1
    return DeadLetterCounts(by_code.most_common(), by_connector.most_common(), counted, total)


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
