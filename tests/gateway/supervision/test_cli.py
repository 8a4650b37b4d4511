"""`govgate supervise` on the command line: one pass on the embedded SQL log, and usage errors."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from gateway.cli import main
from gateway.log import open_log
from gateway.settings import Settings
from gateway.store import make_engine, open_database
from gateway.supervision.state import metadata as state_metadata
from schemas.codec import EventCodec
from tests.gateway.supervision.cases import event
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GOVGATE_KAFKA_BOOTSTRAP", "GOVGATE_DATABASE_URL", "GOVGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(data_dir))
    return data_dir


async def _publish(settings: Settings) -> None:
    codec = EventCodec()
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        events = [event("A1", "ACCEPTED", "2026-09-28"), event("A1", "IN_REVIEW", "2026-09-29")]
        await log.append("case-events", [codec.encode("CaseEvent", e) for e in events])


def test_one_pass_prints_a_line_per_card_and_a_summary(env: Path) -> None:
    asyncio.run(_publish(Settings()))
    args = ["supervise", "--once", "--now", "2026-10-16 12:00:00"]
    result = CliRunner().invoke(main, args)  # in the main thread: it sets signal handlers
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "YELLOW 黄牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
        "RED 红牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
    ]
    assert "2 events applied, 0 duplicates, 0 skipped, 2 cards raised, 2 published" in (
        result.stderr
    )
    assert (env / "supervise.db").exists()


def test_the_feed_needs_a_member_and_its_key(env: Path) -> None:
    result = CliRunner().invoke(main, ["supervise", "--feed", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "--feed needs --as MEMBER and --key PEM" in result.output


def test_a_yellow_share_outside_its_range_is_refused(env: Path) -> None:
    result = CliRunner().invoke(main, ["supervise", "--yellow-share", "1.5", "--once"])
    assert result.exit_code == 2
    assert "--yellow-share" in result.output and "1.5" in result.output


def test_supervision_settings_come_from_the_environment(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVGATE_SUPERVISION_YELLOW_SHARE", "0.5")
    monkeypatch.setenv("GOVGATE_SUPERVISION_GROUP", "esup-county")
    settings = Settings()
    assert settings.supervision.yellow_share == 0.5
    assert settings.supervision.group == "esup-county"
    assert settings.supervision.state_url is None  # DATA_DIR/supervise.db


@pytest.mark.postgres
def test_it_waits_for_its_state_database(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The state database (PostgreSQL behind a proxy) refuses connections for 2 s at start:
    `govgate supervise` waits, retries, and then does its pass."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    monkeypatch.setenv("GOVGATE_SUPERVISION_STATE_URL", proxied)
    try:
        asyncio.run(_publish(Settings()))
        # Cut only once the events are published, so the 2 s outage is all the command's.
        proxy.cut()
        started = time.monotonic()
        loop.call_soon_threadsafe(loop.call_later, 2.0, proxy.restore)
        with caplog.at_level(logging.WARNING, logger="gateway.supervision.runner"):
            result = CliRunner().invoke(main, ["supervise", "--once", "--now", "2026-10-16"])
        assert result.exit_code == 0, result.output
        assert time.monotonic() - started >= 2
        assert any("the state database unreachable" in r.getMessage() for r in caplog.records)
        assert "RED 红牌 A1" in result.stdout
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        asyncio.run(_drop_state(pg_url))


async def _drop_state(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(state_metadata.drop_all)
    finally:
        await engine.dispose()
