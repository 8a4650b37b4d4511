"""Working-day calendar (工作日历) with statutory holidays and make-up working days (调休).

Sources, in order: the chinese-calendar package; for a year it does not know, the operator's
notice file ``<notices_dir>/<year>.json``; failing both, the fixed statutory holidays of the
national regulations (``holidays``), without the notice's bridge days and make-up working days.
The last is a forecast, so every year answered that way is recorded as provisional and callers
can ask whether a date range touched one (DESIGN.md, "E-supervision": never crash, never
silently guess).

The notices folder is looked at again on ``refresh()``: `govgate supervise` calls it before
each sweep, so a notice dropped (or corrected, or removed) while it runs counts from the next
sweep on, without a restart.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar

from gateway.supervision.errors import NoticeFileError
from gateway.supervision.holidays import FIRST_YEAR, fixed_holidays
from gateway.supervision.notices import HolidayNotice, load_notice

logger = logging.getLogger(__name__)


class CalendarSource(enum.StrEnum):
    """Where the answer for a year comes from."""

    PACKAGE = "package"  # chinese-calendar
    NOTICE = "notice"  # operator's notice file
    STATUTORY = "statutory"  # provisional: the regulations' fixed holidays, no bridge days
    WEEKENDS_ONLY = "weekends-only"  # provisional: a year before those regulations applied


PROVISIONAL = frozenset({CalendarSource.STATUTORY, CalendarSource.WEEKENDS_ONLY})


@dataclass(frozen=True, slots=True)
class _Notice:
    notice: HolidayNotice
    stamp: tuple[int, int]  # (mtime_ns, size) of the file it was read from


class WorkCalendar:
    """Answers whether a date is a working day, and which years were only forecast."""

    def __init__(self, notices_dir: Path | None = None) -> None:
        self._notices_dir = notices_dir
        self._sources: dict[int, CalendarSource] = {}
        self._notices: dict[int, _Notice] = {}
        self._holidays: dict[int, frozenset[dt.date]] = {}
        self._rejected: dict[int, tuple[int, int]] = {}  # stamp of a bad file, logged once
        self._answers: dict[dt.date, bool] = {}  # a sweep asks about the same days many times

    def source(self, year: int) -> CalendarSource:
        """Which source answers for ``year``; reads (and validates) a notice file at most once.

        Raises NoticeFileError when the package does not know the year and the notice file
        for it exists but is malformed: a bad file must be fixed, not silently ignored.
        """
        known = self._sources.get(year)
        if known is not None:
            return known
        if _package_knows(year):
            found = CalendarSource.PACKAGE
        elif (path := self._notice_path(year)) is not None:
            self._notices[year] = _read(path, year)
            found = CalendarSource.NOTICE
        else:
            found = self._forecast(year)
        self._sources[year] = found
        return found

    def is_working_day(self, day: dt.date) -> bool:
        """True when government offices work on ``day`` (make-up weekend days included)."""
        known = self._answers.get(day)
        if known is None:
            known = self._answers[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: dt.date) -> bool:
        source = self.source(day.year)
        if source is CalendarSource.PACKAGE:
            return bool(chinese_calendar.is_workday(day))
        if source is CalendarSource.NOTICE:
            notice = self._notices[day.year].notice
            if day in notice.workdays:
                return True
            if day in notice.holidays:
                return False
        elif source is CalendarSource.STATUTORY and day in self._holidays[day.year]:
            return False
        return day.weekday() < 5

    def is_provisional(self, day: dt.date) -> bool:
        """True when the answer for ``day`` is a forecast (no package data, no notice)."""
        return self.source(day.year) in PROVISIONAL

    def range_is_provisional(self, start: dt.date, end: dt.date) -> bool:
        """True when any day of ``start..end`` (inclusive) falls in a forecast year."""
        return any(self.is_provisional(dt.date(y, 1, 1)) for y in range(start.year, end.year + 1))

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years asked about so far that were answered by a forecast."""
        return frozenset(y for y, s in self._sources.items() if s in PROVISIONAL)

    def refresh(self) -> list[str]:
        """Look at the notices folder again for every year answered from it or forecast.

        A notice dropped since counts from now on, a changed one is read again, a removed one
        gives way to the forecast. Returns one line per change (also logged). A malformed file
        is logged as an error, once per version of it, and the year keeps its previous answer
        until the file is fixed: a running subscriber should not stop while a file is written.
        """
        changes: list[str] = []
        for year, source in sorted(self._sources.items()):
            if source is CalendarSource.PACKAGE:
                continue
            try:
                change = self._refresh_year(year)
            except (NoticeFileError, OSError) as exc:
                logger.error("%s; %s keeps its previous calendar until it is fixed", exc, year)
                continue
            if change is not None:
                logger.info("%s", change)
                changes.append(change)
                self._answers = {d: w for d, w in self._answers.items() if d.year != year}
        return changes

    def _refresh_year(self, year: int) -> str | None:
        path = self._notice_path(year)
        held = self._notices.get(year)
        if path is None:
            if held is None:
                return None
            del self._notices[year]
            self._sources[year] = self._forecast(year)
            return f"holiday notice {held.notice.path} removed: {year} forecast"
        stamp = _stamp(path)
        if (held is not None and stamp == held.stamp) or stamp == self._rejected.get(year):
            return None
        self._rejected[year] = stamp  # until it reads well: a bad version is logged once
        self._notices[year] = _read(path, year)
        del self._rejected[year]
        self._sources[year] = CalendarSource.NOTICE
        verb = "read" if held is None else "read again"
        return f"holiday notice {path} {verb}: {year} counted from it"

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

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def _forecast(self, year: int) -> CalendarSource:
        if year < FIRST_YEAR:
            logger.warning("no holiday data for %s: counting it weekends-only (provisional)", year)
            return CalendarSource.WEEKENDS_ONLY
        self._holidays[year] = fixed_holidays(year).days
        where = self._notices_dir / f"{year}.json" if self._notices_dir else "a notices folder"
        logger.warning(
            "no holiday notice for %s: counting its fixed statutory holidays without bridge "
            "or make-up days (provisional) until the notice is dropped as %s, which is read "
            "without a restart",
            year,
            where,
        )
        return CalendarSource.STATUTORY

    def _notice_path(self, year: int) -> Path | None:
        if self._notices_dir is None:
            return None
        path = self._notices_dir / f"{year}.json"
        return path if path.exists() else None


def _read(path: Path, year: int) -> _Notice:
    stamp = _stamp(path)  # before reading: a write in between is seen on the next refresh
    return _Notice(load_notice(path, year), stamp)


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _package_knows(year: int) -> bool:
    # chinese-calendar raises NotImplementedError outside the years its release covers.
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True
