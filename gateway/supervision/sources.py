"""Where the subscriber reads case events: the log with its own consumer group, or the HTTP feed.

Each source hands out batches with the position just after them, as text; the supervisor saves
that position with the state in one transaction, and the source resumes from it. The log source
also commits its consumer group (so lag shows in the usual tools) after the state is saved; if
the group is ever ahead of the state (a state database restored or replaced, or new), the gap
is read again from the log first, and records the state already holds are skipped.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from gateway.client import GatewayClient
from gateway.log import EventLog, GroupConsumer, LogRecord, Position
from gateway.supervision.supervisor import Incoming
from schemas.codec import EventCodec
from schemas.errors import DecodeError

logger = logging.getLogger(__name__)

STREAM = "case-events"


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[Incoming]
    position: str  # to save with the state; the source resumes from it


class CaseSource(abc.ABC):
    """Batches of case events, resumable from a saved position."""

    id: str  # names the source in the state's positions table

    @abc.abstractmethod
    async def next_batch(self, timeout: float) -> Batch | None:
        """The next batch, or None when nothing arrived within ``timeout`` seconds."""

    async def saved(self) -> None:  # noqa: B027 - most sources have nothing to do here
        """Called once the batch's position is saved with the state."""

    @abc.abstractmethod
    async def caught_up(self) -> bool:
        """True when everything in the source when asked has been handed out."""


class LogSource(CaseSource):
    """case-events read with a consumer group of the subscriber's own."""

    def __init__(self, log: EventLog, group: str, saved: str | None, codec: EventCodec) -> None:
        self.id = self.source_id(group)
        self.log, self.group, self.codec = log, group, codec
        self.position: Position = _position(saved)
        self._consumer: GroupConsumer | None = None
        self._gap: AsyncGenerator[LogRecord, None] | None = None
        self._committed: Position = {}

    @staticmethod
    def source_id(group: str) -> str:
        return f"log:{STREAM}:{group}"

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[LogSource]:
        async with self.log.consumer(STREAM, self.group) as consumer:
            self._consumer = consumer
            self._committed = committed = await consumer.committed()
            if any(off > self.position.get(p, 0) for p, off in committed.items()):
                logger.warning(
                    "group %s is at %s but the state only at %s: reading the gap from the log",
                    self.group,
                    committed,
                    self.position,
                )
                self._gap = self._iterate()
            elif not self.position:
                # An empty state reads from the start whatever the group says: on Kafka the
                # group's position is only known once partitions are assigned, which may be
                # after this point, and a state rebuilt by replay must see every case.
                self._gap = self._iterate()
            try:
                yield self
            finally:
                self._consumer = None
                if self._gap is not None:
                    await self._gap.aclose()
                    self._gap = None

    async def next_batch(self, timeout: float) -> Batch | None:
        assert self._consumer is not None, "use `async with source.opened()`"
        records = await self._from_gap() if self._gap is not None else []
        if not records:
            records = await self._consumer.poll(500, timeout)
        fresh = [r for r in records if r.offset >= self.position.get(r.partition, 0)]
        if not fresh:
            return None
        for r in fresh:
            self.position[r.partition] = max(self.position.get(r.partition, 0), r.offset + 1)
        return Batch([self._incoming(r) for r in fresh], json.dumps(_text_keys(self.position)))

    async def saved(self) -> None:
        if self._consumer is not None:
            ahead = {p: o for p, o in self.position.items() if o > self._committed.get(p, 0)}
            if ahead:
                await self._consumer.commit(ahead)
                self._committed.update(ahead)

    async def caught_up(self) -> bool:
        end = await self.log.end_position(STREAM)
        return self._gap is None and all(self.position.get(p, 0) >= o for p, o in end.items())

    async def _iterate(self) -> AsyncGenerator[LogRecord, None]:
        async for record in self.log.iterate(STREAM, self.position or None):
            yield record

    async def _from_gap(self) -> list[LogRecord]:
        assert self._gap is not None
        out: list[LogRecord] = []
        async for record in self._gap:
            out.append(record)
            if len(out) >= 500:
                return out
        self._gap = None
        return out

    def _incoming(self, record: LogRecord) -> Incoming:
        where = f"{STREAM}/{record.partition}@{record.offset}"
        try:
            decoded = self.codec.decode(record.value or b"")  # no tombstones on case-events
        except DecodeError as exc:
            return Incoming(where, None, f"{exc.code}: {exc.detail}")
        if decoded.name != "CaseEvent":
            return Incoming(where, None, f"NOT_A_CASE_EVENT: a {decoded.name} on {STREAM}")
        return Incoming(where, decoded.record)


class FeedSource(CaseSource):
    """case-events over the gateway's HTTP feed (long-poll), as a subscriber member."""

    def __init__(self, client: GatewayClient, saved: str | None, wait: float = 10.0) -> None:
        self.id = self.source_id(client.base_url)
        self.client = client
        self.cursor = saved
        self.wait = wait

    @staticmethod
    def source_id(base_url: str) -> str:
        return f"feed:{base_url.rstrip('/')}/v1/feeds/{STREAM}"

    async def next_batch(self, timeout: float) -> Batch | None:
        params: dict[str, Any] = {"limit": 500, "wait": max(0.0, min(self.wait, timeout))}
        if self.cursor:
            params["after"] = self.cursor
        answer = await self.client.request("GET", f"/v1/feeds/{STREAM}", params=params)
        data = answer.data if isinstance(answer.data, dict) else {}
        items = data.get("items") or []
        cursor = str(data.get("next") or self.cursor or "")
        if not items and cursor == (self.cursor or ""):
            return None
        self.cursor = cursor
        return Batch([_feed_item(item) for item in items], cursor)

    async def caught_up(self) -> bool:
        params: dict[str, Any] = {"limit": 1, "wait": 0}
        if self.cursor:
            params["after"] = self.cursor
        answer = await self.client.request("GET", f"/v1/feeds/{STREAM}", params=params)
        return not (isinstance(answer.data, dict) and answer.data.get("items"))


def _feed_item(item: dict[str, Any]) -> Incoming:
    where = f"{STREAM}/{item.get('partition')}@{item.get('offset')}"
    event = item.get("event")
    if not isinstance(event, dict):
        return Incoming(where, None, str(item.get("decode_error") or "no event in the feed item"))
    if item.get("type") not in (None, "cn.govgate.CaseEvent.v1", "CaseEvent"):
        return Incoming(where, None, f"NOT_A_CASE_EVENT: {item.get('type')}")
    return Incoming(where, event)


def _position(saved: str | None) -> Position:
    if not saved:
        return {}
    return {int(p): int(o) for p, o in json.loads(saved).items()}


def _text_keys(position: Position) -> dict[str, int]:
    return {str(p): o for p, o in sorted(position.items())}
