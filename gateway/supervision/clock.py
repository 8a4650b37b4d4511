"""Case clock (办件计时): elapsed working days of one case, and its yellow/red card.

Counting convention (as 《行政许可法》 art. 42 and local 办件时限 rules count it, 期限从次日起算):
the day a case is accepted is day 0; each later day counts 1 if it is a working day (or any day,
for natural-day limits) and the clock was running when that day began. So a case accepted on a
Monday has 1 working day elapsed on Tuesday, and a limit of N days expires at the end of the
N-th counted day. A pause (补正, 特别程序) stops counting from the next day on; the day of
resumption is treated like the day of acceptance (not counted), counting picks up the day after.
Times are taken as calendar dates in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.errors import ClockError

BEIJING = ZoneInfo("Asia/Shanghai")


class Stage(enum.StrEnum):
    """Case stages, spelled as the CaseStage symbols of schemas/avsc/CaseEvent.avsc."""

    ACCEPTED = "ACCEPTED"
    IN_REVIEW = "IN_REVIEW"
    SUPPLEMENT = "SUPPLEMENT"
    SPECIAL_PROCEDURE = "SPECIAL_PROCEDURE"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"
    UNKNOWN = "UNKNOWN"


class LimitUnit(enum.StrEnum):
    """Unit of a case's time limits, as the TimeLimitUnit symbols of CaseEvent."""

    WORKING_DAYS = "WORKING_DAYS"
    NATURAL_DAYS = "NATURAL_DAYS"


class Card(enum.StrEnum):
    """Supervision verdict on a case: on time, yellow card (黄牌) or red card (红牌)."""

    ON_TIME = "ON_TIME"
    YELLOW = "YELLOW"
    RED = "RED"


PAUSING = frozenset({Stage.SUPPLEMENT, Stage.SPECIAL_PROCEDURE})
STOPPING = frozenset({Stage.COMPLETED, Stage.WITHDRAWN})


@dataclass(frozen=True, slots=True)
class Elapsed:
    """Counted days so far; ``provisional`` when a counted span hit a weekends-only year."""

    days: int
    provisional: bool


@dataclass(frozen=True, slots=True)
class DueDate:
    """The date the limit's last day falls on, if the clock keeps running uninterrupted."""

    date: dt.date
    provisional: bool


class CaseClock:
    """Fed one case's stages in time order; counts days while the clock runs.

    ACCEPTED starts it; SUPPLEMENT and SPECIAL_PROCEDURE pause it; any other known stage after
    a pause resumes it; COMPLETED and WITHDRAWN stop it for good. Stages before acceptance,
    after a stop, and UNKNOWN stages change nothing.
    """

    def __init__(self, calendar: WorkCalendar, unit: LimitUnit = LimitUnit.WORKING_DAYS) -> None:
        self._calendar = calendar
        self._unit = unit
        # Running spans as (start date, end date or None while open); days in (start, end] count.
        self._spans: list[tuple[dt.date, dt.date | None]] = []
        self._stopped = False
        self._last: dt.datetime | None = None

    @property
    def running(self) -> bool:
        """True between acceptance (or a resumption) and the next pause or stop."""
        return bool(self._spans) and self._spans[-1][1] is None

    @property
    def stopped(self) -> bool:
        """True once the case is completed or withdrawn."""
        return self._stopped

    def feed(self, stage: Stage | str, at: dt.datetime) -> None:
        """Apply one stage that happened at ``at`` (timezone-aware, not earlier than the last)."""
        stage = _stage(stage)
        if self._last is not None and _aware(at) < self._last:
            raise ClockError(f"stage {stage} at {at.isoformat()} is earlier than the last stage")
        self._last = _aware(at)
        day = _local_date(at)
        if self._stopped or stage is Stage.UNKNOWN:
            return
        if not self._spans:
            if stage is Stage.ACCEPTED:
                self._spans.append((day, None))
            return
        if stage in PAUSING or stage in STOPPING:
            if self.running:
                self._spans[-1] = (self._spans[-1][0], day)
            self._stopped = stage in STOPPING
        elif not self.running:
            self._spans.append((day, None))

    def elapsed(self, at: dt.datetime) -> Elapsed:
        """Days counted up to and including the local date of ``at``."""
        through = _local_date(at)
        days = 0
        provisional = False
        for start, end in self._spans:
            last = through if end is None else min(end, through)
            if last <= start:
                continue
            days += self._count(start, last)
            if self._unit is LimitUnit.WORKING_DAYS:
                span_start = start + dt.timedelta(days=1)
                provisional |= self._calendar.range_is_provisional(span_start, last)
        return Elapsed(days, provisional)

    def due_date(self, limit: int) -> DueDate | None:
        """When ``limit`` days will have been counted; None if not started or not running."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if not self.running:
            return None
        start = self._spans[-1][0]
        used = self.elapsed(dt.datetime.combine(start, dt.time(), BEIJING)).days
        remaining = max(limit - used, 0)
        if self._unit is LimitUnit.NATURAL_DAYS:
            return DueDate(start + dt.timedelta(days=remaining), False)
        due = self._calendar.add_working_days(start, remaining)
        return DueDate(due, self._calendar.range_is_provisional(start, due))

    def reached_on(self, count: int) -> dt.date | None:
        """The date on which ``count`` days will have been (or were) counted.

        Past days come from the recorded spans; if the clock is running and has not counted
        ``count`` yet, the date is projected on the calendar. None when the clock never started,
        or it is paused or stopped short of ``count``. ``count`` 0 is the acceptance date.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if not self._spans:
            return None
        if count == 0:
            return self._spans[0][0]
        need = count
        for start, end in self._spans:
            counted = None if end is None else self._count(start, end)
            if counted is None or counted >= need:
                return self._advance(start, need)
            need -= counted
        return None

    def range_is_provisional(self, start: dt.date, end: dt.date) -> bool:
        """True when working days in ``start..end`` were counted weekends-only."""
        if self._unit is LimitUnit.NATURAL_DAYS:
            return False
        return self._calendar.range_is_provisional(start, end)

    def status(
        self,
        at: dt.datetime,
        promised_limit: int,
        statutory_limit: int,
        yellow_share: float = 0.8,
    ) -> Card:
        """RED when elapsed > statutory limit; YELLOW when elapsed >= share × promised limit.

        Local rules vary (some raise yellow at the promised limit itself, some count red from
        the promised limit, some warn a fixed number of days ahead), so the share is a parameter
        and the caller picks the limits; whether a verdict rests on provisional calendar data is
        on ``elapsed(at).provisional``.
        """
        if not 0 < yellow_share <= 1:
            raise ValueError(f"yellow_share must be in (0, 1], got {yellow_share}")
        days = self.elapsed(at).days
        if days > statutory_limit:
            return Card.RED
        if days >= yellow_share * promised_limit:
            return Card.YELLOW
        return Card.ON_TIME

    def _advance(self, start: dt.date, count: int) -> dt.date:
        if self._unit is LimitUnit.NATURAL_DAYS:
            return start + dt.timedelta(days=count)
        return self._calendar.add_working_days(start, count)

    def _count(self, after: dt.date, through: dt.date) -> int:
        if self._unit is LimitUnit.NATURAL_DAYS:
            return (through - after).days
        return self._calendar.working_days_between(after, through)


def _stage(stage: Stage | str) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        return Stage.UNKNOWN


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ClockError(f"time {at.isoformat()} has no timezone")
    return at


def _local_date(at: dt.datetime) -> dt.date:
    return _aware(at).astimezone(BEIJING).date()
