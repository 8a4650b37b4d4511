"""发改 investment-project approvals (投资项目审批办件): a simulated department database.

`TZXM_SPBJ`, in the style of a provincial investment-project platform: pinyin-initial column
names, two-digit status codes, times as strings (`SLSJ` 'yyyyMMddHHmmss', `GXSJ` 'yyyy-MM-dd
HH:mm:ss'), the channel the application came through `SBQD` (1 网上申报, 2 窗口, 3 自助终端,
4 移动端, 5 邮寄) and the applicant's visits so far `PDCS` (跑动次数). `GXSJ` changes on every
update and is indexed with the key, so a connector can read incrementally by (GXSJ, SLBH). With
a file share (`files_dir`), each new case also files three attachments in `TZXM_FJ` (see
`fgw_attachments`). The schema is a contract with the shipped connector mappings: do not
rename anything.

Bad rows (`bad_share`) carry one defect: `SQRZJHM` with a wrong check digit, one of
`SQRMC` / `SQRZJHM` / `SXBM` / `BLBMMC` empty or NULL, or `BLZT` an unknown code (`08`, `09`,
`99`). Their `SLBH` values are in `bad_keys`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import CHAR, Column, Index, Integer, MetaData, String, Table, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.simulators.clock import compact, dashed, local_now, to_local
from connectors.simulators.defects import SpoilSpec
from connectors.simulators.fgw_attachments import AttachmentWriter, attachments_table
from connectors.simulators.people import Company, Person, department
from connectors.simulators.sqlbase import SqlSimulator

__all__ = [
    "CHANNELS",
    "ITEMS",
    "OPEN_STATUSES",
    "STATUSES",
    "TZXM_FJ",
    "TZXM_SPBJ",
    "FgwSimulator",
    "Item",
]

metadata = MetaData()

TZXM_SPBJ = Table(
    "TZXM_SPBJ",
    metadata,
    Column("SLBH", String(32), primary_key=True, comment="受理编号"),
    Column("SXBM", String(64), comment="事项编码"),
    Column("SXMC", String(200), comment="事项名称"),
    Column("XMMC", String(200), comment="项目名称"),
    Column("SQRMC", String(200), comment="申请人名称"),
    Column("SQRZJLX", String(4), comment="申请人证件类型 10 居民身份证 20 统一社会信用代码"),
    Column("SQRZJHM", String(32), comment="申请人证件号码"),
    Column("XZQHDM", CHAR(6), comment="行政区划代码"),
    Column("BLBMBM", String(32), comment="办理部门编码"),
    Column("BLBMMC", String(100), comment="办理部门名称"),
    Column("BLZT", String(2), comment="办理状态"),
    Column("SLSJ", String(14), comment="受理时间 yyyyMMddHHmmss"),
    Column("BJSJ", String(14), nullable=True, comment="办结时间 yyyyMMddHHmmss"),
    Column("GXSJ", String(19), comment="更新时间 yyyy-MM-dd HH:mm:ss"),
    Column("CNSX", Integer, comment="承诺时限（工作日）"),
    Column("FDSX", Integer, comment="法定时限（工作日）"),
    Column("JBR", String(50), comment="经办人"),
    Column("BLYJ", String(500), nullable=True, comment="办理意见"),
    Column("SBQD", String(1), nullable=True, comment="申报渠道 1 网上 2 窗口 3 自助 4 移动 5 邮寄"),
    Column("PDCS", Integer, nullable=True, comment="跑动次数（累计）"),
    Index("IX_TZXM_SPBJ_GXSJ", "GXSJ", "SLBH"),
)
TZXM_FJ = attachments_table(metadata)

# 申报渠道 (SBQD) and how often each is used; online and mobile need no visit to apply.
CHANNELS = {"1": "网上申报", "2": "窗口", "3": "自助终端", "4": "移动端", "5": "邮寄"}
_CHANNEL_CODES = tuple(CHANNELS)
_CHANNEL_CUM = tuple(itertools.accumulate((45, 30, 5, 15, 5)))
_IN_PERSON = frozenset({"2", "3"})

# 办理状态 (BLZT): the department's own code table.
STATUSES = {
    "01": "受理",
    "02": "审查中",
    "03": "办结-准予",
    "04": "办结-不予",
    "05": "补正",
    "06": "特别程序",
    "07": "退回/撤回",
}
OPEN_STATUSES = ("01", "02", "05", "06")
_DONE = frozenset({"03", "04", "07"})
# One realistic step from each open status: (next statuses, weights).
_STEPS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "01": (("02", "07"), (95, 5)),
    "02": (("03", "04", "05", "06", "07"), (60, 10, 20, 5, 5)),
    "05": (("02", "07"), (85, 15)),
    "06": (("02",), (1,)),
}
_OPINIONS = {
    "01": ("材料齐全，予以受理",),
    "02": ("已受理，进入审查", "转科室审核", None),
    "04": ("项目不符合产业政策，不予核准", "项目选址不符合国土空间规划", "能耗指标不足，不予通过"),
    "05": ("请补正项目用地证明材料", "请补正项目资金来源证明", "申请报告内容不完整，请补正"),
    "06": ("需组织专家评审，进入特别程序", "需进行现场踏勘，进入特别程序"),
    "07": ("申请人主动撤回申请", "材料不符合受理条件，予以退回"),
}
# Historic rows (populate): the status mix of a few years of cases.
_HISTORIC = ("03", "04", "07", "02", "05", "06", "01")
_HISTORIC_CUM = tuple(itertools.accumulate((80, 5, 4, 5, 3, 1, 2)))

# No impossible dates here: the shipped mapping (profiles/fgw-tzxm.yaml) takes each event's
# time from GXSJ, the watermark the system writes itself, and does not read SLSJ or BJSJ, so
# a spoiled SLSJ would be a defect no connector could see and `bad_keys` would overpromise.
# Add `dates=(("SLSJ", "%Y%m%d%H%M%S"),)` if the mapping starts reading SLSJ.
_SPOIL = SpoilSpec(
    ids=("SQRZJHM",),
    required=("SQRMC", "SQRZJHM", "SXBM", "BLBMMC"),
    codes=(("BLZT", ("08", "09", "99")),),
)


@dataclass(frozen=True, slots=True)
class Item:
    """An approval item (事项) the department handles, with its time limits in working days."""

    name: str
    code_suffix: str  # appended to the department's USCC to make the 事项编码
    promised: int  # 承诺时限
    statutory: int  # 法定时限
    government: bool  # 政府投资 (applicant is a state-owned company)
    approval: str  # 办理意见 when approved


ITEMS = (
    Item("企业投资项目备案", "3330111703000", 1, 3, False, "同意备案"),
    Item("企业投资项目核准", "3330111701000", 10, 20, False, "准予核准"),
    Item("政府投资项目建议书审批", "3330111702000", 5, 20, True, "同意批复项目建议书"),
    Item("政府投资项目可行性研究报告审批", "3330111704000", 10, 20, True, "同意批复可行性研究报告"),
    Item("政府投资项目初步设计概算审批", "3330111705000", 10, 20, True, "同意批复初步设计及概算"),
    Item("固定资产投资项目节能审查", "3330111706000", 10, 30, False, "同意节能审查意见"),
)
_ITEM_CUM = tuple(itertools.accumulate((50, 10, 8, 10, 7, 15)))
_ITEMS_BY_NAME = {item.name: item for item in ITEMS}

_PRODUCTS = (
    ("新型建材", "万吨"),
    ("功能性薄膜", "万平方米"),
    ("锂电池隔膜", "万平方米"),
    ("氟硅新材料", "吨"),
    ("特种纸", "万吨"),
    ("智能家居", "万套"),
    ("汽车零部件", "万件"),
    ("高端装备", "台套"),
)
_PUBLIC_WORKS = ("提升改造工程", "污水管网改造工程", "农村饮用水达标提标工程", "综合管廊工程")


class FgwSimulator(SqlSimulator):
    """The 发改 approval system: adds cases, moves them through their stages, fills history."""

    metadata = metadata
    main_table = "TZXM_SPBJ"

    def __init__(
        self,
        url: str,
        *,
        seed: int = 0,
        bad_share: float = 0.0,
        region: str = "330802",
        files_dir: Path | None = None,
    ) -> None:
        super().__init__(url, seed=seed, bad_share=bad_share, region=region)
        self.department = department(region, "fgw")
        self.attachments = (
            None if files_dir is None else AttachmentWriter(files_dir, self._rng, bad_share)
        )
        self._handlers = [self._parties.name() for _ in range(6)]
        self._seq: dict[str, int] = {}  # day (yyyymmdd) → last SLBH sequence number used
        self._pool: tuple[list[Company], list[Company], list[Person]] | None = None
        self.stalled: set[str] = set()  # cases `advance` leaves alone (see add_stalled_cases)
        self.repeat_share = 0.0  # share of new cases filed by an applicant from the pool

    async def add_cases(
        self,
        n: int,
        at: datetime | None = None,
        *,
        applicant: Company | Person | None = None,
        item: Item | None = None,
    ) -> list[str]:
        """Accept n new cases (status '01' 受理) at `at` (default now); returns their SLBH.

        `applicant` files them all (default: new applicants, or with `repeat_share` someone
        who applied before, as applicants come back with the same documents).
        """
        now = self._clock.now(at)
        bad = self._book.plan(n)
        rows: list[dict[str, object]] = []
        async with self._engine.begin() as conn:
            for index in range(n):
                slbh = await self._next_slbh(conn, now.date(), known_empty=False)
                pooled = bool(self.repeat_share) and self._rng.random() < self.repeat_share
                row = self._case(
                    slbh, now, now, "01", pooled=pooled, item=item, applicant=applicant
                )
                if index in bad:
                    self._book.spoil(slbh, _SPOIL, row, now)
                rows.append(row)
            if rows:
                await conn.execute(insert(TZXM_SPBJ), rows)
                await self._attach(conn, rows, now)
        return [str(row["SLBH"]) for row in rows]

    async def add_stalled_cases(
        self, n: int, accepted: datetime, item: Item = ITEMS[1]
    ) -> list[str]:
        """Accept n cases of `item` at `accepted` (in the past) that nobody then works on.

        The clerk forgot them: `advance` never moves them, so they run past their time limits
        and the e-supervision subscriber raises yellow and red cards (黄牌/红牌) on them. Call
        before anything else uses this simulator's clock, which never goes back. A simulator
        reopened over the same database no longer knows them and lets them advance.
        """
        at = self._clock.now(accepted)
        rows: list[dict[str, object]] = []
        async with self._engine.begin() as conn:
            for _ in range(n):
                slbh = await self._next_slbh(conn, at.date(), known_empty=False)
                rows.append(self._case(slbh, at, at, "01", pooled=False, item=item))
            if rows:
                await conn.execute(insert(TZXM_SPBJ), rows)
                await self._attach(conn, rows, at)
        keys = [str(row["SLBH"]) for row in rows]
        self.stalled.update(keys)
        return keys

    async def advance(self, n: int, at: datetime | None = None) -> list[str]:
        """Move up to n open cases one step (01→02→(05→02)→03/04, now and then 06 or 07).

        Cases waiting longest are picked first (among the 4n oldest, at random); `GXSJ` is
        set on every step and `BJSJ` when the case is done. Returns the SLBH moved.
        """
        now = self._clock.now(at)
        table = TZXM_SPBJ
        query = (
            select(table.c.SLBH, table.c.BLZT, table.c.SXMC, table.c.SBQD, table.c.PDCS)
            .where(table.c.BLZT.in_(OPEN_STATUSES), table.c.SLBH.not_in(sorted(self.stalled)))
            .order_by(table.c.GXSJ, table.c.SLBH)
            .limit(4 * n)
        )
        moved: list[str] = []
        async with self._engine.begin() as conn:
            candidates = list((await conn.execute(query)).all())
            for slbh, status, item_name, channel, visits in self._rng.sample(
                candidates, min(n, len(candidates))
            ):
                updates = self._step(status, item_name, now)
                updates["PDCS"] = self._visits_after(updates["BLZT"], channel, visits)
                self._book.keep(slbh, updates)
                await conn.execute(sql_update(table).where(table.c.SLBH == slbh).values(updates))
                moved.append(slbh)
        return moved

    async def populate(
        self, rows: int, *, batch: int = 5000, until: datetime | None = None
    ) -> None:
        """Bulk-insert `rows` historic cases, about 30 s apart, ending shortly before `until`.

        `GXSJ` is distinct and increasing in insertion order, as a backfill benchmark wants.
        Applicants come from a fixed pool, as real applicants apply again and again.
        """
        end = to_local(until) if until is not None else local_now()
        start = end - timedelta(seconds=30 * rows)
        async with self._engine.connect() as conn:
            known_empty = (await conn.execute(select(TZXM_SPBJ.c.SLBH).limit(1))).first() is None
        done = 0
        while done < rows:
            size = min(batch, rows - done)
            bad = self._book.plan(size)
            chunk: list[dict[str, object]] = []
            async with self._engine.begin() as conn:
                for index in range(size):
                    gxsj = start + timedelta(seconds=30 * (done + index) + self._rng.randrange(30))
                    row = await self._historic(conn, gxsj, known_empty)
                    if index in bad:
                        self._book.spoil(str(row["SLBH"]), _SPOIL, row, gxsj)
                    chunk.append(row)
                await conn.execute(insert(TZXM_SPBJ), chunk)
                if self.attachments is not None:
                    for row in chunk:
                        await self._attach(conn, [row], _parse_compact(str(row["SLSJ"])))
            done += size

    async def _historic(
        self, conn: AsyncConnection, gxsj: datetime, known_empty: bool
    ) -> dict[str, object]:
        rng = self._rng
        status = rng.choices(_HISTORIC, cum_weights=_HISTORIC_CUM)[0]
        if status == "01":
            slsj = gxsj
        elif status in _DONE:
            slsj = gxsj - timedelta(seconds=rng.randint(3600, 20 * 86400))
        else:
            slsj = gxsj - timedelta(seconds=rng.randint(600, 5 * 86400))
        slbh = await self._next_slbh(conn, slsj.date(), known_empty=known_empty)
        return self._case(slbh, slsj, gxsj, status, pooled=True)

    def _case(
        self,
        slbh: str,
        slsj: datetime,
        gxsj: datetime,
        status: str,
        *,
        pooled: bool,
        item: Item | None = None,
        applicant: Company | Person | None = None,
    ) -> dict[str, object]:
        rng = self._rng
        item = item or rng.choices(ITEMS, cum_weights=_ITEM_CUM)[0]
        if applicant is not None:
            pass
        elif item.government:
            applicant = self._state_company(pooled)
        elif rng.random() < 0.15:
            applicant = self._person(pooled, slsj)
        else:
            applicant = self._company(pooled)
        dept = self.department
        channel = rng.choices(_CHANNEL_CODES, cum_weights=_CHANNEL_CUM)[0]
        return {
            "SLBH": slbh,
            "SXBM": dept.code + item.code_suffix,
            "SXMC": item.name,
            "XMMC": self._project_name(item, applicant),
            "SQRMC": applicant.name,
            "SQRZJLX": "10" if isinstance(applicant, Person) else "20",
            "SQRZJHM": applicant.id_number if isinstance(applicant, Person) else applicant.uscc,
            "XZQHDM": self.region,
            "BLBMBM": dept.code,
            "BLBMMC": dept.name,
            "BLZT": status,
            "SLSJ": compact(slsj),
            "BJSJ": compact(gxsj) if status in _DONE else None,
            "GXSJ": dashed(gxsj),
            "CNSX": item.promised,
            "FDSX": item.statutory,
            "JBR": rng.choice(self._handlers),
            "BLYJ": self._opinion(status, item),
            "SBQD": channel,
            "PDCS": 1 if channel in _IN_PERSON else 0,  # the application itself
        }

    async def _attach(
        self, conn: AsyncConnection, cases: list[dict[str, object]], at: datetime
    ) -> None:
        """File the cases' attachments (when the simulator has a file share)."""
        if self.attachments is None:
            return
        rows = [row for case in cases for row in self.attachments.rows(case, at)]
        if rows:
            await conn.execute(insert(TZXM_FJ), rows)

    def _visits_after(self, status: object, channel: object, visits: object) -> int:
        """跑动次数 after a step: applying at a window or terminal is one visit; a 补正 asks
        for another now and then, and fetching the result in person one more."""
        count = int(visits) if isinstance(visits, int) else 0
        if visits is None:  # the application itself
            return count + (channel in _IN_PERSON)
        if status == "05" and self._rng.random() < 0.5:
            count += 1
        elif status in ("03", "04") and channel in _IN_PERSON and self._rng.random() < 0.4:
            count += 1
        return count

    def _step(self, status: str, item_name: str | None, now: datetime) -> dict[str, object]:
        nexts, weights = _STEPS[status]
        new = self._rng.choices(nexts, weights=weights)[0]
        item = _ITEMS_BY_NAME.get(item_name or "", ITEMS[0])
        updates: dict[str, object] = {
            "BLZT": new,
            "GXSJ": dashed(now),
            "BLYJ": self._opinion(new, item),
        }
        if new in _DONE:
            updates["BJSJ"] = compact(now)
        return updates

    def _opinion(self, status: str, item: Item) -> str | None:
        if status == "03":
            return item.approval
        return self._rng.choice(_OPINIONS[status])

    def _project_name(self, item: Item, applicant: Company | Person) -> str:
        rng = self._rng
        parties = self._parties
        if item.government:
            town = parties.town()
            if rng.random() < 0.5:
                return f"{town}{parties.road()}{rng.choice(_PUBLIC_WORKS)}"
            facility = rng.choice(("中心小学", "卫生院", "文化礼堂"))
            return f"{parties.region_name}{town}{facility}迁建工程"
        brand = applicant.brand if isinstance(applicant, Company) else parties.town()
        product, unit = rng.choice(_PRODUCTS)
        shape = rng.randrange(3)
        if shape == 0:
            return f"{brand}年产{rng.randint(1, 50)}{unit}{product}项目"
        if shape == 1:
            return f"{brand}{product}生产线智能化技术改造项目"
        return f"{brand}厂房扩建项目"

    async def _next_slbh(self, conn: AsyncConnection, day: date, *, known_empty: bool) -> str:
        """The next 受理编号 of the day: "FG" + region + yyyymmdd + a 6-digit sequence.

        The first number of a day continues from the table's highest, so a simulator
        reopened over an existing database does not reuse a key.
        """
        prefix = f"FG{self.region}{day:%Y%m%d}"
        last = self._seq.get(prefix)
        if last is None:
            last = 0
            if not known_empty:
                column = TZXM_SPBJ.c.SLBH
                query = select(column).where(column.between(prefix + "000000", prefix + "999999"))
                top = (await conn.execute(query.order_by(column.desc()).limit(1))).scalar()
                last = int(top[len(prefix) :]) if top else 0
        self._seq[prefix] = last + 1
        return f"{prefix}{last + 1:06d}"

    def _pooled(self) -> tuple[list[Company], list[Company], list[Person]]:
        if self._pool is None:
            parties = self._parties
            at = datetime(2026, 1, 1)
            self._pool = (
                [parties.company() for _ in range(1000)],
                [parties.state_company() for _ in range(20)],
                [parties.person(at) for _ in range(300)],
            )
        return self._pool

    def _company(self, pooled: bool) -> Company:
        return self._rng.choice(self._pooled()[0]) if pooled else self._parties.company()

    def _state_company(self, pooled: bool) -> Company:
        return self._rng.choice(self._pooled()[1]) if pooled else self._parties.state_company()

    def _person(self, pooled: bool, at: datetime) -> Person:
        return self._rng.choice(self._pooled()[2]) if pooled else self._parties.person(at)


def _parse_compact(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:  # a spoiled date: file the attachments at the watermark's day instead
        return local_now()
