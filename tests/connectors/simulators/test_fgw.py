"""Tests for connectors/simulators/fgw.py: the 发改 approval table on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from connectors.simulators.fgw import OPEN_STATUSES, STATUSES, TZXM_SPBJ, FgwSimulator
from tests.connectors.simulators.rowcheck import (
    Check,
    Row,
    assert_defects,
    code,
    party_id,
    region,
    required,
    timestamp,
)

AT = datetime(2026, 11, 23, 9, 0, 0)
CHECKS: dict[str, Check] = {
    "SQRZJHM": party_id(lambda row: {"10": "RESIDENT_ID", "20": "USCC"}[str(row["SQRZJLX"])]),
    "SLSJ": timestamp(),
    "BJSJ": timestamp(optional=True),
    "GXSJ": timestamp(),
    "SQRMC": required,
    "SXBM": required,
    "SXMC": required,
    "XMMC": required,
    "BLBMMC": required,
    "BLZT": code(STATUSES),
    "XZQHDM": region,
}
ALLOWED_STEPS = {
    ("01", "02"), ("01", "07"),
    ("02", "03"), ("02", "04"), ("02", "05"), ("02", "06"), ("02", "07"),
    ("05", "02"), ("05", "07"),
    ("06", "02"),
}  # fmt: skip


async def read_rows(sim: FgwSimulator) -> dict[str, Row]:
    async with sim.engine.connect() as conn:
        result = await conn.execute(select(TZXM_SPBJ).order_by(TZXM_SPBJ.c.SLBH))
        return {row.SLBH: dict(row._mapping) for row in result}


async def test_cases_move_through_realistic_steps(db_url: str) -> None:
    async with FgwSimulator(db_url, seed=11, bad_share=0.2) as sim:
        keys = await sim.add_cases(30, at=AT)
        assert keys == [f"FG33080220261123{n:06d}" for n in range(1, 31)]
        before = await read_rows(sim)
        assert {row["BLZT"] for key, row in before.items() if key not in sim.bad_keys} == {"01"}
        assert len(sim.bad_keys) == 6
        for step in range(1, 9):
            at = AT + timedelta(hours=step)
            moved = await sim.advance(8, at=at)
            after = await read_rows(sim)
            for key in moved:
                old, new = before[key], after[key]
                assert (old["BLZT"], new["BLZT"]) in ALLOWED_STEPS
                assert new["GXSJ"] == f"{at:%Y-%m-%d %H:%M:%S}"
                assert (new["BJSJ"] is not None) == (new["BLZT"] in {"03", "04", "07"})
            unmoved = set(after) - set(moved)
            assert all(after[key] == before[key] for key in unmoved)
            before = after
        statuses = {row["BLZT"] for row in before.values()}
        assert {"03", "02"} <= statuses
        assert_defects(before, CHECKS, sim.bad_keys, sim.defects)
        assert not any(
            row["BLZT"] in {"08", "09", "99"}
            for key, row in before.items()
            if key not in sim.bad_keys
        )


async def test_the_same_seed_writes_the_same_rows(tmp_path: Path) -> None:
    async def run(name: str, seed: int) -> dict[str, Row]:
        async with FgwSimulator(f"sqlite:///{tmp_path / name}", seed=seed, bad_share=0.1) as sim:
            await sim.populate(300, until=AT)
            await sim.add_cases(20, at=AT)
            await sim.advance(10, at=AT + timedelta(minutes=5))
            return await read_rows(sim)

    first = await run("a.db", 5)
    assert first == await run("b.db", 5)
    assert first != await run("c.db", 6)


async def test_a_reopened_database_continues_the_numbering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fgw.db'}"
    async with FgwSimulator(url, seed=1) as sim:
        await sim.create_schema()  # idempotent
        first = await sim.add_cases(3, at=AT)
    async with FgwSimulator(url, seed=1) as again:
        second = await again.add_cases(3, at=AT)
        assert await again.count() == 6
    assert second[0] == f"FG33080220261123{4:06d}"
    assert not set(first) & set(second)


async def test_gxsj_never_goes_back(tmp_path: Path) -> None:
    async with FgwSimulator(f"sqlite:///{tmp_path / 'fgw.db'}") as sim:
        await sim.add_cases(5, at=AT)
        moved = await sim.advance(5, at=AT - timedelta(days=1))
        rows = await read_rows(sim)
        assert all(rows[key]["GXSJ"] == f"{AT:%Y-%m-%d %H:%M:%S}" for key in moved)


async def test_populate_is_ordered(tmp_path: Path) -> None:
    """History in bulk (its speed is bench/pipeline.py's business, not a test's)."""
    async with FgwSimulator(f"sqlite:///{tmp_path / 'fgw.db'}", seed=2, bad_share=0.01) as sim:
        await sim.populate(100_000, until=AT)
        async with sim.engine.connect() as conn:
            gxsj = TZXM_SPBJ.c.GXSJ
            query = select(func.count(), func.count(gxsj.distinct()), func.max(gxsj))
            count, distinct, latest = (await conn.execute(query)).one()
            open_cases = await conn.scalar(
                select(func.count()).where(TZXM_SPBJ.c.BLZT.in_(OPEN_STATUSES))
            )
        assert count == distinct == 100_000
        assert latest < f"{AT:%Y-%m-%d %H:%M:%S}"
        assert 0 < (open_cases or 0) < 20_000
        assert len(sim.bad_keys) == 1000
        rows = await read_rows(sim)
        sample = {key: rows[key] for key in list(rows)[::50]} | {k: rows[k] for k in sim.bad_keys}
        assert_defects(sample, CHECKS, sim.bad_keys, sim.defects)
        # Later cases continue after the history without a key collision.
        await sim.add_cases(5, at=AT)
        assert await sim.advance(5, at=AT) != []


async def test_populate_then_work_on_any_database(db_url: str) -> None:
    async with FgwSimulator(db_url, seed=4, bad_share=0.05) as sim:
        await sim.populate(2_000, batch=700, until=AT)
        await sim.add_cases(10, at=AT)
        await sim.advance(10, at=AT + timedelta(minutes=1))
        rows = await read_rows(sim)
        assert len(rows) == 2_010
        assert len(sim.bad_keys) == 100
        assert_defects(rows, CHECKS, sim.bad_keys, sim.defects)
