"""Reference e-supervision (电子监察) subscriber: working-day calendar and case clocks.

The calendar answers "is this a working day" from chinese-calendar, an operator's notice file,
or (flagged provisional) weekends only; the clock counts a case's elapsed working days and
turns them into yellow and red cards (黄牌/红牌).
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
