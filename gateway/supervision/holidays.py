"""A year's fixed statutory holidays (法定节假日), for a year whose holiday notice is not out yet.

The national regulations (《全国年节及纪念日放假办法》, as revised by 国务院令第795号, in force
from 2025-01-01) give everyone 13 days off on dates known years ahead:

- 元旦 New Year's Day: January 1;
- 春节 Spring Festival: the lunar new year's eve (除夕) to the third day of the first month;
- 清明节 Tomb-sweeping Day: the day of the 清明 solar term;
- 劳动节 Labour Day: May 1 and 2;
- 端午节 Dragon Boat Festival: the fifth day of the fifth lunar month;
- 中秋节 Mid-autumn Festival: the fifteenth day of the eighth lunar month;
- 国庆节 National Day: October 1 to 3.

The same regulations say that a holiday falling on a Saturday or Sunday is made up on a
working day (补假); the State Council's yearly notice places those days, and adds the bridge days
(调休) and the weekends worked in exchange, which nobody can know before it is published. Until
then ``fixed_holidays`` gives the 13 days plus one weekday off for each of them that falls on a
weekend or on another holiday, on the first weekdays after the festival — exactly what
chinese-calendar records for 2025 and 2026 apart from the swapped days — and no make-up
working days. The lunar dates and the solar term come from tyme4py (农历 after GB/T 33661-2017).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarTerm

FIRST_YEAR = 2025  # the 2024 revision (除夕 and May 2 added) applies from this year on
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FixedHolidays:
    """One year's statutory holidays as the regulations fix them, by festival name."""

    year: int
    festivals: Mapping[str, tuple[dt.date, ...]]  # 春节 → (除夕, 初一, 初二, 初三), …
    in_lieu: Mapping[dt.date, str]  # 补假: a weekday off for a festival day on a weekend

    @property
    def days(self) -> frozenset[dt.date]:
        """Every day off: the festivals' own days and the weekdays made up for them."""
        own = {day for days in self.festivals.values() for day in days}
        return frozenset(own | self.in_lieu.keys())


@cache
def fixed_holidays(year: int) -> FixedHolidays:
    """The statutory holidays of ``year`` (2025 or later) without its notice's bridge days.

    Raises ValueError before 2025: earlier years followed other rules (no 除夕, one May day),
    and chinese-calendar knows them all anyway.
    """
    if year < FIRST_YEAR:
        raise ValueError(f"the 2024 holiday rules apply from {FIRST_YEAR}, not to {year}")
    new_year = _lunar(year, 1, 1)
    festivals = {
        "元旦": (dt.date(year, 1, 1),),
        "春节": tuple(new_year + n * ONE_DAY for n in range(-1, 3)),
        "清明节": (_solar_term(year, "清明"),),
        "劳动节": (dt.date(year, 5, 1), dt.date(year, 5, 2)),
        "端午节": (_lunar(year, 5, 5),),
        "中秋节": (_lunar(year, 8, 15),),
        "国庆节": (dt.date(year, 10, 1), dt.date(year, 10, 2), dt.date(year, 10, 3)),
    }
    return FixedHolidays(year, festivals, _in_lieu(festivals))


def _in_lieu(festivals: dict[str, tuple[dt.date, ...]]) -> dict[dt.date, str]:
    # A festival day on a weekend, or on a day another festival already holds (中秋节 on
    # October 1–3, as in 2020 and 2028), owes a weekday off right after the festival.
    off = {day for days in festivals.values() for day in days}
    holder: dict[dt.date, str] = {}
    made_up: dict[dt.date, str] = {}
    for name, days in sorted(festivals.items(), key=lambda item: item[1][0]):
        owed = 0
        for day in days:
            owed += day.weekday() >= 5 or day in holder
            holder.setdefault(day, name)
        day = days[-1]
        while owed:
            day += ONE_DAY
            if day.weekday() < 5 and day not in off:
                off.add(day)
                made_up[day] = name
                owed -= 1
    return made_up


def _lunar(year: int, month: int, day: int) -> dt.date:
    solar = LunarDay.from_ymd(year, month, day).get_solar_day()
    return dt.date(int(solar.get_year()), int(solar.get_month()), int(solar.get_day()))


def _solar_term(year: int, name: str) -> dt.date:
    solar = SolarTerm.from_name(year, name).get_solar_day()
    return dt.date(int(solar.get_year()), int(solar.get_month()), int(solar.get_day()))
