"""Re-drive over a real department database (SQLite) and real logs (SQLite, PostgreSQL).

A 发改 row with a wrong check digit becomes a dead letter through the real connector runtime;
the department corrects the row; the re-drive re-reads it through the connectors' re-fetcher
and publishes the case event. Before the fix it still fails; once the row is gone it says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, insert, update
from sqlalchemy.engine import Engine

from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.host import load_specs, publish_codes, register_publishers
from connectors.runtime.offsets import offset_store
from connectors.runtime.redrive import refetcher
from connectors.simulators.fgw import TZXM_SPBJ, metadata
from connectors.sources.factory import build_source
from gateway.operations.deadletters import OPEN, REDRIVEN, DeadLetterIndex
from gateway.operations.errors import RedriveUnavailable
from gateway.operations.redrive import Outcome, Redrives, load_refetcher
from schemas.codec import EventCodec
from tests.connectors.fgw_rows import fgw_row
from tests.gateway.operations.conftest import World

codec = EventCodec()


@pytest.fixture
def department(data_dir: Path) -> Iterator[Engine]:
    """The 发改 department's database where the shipped fgw-tzxm profile looks for it."""
    folder = data_dir / "departments"
    folder.mkdir()
    engine = create_engine(f"sqlite:///{folder / 'fgw.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _write(engine: Engine, statement: Any) -> None:
    with engine.begin() as conn:
        conn.execute(statement)


async def _backfill(world: World) -> None:
    [spec] = load_specs(world.settings, ["fgw-tzxm"])
    await register_publishers(world.engine, [spec])
    runtime = ConnectorRuntime(
        spec,
        build_source(spec, backfill=True),
        world.log,
        offset_store(world.log, world.engine),
        publishes=await publish_codes(world.engine, spec),
    )
    await runtime.run()


async def test_a_corrected_row_is_redriven_and_published(world: World, department: Engine) -> None:
    good, bad = fgw_row(1), fgw_row(3, "bad_check_digit")  # row 3: a person
    await asyncio.to_thread(_write, department, insert(TZXM_SPBJ).values([good, bad]))
    await _backfill(world)
    index = DeadLetterIndex(world.engine)
    await index.refresh(world.log)
    [dead] = (await index.page()).items
    assert dead.error_code == "ID_NUMBER_CHECK" and dead.source_key == bad["SLBH"]
    assert bad["SQRZJHM"] not in dead.raw and bad["SQRZJHM"] not in dead.reason
    redrives = Redrives(index, world.log, refetcher(world.settings, world.log, world.engine))

    still = await redrives.redrive(dead.event_id, "person:ops1")
    assert still.outcome is Outcome.STILL_FAILING and still.code == "ID_NUMBER_CHECK"
    assert (await index.get(dead.event_id)).state == OPEN

    fixed = {"SQRZJHM": fgw_row(3)["SQRZJHM"], "GXSJ": "2026-01-06 10:00:00"}
    where = TZXM_SPBJ.c.SLBH == bad["SLBH"]
    await asyncio.to_thread(_write, department, update(TZXM_SPBJ).where(where).values(fixed))
    done = await redrives.redrive(dead.event_id, "person:ops1")

    assert done.outcome is Outcome.REPUBLISHED and len(done.event_ids) == 1
    events = [codec.decode(r.value).record async for r in world.log.iterate("case-events")]
    mine = [e for e in events if e["case_no"] == bad["SLBH"]]
    assert [str(e["event_id"]) for e in mine] == list(done.event_ids)
    assert mine[0]["applicant"]["id_number"] == fixed["SQRZJHM"]
    assert (await index.get(dead.event_id)).state == REDRIVEN
    attempts = await redrives.attempts(dead.event_id)
    assert [a.outcome for a in attempts] == [Outcome.REPUBLISHED, Outcome.STILL_FAILING]
    assert {a.actor for a in attempts} == {"person:ops1"}

    await asyncio.to_thread(_write, department, delete(TZXM_SPBJ).where(where))
    gone = await redrives.redrive(dead.event_id, "person:ops1")
    assert gone.outcome is Outcome.NOT_FOUND


async def test_an_unreachable_source_is_a_failed_attempt_not_a_crash(
    world: World, department: Engine
) -> None:
    bad = fgw_row(3, "bad_check_digit")
    await asyncio.to_thread(_write, department, insert(TZXM_SPBJ).values([bad]))
    await _backfill(world)
    index = DeadLetterIndex(world.engine)
    await index.refresh(world.log)
    [dead] = (await index.page()).items
    (world.settings.data_dir / "departments" / "fgw.db").unlink()
    (world.settings.data_dir / "departments").rmdir()

    redrives = Redrives(index, world.log, refetcher(world.settings, world.log, world.engine))
    attempt = await redrives.redrive(dead.event_id, "cli:ops")
    assert attempt.outcome is Outcome.FAILED and attempt.code
    assert (await index.get(dead.event_id)).state == OPEN


async def test_the_gateway_finds_the_refetcher_by_entry_point(world: World) -> None:
    found = load_refetcher(world.settings, world.log, world.engine)
    assert found is not None and type(found).__name__ == "ConnectorRefetcher"
    index = DeadLetterIndex(world.engine)
    with pytest.raises(RedriveUnavailable):
        await Redrives(index, world.log, None).redrive("x", "person:ops1")
