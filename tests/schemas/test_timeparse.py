"""Tests for schemas/timeparse.py: department date and time shapes, Excel serials, errors."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import SchemaError
from schemas.timeparse import TimeParseError, parse_date, parse_timestamp
from schemas.validators import LOCAL_TZ


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


TEN_LOCAL = utc(2026, 11, 23, 2)  # 2026-11-23 10:00 Asia/Shanghai
MIDNIGHT_LOCAL = utc(2026, 11, 22, 16)

TIMESTAMPS = [
    ("20261123", MIDNIGHT_LOCAL),
    ("20261123100000", TEN_LOCAL),
    ("20261123100000.25", TEN_LOCAL + timedelta(milliseconds=250)),
    ("2026-11-23", MIDNIGHT_LOCAL),
    ("2026-11-23 10:00:00", TEN_LOCAL),
    ("2026-11-23 10:00", TEN_LOCAL),
    ("2026-11-23T10:00:00", TEN_LOCAL),
    ("2026-11-23T10:00", TEN_LOCAL),
    ("2026-11-23T10:00:00+08:00", TEN_LOCAL),
    ("2026-11-23T10:00:00+0800", TEN_LOCAL),
    ("2026-11-23T10:00:00Z", utc(2026, 11, 23, 10)),
    ("2026-11-23T10:00:00-05:30", utc(2026, 11, 23, 15, 30)),
    ("2026-11-23 10:00:00.123456", TEN_LOCAL + timedelta(microseconds=123456)),
    ("2026-11-23T10:00:00.5Z", utc(2026, 11, 23, 10, 0, 0, 500000)),
    ("2026-11-23 10:00:00.123456789", TEN_LOCAL + timedelta(microseconds=123456)),
    ("2026/11/23", MIDNIGHT_LOCAL),
    ("2026/11/23 10:00", TEN_LOCAL),
    ("2026/11/23 10:00:00", TEN_LOCAL),
    ("2026/1/5 9:05", utc(2026, 1, 5, 1, 5)),
    ("2026年11月23日", MIDNIGHT_LOCAL),
    ("2026年11月23日 10:00", TEN_LOCAL),
    ("2026年11月23日10:00:00", TEN_LOCAL),
    ("  2026-11-23 10:00:00\n", TEN_LOCAL),
    ("２０２６－１１－２３　１０：００：００", TEN_LOCAL),  # full-width
    ("\ufeff2026-11-23 10:00:00", TEN_LOCAL),  # BOM from an Excel CSV export
    ("2026-11-23t10:00:00z", utc(2026, 11, 23, 10)),  # RFC 3339 allows lower case
    ("46349", MIDNIGHT_LOCAL),  # Excel serial
    ("46349.5", utc(2026, 11, 23, 4)),
    (46349, MIDNIGHT_LOCAL),
    (46349.5, utc(2026, 11, 23, 4)),
    (46349 + 10 / 24, TEN_LOCAL),  # float noise must not give 09:59:59.999
    (20261123, MIDNIGHT_LOCAL),  # yyyymmdd kept in an integer column
    (20261123100000, TEN_LOCAL),
    (datetime(2026, 11, 23, 10), TEN_LOCAL),  # naive = local
    (datetime(2026, 11, 23, 10, tzinfo=UTC), utc(2026, 11, 23, 10)),
    (datetime(2026, 11, 23, 10, tzinfo=LOCAL_TZ), TEN_LOCAL),
    (date(2026, 11, 23), MIDNIGHT_LOCAL),
]


@pytest.mark.parametrize(("value", "expected"), TIMESTAMPS)
def test_parse_timestamp(value: str | int | float | datetime | date, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


DATES = [
    ("20261123", date(2026, 11, 23)),
    ("2026-11-23", date(2026, 11, 23)),
    ("2026/1/5", date(2026, 1, 5)),
    ("2026年11月23日", date(2026, 11, 23)),
    ("2026-11-23 23:59:59", date(2026, 11, 23)),
    ("2026-11-23T20:00:00Z", date(2026, 11, 24)),  # local calendar date of an instant
    ("2026-11-23T01:00:00+09:00", date(2026, 11, 23)),
    ("2026-11-23T07:59:59+00:00", date(2026, 11, 23)),
    ("2026-11-22T16:00:00Z", date(2026, 11, 23)),
    (46349, date(2026, 11, 23)),
    (46349.99, date(2026, 11, 23)),
    ("1", date(1900, 1, 1)),
    (59, date(1900, 2, 28)),
    (61, date(1900, 3, 1)),
    (20261123, date(2026, 11, 23)),
    (date(2026, 11, 23), date(2026, 11, 23)),
    (datetime(2026, 11, 23, 23, 30), date(2026, 11, 23)),
    (datetime(2026, 11, 23, 20, tzinfo=UTC), date(2026, 11, 24)),
]


@pytest.mark.parametrize(("value", "expected"), DATES)
def test_parse_date(value: str | int | float | datetime | date, expected: date) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert type(parsed) is date


def test_formats_are_tried_first_then_defaults() -> None:
    assert parse_date("2026-01-02", formats=["%Y-%d-%m"]) == date(2026, 2, 1)
    assert parse_date("23.11.2026", formats=["%d.%m.%Y"]) == date(2026, 11, 23)
    assert parse_date("2026-11-23", formats=["%d.%m.%Y"]) == date(2026, 11, 23)
    assert parse_timestamp("23.11.2026 10h00", formats=["%d.%m.%Y %Hh%M"]) == TEN_LOCAL
    aware = parse_timestamp("23/11/2026 10:00 +0000", formats=["%d/%m/%Y %H:%M %z"])
    assert aware == utc(2026, 11, 23, 10)


ERRORS = [
    # (value, code, reason fragment, formats)
    ("", "DATE_UNPARSEABLE", "empty", None),
    ("   ", "DATE_UNPARSEABLE", "empty", None),
    ("yesterday", "DATE_UNPARSEABLE", "2026-11-23", None),
    ("2026-11", "DATE_UNPARSEABLE", "20261123", None),
    ("2026-11/23", "DATE_UNPARSEABLE", "2026/11/23", None),
    ("2026-11-23 10", "DATE_UNPARSEABLE", "such as", None),
    ("2026-11-23 10:00:00+25:00", "DATE_UNPARSEABLE", "offset", None),
    ("2026/11/23 10:00Q", "DATE_UNPARSEABLE", "such as", None),
    ("2026年11月", "DATE_UNPARSEABLE", "年", None),
    ("202611231", "DATE_UNPARSEABLE", "such as", None),
    ("202611231000", "DATE_UNPARSEABLE", "such as", None),
    ("123456", "DATE_UNPARSEABLE", "Excel serial", None),
    ("٢٠٢٦١١٢٣", "DATE_UNPARSEABLE", "such as", None),  # Arabic-Indic digits
    ("2026-02-29", "DATE_UNPARSEABLE", "real calendar date", None),
    ("2026-11-23 24:00", "DATE_UNPARSEABLE", "time of day", None),
    ("20261323", "DATE_UNPARSEABLE", "real calendar date", None),
    ("2026年2月30日", "DATE_UNPARSEABLE", "real calendar date", None),
    ("1899-12-31", "DATE_OUT_OF_RANGE", "1900-2200", None),
    ("2201-01-01", "DATE_OUT_OF_RANGE", "1900-2200", None),
    ("22010101", "DATE_OUT_OF_RANGE", "1900-2200", None),
    ("01.01.1800", "DATE_OUT_OF_RANGE", "1900-2200", ("%d.%m.%Y",)),
    ("60", "DATE_OUT_OF_RANGE", "1900-02-29", None),
    (60, "DATE_OUT_OF_RANGE", "1900-02-29", None),
    (60.5, "DATE_OUT_OF_RANGE", "1900-02-29", None),
    (0, "DATE_OUT_OF_RANGE", "start at 1", None),
    (0.5, "DATE_OUT_OF_RANGE", "start at 1", None),
    (-3, "DATE_OUT_OF_RANGE", "start at 1", None),
    (10**9, "DATE_OUT_OF_RANGE", "1900-2200", None),
    (1e300, "DATE_OUT_OF_RANGE", "1900-2200", None),
    (float("nan"), "DATE_UNPARSEABLE", "finite", None),
    (float("inf"), "DATE_UNPARSEABLE", "finite", None),
    (True, "DATE_UNPARSEABLE", "bool", None),
    (None, "DATE_UNPARSEABLE", "NoneType", None),
    (datetime(1899, 12, 31, 23), "DATE_OUT_OF_RANGE", "1900-2200", None),
    (datetime(9999, 12, 31, tzinfo=UTC), "DATE_OUT_OF_RANGE", "1900-2200", None),
    (date(2201, 1, 1), "DATE_OUT_OF_RANGE", "1900-2200", None),
]


@pytest.mark.parametrize("parse", [parse_timestamp, parse_date])
@pytest.mark.parametrize(("value", "code", "reason", "formats"), ERRORS)
def test_errors_carry_code_field_and_value(
    parse: Callable[..., object],
    value: object,
    code: str,
    reason: str,
    formats: tuple[str, ...] | None,
) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(value, "received_at", formats)
    err = caught.value
    assert (err.code, err.field, err.value) == (code, "received_at", value)
    assert reason in err.reason
    assert str(err) == f"received_at: {err.reason} (value {value!r})"
    assert err.retriable is False
    assert isinstance(err, ValueError)
    assert isinstance(err, SchemaError)


def test_default_field_names() -> None:
    with pytest.raises(TimeParseError, match=r"^time: "):
        parse_timestamp("x")
    with pytest.raises(TimeParseError, match=r"^date: "):
        parse_date("x")


def test_error_survives_pickling() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_date("2026-02-30")
    clone = pickle.loads(pickle.dumps(caught.value))
    assert (type(clone), clone.code, str(clone)) == (
        TimeParseError,
        "DATE_UNPARSEABLE",
        str(caught.value),
    )


# --- properties -----------------------------------------------------------------------

local_times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31, 23, 59, 59)
)
SECOND_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
]
MINUTE_FORMATS = ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M"]
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"]


def as_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


@given(local_times, st.sampled_from(SECOND_FORMATS))
def test_local_seconds_round_trip(moment: datetime, pattern: str) -> None:
    moment = moment.replace(microsecond=0)
    assert parse_timestamp(moment.strftime(pattern)) == as_utc(moment)


@given(local_times, st.sampled_from(MINUTE_FORMATS))
def test_local_minutes_round_trip(moment: datetime, pattern: str) -> None:
    moment = moment.replace(second=0, microsecond=0)
    assert parse_timestamp(moment.strftime(pattern)) == as_utc(moment)


@given(local_times)
def test_fractional_seconds_round_trip(moment: datetime) -> None:
    assert parse_timestamp(moment.strftime("%Y-%m-%d %H:%M:%S.%f")) == as_utc(moment)


@given(local_times, st.integers(-14 * 60, 14 * 60))
def test_offsets_are_honoured(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    text = aware.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    assert parse_timestamp(text) == aware.astimezone(UTC)
    assert parse_timestamp(aware.isoformat()) == aware.astimezone(UTC)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.sampled_from(DATE_FORMATS),
)
def test_dates_round_trip(day: date, pattern: str) -> None:
    assert parse_date(day.strftime(pattern)) == day


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2173, 10, 13)))  # serial 99999
def test_excel_serials_round_trip(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert parse_date(serial) == day
    assert parse_date(str(serial)) == day


SHAPED = st.text(alphabet="0123456789-/:. TZ+年月日", max_size=30)


@given(st.one_of(st.text(), SHAPED))
def test_arbitrary_text_raises_only_time_parse_error(value: str) -> None:
    for parse in (parse_timestamp, parse_date):
        try:
            parse(value)
        except TimeParseError:
            pass


@given(st.one_of(st.integers(), st.floats()))
def test_arbitrary_numbers_raise_only_time_parse_error(value: float) -> None:
    try:
        parse_timestamp(value)
    except TimeParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    digits=st.lists(st.integers(0, 99), min_size=6, max_size=6),
    century=st.sampled_from([18, 19, 20, 21, 22]),
    sep=st.sampled_from([" ", "T"]),
)
def test_the_common_shape_parses_as_the_pattern_does(
    digits: list[int], century: int, sep: str
) -> None:
    """`2026-11-23 10:00:00` takes a C fast path; slashes still take the pattern: same result."""
    year, month, day, hour, minute, second = digits
    fast = f"{century}{year:02d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}"
    slow = fast.replace("-", "/")

    def outcome(text: str) -> object:
        try:
            return parse_timestamp(text, "GXSJ")
        except TimeParseError as exc:
            return exc.code

    assert outcome(fast) == outcome(slow)
