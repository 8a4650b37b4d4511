"""Reference e-supervision (电子监察) subscriber: `govgate supervise` and its monthly report.

- ``calendar``, ``notices``, ``holidays``: is a date a working day (chinese-calendar, an
  operator's notice file, or, provisionally, the year's fixed statutory holidays);
- ``clock``: a case's elapsed days, paused by 补正 and 特别程序, and when its limits end;
- ``cases``: a case as the subscriber keeps it, built from CaseEvent records;
- ``cards``: the yellow and red cards (黄牌/红牌) a case has earned, and the SupervisionAlert;
- ``state``: the subscriber's own database (cases, cards as an outbox, its position);
- ``sources``, ``supervisor``, ``runner``: read the log or the HTTP feed, apply, sweep, publish;
- ``report``: the monthly per-department bulletin as CSV and XLSX.
"""

from __future__ import annotations

from gateway.supervision.calendar import CalendarSource, WorkCalendar
from gateway.supervision.clock import (
    Card,
    CaseClock,
    Deadline,
    DueDate,
    Elapsed,
    LimitUnit,
    Stage,
    YellowDay,
)
from gateway.supervision.errors import ClockError, NoticeFileError, SupervisionError

__all__ = [
    "CalendarSource",
    "Card",
    "CaseClock",
    "ClockError",
    "Deadline",
    "DueDate",
    "Elapsed",
    "LimitUnit",
    "NoticeFileError",
    "Stage",
    "SupervisionError",
    "WorkCalendar",
    "YellowDay",
]
