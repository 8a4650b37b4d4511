"""The event log's interface. Two backends implement it: Kafka and an SQL table.

Positions are per partition: `{partition: next offset to read}`. The SQL log has one
partition per stream; Kafka has as many as the topic. A reader or consumer returns records
in offset order within a partition, and records with the same key are always in one partition.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from gateway.log.errors import UnknownStream
from gateway.log.streams import STREAMS

Position = dict[int, int]
Header = tuple[str, bytes]


class Appendable(Protocol):
    """What `append` takes; `schemas.codec.EncodedEvent` is one."""

    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...  # None: a tombstone (the key's record is deleted)
    @property
    def headers(self) -> Sequence[Header]: ...


@dataclass(frozen=True, slots=True)
class OutRecord:
    """A plain record to append, for callers without an `EncodedEvent`."""

    key: bytes | None
    value: bytes | None  # None: a tombstone
    headers: Sequence[Header] = ()


# Headers of a tombstone govgate writes after a `Deletion` record: which delete it ends the key
# with, and when that delete was fetched, so a projection can order it against versions.
# The type code (证照类型, 材料目录, 名单) lets feeds show it only to subscribers granted that type.
TOMBSTONE_OF = "govgate_deletion"
TOMBSTONE_FETCHED_MS = "govgate_fetched_ms"
TOMBSTONE_TYPE = "govgate_type_code"


def tombstone(
    key: bytes, deletion_id: str, fetched_ms: int, type_code: str | None = None
) -> OutRecord:
    """The tombstone that follows the `Deletion` record `deletion_id` of `key`."""
    headers = [
        (TOMBSTONE_OF, deletion_id.encode()),
        (TOMBSTONE_FETCHED_MS, str(fetched_ms).encode()),
    ]
    if type_code is not None:
        headers.append((TOMBSTONE_TYPE, type_code.encode()))
    return OutRecord(key, None, tuple(headers))


def tombstone_fetched_ms(headers: Sequence[Header]) -> int | None:
    """When the delete a tombstone ends its key with was fetched; None if it does not say."""
    for name, value in headers:
        if name == TOMBSTONE_FETCHED_MS:
            try:
                return int(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True, slots=True)
class Appended:
    """The log's acknowledgement of one appended record."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A record read from the log."""

    stream: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None  # None: a tombstone, the end of its key on a compacted stream
    headers: tuple[Header, ...]
    timestamp_ms: int


class LogReader(abc.ABC):
    """Reads one stream from a start position onward; not shared between tasks."""

    @abc.abstractmethod
    async def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[LogRecord]:
        """Up to `max_records` records; waits up to `timeout` seconds for the first one."""

    @abc.abstractmethod
    def position(self) -> Position:
        """The position just after the records returned so far."""


class GroupConsumer(LogReader):
    """A member of a named consumer group: starts from the group's committed position."""

    @abc.abstractmethod
    async def commit(self, position: Position | None = None) -> None:
        """Commit `position` (default: after everything returned) as the group's position."""

    @abc.abstractmethod
    async def committed(self) -> Position:
        """The group's committed position (partitions never committed are absent)."""


class EventLog(abc.ABC):
    """Append-only, ordered per key, readable from any position, durable once acknowledged."""

    backend: str

    @abc.abstractmethod
    async def append(self, stream: str, records: Sequence[Appendable]) -> list[Appended]:
        """Append a batch; returns once the log has made every record durable."""

    @abc.abstractmethod
    async def end_position(self, stream: str) -> Position:
        """The position after the newest record of each partition."""

    @abc.abstractmethod
    def reader(
        self, stream: str, start: Position | None = None
    ) -> AbstractAsyncContextManager[LogReader]:
        """A reader from `start` (default: the beginning) that does not commit anywhere."""

    @abc.abstractmethod
    def consumer(self, stream: str, group: str) -> AbstractAsyncContextManager[GroupConsumer]:
        """A consumer in group `group`, resuming from the group's committed position."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise `LogUnavailable` unless the log answers now."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def read(
        self, stream: str, start: Position | None = None, max_records: int = 500, timeout: float = 0
    ) -> list[LogRecord]:
        """One batch from `start`: a convenience over `reader`."""
        async with self.reader(stream, start) as reader:
            return await reader.poll(max_records, timeout)

    async def iterate(
        self, stream: str, start: Position | None = None, batch: int = 1000
    ) -> AsyncIterator[LogRecord]:
        """Every record from `start` to the end position as of the call."""
        end = await self.end_position(stream)
        if all((start or {}).get(p, 0) >= off for p, off in end.items()):
            return
        async with self.reader(stream, start) as reader:
            while any(reader.position().get(p, 0) < off for p, off in end.items()):
                records = await reader.poll(batch, timeout=1.0)
                if not records:  # everything below `end` is already there; nothing more will come
                    return
                for record in records:
                    if record.offset < end.get(record.partition, 0):
                        yield record


def check_stream(stream: str) -> None:
    if stream not in STREAMS:
        raise UnknownStream(f"no stream {stream!r}; streams are {', '.join(STREAMS)}")
