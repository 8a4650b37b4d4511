"""Anchors: the audit chain's head, put on the `audit-anchors` stream of the event log.

Whoever can write the gateway's database can rewrite the whole audit chain and re-compute every
hash; they cannot also rewrite the event log, which lives elsewhere (Kafka) or is append-only and
replicated to subscribers. `verify` checks the chain against the anchors read back here, so a
rewrite or a truncation of anything anchored is found.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.errors import AuditUnavailable
from gateway.audit.tables import db_errors, read_head
from gateway.log import EventLog, LogUnavailable
from schemas.codec import EventCodec
from schemas.ids import event_id

STREAM = "audit-anchors"
RECORD_TYPE = "AuditAnchor"
SOURCE_SYSTEM = "govgate-gateway"
SOURCE_TABLE = "audit_rows"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchored head: the row at `seq` had hash `head_hash` at `anchored_at`."""

    gateway_id: str
    seq: int
    head_hash: str
    rows: int
    anchored_at: datetime
    event_id: str


async def anchor(
    engine: AsyncEngine, log: EventLog, codec: EventCodec, gateway_id: str
) -> Anchor | None:
    """Append the current head as an AuditAnchor event; None while the chain is empty.

    The event id is UUIDv5 over (gateway, seq, hash), so anchoring an unchanged head twice
    yields the same id and a reader can tell the repeat.
    """
    async with db_errors(), engine.connect() as conn:
        seq, head_hash = await read_head(conn)
    if seq == 0:
        return None
    now = datetime.now(UTC)
    anchored_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # timestamp-millis
    found = Anchor(
        gateway_id=gateway_id,
        seq=seq,
        head_hash=head_hash,
        rows=seq,  # seqs are dense from 1
        anchored_at=anchored_at,
        event_id=event_id(SOURCE_SYSTEM, gateway_id, str(seq), head_hash),
    )
    record = {
        "event_id": found.event_id,
        "gateway_id": gateway_id,
        "seq": seq,
        "head_hash": head_hash,
        "rows": found.rows,
        "anchored_at": anchored_at,
        "provenance": {
            "source_system": SOURCE_SYSTEM,
            "source_table": SOURCE_TABLE,
            "source_key": str(seq),
            "source_version": head_hash,
            "fetched_at": anchored_at,
            "connector": None,
        },
    }
    await log.append(STREAM, [codec.encode(RECORD_TYPE, record)])
    return found


async def latest_anchors(
    log: EventLog,
    codec: EventCodec | None = None,
    *,
    gateway_id: str | None = None,
    limit: int | None = None,
) -> list[Anchor]:
    """The anchors on the stream (of `gateway_id` only, if given), oldest seq first.

    With `limit`, only the `limit` highest seqs are kept, so memory stays bounded however long
    the stream is. A value that does not decode raises `schemas.errors.DecodeError`: only
    gateways write this stream, so garbage there is itself a finding.
    """
    codec = codec or EventCodec()
    arrivals = 0
    kept: list[tuple[int, int, Anchor]] = []  # (seq, arrival, anchor): a min-heap with `limit`
    async for record in log.iterate(STREAM):
        decoded = codec.decode(record.value or b"")  # a tombstone here is garbage too
        if decoded.name != RECORD_TYPE:
            continue
        value = decoded.record
        if gateway_id is not None and value["gateway_id"] != gateway_id:
            continue
        found = Anchor(
            gateway_id=value["gateway_id"],
            seq=value["seq"],
            head_hash=value["head_hash"],
            rows=value["rows"],
            anchored_at=value["anchored_at"],
            event_id=value["event_id"],
        )
        arrivals += 1
        item = (found.seq, arrivals, found)
        if limit is None:
            kept.append(item)
        elif len(kept) < limit:
            heapq.heappush(kept, item)
        else:
            heapq.heappushpop(kept, item)
    return [a for _, _, a in sorted(kept)]


async def anchor_every(
    engine: AsyncEngine, log: EventLog, codec: EventCodec, gateway_id: str, interval_s: float
) -> None:
    """Anchor the head every `interval_s` seconds when it moved; runs until cancelled.

    A tick that finds the database or the log unavailable is skipped: the next anchor covers
    everything this one would have.
    """
    last_seq = 0
    while True:
        await asyncio.sleep(interval_s)
        try:
            async with db_errors(), engine.connect() as conn:
                seq, _ = await read_head(conn)
            if seq != last_seq and (done := await anchor(engine, log, codec, gateway_id)):
                last_seq = done.seq
        except (AuditUnavailable, LogUnavailable) as exc:
            logger.warning("audit anchor skipped, will retry: %s", exc)
