"""Reference e-supervision (电子监察) subscriber: `govgate supervise` and its monthly report.

- ``calendar``, ``notices``: is a date a working day (chinese-calendar, an operator's notice
  file, or a provisional weekends-only guess);
- ``clock``: a case's elapsed days, paused by 补正 and 特别程序;
- ``cases``: a case as the subscriber keeps it, built from CaseEvent records;
- ``cards``: the yellow and red cards (黄牌/红牌) a case has earned, and the SupervisionAlert;
- ``state``: the subscriber's own database (cases, cards as an outbox, its position);
- ``sources``, ``supervisor``, ``runner``: read the log or the HTTP feed, apply, sweep, publish;
- ``report``: the monthly per-department bulletin as CSV and XLSX.
"""

from __future__ import annotations

from gateway.supervision.calendar import CalendarSource, WorkCalendar
from gateway.supervision.clock import Card, CaseClock, DueDate, Elapsed, LimitUnit, Stage
from gateway.supervision.errors import ClockError, NoticeFileError, SupervisionError

__all__ = [
    "CalendarSource",
    "Card",
    "CaseClock",
    "ClockError",
    "DueDate",
    "Elapsed",
    "LimitUnit",
    "NoticeFileError",
    "Stage",
    "SupervisionError",
    "WorkCalendar",
]
