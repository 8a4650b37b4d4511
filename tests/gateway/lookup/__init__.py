"""Helpers of the lookup tests: a real store and a real log on each backend, and sample events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import Appended, EventLog, open_log
from gateway.lookup.tables import LOOKUP_TABLES
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from schemas.ids import event_id
from tests.gateway.log.conftest import settings_for
from tests.samples import FETCHED, certificate

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("kafka", marks=pytest.mark.kafka),
]
STREAM_OF = {"Certificate": "certificates", "Material": "materials", "CaseEvent": "case-events"}
codec = EventCodec()


@dataclass
class Env:
    """The settings, the store's engine and the log of one test."""

    settings: Settings
    engine: AsyncEngine
    log: EventLog
    group: str  # the materializer's consumer group: one per test, as the broker is shared

    async def publish(self, name: str, records: Sequence[dict[str, Any]]) -> list[Appended]:
        """Append canonical records of type `name` to their stream, as a connector would."""
        return await self.log.append(STREAM_OF[name], [codec.encode(name, r) for r in records])


@asynccontextmanager
async def open_env(
    backend: str, request: pytest.FixtureRequest, data_dir: Path
) -> AsyncIterator[Env]:
    """A fresh store and log on `backend` (Kafka topics of their own; the store is SQLite)."""
    settings = settings_for(backend, request, data_dir)
    async with open_database(settings) as engine:
        if backend == "postgres":  # one database per session: start each test empty
            names = ", ".join(t.name for t in LOOKUP_TABLES)
            async with engine.begin() as conn:
                await conn.execute(
                    text(f"TRUNCATE log_records, log_heads, log_group_offsets, {names}")
                )
        async with open_log(settings, engine) as log:
            yield Env(settings, engine, log, f"materializer-{uuid.uuid4().hex[:8]}")


async def table_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every lookup table, in primary-key order: what two stores compare by."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in LOOKUP_TABLES:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in await conn.execute(query)]
    return out


def cert_version(
    cert_id: str, version: int, *, status: str = "VALID", fetched: datetime | None = None
) -> dict[str, Any]:
    """Version `version` of a certificate, fetched `version` hours after the samples' time."""
    record = certificate(cert_id)
    record["status"] = status
    record["event_id"] = event_id("scjg-djxt", "T_YYZZ", cert_id, str(version))
    record["provenance"] |= {
        "source_version": str(version),
        "fetched_at": fetched or FETCHED + timedelta(hours=version),
    }
    return record
