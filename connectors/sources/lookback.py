"""The SQL source's look-back memory: the rows it emitted inside the look-back window."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger("connectors.sources.sql")


class Recent:
    """Key → version of the rows emitted inside the look-back window, oldest first.

    The look-back re-reads the window and emits a row only if this exact version of it was
    not emitted. Entries behind the window are pruned. At most `MAX_RECENT` entries are kept:
    when the window holds more rows (a bulk load stamped with one time), the oldest are
    forgotten and `floor` rises to their timestamp, shrinking the window to the rows after it.
    A row committed late behind the floor is then missed, as one behind the window is;
    re-sending the forgotten rows instead would repeat them on every poll, without end.
    """

    def __init__(self, limit: int) -> None:
        self._rows: OrderedDict[str, tuple[str, Any]] = OrderedDict()  # key → (version, ts)
        self._limit = limit
        self.floor: Any = None  # the look-back reads only rows with a timestamp after this

    def __len__(self) -> int:
        return len(self._rows)

    def seen(self, key: str, version: str) -> bool:
        entry = self._rows.get(key)
        return entry is not None and entry[0] == version

    def add(self, key: str, version: str, ts: Any) -> None:
        self._rows[key] = (version, ts)
        self._rows.move_to_end(key)
        if len(self._rows) > self._limit:
            _, (_, forgotten) = self._rows.popitem(last=False)
            if self.floor is None:
                log.warning("look-back window holds over %d rows; it shrinks", self._limit)
            if self.floor is None or forgotten > self.floor:
                self.floor = forgotten

    def prune(self, window_start: Any) -> None:
        """Forget rows behind the window (from the front; rows sent late may linger a while)."""
        while self._rows and next(iter(self._rows.values()))[1] < window_start:
            self._rows.popitem(last=False)
        if self.floor is not None and self.floor < window_start:
            self.floor = None  # the window has moved past it

    def snapshot(self) -> dict[str, str]:
        return {key: version for key, (version, _) in self._rows.items()}
