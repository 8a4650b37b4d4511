"""`event_log`: the same tests run against every backend — SQLite, PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.log import EventLog, open_log
from gateway.settings import DatabaseSettings, KafkaSettings, Settings
from gateway.store import open_database
from tests.conftest import Broker


def settings_for(backend: str, request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=data_dir)
    if backend == "postgres":
        return Settings(
            data_dir=data_dir, database=DatabaseSettings(url=request.getfixturevalue("pg_url"))
        )
    broker: Broker = request.getfixturevalue("kafka_broker")
    prefix = f"t{uuid.uuid4().hex[:12]}"  # topics of their own for each test
    return Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(
            bootstrap=broker.bootstrap,
            topic_prefix=prefix,
            partitions=3,
            request_timeout_ms=5000,
            session_timeout_ms=1500,
        ),
    )


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("kafka", marks=pytest.mark.kafka),
    ]
)
async def event_log(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[EventLog]:
    settings = settings_for(request.param, request, data_dir)
    async with open_database(settings) as engine:
        if request.param == "postgres":  # one database per session: start each test empty
            async with engine.begin() as conn:
                await conn.execute(text("TRUNCATE log_records, log_heads, log_group_offsets"))
        async with open_log(settings, engine) as log:
            yield log
