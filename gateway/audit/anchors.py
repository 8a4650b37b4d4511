"""Anchors: the audit chain's head, signed by the gateway, kept where a database writer cannot go.

Each anchor says "the row at `seq` had hash `head_hash`" (and from which seq rows are keyed),
signed with the gateway's response key (gateway.audit.signed_anchors). It is appended to the
`audit-anchors` stream of the event log (Kafka, or the SQL log), and, when
`gateway.audit_anchor_file` names one, to an append-only JSON-lines file
(gateway.audit.anchor_file) — on the embedded default the SQL log is in the same database file
as the audit table, so the file is the copy to keep on another disk, host or append-only mount.
`verify` checks the chain against the anchors whose signatures hold: a rewrite or a truncation
of anything anchored is found, and rows left unanchored past the interval are a finding too.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.anchor_file import append_anchor
from gateway.audit.errors import AuditUnavailable
from gateway.audit.signed_anchors import Anchor, sign_anchor
from gateway.audit.tables import db_errors, read_head, read_keyed_from
from gateway.log import EventLog, LogUnavailable
from gateway.members.keys import PrivateKey
from schemas.codec import EventCodec
from schemas.ids import event_id

__all__ = ["Anchor", "anchor", "anchor_every", "latest_anchors"]

STREAM = "audit-anchors"
RECORD_TYPE = "AuditAnchor"
SOURCE_SYSTEM = "govgate-gateway"
SOURCE_TABLE = "audit_rows"

logger = logging.getLogger(__name__)


async def anchor(
    engine: AsyncEngine,
    log: EventLog,
    codec: EventCodec,
    gateway_id: str,
    private_key: PrivateKey,
    *,
    file: Path | None = None,
) -> Anchor | None:
    """Sign the current head and append it to the log (and to `file`); None while the chain
    is empty.

    The event id is UUIDv5 over (gateway, seq, hash), so anchoring an unchanged head twice
    yields the same id and a reader can tell the repeat.
    """
    async with db_errors(), engine.connect() as conn:
        seq, head_hash = await read_head(conn)
        keyed_from = await read_keyed_from(conn)
    if seq == 0:
        return None
    now = datetime.now(UTC)
    anchored_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # timestamp-millis
    found = sign_anchor(
        Anchor(
            gateway_id=gateway_id,
            seq=seq,
            head_hash=head_hash,
            rows=seq,  # seqs are dense from 1
            anchored_at=anchored_at,
            event_id=event_id(SOURCE_SYSTEM, gateway_id, str(seq), head_hash),
            keyed_from=keyed_from,
        ),
        private_key,
    )
    record = {
        "event_id": found.event_id,
        "gateway_id": gateway_id,
        "seq": seq,
        "head_hash": head_hash,
        "rows": found.rows,
        "anchored_at": anchored_at,
        "keyed_from": keyed_from,
        "keyid": found.keyid,
        "signature": found.signature,
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
    if file is not None:
        await asyncio.to_thread(append_anchor, file, found)
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
            event_id=str(value["event_id"]),
            keyed_from=value.get("keyed_from"),
            keyid=value.get("keyid"),
            signature=value.get("signature"),
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
    engine: AsyncEngine,
    log: EventLog,
    codec: EventCodec,
    gateway_id: str,
    interval_s: float,
    private_key: PrivateKey,
    *,
    file: Path | None = None,
) -> None:
    """Anchor the head at once, then every `interval_s` seconds when it moved, and a last
    time when cancelled (the gateway stopping), so no row is left unanchored by a clean stop.

    A tick that finds the database or the log unavailable is skipped: the next anchor covers
    everything this one would have.
    """
    last_seq = 0

    async def tick() -> None:
        nonlocal last_seq
        try:
            async with db_errors(), engine.connect() as conn:
                seq, _ = await read_head(conn)
            if seq == last_seq:
                return
            done = await anchor(engine, log, codec, gateway_id, private_key, file=file)
            if done is not None:
                last_seq = done.seq
        except (AuditUnavailable, LogUnavailable, OSError) as exc:
            logger.warning("audit anchor skipped, will retry: %s", exc)

    try:
        while True:
            await tick()
            await asyncio.sleep(interval_s)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tick(), timeout=10)
        raise
