"""Whether a subject is restricted for an item, and by which list entries.

An entry counts on a day when it is in force: listed (`valid_from` reached), not past
`valid_until`, and not removed (信用修复, `removed_on` reached). Removed and expired entries do
not count but stay in the answer's history, with their status, so a clerk sees why a subject
once listed is clear now. A measure restricts an item when it names the item's code (事项编码)
or its category (`ZFCG` 政府采购 …); the caller may pass either as `item`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.lookup import CreditEntryEntry


class EntryStatus(enum.StrEnum):
    """An entry's standing on the day of the check."""

    ACTIVE = "ACTIVE"  # in force: counts
    NOT_YET = "NOT_YET"  # listed with effect from a later day
    EXPIRED = "EXPIRED"  # its period of effect is over
    REMOVED = "REMOVED"  # taken off the list (信用修复)


def entry_status(entry: CreditEntryEntry, today: dt.date) -> EntryStatus:
    if entry.removed_on is not None and entry.removed_on <= today:
        return EntryStatus.REMOVED
    if entry.valid_until is not None and entry.valid_until < today:
        return EntryStatus.EXPIRED
    if entry.valid_from > today:
        return EntryStatus.NOT_YET
    return EntryStatus.ACTIVE


def measures_for(record: dict[str, Any], item: str) -> list[dict[str, Any]]:
    """The entry's measures that name `item`, as an item code or as a category."""
    return [
        m
        for m in record.get("measures") or []
        if isinstance(m, dict)
        and (item in (m.get("item_codes") or []) or item in (m.get("categories") or []))
    ]


@dataclass(frozen=True, slots=True)
class Finding:
    """One entry of the subject, its status, and the measures of it that bar the item."""

    entry: CreditEntryEntry
    status: EntryStatus
    measures: list[dict[str, Any]]

    @property
    def restricts(self) -> bool:
        return self.status is EntryStatus.ACTIVE and bool(self.measures)


@dataclass(frozen=True, slots=True)
class CreditCheck:
    """The answer for one subject, item and day."""

    item: str
    as_of: dt.date
    findings: list[Finding]

    @property
    def restricted(self) -> bool:
        return any(f.restricts for f in self.findings)

    @property
    def restricting(self) -> list[Finding]:
        return [f for f in self.findings if f.restricts]


def check(entries: Sequence[CreditEntryEntry], item: str, today: dt.date) -> CreditCheck:
    """Judge every entry of the subject (the lists the caller may see) for `item` on `today`."""
    findings = [Finding(e, entry_status(e, today), measures_for(e.record, item)) for e in entries]
    return CreditCheck(item, today, findings)
