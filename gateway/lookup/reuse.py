"""Whether a material (申请材料) is offered for reuse (减证便民): its flag and its validity.

A material is offered (OFFERED) when the department marked it reusable and it is valid on the
day asked about (no end date, or an end date not yet past, in Asia/Shanghai). Otherwise it is
NOT_REUSABLE (it belongs to its case only) or EXPIRED: listed as such, never passed off as a
current document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

ReuseStatus = Literal["OFFERED", "NOT_REUSABLE", "EXPIRED"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """Today where the departments are."""
    return dt.datetime.now(SHANGHAI).date()


def reuse_status(reusable: bool, valid_until: dt.date | None, on: dt.date) -> ReuseStatus:
    if not reusable:
        return "NOT_REUSABLE"
    if valid_until is not None and valid_until < on:
        return "EXPIRED"
    return "OFFERED"


def record_reuse_status(record: dict[str, Any], on: dt.date) -> ReuseStatus:
    """The status of a material record as the lookup store keeps it (dates as ISO text)."""
    until = record.get("valid_until")
    valid_until = dt.date.fromisoformat(until) if isinstance(until, str) else None
    return reuse_status(bool(record.get("reusable")), valid_until, on)
