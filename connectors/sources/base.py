"""What every source is: a small async lifecycle yielding batches of raw records.

As in Kafka Connect, a source never stores its own position. Each record carries the
`partition` it belongs to (a table, an endpoint, a file) and the `offset` just after it; the
runtime saves offsets only after the log has acknowledged the records before them, and
hands the saved ones back through `OffsetReader` when the source starts again.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.errors import RefetchNotSupported

Offset = dict[str, Any]  # JSON-serializable


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One raw record as the department system gave it."""

    partition: str  # what the offset is about: a table, an endpoint, a file's content hash
    offset: Offset  # the position just after this record, within its partition
    table: str  # source table, endpoint or file name (provenance)
    key: str  # the source's primary key, as text
    version: str  # the source's version or watermark of this row (provenance, event id)
    data: Mapping[str, Any]  # column or field name → value, exactly as read
    # The row is gone from the source: `data` holds what the source remembered of it (enough
    # for the mapping to rebuild its canonical key), and `version` names the delete.
    deleted: bool = False
    how: str = "SNAPSHOT_DIFF"  # for a delete: how it was found (Deletion.how)


class OffsetReader(Protocol):
    """The saved offsets of this connector, by partition."""

    async def get(self, partition: str) -> Offset | None: ...


class Source(abc.ABC):
    """Reads one department system. `batches()` ends only when `stop()` was called (or, in
    backfill mode, when the source is caught up); raise `SourceUnavailable` when the system
    cannot be read and the runtime will restart the source from the saved offsets."""

    name: str = "source"
    stopping: asyncio.Event  # set by stop(); batches() checks it between batches

    def __init__(self) -> None:
        self.stopping = asyncio.Event()

    @abc.abstractmethod
    async def start(self, offsets: OffsetReader) -> None:
        """Connect and load the saved positions."""

    @abc.abstractmethod
    def batches(self) -> AsyncIterator[list[SourceRecord]]:
        """Bounded batches of records, in partition order; waits while nothing is new."""

    async def committed(self, partition: str, offset: Offset) -> None:  # noqa: B027 - a hook
        """Called after `offset` of `partition` is saved (e.g. to move a finished file)."""

    async def pending(self) -> int | None:
        """How many records are waiting to be read, if the source can tell cheaply."""
        return None

    async def stop(self) -> None:
        """Ask `batches()` to end after the current batch; safe to call twice."""
        self.stopping.set()

    async def fetch_one(self, table: str, key: str) -> SourceRecord | None:
        """The record of `table` whose key is `key`, read now (None: the source has no such
        record), for re-driving a dead letter after its source was corrected. Needs no
        `start()`; opens and releases what it uses. Sources that cannot say refuse."""
        raise RefetchNotSupported(f"the {self.name} source cannot re-read one record by its key")

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; called once by the runtime after the last batch."""


def describe(data: Mapping[str, Any]) -> dict[str, Any]:
    """A raw record made JSON-safe for the dead-letter stream (values kept, types as text)."""
    return {
        str(k): v if isinstance(v, str | int | float | bool | None) else str(v)
        for k, v in data.items()
    }
