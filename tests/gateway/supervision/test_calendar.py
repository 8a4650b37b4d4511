"""Tests of gateway/supervision/calendar.py: package data, notice files, forecast years, and
notices dropped, changed or removed while the calendar is in use."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path

import chinese_calendar
import pytest

from gateway.supervision.calendar import CalendarSource, WorkCalendar
from gateway.supervision.errors import NoticeFileError

D = dt.date.fromisoformat

NOTICE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09"],
    "workdays": ["2027-02-07", "2027-02-20"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
}


def write_notice(tmp_path: Path, body: object, year: int = 2027) -> Path:
    path = tmp_path / f"{year}.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


# The 2026 arrangement as chinese-calendar 1.11.0 has it (国办发明电〔2025〕7号): National Day
# 10-01..10-07 off, make-up working days Sun 09-20 and Sat 10-10; Spring Festival 02-15..02-23
# off, make-up working days Sat 02-14 and Sat 02-28.
CASES_2026 = [
    ("2026-09-20", True),  # Sunday, make-up working day (调休上班) for National Day
    ("2026-09-30", True),
    ("2026-10-01", False),
    ("2026-10-03", False),  # Saturday inside the holiday
    ("2026-10-05", False),  # Monday inside the holiday
    ("2026-10-07", False),
    ("2026-10-08", True),  # Thursday: back at work (2025's holiday ran to 10-08; 2026's does not)
    ("2026-10-10", True),  # Saturday, make-up working day
    ("2026-10-11", False),  # ordinary Sunday
    ("2026-02-13", True),
    ("2026-02-14", True),  # Saturday, make-up working day for Spring Festival
    ("2026-02-15", False),
    ("2026-02-17", False),  # 春节 (New Year's Day of the lunar calendar)
    ("2026-02-23", False),  # Monday, last day off
    ("2026-02-24", True),
    ("2026-02-28", True),  # Saturday, make-up working day
    ("2026-03-01", False),
]


@pytest.mark.parametrize(("day", "working"), CASES_2026)
def test_2026_follows_the_package(day: str, working: bool) -> None:
    assert chinese_calendar.is_workday(D(day)) is working
    calendar = WorkCalendar()
    assert calendar.is_working_day(D(day)) is working
    assert not calendar.is_provisional(D(day))


@pytest.mark.parametrize(
    ("after", "through", "count"),
    [
        ("2026-09-28", "2026-10-09", 4),  # 09-29, 09-30, 10-08, 10-09
        ("2026-09-30", "2026-10-10", 3),  # 10-08, 10-09, make-up Saturday 10-10
        ("2026-02-13", "2026-02-28", 6),  # 02-14, 02-24..02-27, 02-28
        ("2026-10-01", "2026-10-07", 0),
        ("2026-10-09", "2026-10-09", 0),
    ],
)
def test_working_days_between(after: str, through: str, count: int) -> None:
    assert WorkCalendar().working_days_between(D(after), D(through)) == count


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        ("2026-09-28", 5, "2026-10-10"),  # lands on the make-up Saturday
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-09-28", 0, "2026-09-28"),
    ],
)
def test_add_working_days(start: str, count: int, due: str) -> None:
    assert WorkCalendar().add_working_days(D(start), count) == D(due)


# 2027 without a notice: 元旦 Fri 01-01; 春节 from 除夕 Fri 02-05 to 初三 Mon 02-08, two of its
# days on the weekend, made up (补假) on Tue 02-09 and Wed 02-10; 清明 Mon 04-05; no make-up
# working days. The lunar dates are tyme4py's (see test_holidays.py).
CASES_2027_FORECAST = [
    ("2027-01-01", False),  # 元旦
    ("2027-01-04", True),
    ("2027-02-04", True),
    ("2027-02-05", False),  # 除夕
    ("2027-02-06", False),  # 正月初一, a Saturday
    ("2027-02-08", False),  # 初三
    ("2027-02-09", False),  # 补假 for 初一 on a Saturday
    ("2027-02-10", False),  # 补假 for 初二 on a Sunday
    ("2027-02-11", True),
    ("2027-02-20", False),  # an ordinary Saturday: no make-up working day is guessed
    ("2027-04-05", False),  # 清明
    ("2027-10-01", False),
    ("2027-10-05", False),  # 补假 for National Day's weekend
    ("2027-10-06", True),
]


@pytest.mark.parametrize(("day", "working"), CASES_2027_FORECAST)
def test_2027_without_notice_counts_its_fixed_holidays_provisionally(
    tmp_path: Path, day: str, working: bool
) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(day))
    calendar = WorkCalendar(tmp_path)  # a directory without 2027.json
    assert calendar.is_working_day(D(day)) is working
    assert calendar.source(2027) is CalendarSource.STATUTORY
    assert calendar.is_provisional(D(day))
    assert calendar.provisional_years == {2027}
    assert calendar.range_is_provisional(D("2026-12-30"), D("2027-01-04"))
    assert not calendar.range_is_provisional(D("2026-12-01"), D("2026-12-31"))


def test_no_notices_dir_at_all() -> None:
    calendar = WorkCalendar()
    assert calendar.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
    assert calendar.provisional_years == {2027}


def test_a_year_before_the_regulations_and_the_package_is_weekends_only() -> None:
    calendar = WorkCalendar()
    assert calendar.is_working_day(D("2003-01-01"))  # a Wednesday: nothing known
    assert calendar.source(2003) is CalendarSource.WEEKENDS_ONLY
    assert calendar.is_provisional(D("2003-01-01"))


@pytest.mark.parametrize(
    ("day", "working"),
    [("2026-10-04", "2026-10-08"), ("2026-10-08", "2026-10-08"), ("2026-10-11", "2026-10-12")],
)
def test_next_working_day(day: str, working: str) -> None:
    assert WorkCalendar().next_working_day(D(day)) == D(working)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2027-01-01", False),  # notice holiday on a Friday
        ("2027-02-07", True),  # notice make-up Sunday
        ("2027-02-20", True),  # notice make-up Saturday
        ("2027-02-08", False),
        ("2027-02-10", True),  # not in the notice: an ordinary Wednesday
        ("2027-02-13", False),  # not in the notice: an ordinary Saturday
    ],
)
def test_2027_with_notice(tmp_path: Path, day: str, working: bool) -> None:
    write_notice(tmp_path, NOTICE_2027)
    calendar = WorkCalendar(tmp_path)
    assert calendar.is_working_day(D(day)) is working
    assert calendar.source(2027) is CalendarSource.NOTICE
    assert not calendar.is_provisional(D(day))
    assert calendar.provisional_years == frozenset()


def test_package_wins_over_a_notice_for_a_known_year(tmp_path: Path) -> None:
    write_notice(tmp_path, {**NOTICE_2027, "year": 2026, "holidays": ["2026-10-08"]}, 2026)
    calendar = WorkCalendar(tmp_path)
    assert calendar.is_working_day(D("2026-10-08"))
    assert calendar.source(2026) is CalendarSource.PACKAGE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "<file>"),
        ([], "<file>"),
        ({**NOTICE_2027, "year": 2028}, "year"),
        ({**NOTICE_2027, "year": "2027"}, "year"),
        ({k: v for k, v in NOTICE_2027.items() if k != "source"}, "source"),
        ({**NOTICE_2027, "holidays": "2027-01-01"}, "holidays"),
        ({**NOTICE_2027, "holidays": ["2027-13-01"]}, "holidays[0]"),
        ({**NOTICE_2027, "holidays": ["2027-01-01", 5]}, "holidays[1]"),
        ({**NOTICE_2027, "workdays": ["2026-02-07"]}, "workdays[0]"),
        ({**NOTICE_2027, "workdays": ["2027-02-08"]}, "workdays"),  # also a holiday
        ({**NOTICE_2027, "workdays": ["2027-02-10"]}, "workdays"),  # a Wednesday
    ],
)
def test_malformed_notice_raises_naming_file_and_field(
    tmp_path: Path, body: object, field: str
) -> None:
    path = tmp_path / "2027.json"
    if isinstance(body, str):
        path.write_text(body, encoding="utf-8")
    else:
        write_notice(tmp_path, body)
    calendar = WorkCalendar(tmp_path)
    with pytest.raises(NoticeFileError) as caught:
        calendar.is_working_day(D("2027-03-01"))
    assert caught.value.path == path
    assert caught.value.field == field
    assert str(path) in str(caught.value)
    assert not caught.value.retriable


def test_a_notice_dropped_later_counts_from_the_next_refresh(tmp_path: Path) -> None:
    calendar = WorkCalendar(tmp_path)
    assert calendar.is_working_day(D("2027-02-07")) is False  # forecast: a Sunday
    assert calendar.refresh() == []  # nothing new in the folder
    path = write_notice(tmp_path, NOTICE_2027)
    assert calendar.is_working_day(D("2027-02-07")) is False  # not looked at yet
    assert calendar.refresh() == [f"holiday notice {path} read: 2027 counted from it"]
    assert calendar.is_working_day(D("2027-02-07")) is True  # make-up Sunday of the notice
    assert calendar.source(2027) is CalendarSource.NOTICE
    assert calendar.provisional_years == frozenset()
    assert calendar.refresh() == []  # read once


def test_a_changed_notice_is_read_again_and_a_removed_one_gives_way(tmp_path: Path) -> None:
    path = write_notice(tmp_path, NOTICE_2027)
    calendar = WorkCalendar(tmp_path)
    assert calendar.is_working_day(D("2027-02-10")) is True
    write_notice(tmp_path, {**NOTICE_2027, "holidays": [*NOTICE_2027["holidays"], "2027-02-10"]})
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime, however coarse
    assert calendar.refresh() == [f"holiday notice {path} read again: 2027 counted from it"]
    assert calendar.is_working_day(D("2027-02-10")) is False
    path.unlink()
    assert calendar.refresh() == [f"holiday notice {path} removed: 2027 forecast"]
    assert calendar.source(2027) is CalendarSource.STATUTORY
    assert calendar.is_working_day(D("2027-02-07")) is False


def test_a_malformed_notice_dropped_later_is_logged_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calendar = WorkCalendar(tmp_path)
    assert calendar.is_working_day(D("2027-02-09")) is False
    path = tmp_path / "2027.json"
    path.write_text('{"year": 2027, "holidays": [', encoding="utf-8")  # half written
    with caplog.at_level(logging.ERROR, logger="gateway.supervision.calendar"):
        assert calendar.refresh() == []
    assert calendar.source(2027) is CalendarSource.STATUTORY
    assert f"{path}: field '<file>': is not valid JSON" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="gateway.supervision.calendar"):
        assert calendar.refresh() == []
    assert caplog.text == ""  # the same bad version is reported once
    write_notice(tmp_path, NOTICE_2027)  # finished
    assert calendar.refresh() == [f"holiday notice {path} read: 2027 counted from it"]
