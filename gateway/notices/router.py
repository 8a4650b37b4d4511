"""The router: new business licences on `certificates` become notices on `notices`.

It reads `certificates` from the position it saved (with a plain reader: the position lives
with its state, one transaction, not in a consumer group), routes each licence that is new
(a business licence in force, issued within `max_age_days`), appends the notices, then saves
what it routed with the position after the batch. Deletions and tombstones on the stream, and
certificates of other types, are passed over. A crash between the append and the save routes
the batch again: the notices carry the same ids, so nothing downstream counts them twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.log import EventLog, LogReader, LogRecord
from gateway.notices.matcher import route
from gateway.notices.notices import STREAM, is_new_licence, routed_notices, scope_of
from gateway.notices.rules import RoutingTable
from gateway.notices.state import Routed, RouterState
from schemas.codec import EventCodec
from schemas.errors import DecodeError

logger = logging.getLogger(__name__)

CERTIFICATES = "certificates"
SOURCE = f"log:{CERTIFICATES}"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(slots=True)
class RouterCounts:
    licences: int = 0  # new business licences routed
    notices: int = 0  # notices appended (to departments and to the pool)
    pooled: int = 0  # of which to the pool
    skipped: int = 0  # records that could not be read, each logged with its position


class NoticeRouter:
    """Reads certificates, appends notices; see the module docstring."""

    def __init__(
        self,
        log: EventLog,
        state: RouterState,
        table: RoutingTable,
        *,
        now: Callable[[], dt.datetime],
        codec: EventCodec | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.log = log
        self.state = state
        self.table = table
        self.now = now
        self.codec = codec or EventCodec()
        self.echo = echo
        self.counts = RouterCounts()

    async def run(self, stop: asyncio.Event, *, once: bool = False, poll_s: float = 1.0) -> None:
        """Route until `stop` (with `once`: until caught up with the stream)."""
        start = await self.state.position(SOURCE)
        async with self.log.reader(CERTIFICATES, start or None) as reader:
            position = dict(start)
            while not stop.is_set():
                records = await reader.poll(500, poll_s)
                if records:
                    done = await self._route(records)
                    position.update(reader.position())
                    await self.state.save(done, SOURCE, position)
                elif once and await self._caught_up(reader):
                    return

    async def _caught_up(self, reader: LogReader) -> bool:
        end = await self.log.end_position(CERTIFICATES)
        position = reader.position()
        return all(position.get(p, 0) >= o for p, o in end.items())

    async def _route(self, records: list[LogRecord]) -> list[Routed]:
        """Append the notices `records` call for; what was routed, to save."""
        now = self.now()
        today = now.astimezone(BEIJING).date()
        licences = []
        for record in records:
            licence = self._licence(record)
            if licence is not None and is_new_licence(licence, self.table, today):
                licences.append(licence)
        already = await self.state.routed(str(lic["cert_id"]) for lic in licences)
        notices, done = [], []
        for licence in licences:
            cert_id = str(licence["cert_id"])
            routing = route(scope_of(licence, self.table), self.table)
            fresh = [
                n
                for n in routed_notices(licence, routing, self.table, now)
                if (n["rule_id"] or "POOL") not in already.get(cert_id, set())
            ]
            if not fresh:
                continue
            self.counts.licences += 1
            for notice in fresh:
                target = notice["rule_id"] or "POOL"
                already.setdefault(cert_id, set()).add(target)
                done.append(Routed(cert_id, target, notice["notice_id"]))
                notices.append(notice)
                self.echo(_line(notice))
        if notices:
            await self.log.append(STREAM, [self.codec.encode("Notice", n) for n in notices])
            self.counts.notices += len(notices)
            self.counts.pooled += sum(n["routed_by"] == "POOL" for n in notices)
        return done

    def _licence(self, record: LogRecord) -> dict[str, object] | None:
        if record.value is None:
            return None  # a tombstone: a certificate deleted at its source
        try:
            decoded = self.codec.decode(record.value)
        except DecodeError as exc:
            self.counts.skipped += 1
            logger.warning(
                "certificates[%d]@%d skipped: %s", record.partition, record.offset, exc.code
            )
            return None
        return decoded.record if decoded.name == "Certificate" else None


def _line(notice: dict[str, object]) -> str:
    """One line per notice for the operator: the permit, the department; the business is a
    company (its name and credit code are public), never a person."""
    reason = f" ({notice['pool_reason']})" if notice["routed_by"] == "POOL" else ""
    licence = notice["licence"]
    assert isinstance(licence, dict)
    return (
        f"{notice['notice_id']} {licence['name']} → {notice['department_name']}: "
        f"{notice['item_name']}{reason}"
    )
