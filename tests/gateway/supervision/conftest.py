"""`event_log`: the subscriber's tests run on the SQL log (SQLite) and on Kafka (tansu)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.log import EventLog, open_log
from gateway.store import open_database
from tests.gateway.log.conftest import settings_for


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def event_log(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[EventLog]:
    settings = settings_for(request.param, request, data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        yield log
