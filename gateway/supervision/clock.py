"""Case clock (办件计时): elapsed days of one case, when its limits end, and its card.

Counting convention (as 《行政许可法》 art. 42 and local 办件时限 rules count it, 期限从次日起算):
the day a case is accepted is day 0; each later day counts 1 if it is a working day (or any day,
for natural-day limits) and the clock was running when that day began. So a case accepted on a
Monday has 1 working day elapsed on Tuesday. A pause (补正, 特别程序) stops counting from the next
day on; the day of resumption is treated like the day of acceptance (not counted), counting picks
up the day after. Times are taken as calendar dates in Asia/Shanghai.

A limit of N days ends at the end (24:00) of its last allowed day: the day the N-th day is
counted, or the acceptance or resumption day itself when nothing is left. A natural-day limit
whose last day falls on a statutory holiday or rest day ends on the next working day instead
(《民事诉讼法》 art. 85, 《民法典》 art. 203). A case still open when its last allowed day ends is
overdue (超期), whatever kind of day follows; one completed that day is on time.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
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


ONE_DAY = dt.timedelta(days=1)
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


@dataclass(frozen=True, slots=True)
class Deadline:
    """A limit's last allowed day (the limit runs out at its 24:00, Asia/Shanghai).

    ``runs_past``: the clock was still running when that day ended, so the case is overdue from
    ``ends_at`` on; for a running clock and a day still to come, it will be unless it stops by
    then. ``provisional``: the day rests on a year whose holidays are only forecast.
    """

    last_day: dt.date
    runs_past: bool
    provisional: bool

    @property
    def ends_at(self) -> dt.datetime:
        """The moment the limit runs out: 00:00 of the day after the last allowed day."""
        return start_of(self.last_day + ONE_DAY)


@dataclass(frozen=True, slots=True)
class YellowDay:
    """The day a yellow card (黄牌) is earned (at its start), and the days counted by then."""

    day: dt.date
    count: int
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
        """The last allowed day of ``limit`` while the clock runs (see ``deadline``); None when
        it is not running (not started, paused or stopped)."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        deadline = self.deadline(limit) if self.running else None
        return None if deadline is None else DueDate(deadline.last_day, deadline.provisional)

    def deadline(self, limit: int) -> Deadline | None:
        """The last allowed day of ``limit`` and whether the clock ran past its end.

        The day the ``limit``-th day is counted (the acceptance or resumption day when nothing is
        left), for natural-day limits moved on to the next working day; days to come are
        projected on the calendar while the clock runs. None when it never started, or paused or
        stopped short of the limit.
        """
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        found: Deadline | None = None
        used = 0
        for start, end in self._spans:
            counted = None if end is None else self._count(start, end)
            need = limit - used
            if need > 0 and counted is not None and counted < need:
                used += counted
                continue
            raw = start if need <= 0 else self._advance(start, need)
            last, first = raw, self._spans[0][0] + ONE_DAY  # first day asked about
            if self._unit is LimitUnit.NATURAL_DAYS:
                last, first = self._calendar.next_working_day(raw), raw
            found = Deadline(last, end is None or last < end, self._provisional(first, last))
            if counted is None or found.runs_past:  # still running, or ran past the end
                return found
            used += counted
        return found

    def yellow_day(self, promised_limit: int, yellow_share: float) -> YellowDay | None:
        """When the yellow card (黄牌) for ``promised_limit`` is earned, at the start of that day.

        The day ``yellow_share`` of the limit is counted (rounded up, at least one day), or the
        last working day counted before the limit's last allowed day if that comes first: the
        card always gives a working day's notice when the limit has room for one. So a promise
        of 1–4 working days warns a working day ahead however the share rounds, and a longer one
        at the share. None when the clock never got (or will not get) there.
        """
        if not 0 < yellow_share <= 1:
            raise ValueError(f"yellow_share must be in (0, 1], got {yellow_share}")
        share = max(math.ceil(round(yellow_share * promised_limit, 9)), 1)  # 0.7×10 = 7.0…01
        days = [d for d in (self.reached_on(share),) if d is not None]
        deadline = self.deadline(promised_limit)
        if deadline is not None:
            days += [d for d in (self._working_day_before(deadline.last_day),) if d is not None]
        if not days:
            return None
        day = min(days)
        provisional = self._provisional(self._spans[0][0] + ONE_DAY, day)
        if self._unit is LimitUnit.NATURAL_DAYS and deadline is not None:
            provisional = deadline.provisional or self._calendar.range_is_provisional(
                day, deadline.last_day
            )
        return YellowDay(day, self.elapsed(start_of(day)).days, provisional)

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

    def status(
        self,
        at: dt.datetime,
        promised_limit: int,
        statutory_limit: int,
        yellow_share: float = 0.8,
    ) -> Card:
        """The card the case holds at ``at``, by the same rules as the cards the subscriber raises.

        RED once the statutory limit (法定时限) has run out with the case still open: from the end
        of its last allowed day (``deadline``). YELLOW from the start of the yellow day of the
        promised limit (承诺时限, ``yellow_day``). Local rules vary, so the share is a parameter
        and the caller picks the limits; whether a verdict rests on forecast holidays is on
        ``deadline(…).provisional`` and ``yellow_day(…).provisional``.
        """
        deadline = self.deadline(statutory_limit)
        if deadline is not None and deadline.runs_past and _aware(at) >= deadline.ends_at:
            return Card.RED
        yellow = self.yellow_day(promised_limit, yellow_share)
        if yellow is not None and yellow.day <= _local_date(at):
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

    def _working_day_before(self, last: dt.date) -> dt.date | None:
        # The latest working day before ``last`` that the clock counted (or will count).
        day = last - ONE_DAY
        while day > self._spans[0][0]:
            counted = any(s < day and (e is None or day <= e) for s, e in self._spans)
            if counted and self._calendar.is_working_day(day):
                return day
            day -= ONE_DAY
        return None

    def _provisional(self, first: dt.date, last: dt.date) -> bool:
        # Whether the calendar answered any day of first..last from a forecast.
        if last < first:
            return False
        return self._calendar.range_is_provisional(first, last)


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


def start_of(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(), BEIJING)
