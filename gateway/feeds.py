"""The HTTP feed (电子监察 feed): pages of a stream's records behind an opaque cursor.

A cursor is the base64url (unpadded) JSON `{"stream": name, "position": {partition: next
offset}}`: the log's own position, so a page resumed from `next` neither skips nor repeats a
record, on the SQL log (one partition) and on Kafka (many) alike. Every item carries the cursor
just after it, which is also its SSE event id. Filters on department (部门), region (区划) and
item (事项) are applied here, server-side; a record filtered out still advances the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.log import EventLog, LogRecord
from gateway.log.base import TOMBSTONE_TYPE, Position
from schemas.codec import EventCodec, headers_dict, to_jsonable
from schemas.errors import DecodeError, GovgateError

FEED_STREAMS = ("case-events", "supervision-alerts", "notices", "certificates")
# What one subscriber may see of one item (the item, perhaps masked), or None: the gateway's
# policy decides it per stream (`gateway.api.policy.feed_view`), for the feed and webhooks alike.
ItemView = Callable[[dict[str, Any]], dict[str, Any] | None]
TOMBSTONE = "tombstone"  # the type of a feed item that is a tombstone
SCAN_BUDGET = 5000  # records examined per request at most, however selective the filter
HEARTBEAT_S = 15.0
MAX_OFFSET = 2**63 - 1  # a log offset is a signed 64-bit integer (Kafka, SQL BIGINT)
MAX_PARTITION = 2**31 - 1  # a partition number is a signed 32-bit integer (Kafka)


class InvalidCursor(GovgateError):
    """A feed cursor this gateway did not hand out, or one of another stream."""

    code = "INVALID_INPUT"


class TooManyStreams(GovgateError):
    """As many event streams are open as the member, or the gateway, may hold; retriable
    after `retry_after_s`, when some will have ended (a stream lasts at most `wait`)."""

    code = "TOO_MANY_STREAMS"
    retriable = True

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class StreamSlots:
    """Open SSE streams of this process, per member and in all: each holds a connection, a
    log reader and a task for up to `wait` seconds, so without a cap one subscriber could open
    a thousand and starve every lookup."""

    def __init__(self, per_member: int, total: int, retry_after_s: int = 5) -> None:
        self.per_member, self.total, self.retry_after_s = per_member, total, retry_after_s
        self._open: dict[str, int] = {}
        self._count = 0

    @property
    def open(self) -> int:
        return self._count

    def acquire(self, member_id: str) -> None:
        """Take a slot for `member_id`, or `TooManyStreams`; give it back with `release`."""
        mine = self._open.get(member_id, 0)
        if mine >= self.per_member:
            raise TooManyStreams(
                f"member {member_id} has {mine} event streams open, the most it may",
                self.retry_after_s,
            )
        if self._count >= self.total:
            raise TooManyStreams(
                "the gateway has as many event streams open as it may", self.retry_after_s
            )
        self._open[member_id] = mine + 1
        self._count += 1

    def release(self, member_id: str) -> None:
        left = self._open.get(member_id, 0) - 1
        if left > 0:
            self._open[member_id] = left
        else:
            self._open.pop(member_id, None)
        self._count = max(0, self._count - 1)


@dataclass(frozen=True)
class Filter:
    """Equality on the record's codes; None matches anything."""

    department_code: str | None = None
    region_code: str | None = None
    item_code: str | None = None

    def matches(self, event: dict[str, Any] | None) -> bool:
        wanted = {
            "department_code": self.department_code,
            "region_code": self.region_code,
            "item_code": self.item_code,
        }
        if all(v is None for v in wanted.values()):
            return True
        if event is None:
            return False
        return all(v is None or event.get(k) == v for k, v in wanted.items())


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str


def encode_cursor(stream: str, position: Position) -> str:
    raw = json.dumps(
        {"stream": stream, "position": {str(p): o for p, o in sorted(position.items())}},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(stream: str, cursor: str | None) -> Position:
    """The position a cursor names; `InvalidCursor` for a malformed or another stream's one."""
    if cursor is None or cursor == "":
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = json.loads(raw)
        position = found["position"]
        if found["stream"] != stream or not isinstance(position, dict):
            raise ValueError("another stream")
        parsed = {int(p): o for p, o in position.items()}
        if not all(
            type(o) is int and 0 <= o <= MAX_OFFSET and 0 <= p <= MAX_PARTITION
            for p, o in parsed.items()
        ):  # beyond what a log can hold: no driver should see it (OverflowError, a 500)
            raise ValueError("offset or partition out of range")
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor(f"after / Last-Event-ID: not a cursor of {stream}") from exc
    return parsed


def _time(record: LogRecord, headers: dict[str, str]) -> str:
    if "ce_time" in headers:
        return headers["ce_time"]
    stamp = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)
    return stamp.isoformat().replace("+00:00", "Z")


def to_item(codec: EventCodec, record: LogRecord, cursor: str) -> dict[str, Any]:
    """One feed item; a value that does not decode is shown with `event: null` and its code."""
    headers = headers_dict(record.headers)
    item: dict[str, Any] = {
        "cursor": cursor,
        "stream": record.stream,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
        "time": _time(record, headers),
        "type": headers.get("ce_type"),
        "event": None,
    }
    if record.value is None:  # a tombstone: the key's record was deleted (compacted streams)
        item["type"] = TOMBSTONE
        item["tombstone"] = True
        item["type_code"] = headers.get(TOMBSTONE_TYPE)
        return item
    try:
        decoded = codec.decode(record.value)
    except DecodeError as exc:  # shown, not skipped: the subscriber must see the gap's cause
        item["decode_error"] = exc.code
        return item
    item["event"] = to_jsonable(decoded.record)
    item["type"] = item["type"] or decoded.name
    return item


def visible(item: dict[str, Any], where: Filter, view: ItemView | None) -> dict[str, Any] | None:
    """The item as shown, if it matches the filter and the subscriber may see it."""
    if not where.matches(item["event"]):  # a filtered feed leaves tombstones out
        return None
    return item if view is None else view(item)


class FeedReader:
    """Reads one stream from a position, keeping the position after each record seen."""

    def __init__(
        self,
        log: EventLog,
        codec: EventCodec,
        stream: str,
        start: Position,
        where: Filter,
        view: ItemView | None = None,
    ) -> None:
        self.log, self.codec, self.stream, self.filter = log, codec, stream, where
        self.view = view
        self.position: Position = dict(start)

    async def records(
        self, limit: int, deadline: float, first_only: bool
    ) -> AsyncIterator[dict[str, Any] | None]:
        """Matching items until `limit` of them or `deadline` (monotonic), or, with
        `first_only`, until the first poll that yields any. None marks an idle poll interval
        (for heartbeats); the scan stops after SCAN_BUDGET records whatever the filter.
        """
        sent = scanned = 0
        async with self.log.reader(self.stream, self.position or None) as reader:
            while sent < limit and scanned < SCAN_BUDGET:
                remaining = deadline - time.monotonic()
                wanted = min(limit - sent, SCAN_BUDGET - scanned)
                batch = await reader.poll(wanted, max(0.0, min(remaining, HEARTBEAT_S)))
                if not batch:
                    if remaining <= 0:
                        return
                    yield None
                    continue
                scanned += len(batch)
                for record in batch:
                    self.position[record.partition] = record.offset + 1
                    item = to_item(self.codec, record, encode_cursor(self.stream, self.position))
                    shown = visible(item, self.filter, self.view)
                    if shown is not None:
                        sent += 1
                        yield shown
                if first_only and sent:
                    return

    @property
    def cursor(self) -> str:
        return encode_cursor(self.stream, self.position)


async def read_page(
    log: EventLog,
    codec: EventCodec,
    stream: str,
    start: Position,
    *,
    limit: int,
    wait: float,
    where: Filter,
    view: ItemView | None = None,
) -> Page:
    """A long-poll page: returns once at least one matching record is there, else after `wait`."""
    reader = FeedReader(log, codec, stream, start, where, view)
    items = [
        item
        async for item in reader.records(limit, time.monotonic() + wait, first_only=True)
        if item is not None
    ]
    return Page(items, reader.cursor)


def sse_event(item: dict[str, Any]) -> bytes:
    data = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return f"id: {item['cursor']}\nevent: {item['type']}\ndata: {data}\n\n".encode()


async def sse_stream(reader: FeedReader, limit: int, wait: float) -> AsyncIterator[bytes]:
    """Events for one connection: at most `limit` records and `wait` seconds (bounded work);
    a comment every HEARTBEAT_S seconds of silence. The client resumes with Last-Event-ID.
    """
    yield b"retry: 1000\n\n"
    async for item in reader.records(limit, time.monotonic() + wait, first_only=False):
        yield b": heartbeat\n\n" if item is None else sse_event(item)
