"""Connector status for operators (`govgate connect status`), kept in the gateway database."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log.sql import translated_db_errors
from gateway.store.engine import upsert_insert
from gateway.store.tables import connector_status


@dataclass
class ConnectorState:
    """What one connector is doing and has done since it started."""

    connector: str
    state: str = "starting"  # running, waiting (source or log away), stopped, failed
    records: int = 0  # delivered, in total across runs (a re-delivery counts again)
    dead_letters: int = 0
    last_error: str | None = None
    last_error_ms: int | None = None
    position: dict[str, Any] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.last_error = message
        self.last_error_ms = time.time_ns() // 1_000_000


class StatusStore:
    """Upserts connector states, at most once per `every_s` per connector unless forced."""

    def __init__(self, engine: AsyncEngine, every_s: float = 1.0) -> None:
        self.engine = engine
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._insert = upsert_insert(engine)

    async def publish(self, state: ConnectorState, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last.get(state.connector, 0.0) < self.every_s:
            return
        self._last[state.connector] = now
        values = {
            "connector": state.connector,
            "state": state.state,
            "records": state.records,
            "dead_letters": state.dead_letters,
            "last_error": state.last_error,
            "last_error_ms": state.last_error_ms,
            "position": json.dumps(state.position, ensure_ascii=False, default=str)[:4000],
            "updated_ms": time.time_ns() // 1_000_000,
        }
        statement = self._insert(connector_status).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["connector"], set_={k: v for k, v in values.items() if k != "connector"}
        )
        async with translated_db_errors(), self.engine.begin() as conn:
            await conn.execute(statement)

    async def resume(self, state: ConnectorState) -> None:
        """Carry the totals of earlier runs into `state`, so counts survive restarts."""
        query = select(connector_status.c.records, connector_status.c.dead_letters).where(
            connector_status.c.connector == state.connector
        )
        async with translated_db_errors(), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is not None:
            state.records, state.dead_letters = row.records, row.dead_letters

    async def all(self) -> list[dict[str, Any]]:
        async with translated_db_errors(), self.engine.connect() as conn:
            rows = (await conn.execute(select(connector_status))).mappings().all()
        return [dict(row) for row in rows]
