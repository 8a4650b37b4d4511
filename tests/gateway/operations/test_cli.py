"""`govgate deadletters list|show|redrive` on the embedded default (SQLite, SQL log)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, insert, update

from connectors.simulators.fgw import TZXM_SPBJ, metadata
from gateway.cli import main
from gateway.log import open_log
from gateway.settings import Settings
from gateway.store import open_database
from tests.connectors.fgw_rows import fgw_row
from tests.gateway.operations.conftest import World, letter, put
from tests.gateway.operations.test_redrive import _backfill


def _cli(data_dir: Path, *args: str) -> Result:
    env = {"GOVGATE_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(main, ["deadletters", *args], env=env, catch_exceptions=False)


async def _seed(data_dir: Path, backfill: bool = False) -> None:
    settings = Settings(data_dir=data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        if backfill:
            await _backfill(World(settings, engine, log))
        else:
            await put(log, [letter(i) for i in range(5)])
            await put(log, [letter(10, code="UNKNOWN_CODE")])


def test_list_and_show_mask_and_paginate(data_dir: Path) -> None:
    asyncio.run(_seed(data_dir))
    first = _cli(data_dir, "list", "-n", "4")
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert "by code: ID_NUMBER_CHECK 5, UNKNOWN_CODE 1" in lines
    assert lines[-1].startswith("more: --after ")
    rest = _cli(data_dir, "list", "-n", "4", "--after", lines[-1].split()[-1], "--json")
    assert len(rest.output.splitlines()) == 2

    event_id = str(letter(3)["event_id"])
    shown = json.loads(_cli(data_dir, "show", event_id).output)
    raw_id = json.loads(letter(3)["raw"])["SQRZJHM"]
    assert shown["raw"]["SQRZJHM"] == raw_id[:6] + "********" + raw_id[-4:]
    assert raw_id not in json.dumps(shown, ensure_ascii=False)


def test_bad_input_is_a_clear_error(data_dir: Path) -> None:
    result = _cli(data_dir, "list", "--code", "lower-case")
    assert result.exit_code != 0 and "INVALID_FILTER: code 'lower-case'" in result.output
    missing = _cli(data_dir, "show", "0b9e5c9e-0000-5000-8000-000000000000")
    assert missing.exit_code != 0 and "DEAD_LETTER_NOT_FOUND" in missing.output


def test_redrive_after_the_source_is_corrected(data_dir: Path) -> None:
    (data_dir / "departments").mkdir()
    department = create_engine(f"sqlite:///{data_dir / 'departments' / 'fgw.db'}")
    metadata.create_all(department)
    bad = fgw_row(3, "bad_check_digit")
    with department.begin() as conn:
        conn.execute(insert(TZXM_SPBJ).values([bad]))
    asyncio.run(_seed(data_dir, backfill=True))
    event_id = json.loads(_cli(data_dir, "list", "--json").output.splitlines()[0])["event_id"]

    failing = _cli(data_dir, "redrive", event_id)
    assert failing.exit_code == 1 and "STILL_FAILING ID_NUMBER_CHECK" in failing.output
    with department.begin() as conn:
        conn.execute(
            update(TZXM_SPBJ)
            .where(TZXM_SPBJ.c.SLBH == bad["SLBH"])
            .values(SQRZJHM=fgw_row(3)["SQRZJHM"], GXSJ="2026-01-06 10:00:00")
        )
    department.dispose()
    done = _cli(data_dir, "redrive", event_id)
    assert done.exit_code == 0 and f"{event_id}: REPUBLISHED as " in done.output
    assert "REDRIVEN" in _cli(data_dir, "list").output


def test_reindex_rebuilds_from_the_stream_and_keeps_redriven(data_dir: Path) -> None:
    test_redrive_after_the_source_is_corrected(data_dir)
    result = _cli(data_dir, "reindex")
    assert result.exit_code == 0 and result.output.strip() == "indexed 1 dead letters"
    assert "REDRIVEN" in _cli(data_dir, "list").output
