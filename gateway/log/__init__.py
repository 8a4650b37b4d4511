"""The event log: the source of truth. Kafka when configured, else a table in the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.backoff import Backoff
from gateway.log.base import (
    Appendable,
    Appended,
    EventLog,
    GroupConsumer,
    LogReader,
    LogRecord,
    OutRecord,
    Position,
    tombstone,
    tombstone_fetched_ms,
)
from gateway.log.errors import LogError, LogUnavailable, RecordRejected, UnknownStream
from gateway.log.kafka import KafkaLog
from gateway.log.sql import SqlLog
from gateway.log.streams import STREAMS, Stream, topic_name
from gateway.settings import Settings

__all__ = [
    "Appendable",
    "Appended",
    "EventLog",
    "GroupConsumer",
    "KafkaLog",
    "LogError",
    "LogReader",
    "LogRecord",
    "LogUnavailable",
    "OutRecord",
    "Position",
    "RecordRejected",
    "STREAMS",
    "SqlLog",
    "Stream",
    "UnknownStream",
    "open_log",
    "tombstone",
    "tombstone_fetched_ms",
    "topic_name",
]

logger = logging.getLogger(__name__)


@asynccontextmanager
async def open_log(
    settings: Settings, engine: AsyncEngine | None = None, *, wait: float = 0
) -> AsyncIterator[EventLog]:
    """The log `settings` describe, started; closed on exit.

    The SQL log needs `engine` (the gateway's database). For Kafka, `wait` seconds are spent
    retrying with backoff while the brokers cannot be reached, so a gateway started before its
    brokers comes up when they do; after that `LogUnavailable` is raised.
    """
    log: EventLog
    if settings.log_backend == "sql":
        if engine is None:
            raise ValueError("the SQL log needs the gateway's database engine")
        log = SqlLog(engine, poll_interval=settings.log.poll_interval_ms / 1000)
    else:
        kafka = KafkaLog(settings.kafka)
        await _start_with_backoff(kafka, wait)
        log = kafka
    try:
        yield log
    finally:
        await log.close()


async def _start_with_backoff(log: KafkaLog, wait: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    backoff = Backoff(0.5, 10.0, jitter="none")
    while True:
        try:
            await log.start()
            return
        except LogUnavailable as exc:
            await log.close()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise
            pause = min(backoff.next_delay(), remaining)
            logger.warning("event log unavailable, retrying in %.1fs: %s", pause, exc.detail)
            await asyncio.sleep(pause)
