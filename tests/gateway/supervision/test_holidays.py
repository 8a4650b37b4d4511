"""Tests of gateway/supervision/holidays.py against the years chinese-calendar knows.

chinese-calendar records each year's days off as the State Council's notice set them: the
statutory days, the weekdays made up for those falling on a weekend (补假), and the bridge days
swapped for weekends worked (调休, its ``in_lieu_days``). Leaving out the swapped days and the
weekends, what remains must be exactly the fixed holidays that tyme4py's lunar calendar and solar
terms give — for 2025 and 2026, the first years under the 2024 revision of the regulations,
which added 除夕 and May 2.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from chinese_calendar.constants import holidays as package_holidays
from chinese_calendar.constants import in_lieu_days

from gateway.supervision.holidays import fixed_holidays

D = dt.date.fromisoformat

# chinese-calendar's English names of the festivals, by the regulations' Chinese ones
PACKAGE_NAMES = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day",
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_fixed_holiday_is_a_holiday_of_that_festival_in_the_package(year: int) -> None:
    fixed = fixed_holidays(year)
    assert sum(len(days) for days in fixed.festivals.values()) == 13  # 国务院令第795号
    for name, days in fixed.festivals.items():
        for day in days:
            assert chinese_calendar.get_holiday_detail(day) == (True, PACKAGE_NAMES[name]), day
    for day, name in fixed.in_lieu.items():
        assert chinese_calendar.get_holiday_detail(day) == (True, PACKAGE_NAMES[name]), day


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_package_has_no_other_weekday_off_but_its_swapped_days(year: int) -> None:
    theirs = {
        day
        for day in package_holidays
        if day.year == year and day.weekday() < 5 and day not in in_lieu_days
    }
    ours = {day for day in fixed_holidays(year).days if day.weekday() < 5}
    assert ours == theirs


@pytest.mark.parametrize(
    ("year", "festival", "days"),
    [
        # 2025: the lunar new year on Jan 29, so 除夕 Jan 28 — new under the 2024 revision
        (2025, "春节", ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31"]),
        (2025, "劳动节", ["2025-05-01", "2025-05-02"]),  # May 2: new as well
        (2025, "清明节", ["2025-04-04"]),  # the solar term, not a fixed date
        (2025, "端午节", ["2025-05-31"]),
        (2025, "中秋节", ["2025-10-06"]),
        (2026, "春节", ["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19"]),
        (2026, "清明节", ["2026-04-05"]),
        (2026, "端午节", ["2026-06-19"]),
        (2026, "中秋节", ["2026-09-25"]),
        (2027, "春节", ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"]),
        (2027, "清明节", ["2027-04-05"]),
        (2027, "端午节", ["2027-06-09"]),
        (2027, "中秋节", ["2027-09-15"]),
    ],
)
def test_lunar_festivals_and_the_solar_term(year: int, festival: str, days: list[str]) -> None:
    assert fixed_holidays(year).festivals[festival] == tuple(D(d) for d in days)


def test_weekend_festival_days_are_made_up_on_the_next_weekdays() -> None:
    assert fixed_holidays(2025).in_lieu == {D("2025-06-02"): "端午节"}  # 端午 on a Saturday
    assert fixed_holidays(2026).in_lieu == {
        D("2026-04-06"): "清明节",  # 清明 on a Sunday
        D("2026-05-04"): "劳动节",  # May 2 on a Saturday
        D("2026-10-05"): "国庆节",  # Oct 3 on a Saturday
    }
    assert fixed_holidays(2027).in_lieu == {
        D("2027-02-09"): "春节",  # 初一 and 初二 on the weekend
        D("2027-02-10"): "春节",
        D("2027-05-03"): "劳动节",
        D("2027-05-04"): "劳动节",
        D("2027-10-04"): "国庆节",
        D("2027-10-05"): "国庆节",
    }


def test_a_festival_day_on_another_holiday_is_made_up_too() -> None:
    # 2028: 中秋 falls on Oct 3, inside National Day (as in 2020, when the notice gave 8 days)
    fixed = fixed_holidays(2028)
    assert fixed.festivals["中秋节"] == (D("2028-10-03"),)
    assert fixed.in_lieu[D("2028-10-04")] == "国庆节"  # for Sun Oct 1
    assert fixed.in_lieu[D("2028-10-05")] == "中秋节"


def test_years_before_the_2024_revision_are_refused() -> None:
    with pytest.raises(ValueError, match="from 2025"):
        fixed_holidays(2024)
