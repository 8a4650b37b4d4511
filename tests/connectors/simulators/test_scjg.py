"""Tests for connectors/simulators/scjg.py: the 市场监管 licence table on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.simulators.scjg import SCJG_YYZZ, STATUSES, ScjgSimulator
from schemas.timeparse import TimeParseError, parse_date
from tests.connectors.simulators.rowcheck import (
    Check,
    Row,
    assert_defects,
    code,
    party_id,
    region,
    required,
)

AT = datetime(2026, 11, 23, 9, 0, 0)


def date_or_long_term(row: Row, field: str) -> str | None:
    value = row[field]
    if value == "长期":
        return None
    try:
        parse_date(str(value))
    except TimeParseError as exc:
        return exc.code
    return None


def issue_date(row: Row, field: str) -> str | None:
    if row[field] in (None, ""):
        return "MISSING"
    return date_or_long_term(row, field)


CHECKS: dict[str, Check] = {
    "TYSHXYDM": party_id(lambda _row: "USCC"),
    "QYMC": required,
    "FDDBR": required,
    "DJJG": required,
    "CLRQ": date_or_long_term,
    "FZRQ": issue_date,
    "YYQXZ": date_or_long_term,
    "ZT": code(STATUSES),
    "XZQHDM": region,
}


async def read_rows(sim: ScjgSimulator) -> dict[str, Row]:
    async with sim.engine.connect() as conn:
        result = await conn.execute(select(SCJG_YYZZ).order_by(SCJG_YYZZ.c.ID))
        return {str(row.ID): dict(row._mapping) for row in result}


async def test_licences_are_issued_amended_and_closed(db_url: str) -> None:
    async with ScjgSimulator(db_url, seed=3, bad_share=0.25) as sim:
        keys = await sim.add_licences(40, at=AT)
        assert keys == [str(n) for n in range(1, 41)]
        assert len(sim.bad_keys) == 10
        rows = await read_rows(sim)
        for row in rows.values():
            assert isinstance(row["GXSJ"], datetime)  # a native column, unlike the others
            assert row["GXSJ"] == AT
            assert row["CLRQ"] == "2026/11/23" or row["CLRQ"] is None
            assert row["DJJG"] in ("衢州市柯城区市场监督管理局", "", None)
        later = AT + timedelta(hours=1)
        closed = await sim.change_status(5, at=later)
        amended = await sim.amend(5, at=later)
        after = await read_rows(sim)
        assert len(closed) == 5 and len(amended) == 5 and not set(closed) & set(amended)
        for key in closed:
            assert after[key]["ZT"] in {"2", "3"} and after[key]["GXSJ"] == later
        for key in amended:
            changed = {f for f in after[key] if after[key][f] != rows[key][f]}
            assert "GXSJ" in changed and changed <= {"GXSJ", "FZRQ", "ZS", "FDDBR", "ZCZB", "JYFW"}
        assert_defects(after, CHECKS, sim.bad_keys, sim.defects)


async def test_populate_keeps_ids_in_step_with_the_sequence(db_url: str) -> None:
    async with ScjgSimulator(db_url, seed=8, bad_share=0.02) as sim:
        await sim.add_licences(3, at=AT)
        await sim.populate(1_500, batch=400, until=AT)
        new = await sim.add_licences(2, at=AT)  # on PostgreSQL this needs setval
        assert new == ["1504", "1505"]
        rows = await read_rows(sim)
        assert len(rows) == 1_505 and len(sim.bad_keys) == 30
        assert_defects(rows, CHECKS, sim.bad_keys, sim.defects)
        historic = [row for key, row in rows.items() if 3 < int(key) <= 1503]
        times = [row["GXSJ"] for row in historic if isinstance(row["GXSJ"], datetime)]
        assert len(times) == len(historic)
        assert times == sorted(times) and len(set(times)) == len(times)
        assert {row["ZT"] for row in historic} >= {"1", "3"}


async def test_the_same_seed_writes_the_same_rows(tmp_path: Path) -> None:
    async def run(name: str, seed: int) -> dict[str, Row]:
        async with ScjgSimulator(f"sqlite:///{tmp_path / name}", seed=seed) as sim:
            await sim.populate(200, until=AT)
            await sim.add_licences(10, at=AT)
            await sim.amend(4, at=AT)
            return await read_rows(sim)

    assert await run("a.db", 1) == await run("b.db", 1)
    assert await run("c.db", 1) != await run("d.db", 2)


async def test_populate_fills_the_register(tmp_path: Path) -> None:
    async with ScjgSimulator(f"sqlite:///{tmp_path / 'scjg.db'}", seed=2) as sim:
        await sim.populate(20_000, until=AT)
        assert await sim.count() == 20_000
