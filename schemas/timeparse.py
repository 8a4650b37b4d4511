"""Dates and times as department systems write them.

Department (委办局) systems write dates as compact digits, ISO strings, slashed or
Chinese (年月日) forms, and Excel serial numbers. Wall-clock values are Asia/Shanghai
local time. `parse_timestamp` returns an aware UTC datetime, `parse_date` a local
calendar date. A connector parses ~100k values a second, so the common shapes are matched
by a few pre-compiled patterns chosen from the first characters, not by a strptime loop.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NoReturn

from schemas.validators import LOCAL_TZ, FieldValueError

__all__ = ["TimeParseError", "parse_date", "parse_timestamp"]

_MIN_YEAR = 1900
_MAX_YEAR = 2200
_ACCEPTED = (
    "expected a date or time such as 2026-11-23, 2026-11-23 10:00:00, "
    "2026-11-23T10:00:00+08:00, 20261123, 20261123100000, 2026/11/23 10:00, "
    "2026年11月23日 or an Excel serial number like 46349"
)

# 2026-11-23, 2026/11/23 10:00, 2026-11-23T10:00:00.5+08:00 (the separator must repeat).
_SEPARATED = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})"
    r"(?:[ Tt](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
# 2026年11月23日, 2026年11月23日 10:00
_CHINESE = re.compile(
    r"(\d{4})年(\d{1,2})月(\d{1,2})日"
    r"(?:\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?",
    re.ASCII,
)
# 20261123, 20261123100000, 20261123100000.5
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?)?", re.ASCII)
# Excel serial: up to 5 integer digits and an optional fraction.
_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?", re.ASCII)

# The 1900 date system counts 1900-01-01 as day 1 and keeps Lotus 1-2-3's fictitious
# 1900-02-29 as day 60, so days after it are offset by one.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_FAKE_LEAP_DAY = 60


class TimeParseError(FieldValueError):
    """A value that is not an acceptable date or time; `code` is stable, not retriable."""


def parse_timestamp(
    value: str | int | float | datetime | date,
    field: str = "time",
    formats: Sequence[str] | None = None,
) -> datetime:
    """Parse a point in time; wall-clock values are Asia/Shanghai. Returns aware UTC.

    `formats` are strptime patterns tried before the built-in shapes.
    """
    if value.__class__ is str and not formats and _is_common(value):  # see _from_separated
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if _MIN_YEAR <= moment.year <= _MAX_YEAR:
                return moment.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
    moment = _parse(value, field, formats)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def parse_date(
    value: str | int | float | date | datetime,
    field: str = "date",
    formats: Sequence[str] | None = None,
) -> date:
    """Parse a calendar date; a timestamp yields its Asia/Shanghai local date."""
    if type(value) is date:
        _check_year(value.year, value, field)
        return value
    moment = _parse(value, field, formats)
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.date()


def _parse(value: object, field: str, formats: Sequence[str] | None) -> datetime:
    """Return a datetime: naive means Asia/Shanghai wall clock, aware keeps its offset."""
    if isinstance(value, str):
        return _parse_text(value, field, formats)
    if isinstance(value, datetime):
        _check_year(value.year, value, field)
        return value
    if isinstance(value, date):
        _check_year(value.year, value, field)
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _parse_number(value, field)
    _fail("DATE_UNPARSEABLE", field, value, f"unsupported type {type(value).__name__}")


def _parse_number(value: int | float, field: str) -> datetime:
    # An 8- or 14-digit integer cannot be an Excel serial in range, but is a common
    # integer-column encoding of 20261123 / 20261123100000.
    if isinstance(value, int) and (10**7 <= value < 10**8 or 10**13 <= value < 10**14):
        return _from_compact(str(value), field, value)
    if not math.isfinite(value):
        _fail("DATE_UNPARSEABLE", field, value, "not a finite number")
    return _from_serial(float(value), field, value)


def _parse_text(value: str, field: str, formats: Sequence[str] | None) -> datetime:
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)
    text = text.strip().strip("\ufeff\u200b").strip()
    if formats:
        for pattern in formats:
            try:
                parsed = datetime.strptime(text, pattern)
            except ValueError:
                continue
            _check_year(parsed.year, value, field)
            return parsed
    return _parse_builtin(text, field, value)


def _parse_builtin(text: str, field: str, value: object) -> datetime:
    """Pick the one pattern a string can match from its length and fifth character."""
    if not text:
        _fail("DATE_UNPARSEABLE", field, value, "value is empty")
    if len(text) >= 8:
        fifth = text[4]
        if fifth in "-/":
            return _from_separated(text, field, value)
        if fifth == "年":
            return _from_chinese(text, field, value)
        if text.isdigit() or (text[:14].isdigit() and text[14:15] == "."):
            return _from_compact(text, field, value)
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text), field, value)
    _fail("DATE_UNPARSEABLE", field, value, _ACCEPTED)


def _is_common(text: str) -> bool:
    """The commonest shape, 2026-11-23 10:00:00, which the C parser reads; anything it refuses
    (or hour 24, which newer Pythons read as the next midnight) takes the patterns."""
    return (
        len(text) == 19
        and text[10] in " T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
        and text[11:13] != "24"
    )


def _from_separated(text: str, field: str, value: object) -> datetime:
    if _is_common(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            _check_year(moment.year, value, field)
            return moment
    match = _SEPARATED.fullmatch(text)
    if match is None:
        _fail("DATE_UNPARSEABLE", field, value, _ACCEPTED)
    year, _, month, day, hour, minute, second, fraction, offset = match.groups()
    moment = _build(field, value, year, month, day, hour, minute, second, fraction)
    if offset is None:
        return moment
    return moment.replace(tzinfo=_offset(offset, field, value))


def _from_chinese(text: str, field: str, value: object) -> datetime:
    match = _CHINESE.fullmatch(text)
    if match is None:
        _fail("DATE_UNPARSEABLE", field, value, _ACCEPTED)
    return _build(field, value, *match.groups())


def _from_compact(text: str, field: str, value: object) -> datetime:
    match = _COMPACT.fullmatch(text)
    if match is None:
        _fail("DATE_UNPARSEABLE", field, value, _ACCEPTED)
    return _build(field, value, *match.groups())


def _build(
    field: str,
    value: object,
    year: str,
    month: str,
    day: str,
    hour: str | None = None,
    minute: str | None = None,
    second: str | None = None,
    fraction: str | None = None,
) -> datetime:
    """Assemble a naive datetime from matched digit groups, checking range and reality."""
    _check_year(int(year), value, field)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
        )
    except ValueError:
        _fail("DATE_UNPARSEABLE", field, value, "not a real calendar date or time of day")


def _offset(text: str, field: str, value: object) -> timezone:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        _fail("DATE_UNPARSEABLE", field, value, f"{text!r} is not a valid UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _from_serial(serial: float, field: str, value: object) -> datetime:
    """Convert an Excel serial (1900 date system) to a local wall-clock datetime."""
    if serial < 1:
        _fail("DATE_OUT_OF_RANGE", field, value, "Excel serial numbers start at 1 (1900-01-01)")
    days = int(serial)
    if days == _EXCEL_FAKE_LEAP_DAY:
        _fail("DATE_OUT_OF_RANGE", field, value, "serial 60 is Excel's nonexistent 1900-02-29")
    if days < _EXCEL_FAKE_LEAP_DAY:
        days += 1
    if days > 366 * (_MAX_YEAR - 1899):
        _fail("DATE_OUT_OF_RANGE", field, value, f"year must be {_MIN_YEAR}-{_MAX_YEAR}")
    # Excel keeps milliseconds; rounding there hides float noise like 09:59:59.999999.
    millis = round((serial - int(serial)) * 86_400_000)
    moment = _EXCEL_EPOCH + timedelta(days=days, milliseconds=millis)
    _check_year(moment.year, value, field)
    return moment


def _check_year(year: int, value: object, field: str) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        _fail("DATE_OUT_OF_RANGE", field, value, f"year must be {_MIN_YEAR}-{_MAX_YEAR}")


def _fail(code: str, field: str, value: object, reason: str) -> NoReturn:
    raise TimeParseError(code, field, value, reason)
