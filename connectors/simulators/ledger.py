"""An in-memory table ordered by (update time, key), read in pages after an opaque cursor.

The 自然资源 HTTP simulator keeps its records here. An updated record moves to the end of
the order with its new update time, so a client that pages with the cursor sees it again,
as with a department API whose cursor is (gxsj, ywh).
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["CursorError", "Ledger", "Page"]

Record = dict[str, object]


class CursorError(ValueError):
    """A since-cursor this ledger did not hand out."""


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Record]
    next_cursor: str
    has_more: bool


def encode_cursor(position: tuple[str, str]) -> str:
    raw = f"{position[0]}|{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str] | None:
    """The (version, key) a cursor stands for; the empty cursor means the beginning."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise CursorError(f"not a cursor: {cursor!r}") from exc
    version, bar, key = text.partition("|")
    if not bar or not key:
        raise CursorError(f"not a cursor: {cursor!r}")
    return version, key


class Ledger:
    """Records by key, kept in (version, key) order; `put` replaces and moves a record."""

    def __init__(self, key: str = "ywh", version: str = "gxsj") -> None:
        self._key = key
        self._version = version
        self._records: dict[str, Record] = {}
        self._order: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __iter__(self) -> Iterator[Record]:
        """Copies of the records, oldest update first."""
        for _, key in self._order:
            yield dict(self._records[key])

    def get(self, key: str) -> Record:
        return dict(self._records[key])

    def put(self, record: Record) -> None:
        """Insert or replace a record (a copy is kept) at its (version, key) position."""
        key = str(record[self._key])
        old = self._records.get(key)
        if old is not None:
            position = (str(old[self._version]), key)
            del self._order[bisect.bisect_left(self._order, position)]
        self._records[key] = dict(record)
        bisect.insort(self._order, (str(record[self._version]), key))

    def remove(self, key: str) -> Record:
        """Take a record out (deleted at the source); returns what it was."""
        old = self._records.pop(key)
        del self._order[bisect.bisect_left(self._order, (str(old[self._version]), key))]
        return old

    def page(self, cursor: str, size: int) -> Page:
        """Up to `size` records after `cursor`; the next cursor stays put on an empty page."""
        after = decode_cursor(cursor)
        start = 0 if after is None else bisect.bisect_right(self._order, after)
        positions = self._order[start : start + size]
        items = [dict(self._records[key]) for _, key in positions]
        next_cursor = encode_cursor(positions[-1]) if positions else cursor
        return Page(items, next_cursor, start + len(positions) < len(self._order))

    def oldest(self, wanted: Callable[[Record], bool], limit: int) -> list[Record]:
        """Copies of the first `limit` records (least recently updated) that are `wanted`."""
        found: list[Record] = []
        for _, key in self._order:
            if len(found) >= limit:
                break
            if wanted(self._records[key]):
                found.append(dict(self._records[key]))
        return found
