"""When a case is overdue (超期), over real holidays: the red card at the end of the last allowed
day, natural-day limits ending on a working day, the yellow card a working day ahead, and 2027
before its notice. Dates are checked by hand against chinese-calendar 1.11.0 (2026: 中秋 Fri
09-25 and National Day 10-01..10-07 off, make-up working days Sun 09-20 and Sat 10-10).

The cases ``O2``–``O6`` are also the October 2026 bulletin's (test_report.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gateway.supervision.calendar import CalendarSource, WorkCalendar
from gateway.supervision.cards import earned_cards
from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import (
    BEIJING,
    Card,
    CaseClock,
    Deadline,
    LimitUnit,
    Stage,
    start_of,
)
from tests.gateway.supervision.cases import at, event

D = dt.date.fromisoformat
SECOND = dt.timedelta(seconds=1)

# Promised and statutory limits of 5 working days unless said otherwise.
O1 = [event("O1", "ACCEPTED", "2026-03-06", promised=5, statutory=5)]  # Fri; last day Fri 03-13
O2 = [  # accepted Tue 09-22: 09-23, 09-24, 09-28, 09-29, 09-30 (中秋 and a weekend between)
    event("O2", "ACCEPTED", "2026-09-22", promised=5, statutory=5),
    event("O2", "COMPLETED", "2026-10-09", promised=5, statutory=5),
]
O3 = [  # accepted Fri 10-16: last day Fri 10-23; completed on the Saturday after it
    event("O3", "ACCEPTED", "2026-10-16", promised=5, statutory=5),
    event("O3", "COMPLETED", "2026-10-24", promised=5, statutory=5),
]
O4 = [  # accepted Fri 10-23: last day Fri 10-30; completed on Monday
    event("O4", "ACCEPTED", "2026-10-23", promised=5, statutory=5),
    event("O4", "COMPLETED", "2026-11-02", promised=5, statutory=5),
]
O5 = [  # 7 natural days from Mon 09-28: the 7th, 10-05, is a holiday; the limit ends Thu 10-08
    event("O5", "ACCEPTED", "2026-09-28", promised=7, statutory=7, unit="NATURAL_DAYS"),
    event("O5", "COMPLETED", "2026-10-09", promised=7, statutory=7, unit="NATURAL_DAYS"),
]
O6 = [  # promised 3 working days from Tue 09-29: 09-30, 10-08, 10-09; completed on the last
    event("O6", "ACCEPTED", "2026-09-29", promised=3, statutory=5),
    event("O6", "COMPLETED", "2026-10-09", promised=3, statutory=5),
]
CASES = [*O1, *O2, *O3, *O4, *O5, *O6]


def case_of(events: list[dict[str, Any]]) -> CaseFile:
    case = CaseFile.from_event(events[0])
    for e in events[1:]:
        case.add(e)
    return case


def red_card(events: list[dict[str, Any]], until: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The red card's day and the moment it was earned, by ``until``; fails if there is none."""
    case = case_of(events)
    clock = case.clock(WorkCalendar())
    [red] = [c for c in earned_cards(case, clock, until, 0.8) if c.card is Card.RED]
    return red.crossed_on, red.earned_at


def has_red(events: list[dict[str, Any]], until: dt.datetime) -> bool:
    case = case_of(events)
    clock = case.clock(WorkCalendar())
    return any(c.card is Card.RED for c in earned_cards(case, clock, until, 0.8))


@pytest.mark.parametrize(
    ("events", "last_day"),
    [
        (O1, "2026-03-13"),  # Fri: overdue from its end (the card used to wait for Mon 03-16)
        (O2, "2026-09-30"),  # before National Day (it used to come on 10-08, eight days late)
        (O3, "2026-10-23"),  # completed Sat 10-24: late, though that Saturday counts nothing
        (O4, "2026-10-30"),  # October's card (it used to be November's, on Mon 11-02)
        (O5, "2026-10-08"),  # natural days: the limit's 7th day, 10-05, is a holiday
    ],
    ids=["O1", "O2", "O3", "O4", "O5"],
)
def test_the_red_card_comes_at_the_end_of_the_last_allowed_day(
    events: list[dict[str, Any]], last_day: str
) -> None:
    end = start_of(D(last_day) + dt.timedelta(days=1))  # 24:00 of the last allowed day
    assert red_card(events, at("2026-12-31")) == (D(last_day), end)
    assert not has_red(events, end - SECOND)  # 23:59:59 on the last day: still in time
    assert has_red(events, end)


def test_a_completion_on_the_last_day_is_in_time_and_one_after_it_is_late() -> None:
    on_time = [O3[0], event("O3", "COMPLETED", "2026-10-23", hour=23, promised=5, statutory=5)]
    assert not has_red(on_time, at("2026-12-31"))
    just_after = [O3[0], event("O3", "COMPLETED", "2026-10-24", hour=0, promised=5, statutory=5)]
    assert red_card(just_after, at("2026-12-31"))[0] == D("2026-10-23")


@pytest.mark.parametrize(
    ("accepted", "days", "last_day"),
    [
        ("2026-09-28", 7, "2026-10-08"),  # 10-05 is a holiday: the next working day
        ("2026-09-28", 2, "2026-09-30"),  # a working day: as counted
        ("2026-09-24", 3, "2026-09-28"),  # Sun 09-27 (after 中秋): to Monday
        ("2026-09-13", 7, "2026-09-20"),  # Sun 09-20 is a make-up working day (调休上班)
    ],
)
def test_natural_day_limits_end_on_a_working_day(accepted: str, days: int, last_day: str) -> None:
    clock = CaseClock(WorkCalendar(), LimitUnit.NATURAL_DAYS)
    clock.feed(Stage.ACCEPTED, at(accepted))
    deadline = clock.deadline(days)
    assert deadline is not None
    assert (deadline.last_day, deadline.provisional) == (D(last_day), False)


@pytest.mark.parametrize(
    ("promised", "yellow", "last_day"),
    [
        # accepted Mon 11-02 (no holidays in November 2026); share 0.8
        (1, "2026-11-03", "2026-11-03"),  # no room: on the last day itself
        (2, "2026-11-03", "2026-11-04"),
        (3, "2026-11-04", "2026-11-05"),  # ceil(0.8 × 3) = 3 would be the last day
        (4, "2026-11-05", "2026-11-06"),
        (5, "2026-11-06", "2026-11-09"),  # the share (4) is already a working day ahead
        (10, "2026-11-12", "2026-11-16"),  # the share: 8 days
    ],
)
def test_the_yellow_card_comes_a_working_day_before_the_last_day(
    promised: int, yellow: str, last_day: str
) -> None:
    case = case_of([event("Y1", "ACCEPTED", "2026-11-02", promised=promised, statutory=20)])
    clock = case.clock(WorkCalendar())
    deadline, found = clock.deadline(promised), clock.yellow_day(promised, 0.8)
    assert deadline is not None and found is not None
    assert (found.day, deadline.last_day) == (D(yellow), D(last_day))


def test_a_three_working_day_promise_warns_a_working_day_before_its_last_day() -> None:
    case = case_of(O6[:1])  # last day Fri 10-09; a working day before it: Thu 10-08
    clock = case.clock(WorkCalendar())
    [yellow] = earned_cards(case, clock, at("2026-10-09", 23), 0.8)
    assert (yellow.card, yellow.crossed_on, yellow.threshold) == (Card.YELLOW, D("2026-10-08"), 2)
    assert clock.status(at("2026-10-07", 23), 3, 5) is Card.ON_TIME
    assert clock.status(at("2026-10-08", 0), 3, 5) is Card.YELLOW


def test_a_natural_day_yellow_card_comes_before_the_holiday() -> None:
    # 7 natural days from 09-28 end 10-08; 0.8 × 7 → day 6 is 10-04, a holiday: the card comes
    # on Wed 09-30 instead, the last working day before the last day.
    clock = case_of(O5[:1]).clock(WorkCalendar())
    yellow = clock.yellow_day(7, 0.8)
    assert yellow is not None and (yellow.day, yellow.count) == (D("2026-09-30"), 2)


@pytest.mark.parametrize(
    "day",
    ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
)
def test_2027_new_year_and_spring_festival_are_holidays_without_a_notice(
    tmp_path: Path, day: str
) -> None:
    calendar = WorkCalendar(tmp_path)  # no 2027.json
    assert not calendar.is_working_day(D(day))
    assert calendar.is_provisional(D(day))
    assert calendar.source(2027) is CalendarSource.STATUTORY


def test_2027_limits_skip_its_holidays_and_are_provisional(tmp_path: Path) -> None:
    new_year = CaseClock(WorkCalendar(tmp_path))
    new_year.feed(Stage.ACCEPTED, at("2026-12-31"))  # 01-01 off: 01-04, 01-05, 01-06
    spring = CaseClock(WorkCalendar(tmp_path))
    spring.feed(Stage.ACCEPTED, at("2027-02-04"))  # 02-05..02-10 off: 02-11, 02-12
    assert new_year.deadline(3) == Deadline(D("2027-01-06"), runs_past=True, provisional=True)
    assert spring.deadline(2) == Deadline(D("2027-02-12"), runs_past=True, provisional=True)


@pytest.mark.parametrize(
    "events",
    [
        [event("Z0", "ACCEPTED", "2026-11-02", promised=0, statutory=0)],
        [event("Z1", "ACCEPTED", "2026-11-02", promised=0, statutory=3)],
        [event("Z2", "ACCEPTED", "2026-09-29", promised=3, statutory=5)],
        O2,
        O3,
        O5,
        [  # paused for 补正 on its last day, resumed with nothing left
            event("Z3", "ACCEPTED", "2026-11-02", promised=3, statutory=3),
            event("Z3", "SUPPLEMENT", "2026-11-05", promised=3, statutory=3),
            event("Z3", "IN_REVIEW", "2026-11-10", promised=3, statutory=3),
        ],
    ],
    ids=["Z0", "Z1", "Z2", "O2", "O3", "O5", "Z3"],
)
def test_status_and_cards_follow_one_rule(events: list[dict[str, Any]]) -> None:
    """Every six hours over two months, ``CaseClock.status()`` is the worst card earned so far
    (promised limit 0 included: no yellow on the acceptance day from either)."""
    case = case_of(events)
    clock = case.clock(WorkCalendar())
    assert case.promised_limit is not None and case.statutory_limit is not None
    moment = dt.datetime(2026, 9, 20, tzinfo=BEIJING)
    while moment < dt.datetime(2026, 11, 20, tzinfo=BEIJING):
        earned = {c.card for c in earned_cards(case, clock, moment, 0.8)}
        expected = Card.RED if Card.RED in earned else Card.YELLOW if earned else Card.ON_TIME
        status = clock.status(moment, case.promised_limit, case.statutory_limit, 0.8)
        assert status is expected, moment
        moment += dt.timedelta(hours=6)


def test_a_promise_of_zero_days_is_not_yellow_on_its_acceptance_day() -> None:
    case = case_of([event("Z1", "ACCEPTED", "2026-11-02", promised=0, statutory=3)])
    clock = case.clock(WorkCalendar())
    assert clock.status(at("2026-11-02", 23), 0, 3) is Card.ON_TIME
    assert earned_cards(case, clock, at("2026-11-02", 23), 0.8) == []
    assert clock.status(at("2026-11-03", 0), 0, 3) is Card.YELLOW
    [yellow] = earned_cards(case, clock, at("2026-11-03", 0), 0.8)
    assert (yellow.crossed_on, yellow.threshold) == (D("2026-11-03"), 1)
