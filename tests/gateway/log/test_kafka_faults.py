"""The Kafka log when the broker is away: typed, retriable errors, and no loss once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.log import LogUnavailable, OutRecord, open_log
from gateway.settings import KafkaSettings, Settings
from tests.conftest import Broker, free_port

pytestmark = pytest.mark.kafka


async def test_a_paused_broker_gives_retriable_errors_then_appends_resume(
    kafka_broker: Broker, data_dir: Path
) -> None:
    settings = Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(
            bootstrap=kafka_broker.bootstrap,
            topic_prefix="faults",
            partitions=1,
            request_timeout_ms=2000,
        ),
    )
    async with open_log(settings) as log:
        await log.append("case-events", [OutRecord(b"k", b"before")])
        kafka_broker.pause()
        try:
            with pytest.raises(LogUnavailable) as caught:
                await log.append("case-events", [OutRecord(b"k", b"during")])
            assert caught.value.retriable
        finally:
            kafka_broker.resume()
        await log.append("case-events", [OutRecord(b"k", b"after")])
        values = [r.value async for r in log.iterate("case-events")]
    # "during" may or may not have landed (at-least-once): the caller retries it
    assert values[0] == b"before" and values[-1] == b"after"


async def test_no_broker_at_all_is_unavailable_after_the_wait(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        kafka=KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}", request_timeout_ms=1000),
    )
    started = time.monotonic()
    with pytest.raises(LogUnavailable):
        async with open_log(settings, wait=1.5):
            pass
    assert 1.0 <= time.monotonic() - started < 20
