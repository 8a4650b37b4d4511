"""Bad records on purpose: which generated rows get a defect, which defect, and the record of it.

A chosen share of generated rows (`bad_share`) gets exactly one defect: an id with a wrong
check digit, an impossible date, a missing required field, or an unknown status code. The
simulator notes each bad row's key in `bad_keys`, so a test can assert that exactly those rows
end up in the dead-letter stream. A defect sticks: later updates of a bad row leave the
spoiled field alone (`DefectBook.keep`), as a real system would keep a bad value until someone
fixes it by hand.
"""

from __future__ import annotations

import random
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from connectors.simulators.people import impossible_date, wrong_check_digit

__all__ = ["Defect", "DefectBook", "DefectKind", "SpoilSpec"]

DefectKind = Literal["check_digit", "impossible_date", "missing_field", "unknown_code"]
Row = MutableMapping[str, object]


@dataclass(frozen=True, slots=True)
class Defect:
    """One defect: its kind, the source field spoiled and the value written there."""

    kind: DefectKind
    field: str
    value: str | None


@dataclass(frozen=True, slots=True)
class SpoilSpec:
    """Which fields of one kind of row may be spoiled, and how.

    `dates` pairs a field with its layout in strftime tokens (`%Y%m%d%H%M%S`); `codes` pairs
    a status field with values its code table does not know. A kind with no fields is never
    chosen.
    """

    ids: tuple[str, ...] = ()
    dates: tuple[tuple[str, str], ...] = ()
    required: tuple[str, ...] = ()
    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing_values: tuple[str | None, ...] = ("", None)

    def kinds(self) -> list[DefectKind]:
        present: list[tuple[DefectKind, bool]] = [
            ("check_digit", bool(self.ids)),
            ("impossible_date", bool(self.dates)),
            ("missing_field", bool(self.required)),
            ("unknown_code", bool(self.codes)),
        ]
        return [kind for kind, there in present if there]

    def apply(self, rng: random.Random, row: Row, when: datetime) -> Defect:
        """Spoil one field of `row` in place and say how; `when` gives a date's year."""
        kind = rng.choice(self.kinds())
        value: str | None
        if kind == "check_digit":
            field = rng.choice(self.ids)
            value = wrong_check_digit(rng, str(row[field]))
        elif kind == "impossible_date":
            field, layout = rng.choice(self.dates)
            value = impossible_date(rng, layout, when)
        elif kind == "missing_field":
            field = rng.choice(self.required)
            value = rng.choice(self.missing_values)
        else:
            field, unknown = rng.choice(self.codes)
            value = rng.choice(unknown)
        row[field] = value
        return Defect(kind, field, value)


class DefectBook:
    """Plans which rows of a batch are bad, spoils them, and remembers their keys.

    The share is kept exactly over time (a fractional remainder carries to the next batch),
    while the positions inside a batch are random.
    """

    def __init__(self, rng: random.Random, share: float) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"bad_share must be between 0.0 and 1.0, got {share}")
        self._rng = rng
        self._share = share
        self._owed = 0.0
        self.bad_keys: set[str] = set()
        self.defects: dict[str, Defect] = {}

    def plan(self, n: int) -> set[int]:
        """Indexes (0 … n-1) of the rows of the next batch of n that get a defect."""
        if self._share == 0.0 or n <= 0:
            return set()
        self._owed += n * self._share
        count = min(n, int(self._owed + 1e-9))
        self._owed -= count
        return set(self._rng.sample(range(n), count)) if count else set()

    def spoil(self, key: str, spec: SpoilSpec, row: Row, when: datetime) -> Defect:
        """Give `row` (whose source key is `key`) one defect from `spec`, and note it."""
        defect = spec.apply(self._rng, row, when)
        self.record(key, defect)
        return defect

    def spoil_row(self, spec: SpoilSpec, row: Row, when: datetime) -> Defect:
        """Give `row` one defect without noting it yet: its key is known only once stored."""
        return spec.apply(self._rng, row, when)

    def record(self, key: str, defect: Defect) -> None:
        self.bad_keys.add(key)
        self.defects[key] = defect

    def keep(self, key: str, updates: MutableMapping[str, object]) -> None:
        """Drop from `updates` the field that holds `key`'s defect, so the defect survives."""
        defect = self.defects.get(key)
        if defect is not None:
            updates.pop(defect.field, None)
