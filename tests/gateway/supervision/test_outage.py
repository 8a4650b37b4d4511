"""The log away for a while (PostgreSQL behind a proxy that cuts it off): the subscriber waits,
retries, and raises the cards once the log is back, losing nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.log import open_log
from gateway.settings import DatabaseSettings, Settings
from gateway.store import open_database
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.runner import supervise
from gateway.supervision.sources import CaseSource, LogSource
from gateway.supervision.state import open_state
from gateway.supervision.supervisor import Supervisor
from schemas.codec import EventCodec
from tests.gateway.supervision.cases import at, event
from tests.tcp_proxy import TcpProxy

codec = EventCodec()


@pytest.mark.postgres
async def test_the_log_away_then_back(
    pg_url: str, data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    direct = Settings(data_dir=data_dir, database=DatabaseSettings(url=pg_url))
    through_proxy = Settings(data_dir=data_dir, database=DatabaseSettings(url=proxied))
    stop = asyncio.Event()
    try:
        async with (
            open_database(direct) as writer_engine,
            open_log(direct, writer_engine) as writer,
            open_database(through_proxy) as engine,
            open_log(through_proxy, engine) as log,
            open_state(f"sqlite:///{tmp_path / 'supervise.db'}") as state,
        ):
            async with writer_engine.begin() as conn:  # the session's database: start empty
                await conn.exec_driver_sql("TRUNCATE log_records, log_heads, log_group_offsets")
            supervisor = Supervisor(
                state,
                WorkCalendar(),
                yellow_share=0.8,
                now=lambda: at("2026-10-16"),
                publish_to=log,
                echo=lambda line: None,
            )

            @asynccontextmanager
            async def source() -> AsyncIterator[CaseSource]:
                saved = await state.position(LogSource.source_id("outage"))
                async with LogSource(log, "outage", saved, codec).opened() as opened:
                    yield opened

            task = asyncio.create_task(supervise(supervisor, source, stop, interval=0.2))
            await asyncio.sleep(1)
            proxy.cut()
            caplog.set_level(logging.WARNING, "gateway.supervision")
            events = [event("A1", "ACCEPTED", "2026-09-28"), event("A1", "IN_REVIEW", "2026-09-29")]
            await writer.append("case-events", [codec.encode("CaseEvent", e) for e in events])
            await asyncio.sleep(3)
            assert not task.done()
            assert supervisor.counts.cards == 0
            assert "LOG_UNAVAILABLE" in caplog.text and "retrying" in caplog.text
            proxy.restore()
            for _ in range(300):
                if supervisor.counts.published == 2:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.wait_for(task, 30)
            alerts = [
                codec.decode(r.value).record async for r in writer.iterate("supervision-alerts")
            ]
    finally:
        stop.set()
        await proxy.close()
    assert sorted((a["case_no"], a["card"]) for a in alerts) == [("A1", "RED"), ("A1", "YELLOW")]
