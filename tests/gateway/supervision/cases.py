"""Case events for the supervision tests: one item with known limits, times in Beijing time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.supervision.clock import BEIJING
from tests.samples import case_event

DEPARTMENTS = {
    "FGW": ("11330802002493025K", "衢州市柯城区发展和改革局"),
    "SCJG": ("113308020024930577", "衢州市柯城区市场监督管理局"),
}


def at(day: str, hour: int = 10) -> dt.datetime:
    """10:00 (or `hour`) Beijing time on an ISO date."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), BEIJING)


def event(
    case_no: str,
    stage: str,
    day: str,
    *,
    promised: int | None = 5,
    statutory: int | None = 8,
    unit: str = "WORKING_DAYS",
    department: str = "FGW",
    hour: int = 10,
    version: str | None = None,
    channel: str | None = "WINDOW",
    visits: int | None = 1,
) -> dict[str, Any]:
    """A CaseEvent of `case_no` at `stage` on `day` (Beijing), with the given limits, channel
    (办理渠道) and visits so far (跑动次数)."""
    record = case_event(case_no, stage, version or f"{stage}-{day}-{hour}", at(day, hour))
    code, name = DEPARTMENTS[department]
    record.update(
        promised_limit=promised,
        statutory_limit=statutory,
        limit_unit=unit,
        department_code=code,
        department_name=name,
        channel=channel,
        visits=visits,
    )
    return record
