"""市场监管 business licences (营业执照): a simulated registration database.

One table, `SCJG_YYZZ`, with an autoincrement `ID`, pinyin-initial column names, dates as
strings in two layouts (`CLRQ` 'yyyy/MM/dd', `FZRQ` 'yyyyMMdd'), 营业期限至 as 'yyyyMMdd' or
'长期', and — unlike the other departments, on purpose — a native DATETIME `GXSJ`. The
schema is a contract with the shipped connector mapping: do not rename anything.

Bad rows (`bad_share`) carry one defect: `TYSHXYDM` with a wrong check digit, `FZRQ` an
impossible date, one of `QYMC` / `FZRQ` / `DJJG` empty or NULL, or `ZT` an unknown code
(`0`, `9`). Their `ID` values (as strings) are in `bad_keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CHAR,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update

from connectors.simulators.clock import local_now, to_local
from connectors.simulators.defects import SpoilSpec
from connectors.simulators.people import Company, department
from connectors.simulators.sqlbase import SqlSimulator

__all__ = ["SCJG_YYZZ", "STATUSES", "ScjgSimulator"]

metadata = MetaData()

SCJG_YYZZ = Table(
    "SCJG_YYZZ",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("TYSHXYDM", CHAR(18), comment="统一社会信用代码"),
    Column("QYMC", String(200), comment="企业名称"),
    Column("QYLX", String(100), comment="企业类型"),
    Column("FDDBR", String(50), comment="法定代表人"),
    Column("ZCZB", String(50), comment="注册资本"),
    Column("ZS", String(300), comment="住所"),
    Column("JYFW", String(2000), comment="经营范围"),
    Column("CLRQ", String(10), comment="成立日期 yyyy/MM/dd"),
    Column("FZRQ", String(8), comment="发照日期 yyyyMMdd"),
    Column("YYQXZ", String(8), comment="营业期限至 yyyyMMdd 或 长期"),
    Column("DJJG", String(100), comment="登记机关"),
    Column("DJJGDM", String(18), comment="登记机关代码"),
    Column("XZQHDM", CHAR(6), comment="行政区划代码"),
    Column("ZT", String(1), comment="状态 1 存续 2 吊销 3 注销"),
    Column("GXSJ", DateTime, comment="更新时间"),
    Index("IX_SCJG_YYZZ_GXSJ", "GXSJ", "ID"),
)

# 登记状态 (ZT).
STATUSES = {"1": "存续", "2": "吊销", "3": "注销"}
_HISTORIC = (("1", "2", "3"), (80, 5, 15))
_SPOIL = SpoilSpec(
    ids=("TYSHXYDM",),
    dates=(("FZRQ", "%Y%m%d"),),
    required=("QYMC", "FZRQ", "DJJG"),
    codes=(("ZT", ("0", "9")),),
)
_EARLIEST = date(1995, 1, 1)

# What an update does to one licence (by ID) at a given time: the columns to set.
_Change = Callable[[int, datetime], dict[str, object]]


class ScjgSimulator(SqlSimulator):
    """The licence register: issues licences, amends them, revokes and cancels them."""

    metadata = metadata

    def __init__(
        self, url: str, *, seed: int = 0, bad_share: float = 0.0, region: str = "330802"
    ) -> None:
        super().__init__(url, seed=seed, bad_share=bad_share, region=region)
        self.department = department(region, "scjg")

    async def add_licences(
        self, n: int, at: datetime | None = None, *, scope: str | None = None
    ) -> list[str]:
        """Register n new companies (状态 '1' 存续) at `at`; returns their IDs as strings.
        `scope` gives them this 经营范围 (a 双告知 test's), instead of one for their industry."""
        now = self._clock.now(at)
        bad = self._book.plan(n)
        keys: list[str] = []
        async with self._engine.begin() as conn:
            for index in range(n):
                row = self._licence(self._parties.company(), now.date(), now.date(), now, "1")
                if scope is not None:
                    row["JYFW"] = scope
                spoiled = self._book.spoil_row(_SPOIL, row, now) if index in bad else None
                result = await conn.execute(insert(SCJG_YYZZ).values(row))
                primary_key = result.inserted_primary_key
                assert primary_key is not None  # an INSERT always has one
                key = str(primary_key[0])
                if spoiled is not None:
                    self._book.record(key, spoiled)
                keys.append(key)
        return keys

    async def change_status(self, n: int, at: datetime | None = None) -> list[str]:
        """Cancel (注销, '3') or revoke (吊销, '2') up to n licences in force; returns IDs."""

        def change(_row_id: int, _now: datetime) -> dict[str, object]:
            return {"ZT": "3" if self._rng.random() < 0.7 else "2"}

        return await self._update_some(n, at, change)

    async def amend(self, n: int, at: datetime | None = None) -> list[str]:
        """Record a change (变更登记) on up to n licences in force: a new address, legal
        representative, capital or scope, and a licence re-issued today. Returns IDs."""

        def change(_row_id: int, now: datetime) -> dict[str, object]:
            company = self._parties.company()
            field = self._rng.choice(("ZS", "FDDBR", "ZCZB", "JYFW"))
            values = {
                "ZS": company.address,
                "FDDBR": company.legal_rep,
                "ZCZB": f"{company.capital_wan}万元人民币",
                "JYFW": self._parties.scope(company.industry),
            }
            return {field: values[field], "FZRQ": f"{now:%Y%m%d}"}

        return await self._update_some(n, at, change)

    async def delete_licences(self, keys: list[str]) -> int:
        """Delete licence rows outright (a registration struck out as made in error, 撤销登记,
        or a clerk's clean-up): the row is gone, not updated. Returns how many went."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sql_delete(SCJG_YYZZ).where(SCJG_YYZZ.c.ID.in_([int(k) for k in keys]))
            )
        return int(result.rowcount or 0)

    async def populate(
        self, rows: int, *, batch: int = 5000, until: datetime | None = None
    ) -> None:
        """Bulk-insert `rows` historic licences, about 30 s apart, ending before `until`.

        IDs are given explicitly (so bad rows can be keyed without a round trip per row);
        on PostgreSQL the ID sequence is moved past them afterwards.
        """
        end = to_local(until) if until is not None else local_now()
        start = end - timedelta(seconds=30 * rows)
        async with self._engine.connect() as conn:
            next_id = int((await conn.execute(select(func.max(SCJG_YYZZ.c.ID)))).scalar() or 0)
        done = 0
        while done < rows:
            size = min(batch, rows - done)
            bad = self._book.plan(size)
            chunk: list[dict[str, object]] = []
            for index in range(size):
                next_id += 1
                gxsj = start + timedelta(seconds=30 * (done + index) + self._rng.randrange(30))
                row = self._historic(next_id, gxsj)
                if index in bad:
                    self._book.spoil(str(next_id), _SPOIL, row, gxsj)
                chunk.append(row)
            async with self._engine.begin() as conn:
                await conn.execute(insert(SCJG_YYZZ), chunk)
            done += size
        if self._engine.dialect.name == "postgresql" and rows:
            async with self._engine.begin() as conn:
                await conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('\"SCJG_YYZZ\"', 'ID'), "
                        '(SELECT max("ID") FROM "SCJG_YYZZ"))'
                    )
                )

    def _historic(self, row_id: int, gxsj: datetime) -> dict[str, object]:
        rng = self._rng
        last = gxsj.date()
        founded = _EARLIEST + timedelta(days=rng.randrange((last - _EARLIEST).days + 1))
        issued = (
            founded
            if rng.random() < 0.6
            else founded + timedelta(days=rng.randrange((last - founded).days + 1))
        )
        status = rng.choices(*_HISTORIC)[0]
        row = self._licence(self._parties.company(), founded, issued, gxsj, status)
        row["ID"] = row_id
        return row

    def _licence(
        self, company: Company, founded: date, issued: date, gxsj: datetime, status: str
    ) -> dict[str, object]:
        until = "长期"
        if self._rng.random() < 0.4:
            end = _add_years(founded, self._rng.choice((20, 30))) - timedelta(days=1)
            # A company whose term ran out has renewed it as 长期 or been struck off.
            if end >= gxsj.date():
                until = f"{end:%Y%m%d}"
        return {
            "TYSHXYDM": company.uscc,
            "QYMC": company.name,
            "QYLX": company.kind,
            "FDDBR": company.legal_rep,
            "ZCZB": f"{company.capital_wan}万元人民币",
            "ZS": company.address,
            "JYFW": self._parties.scope(company.industry),
            "CLRQ": f"{founded:%Y/%m/%d}",
            "FZRQ": f"{issued:%Y%m%d}",
            "YYQXZ": until,
            "DJJG": self.department.name,
            "DJJGDM": self.department.code,
            "XZQHDM": self.region,
            "ZT": status,
            "GXSJ": gxsj,
        }

    async def _update_some(self, n: int, at: datetime | None, change: _Change) -> list[str]:
        """Apply `change` to up to n licences in force (the 4n least recently updated, at
        random), setting `GXSJ`; a bad row keeps its defect."""
        now = self._clock.now(at)
        table = SCJG_YYZZ
        query = (
            select(table.c.ID)
            .where(table.c.ZT == "1")
            .order_by(table.c.GXSJ, table.c.ID)
            .limit(4 * n)
        )
        changed: list[str] = []
        async with self._engine.begin() as conn:
            candidates = list((await conn.execute(query)).scalars())
            for row_id in self._rng.sample(candidates, min(n, len(candidates))):
                updates = change(row_id, now)
                updates["GXSJ"] = now
                self._book.keep(str(row_id), updates)
                await conn.execute(sql_update(table).where(table.c.ID == row_id).values(updates))
                changed.append(str(row_id))
        return changed


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
