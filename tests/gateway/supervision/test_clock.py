"""Tests of gateway/supervision/clock.py: counting, pauses, stops, cards, provisional years."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.clock import BEIJING, Card, CaseClock, DueDate, LimitUnit, Stage
from gateway.supervision.errors import ClockError


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), BEIJING)


def clock_of(
    *stages: tuple[Stage | str, str], unit: LimitUnit = LimitUnit.WORKING_DAYS
) -> CaseClock:
    clock = CaseClock(WorkCalendar(), unit)
    for stage, day in stages:
        clock.feed(stage, at(day))
    return clock


ACCEPTED_BEFORE_NATIONAL_DAY = [(Stage.ACCEPTED, "2026-09-28")]


@pytest.mark.parametrize(
    ("day", "days"),
    [
        ("2026-09-27", 0),  # before acceptance
        ("2026-09-28", 0),  # the acceptance day is day 0
        ("2026-09-29", 1),
        ("2026-09-30", 2),
        ("2026-10-07", 2),  # National Day holiday: nothing counts
        ("2026-10-08", 3),
        ("2026-10-09", 4),
        ("2026-10-10", 5),  # make-up Saturday counts
        ("2026-10-11", 5),  # ordinary Sunday does not
        ("2026-10-12", 6),
    ],
)
def test_elapsed_across_national_day(day: str, days: int) -> None:
    elapsed = clock_of(*ACCEPTED_BEFORE_NATIONAL_DAY).elapsed(at(day))
    assert elapsed.days == days
    assert not elapsed.provisional


def test_five_day_limit_lands_on_the_make_up_saturday() -> None:
    clock = clock_of(*ACCEPTED_BEFORE_NATIONAL_DAY)
    assert clock.due_date(5) == DueDate(dt.date(2026, 10, 10), provisional=False)
    assert clock.status(at("2026-10-10", 23), 5, 5) is Card.YELLOW
    # overdue from the end of the make-up Saturday, not from Monday's start
    assert clock.status(at("2026-10-11", 0), 5, 5) is Card.RED


def test_spring_festival_2026() -> None:
    clock = clock_of((Stage.ACCEPTED, "2026-02-12"))
    # 02-13 (1), 02-14 make-up Saturday (2), 02-15..02-23 off, 02-24 (3)
    assert [clock.elapsed(at(d)).days for d in ("2026-02-14", "2026-02-23", "2026-02-24")] == [
        2,
        2,
        3,
    ]
    assert clock.due_date(3) == DueDate(dt.date(2026, 2, 24), provisional=False)


# Accepted Mon 11-02; 补正 on Wed 11-04; materials back Mon 11-09; completed Thu 11-12.
SUPPLEMENT_CASE = [
    (Stage.ACCEPTED, "2026-11-02"),
    (Stage.IN_REVIEW, "2026-11-03"),
    (Stage.SUPPLEMENT, "2026-11-04"),
    (Stage.IN_REVIEW, "2026-11-09"),
    (Stage.COMPLETED, "2026-11-12"),
]


@pytest.mark.parametrize(
    ("day", "days"),
    [
        ("2026-11-03", 1),
        ("2026-11-04", 2),  # the day 补正 is issued still counts (clock ran when it began)
        ("2026-11-06", 2),  # paused
        ("2026-11-09", 2),  # the day of resumption is like the day of acceptance
        ("2026-11-10", 3),
        ("2026-11-12", 5),  # the completion day counts
        ("2026-11-30", 5),  # stopped
    ],
)
def test_supplement_pauses_and_resumes(day: str, days: int) -> None:
    assert clock_of(*SUPPLEMENT_CASE).elapsed(at(day)).days == days


def test_due_date_moves_with_a_pause() -> None:
    clock = clock_of(*SUPPLEMENT_CASE[:2])
    assert clock.due_date(5) == DueDate(dt.date(2026, 11, 9), provisional=False)
    clock.feed(Stage.SUPPLEMENT, at("2026-11-04"))
    assert clock.due_date(5) is None and not clock.running
    clock.feed(Stage.IN_REVIEW, at("2026-11-09"))
    assert clock.due_date(5) == DueDate(dt.date(2026, 11, 12), provisional=False)


@pytest.mark.parametrize(
    ("stages", "day", "days"),
    [
        # 特别程序 pauses like 补正; any later stage resumes
        (
            [
                (Stage.ACCEPTED, "2026-11-02"),
                (Stage.SPECIAL_PROCEDURE, "2026-11-03"),
                (Stage.ACCEPTED, "2026-11-16"),
            ],
            "2026-11-18",
            3,
        ),
        # pause and resume on the same day costs nothing
        (
            [
                (Stage.ACCEPTED, "2026-11-02"),
                (Stage.SUPPLEMENT, "2026-11-04"),
                (Stage.IN_REVIEW, "2026-11-04"),
            ],
            "2026-11-06",
            4,
        ),
        # withdrawn stops; later stages are ignored
        (
            [
                (Stage.ACCEPTED, "2026-11-02"),
                (Stage.WITHDRAWN, "2026-11-03"),
                (Stage.IN_REVIEW, "2026-11-05"),
            ],
            "2026-11-30",
            1,
        ),
        # stages before acceptance and unknown stages change nothing
        (
            [
                (Stage.IN_REVIEW, "2026-10-26"),
                (Stage.ACCEPTED, "2026-11-02"),
                (Stage.SUPPLEMENT, "2026-11-03"),
                ("SOMETHING_NEW", "2026-11-04"),
            ],
            "2026-11-30",
            1,
        ),
        # never accepted
        ([(Stage.IN_REVIEW, "2026-11-02")], "2026-11-30", 0),
    ],
)
def test_stage_rules(stages: list[tuple[Stage | str, str]], day: str, days: int) -> None:
    assert clock_of(*stages).elapsed(at(day)).days == days


def test_natural_days_count_every_day() -> None:
    clock = clock_of(*ACCEPTED_BEFORE_NATIONAL_DAY, unit=LimitUnit.NATURAL_DAYS)
    assert clock.elapsed(at("2026-10-08")).days == 10
    # Oct 3 is the 5th natural day, a holiday: the limit ends on the next working day
    assert clock.due_date(5) == DueDate(dt.date(2026, 10, 8), provisional=False)
    assert clock.due_date(1) == DueDate(dt.date(2026, 9, 29), provisional=False)


@pytest.mark.parametrize(
    ("day", "card"),
    [
        ("2026-11-05", Card.ON_TIME),  # 3 days; yellow from 0.8 × 5 = 4
        ("2026-11-06", Card.YELLOW),  # 4
        ("2026-11-13", Card.YELLOW),  # 9 = statutory limit: its last day
        ("2026-11-14", Card.RED),  # Saturday: the last day has ended
        ("2026-11-16", Card.RED),
    ],
)
def test_cards(day: str, card: Card) -> None:
    clock = clock_of((Stage.ACCEPTED, "2026-11-02"))
    assert clock.status(at(day), promised_limit=5, statutory_limit=9) is card


def test_yellow_share_is_configurable() -> None:
    clock = clock_of((Stage.ACCEPTED, "2026-11-02"))
    # promised 10: day 5 is Mon 11-09, day 8 Thu 11-12, the last day 11-16
    assert clock.status(at("2026-11-09"), 10, 20, yellow_share=0.5) is Card.YELLOW
    assert clock.status(at("2026-11-09"), 10, 20, yellow_share=0.8) is Card.ON_TIME
    assert clock.status(at("2026-11-12"), 10, 20, yellow_share=0.8) is Card.YELLOW
    # a share of 1 still warns a working day before the last day (Fri 11-13)
    assert clock.status(at("2026-11-12"), 10, 20, yellow_share=1.0) is Card.ON_TIME
    assert clock.status(at("2026-11-13"), 10, 20, yellow_share=1.0) is Card.YELLOW
    with pytest.raises(ValueError):
        clock.status(at("2026-11-06"), 5, 9, yellow_share=0)


def test_2027_without_notice_is_provisional(tmp_path: Path) -> None:
    clock = CaseClock(WorkCalendar(tmp_path))
    clock.feed(Stage.ACCEPTED, at("2026-12-30"))
    assert not clock.elapsed(at("2026-12-31")).provisional
    elapsed = clock.elapsed(at("2027-01-04"))  # 12-31, Fri 01-01 (元旦, forecast), Mon 01-04
    assert (elapsed.days, elapsed.provisional) == (2, True)
    assert clock.due_date(3) == DueDate(dt.date(2027, 1, 5), provisional=True)
    assert clock.due_date(1) == DueDate(dt.date(2026, 12, 31), provisional=False)


def test_2027_with_notice_is_not_provisional(tmp_path: Path) -> None:
    notice = {
        "year": 2027,
        "holidays": ["2027-01-01"],
        "workdays": ["2027-01-02"],
        "source": "国务院办公厅关于2027年部分节假日安排的通知（示例）",
    }
    (tmp_path / "2027.json").write_text(json.dumps(notice, ensure_ascii=False), "utf-8")
    clock = CaseClock(WorkCalendar(tmp_path))
    clock.feed(Stage.ACCEPTED, at("2026-12-30"))
    elapsed = clock.elapsed(at("2027-01-04"))  # 12-31, Sat 01-02 (make-up), Mon 01-04
    assert (elapsed.days, elapsed.provisional) == (3, False)


def test_timezone_is_beijing() -> None:
    clock = CaseClock(WorkCalendar())
    # 2026-09-28 17:00 UTC is 09-29 01:00 in Beijing: accepted on the 29th
    clock.feed(Stage.ACCEPTED, dt.datetime(2026, 9, 28, 17, tzinfo=dt.UTC))
    assert clock.elapsed(at("2026-09-30")).days == 1


@pytest.mark.parametrize(
    "bad",
    [dt.datetime(2026, 11, 1, 10), at("2026-11-01")],  # naive; earlier than the last stage
)
def test_clock_errors(bad: dt.datetime) -> None:
    clock = clock_of((Stage.ACCEPTED, "2026-11-02"))
    with pytest.raises(ClockError):
        clock.feed(Stage.IN_REVIEW, bad)
