"""The gateway's database (PostgreSQL, which also holds the SQL log) cut off for a while:
the deliverer waits with growing pauses, says so once rather than per poll, and once the
database answers again delivers everything, in order, with nothing counted against the
subscription."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.members.store import Grant as _Grant
from gateway.settings import DatabaseSettings
from tests.gateway.api.conftest import reset_postgres
from tests.gateway.webhooks.conftest import (
    Receiver,
    assert_in_order_per_key,
    case_events,
    open_hooks,
    until,
    webhook_settings,
)
from tests.tcp_proxy import TcpProxy

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

OUTAGE_S = 4.0


@pytest.mark.postgres
async def test_a_database_outage_is_waited_out_quietly_and_loses_nothing(
    data_dir: Path,
    pg_url: str,
    request: pytest.FixtureRequest,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await reset_postgres(pg_url)
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = webhook_settings(data_dir, "sqlite", request)  # FAST: a look every 0.1 s
    settings = settings.model_copy(update={"database": DatabaseSettings(url=proxied)})
    await receiver.start()
    sent = case_events(3, 4)
    try:
        async with open_hooks(settings, receiver) as hooks:
            await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
            sub = await hooks.subscribe(receiver)
            await hooks.append(sent[:6])
            await until(lambda: len(set(receiver.ids())) >= 6)

            caplog.clear()
            with caplog.at_level(logging.INFO, logger="gateway.webhooks.deliverer"):
                proxy.cut()
                await asyncio.sleep(OUTAGE_S)
                during = [r for r in caplog.records if r.levelno >= logging.WARNING]
                proxy.restore()
                await hooks.append(sent[6:])
                await until(lambda: len(set(receiver.ids())) >= len(sent), timeout=60)
                await until(lambda: "no longer" in caplog.text, timeout=60)
            shown = await hooks.subscription(sub["id"])
    finally:
        await proxy.close()
    # polled every 0.1 s, a warning per poll and per subscription would be ~40 lines
    assert 1 <= len(during) <= 2, [r.getMessage() for r in during]
    assert all("retrying with backoff" in r.getMessage() for r in during)
    assert_in_order_per_key(receiver.events, sent)
    assert receiver.rejected == []
    assert shown["state"] == "active" and shown["failures"] == 0  # not the receiver's fault
