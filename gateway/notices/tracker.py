"""The claim clock: each notice is clocked like a case, by the e-supervision subscriber's own parts.

A notice routed to a department is, for supervision, a case that department must close within
`claim_days` working days: routing is its 受理 (ACCEPTED), the claim its 办结 (COMPLETED). So
`NoticeSource` hands the notices on `notices` to a `gateway.supervision` `Supervisor` as case
events (case number = notice id, item = the permit, department = the one that must claim),
and the supervisor keeps the clocks, raises the yellow and red cards (黄牌/红牌) on
`supervision-alerts` under the same rules as for cases, and its state feeds the monthly
bulletin: notices received, claimed on time, overdue. Nothing here counts days.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from gateway.log import EventLog, LogReader, LogRecord, Position
from gateway.notices.notices import STREAM
from gateway.supervision.sources import Batch, CaseSource
from gateway.supervision.supervisor import Incoming
from schemas.codec import EventCodec
from schemas.errors import DecodeError


def as_case_event(notice: Mapping[str, Any]) -> dict[str, Any]:
    """A notice version as the case event the supervisor clocks."""
    claimed = notice.get("status") == "CLAIMED"
    return {
        "event_id": notice["event_id"],
        "case_no": notice["notice_id"],
        "item_code": notice["item_code"],
        "item_name": notice["item_name"],
        "department_code": notice["department_code"],
        "department_name": notice["department_name"],
        "region_code": notice["region_code"],
        "stage": "COMPLETED" if claimed else "ACCEPTED",
        "occurred_at": notice["claimed_at"] if claimed else notice["received_at"],
        "promised_limit": notice["claim_days"],
        "statutory_limit": notice["claim_days"],
        "limit_unit": "WORKING_DAYS",
    }


class NoticeSource(CaseSource):
    """`notices` read from the position saved with the supervisor's state."""

    def __init__(self, log: EventLog, saved: str | None, codec: EventCodec) -> None:
        self.id = self.source_id()
        self.log, self.codec = log, codec
        self.position: Position = (
            {int(p): int(o) for p, o in json.loads(saved).items()} if saved else {}
        )
        self._reader: LogReader | None = None

    @staticmethod
    def source_id() -> str:
        return f"log:{STREAM}"

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[NoticeSource]:
        async with self.log.reader(STREAM, self.position or None) as reader:
            self._reader = reader
            try:
                yield self
            finally:
                self._reader = None

    async def next_batch(self, timeout: float) -> Batch | None:
        assert self._reader is not None, "use `async with source.opened()`"
        records = await self._reader.poll(500, timeout)
        if not records:
            return None
        for r in records:
            self.position[r.partition] = max(self.position.get(r.partition, 0), r.offset + 1)
        text = json.dumps({str(p): o for p, o in sorted(self.position.items())})
        return Batch([self._incoming(r) for r in records], text)

    async def caught_up(self) -> bool:
        end = await self.log.end_position(STREAM)
        return all(self.position.get(p, 0) >= o for p, o in end.items())

    def _incoming(self, record: LogRecord) -> Incoming:
        where = f"{STREAM}/{record.partition}@{record.offset}"
        try:
            decoded = self.codec.decode(record.value or b"")
        except DecodeError as exc:
            return Incoming(where, None, f"{exc.code}: {exc.detail}")
        if decoded.name != "Notice":
            return Incoming(where, None, f"NOT_A_NOTICE: a {decoded.name} on {STREAM}")
        return Incoming(where, as_case_event(decoded.record))
