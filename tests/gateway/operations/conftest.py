"""The gateway's database and log on SQLite and PostgreSQL, and dead letters to put on it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import EventLog, open_log
from gateway.settings import DatabaseSettings, Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from schemas.ids import event_id
from schemas.validators import make_resident_id
from tests.gateway.api.conftest import reset_postgres
from tests.gateway.log.conftest import settings_for

codec = EventCodec()
AT = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


@dataclass
class World:
    settings: Settings
    engine: AsyncEngine
    log: EventLog


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[World]:
    async for made in _world(request, data_dir):
        yield made


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("kafka", marks=pytest.mark.kafka),
    ]
)
async def any_log(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[World]:
    """As `world`, and also with the log on Kafka (3 partitions; the database SQLite)."""
    async for made in _world(request, data_dir):
        yield made


async def _world(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[World]:
    if request.param == "sqlite":
        settings = Settings(data_dir=data_dir)
    elif request.param == "kafka":
        settings = settings_for("kafka", request, data_dir)
    else:
        url = request.getfixturevalue("pg_url")
        await reset_postgres(url)
        settings = Settings(data_dir=data_dir, database=DatabaseSettings(url=url))
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        yield World(settings, engine, log)


def person_id(i: int) -> str:
    return make_resident_id("330802", dt.date(1985, 6, 15), i % 1000)


def letter(i: int, *, connector: str = "fgw-tzxm", code: str = "ID_NUMBER_CHECK") -> dict[str, Any]:
    """A dead letter whose raw record, reason and key carry a resident id number in clear."""
    pid = person_id(i)
    bad = pid[:-1] + ("1" if pid[-1] == "0" else "0")
    key = f"FG{i:08d}"
    return {
        "event_id": event_id(connector, "TZXM_SPBJ", key, str(i)),
        "connector": connector,
        "target_stream": "case-events",
        "raw": json.dumps({"SLBH": key, "SQRZJHM": bad, "SQRMC": "张伟"}, ensure_ascii=False),
        "error_code": code,
        "field": "SQRZJHM",
        "reason": f"SQRZJHM: wrong check digit in {bad}",
        "failed_at": AT + dt.timedelta(seconds=i),
        "provenance": {
            "source_system": connector,
            "source_table": "TZXM_SPBJ",
            "source_key": key,
            "source_version": str(i),
            "fetched_at": AT,
            "connector": connector,
        },
    }


async def put(log: EventLog, letters: list[dict[str, Any]]) -> None:
    await log.append("dead-letters", [codec.encode("DeadLetter", d) for d in letters])
