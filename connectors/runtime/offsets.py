"""Where connector offsets live: with the log, as Kafka Connect keeps them.

On the SQL log: a table in the same database, upserted. On Kafka: the compacted
`connect-offsets` topic, keyed `connector|partition`, JSON values; the newest per key wins.
Either way an offset is saved only after the log acknowledged the records before it.
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.sources.base import Offset
from gateway.log import EventLog, OutRecord
from gateway.log.sql import translated_db_errors
from gateway.store.engine import upsert_insert
from gateway.store.tables import connector_offsets

STREAM = "connect-offsets"


class OffsetStore(abc.ABC):
    @abc.abstractmethod
    async def load(self, connector: str) -> dict[str, Offset]:
        """Every saved partition offset of `connector`."""

    @abc.abstractmethod
    async def save(self, connector: str, offsets: Mapping[str, Offset]) -> None:
        """Save offsets; raises `LogUnavailable` (retriable) when the store is away."""


class SqlOffsetStore(OffsetStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = upsert_insert(engine)

    async def load(self, connector: str) -> dict[str, Offset]:
        query = select(connector_offsets.c.source_partition, connector_offsets.c.source_offset)
        query = query.where(connector_offsets.c.connector == connector)
        async with translated_db_errors(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.source_partition: json.loads(row.source_offset) for row in rows}

    async def save(self, connector: str, offsets: Mapping[str, Offset]) -> None:
        if not offsets:
            return
        now = time.time_ns() // 1_000_000
        rows = [
            {
                "connector": connector,
                "source_partition": p,
                "source_offset": json.dumps(o),
                "updated_ms": now,
            }
            for p, o in offsets.items()
        ]
        statement = self._insert(connector_offsets)
        statement = statement.on_conflict_do_update(
            index_elements=["connector", "source_partition"],
            set_={
                "source_offset": statement.excluded.source_offset,
                "updated_ms": statement.excluded.updated_ms,
            },
        )
        async with translated_db_errors(), self.engine.begin() as conn:
            await conn.execute(statement, rows)


class LogOffsetStore(OffsetStore):
    """Offsets as records of the compacted `connect-offsets` stream (used on Kafka)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log

    async def load(self, connector: str) -> dict[str, Offset]:
        prefix = f"{connector}|".encode()
        found: dict[str, Offset] = {}
        async for record in self.log.iterate(STREAM):
            if record.key and record.key.startswith(prefix):
                partition = record.key[len(prefix) :].decode()
                if record.value is None:  # a tombstone: the offset was reset
                    found.pop(partition, None)
                else:
                    found[partition] = json.loads(record.value)
        return found

    async def save(self, connector: str, offsets: Mapping[str, Offset]) -> None:
        records = [
            OutRecord(f"{connector}|{p}".encode(), json.dumps(o).encode())
            for p, o in offsets.items()
        ]
        if records:
            await self.log.append(STREAM, records)


def offset_store(log: EventLog, engine: AsyncEngine) -> OffsetStore:
    """Offsets live with the log: in its table on the SQL log, in a topic on Kafka."""
    return LogOffsetStore(log) if log.backend == "kafka" else SqlOffsetStore(engine)
