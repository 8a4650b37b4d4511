"""Working-day calendar (工作日历) with statutory holidays and make-up working days (调休).

Three sources, in order: the chinese-calendar package; for a year it does not know, the
operator's notice file ``<notices_dir>/<year>.json``; failing both, weekends only. The last is
a guess, so every year answered that way is recorded as provisional and callers can ask whether
a date range touched one (DESIGN.md, "E-supervision": never crash, never silently guess).
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path

import chinese_calendar

from gateway.supervision.notices import HolidayNotice, load_notice


class CalendarSource(enum.StrEnum):
    """Where the answer for a year comes from."""

    PACKAGE = "package"  # chinese-calendar
    NOTICE = "notice"  # operator's notice file
    WEEKENDS_ONLY = "weekends-only"  # provisional guess


class WorkCalendar:
    """Answers whether a date is a working day, and which years were only guessed."""

    def __init__(self, notices_dir: Path | None = None) -> None:
        self._notices_dir = notices_dir
        self._sources: dict[int, CalendarSource] = {}
        self._notices: dict[int, HolidayNotice] = {}

    def source(self, year: int) -> CalendarSource:
        """Which source answers for ``year``; loads (and validates) a notice file at most once.

        Raises NoticeFileError when the package does not know the year and the notice file
        for it exists but is malformed: a bad file must be fixed, not silently ignored.
        """
        known = self._sources.get(year)
        if known is not None:
            return known
        if _package_knows(year):
            found = CalendarSource.PACKAGE
        elif (path := self._notice_path(year)) is not None:
            self._notices[year] = load_notice(path, year)
            found = CalendarSource.NOTICE
        else:
            found = CalendarSource.WEEKENDS_ONLY
        self._sources[year] = found
        return found

    def is_working_day(self, day: dt.date) -> bool:
        """True when government offices work on ``day`` (make-up weekend days included)."""
        source = self.source(day.year)
        if source is CalendarSource.PACKAGE:
            return bool(chinese_calendar.is_workday(day))
        if source is CalendarSource.NOTICE:
            notice = self._notices[day.year]
            if day in notice.workdays:
                return True
            if day in notice.holidays:
                return False
        return day.weekday() < 5

    def is_provisional(self, day: dt.date) -> bool:
        """True when the answer for ``day`` is the weekends-only guess."""
        return self.source(day.year) is CalendarSource.WEEKENDS_ONLY

    def range_is_provisional(self, start: dt.date, end: dt.date) -> bool:
        """True when any day of ``start..end`` (inclusive) falls in a weekends-only year."""
        return any(self.is_provisional(dt.date(y, 1, 1)) for y in range(start.year, end.year + 1))

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years asked about so far that were answered weekends-only."""
        return frozenset(y for y, s in self._sources.items() if s is CalendarSource.WEEKENDS_ONLY)

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The date of the ``count``-th working day after ``start`` (``start`` itself is day 0)."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        day = start
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, after: dt.date, through: dt.date) -> int:
        """How many working days lie in ``(after, through]``; 0 when ``through <= after``."""
        total = 0
        day = after + dt.timedelta(days=1)
        while day <= through:
            total += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return total

    def _notice_path(self, year: int) -> Path | None:
        if self._notices_dir is None:
            return None
        path = self._notices_dir / f"{year}.json"
        return path if path.exists() else None


def _package_knows(year: int) -> bool:
    # chinese-calendar raises NotImplementedError outside the years its release covers.
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True
