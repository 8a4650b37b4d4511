"""Tests for connectors/simulators/defects.py and clock.py: bad-row planning, sticky defects,
a clock that never goes back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from connectors.simulators.clock import SimClock, to_local
from connectors.simulators.defects import DefectBook, SpoilSpec


@pytest.mark.parametrize("share", [0.0, 0.013, 0.1, 0.5, 1.0])
def test_the_share_of_bad_rows_is_exact_over_batches(share: float) -> None:
    book = DefectBook(random.Random(1), share)
    total = 0
    for size in [1, 7, 100, 3, 250, 1, 1, 1, 637]:
        chosen = book.plan(size)
        assert all(0 <= index < size for index in chosen)
        total += len(chosen)
    assert abs(total - 1001 * share) < 1


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="bad_share"):
        DefectBook(random.Random(0), 1.5)


def test_spoil_changes_one_field_and_records_the_key() -> None:
    spec = SpoilSpec(
        ids=("ID",), dates=(("D", "%Y%m%d"),), required=("NAME",), codes=(("ZT", ("9",)),)
    )
    book = DefectBook(random.Random(3), 1.0)
    kinds = set()
    for number in range(200):
        row: dict[str, object] = {"ID": "330802199001010011", "D": "20261123", "NAME": "王伟"}
        row["ZT"] = "1"
        before = dict(row)
        defect = book.spoil(str(number), spec, row, datetime(2026, 11, 23))
        changed = {field for field in row if row[field] != before[field]}
        assert changed == {defect.field}
        kinds.add(defect.kind)
    assert kinds == {"check_digit", "impossible_date", "missing_field", "unknown_code"}
    assert book.bad_keys == {str(n) for n in range(200)} == set(book.defects)


def test_updates_leave_a_defect_in_place() -> None:
    book = DefectBook(random.Random(0), 1.0)
    row: dict[str, object] = {"ZT": "1"}
    book.spoil("k", SpoilSpec(codes=(("ZT", ("9",)),)), row, datetime(2026, 11, 23))
    updates: dict[str, object] = {"ZT": "3", "GXSJ": "2026-11-23 10:00:00"}
    book.keep("k", updates)
    assert updates == {"GXSJ": "2026-11-23 10:00:00"}
    other: dict[str, object] = {"ZT": "3"}
    book.keep("good", other)
    assert other == {"ZT": "3"}


def test_the_clock_never_goes_back() -> None:
    clock = SimClock()
    first = clock.now(datetime(2026, 11, 23, 10, 0, 0, 500))
    assert first == datetime(2026, 11, 23, 10, 0, 0)
    assert clock.now(datetime(2026, 11, 23, 9, 0, 0)) == first
    assert clock.now(datetime(2026, 11, 23, 11, 0, 0)) == datetime(2026, 11, 23, 11, 0, 0)
    strict = SimClock(strict=True)
    a = strict.now(datetime(2026, 11, 23, 10, 0, 0))
    assert strict.now(a) == a + timedelta(seconds=1)


def test_aware_times_become_shanghai_wall_time() -> None:
    assert to_local(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 10, 0)
