"""Operator-supplied holiday notices (国务院办公厅节假日安排通知) as small JSON files.

chinese-calendar knows a year only once a release after the State Council's notice is out.
Until then an operator can drop ``<year>.json`` next to the others::

    {"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-07"],
     "source": "国务院办公厅关于2027年部分节假日安排的通知"}

``holidays`` are the days off (放假) and ``workdays`` the make-up working days (调休上班).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.supervision.errors import NoticeFileError


@dataclass(frozen=True, slots=True)
class HolidayNotice:
    """One year's holiday arrangement, as published by the State Council."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str
    path: Path


def load_notice(path: Path, year: int) -> HolidayNotice:
    """Read and validate the notice file for ``year``; raise NoticeFileError naming the field."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NoticeFileError(path, "<file>", f"cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise NoticeFileError(path, "<file>", f"is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise NoticeFileError(path, "<file>", "must be a JSON object")
    file_year = raw.get("year")
    if not isinstance(file_year, int) or isinstance(file_year, bool) or file_year != year:
        raise NoticeFileError(path, "year", f"must be the integer {year}, got {file_year!r}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise NoticeFileError(path, "source", "must name the notice (a non-empty string)")
    holidays = _dates(path, raw, "holidays", year)
    workdays = _dates(path, raw, "workdays", year)
    both = holidays & workdays
    if both:
        raise NoticeFileError(path, "workdays", f"also listed as holidays: {_iso(both)}")
    weekdays = {d for d in workdays if d.weekday() < 5}
    if weekdays:
        # A make-up working day (调休上班) is by definition a Saturday or Sunday; a weekday
        # here is almost certainly a typo for another date.
        raise NoticeFileError(path, "workdays", f"not a Saturday or Sunday: {_iso(weekdays)}")
    return HolidayNotice(year, holidays, workdays, source.strip(), path)


def _dates(path: Path, raw: dict[str, Any], field: str, year: int) -> frozenset[dt.date]:
    values = raw.get(field)
    if not isinstance(values, list):
        raise NoticeFileError(path, field, "must be a list of ISO dates (YYYY-MM-DD)")
    out: set[dt.date] = set()
    for i, value in enumerate(values):
        where = f"{field}[{i}]"
        if not isinstance(value, str):
            raise NoticeFileError(path, where, f"must be an ISO date string, got {value!r}")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise NoticeFileError(path, where, f"not an ISO date: {value!r}") from exc
        if day.year != year:
            raise NoticeFileError(path, where, f"{value} is not in {year}")
        out.add(day)
    return frozenset(out)


def _iso(days: set[dt.date] | frozenset[dt.date]) -> str:
    return ", ".join(sorted(d.isoformat() for d in days))
