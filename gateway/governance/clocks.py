"""Clocks on the reviewers: each review step is clocked like a case, by the e-supervision
subscriber's own parts (as the 双告知 claim clock is: gateway.notices.tracker).

A step opened (STEP_OPENED on `governance`) is, for supervision, a case its department must
close within the step's working-day limit: opening is its 受理 (ACCEPTED), the decision its
办结 (COMPLETED). The supervisor keeps the clocks on the same working-day calendar, raises the
yellow card at `supervision.yellow_share` (80 %) and the red card past the limit on
`supervision-alerts`, naming the department. Nothing here counts days.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from gateway.governance.record import RECORD, STREAM
from gateway.log import EventLog, LogReader, LogRecord, Position
from gateway.supervision.sources import Batch, CaseSource
from gateway.supervision.supervisor import Incoming
from schemas.codec import EventCodec
from schemas.errors import DecodeError

STEP_NAMES = {"BUREAU_CHECK": "合规审查", "PROVIDER_DECISION": "审核决定"}


def step_case_no(application_id: str, step: str) -> str:
    return f"{application_id}-{'B' if step == 'BUREAU_CHECK' else 'P'}"


def as_case_event(event: Mapping[str, Any], region_code: str) -> dict[str, Any] | None:
    """A step's opening or decision as the case event the supervisor clocks; None for the
    other governance events."""
    if event["action"] not in ("STEP_OPENED", "STEP_DECIDED"):
        return None
    opened = event["action"] == "STEP_OPENED"
    purposes = event.get("purposes") or ["-"]
    return {
        "event_id": event["event_id"],
        "case_no": step_case_no(str(event["application_id"]), str(event["step"])),
        "item_code": purposes[0],
        "item_name": f"共享申请{STEP_NAMES.get(str(event['step']), '')}：{event['resource_name']}",
        "department_code": event["step_department_code"],
        "department_name": event.get("step_department_name") or event["step_department_code"],
        "region_code": region_code,
        "stage": "ACCEPTED" if opened else "COMPLETED",
        "occurred_at": event["occurred_at"],
        "promised_limit": event["limit_days"] if opened else None,
        "statutory_limit": event["limit_days"] if opened else None,
        "limit_unit": "WORKING_DAYS",
    }


class GovernanceSource(CaseSource):
    """`governance` read from the position saved with the supervisor's state."""

    def __init__(
        self, log: EventLog, saved: str | None, codec: EventCodec, region_code: str
    ) -> None:
        self.id = self.source_id()
        self.log, self.codec, self.region_code = log, codec, region_code
        self.position: Position = (
            {int(p): int(o) for p, o in json.loads(saved).items()} if saved else {}
        )
        self._reader: LogReader | None = None

    @staticmethod
    def source_id() -> str:
        return f"log:{STREAM}"

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[GovernanceSource]:
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
        items = [i for i in (self._incoming(r) for r in records) if i is not None]
        return Batch(items, text)

    async def caught_up(self) -> bool:
        end = await self.log.end_position(STREAM)
        return all(self.position.get(p, 0) >= o for p, o in end.items())

    def _incoming(self, record: LogRecord) -> Incoming | None:
        where = f"{STREAM}/{record.partition}@{record.offset}"
        try:
            decoded = self.codec.decode(record.value or b"")
        except DecodeError as exc:
            return Incoming(where, None, f"{exc.code}: {exc.detail}")
        if decoded.name != RECORD:
            return Incoming(where, None, f"NOT_A_GOVERNANCE_EVENT: a {decoded.name} on {STREAM}")
        case = as_case_event(decoded.record, self.region_code)
        return None if case is None else Incoming(where, case)
