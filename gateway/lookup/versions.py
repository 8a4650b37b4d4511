"""Which version of a record wins: decided by its source, never by a value a client picks freely.

A record is owned by the source system (来源系统) that first put it in the store: a version from
another source system never replaces or deletes it (`FOREIGN`); the publishers' scopes keep a
member from claiming a source system it is not registered for, so this is what stops one
department overwriting another's certificates. Within one source system, versions are ordered
by the source's own version (`provenance.source_version`) when both are ordered values of one
kind (an integer: a revision or a cursor; a date-time written as digits and separators, as
SQL sources' watermarks are), and otherwise (a file drop's content hash, a delete's marker) by
when they were fetched, ties going to the later record on the log. A fetch time never counts
later than the moment the log took the record, so a far-future `fetched_at` (2099) wins
nothing, live or on `govgate rebuild`, which applies this same rule in the same log order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_INTEGER = re.compile(r"[0-9]{1,30}")
# 2026-11-23, 20261123, 2026-11-23 10:00:00, 2026-11-23T10:00:00.123, 2026/11/23 10:00
_DATE_TIME = re.compile(
    r"([0-9]{4})[-/]?([0-9]{2})[-/]?([0-9]{2})"
    r"(?:[ T]?([0-9]{2}):?([0-9]{2})(?::?([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?"
)


class Verdict(Enum):
    NEWER = "newer"  # replaces what is stored
    STALE = "stale"  # older than what is stored: not applied
    FOREIGN = "foreign"  # another source system's record: never applied over this one


@dataclass(frozen=True, slots=True)
class Version:
    """What orders one version of a record: its source system and version, and its fetch
    time (already capped at the log's time of the record, `capped_fetch_ms`)."""

    source_system: str | None  # None: not known (a bare tombstone), which matches any
    source_version: str
    fetched_ms: int


def capped_fetch_ms(fetched_ms: int, logged_ms: int) -> int:
    """The fetch time, but never later than when the log took the record."""
    return min(fetched_ms, logged_ms) if logged_ms > 0 else fetched_ms


def order_key(version: str) -> tuple[str, int | str] | None:
    """The source version as an ordered value of its kind, or None when it orders nothing."""
    if _INTEGER.fullmatch(version):
        return ("integer", int(version))
    found = _DATE_TIME.fullmatch(version)
    if found:
        parts = [p or "" for p in found.groups()]
        digits = "".join(parts[:6]).ljust(14, "0") + parts[6].ljust(9, "0")
        return ("date-time", digits)
    return None


def verdict(new: Version, stored: Version) -> Verdict:
    """Whether `new` replaces `stored` (NEWER), comes too late (STALE) or may never (FOREIGN)."""
    if (
        new.source_system is not None
        and stored.source_system is not None
        and new.source_system != stored.source_system
    ):
        return Verdict.FOREIGN
    mine, theirs = order_key(new.source_version), order_key(stored.source_version)
    if mine is not None and theirs is not None and mine[0] == theirs[0] and mine != theirs:
        return Verdict.NEWER if mine > theirs else Verdict.STALE
    return Verdict.NEWER if new.fetched_ms >= stored.fetched_ms else Verdict.STALE
