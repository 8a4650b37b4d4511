"""`govgate rebuild` ends with exactly the rows the live materializer wrote, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli.rebuild import rebuild
from gateway.log import OutRecord
from gateway.lookup import Materializer
from gateway.settings import Settings
from gateway.store import make_engine
from tests.gateway.lookup import BACKENDS, Env, cert_version, open_env, table_rows
from tests.samples import FETCHED, case_event, material


@pytest.fixture(params=BACKENDS)
async def env(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Env]:
    async with open_env(request.param, request, data_dir) as env:
        yield env


def environment(settings: Settings) -> dict[str, str]:
    """The GOVGATE_* variables that make a `govgate` process see `settings`."""
    env = {"GOVGATE_DATA_DIR": str(settings.data_dir), "GOVGATE_DATABASE_URL": ""}
    if settings.database.url is not None:
        env["GOVGATE_DATABASE_URL"] = settings.database.url.get_secret_value()
    if (kafka := settings.kafka).bootstrap:
        env |= {
            "GOVGATE_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "GOVGATE_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "GOVGATE_KAFKA_PARTITIONS": str(kafka.partitions),
            "GOVGATE_KAFKA_REQUEST_TIMEOUT_MS": str(kafka.request_timeout_ms),
            "GOVGATE_KAFKA_STARTUP_WAIT_S": "5",
        }
    return env


async def run_rebuild(env: Env, *args: str) -> Result:
    """The command as an operator runs it (in a thread: it runs its own event loop)."""
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, rebuild, list(args), env=environment(env.settings)
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


async def test_rebuild_yields_the_same_rows_as_the_live_materializer(
    env: Env, tmp_path: Path
) -> None:
    start = FETCHED - timedelta(days=2)
    await env.publish(
        "Certificate",
        [cert_version("C-1", 1), cert_version("C-2", 1), cert_version("C-1", 2, status="REVOKED")],
    )
    await env.publish("Certificate", [cert_version("C-1", 1), cert_version("C-2", 0)])  # old
    await env.log.append("certificates", [OutRecord(b"C-3", b"\xc3\x01 garbage")])
    await env.publish("Material", [material("M-1"), material("M-2"), material("M-1")])
    await env.publish(
        "CaseEvent",
        [
            case_event(f"SL-{i % 2}", version=str(i), at=start + timedelta(hours=i))
            for i in range(6)
        ],
    )
    await Materializer(env.log, env.engine, group=env.group, poll_timeout=0.2).run(
        until_caught_up=True
    )
    live = await table_rows(env.engine)
    assert [len(live[t]) for t in ("lk_certificates", "lk_materials", "lk_case_events")] == [
        2,
        2,
        6,
    ]

    fresh = tmp_path / "rebuilt.db"
    result = await run_rebuild(env, "--into", f"sqlite:///{fresh}")
    rebuilt = make_engine(f"sqlite:///{fresh}")
    try:
        assert await table_rows(rebuilt) == live
    finally:
        await rebuilt.dispose()
    assert (
        "certificates  6 records: 3 applied, 1 duplicates, 1 stale, 1 undecodable" in result.output
    )
    assert "lk_case_events   6 rows" in result.output

    await run_rebuild(env)  # in place: the lookup tables are emptied, then replayed
    assert await table_rows(env.engine) == live
