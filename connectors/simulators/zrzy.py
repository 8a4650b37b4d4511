"""自然资源 (natural resources) behind an HTTP API: real-estate certificates and land pre-review.

`ZrzySimulator` keeps two record sets in memory — 不动产权证书 (real-estate title
certificates) and 建设项目用地预审 cases — and `create_app` serves them as a small FastAPI app
with Bearer-token auth and two paged endpoints read with a since-cursor:

    GET /api/v1/bdcqz?since=&page_size=    GET /api/v1/ydys?since=&page_size=
    → {"code": 0, "msg": "ok", "data": {"items": [...], "next_cursor": "…", "has_more": false}}

A title deleted outright is listed at `GET /api/v1/bdcqz/deleted?since=&page_size=` (items
`{"ywh": …, "scsj": 删除时间}`, the same envelope and cursor, ordered by (scsj, ywh)).

The cursor orders by (gxsj, ywh); an updated record appears again with its new gxsj. Every
change gets a gxsj at least one second after the previous change, so a cursor taken between
two changes never skips the second. Field names and values are a contract with the shipped
connector mapping: do not rename anything.

Bad records (`bad_share`) carry one defect — certificates: `qlrzjh` with a wrong check
digit, `djsj` an impossible date, `qlr` / `qlrzjh` / `bdcqzh` empty or null, `zszt` "未知";
cases: `sqdwtyxydm` with a wrong check digit, `sqdw` / `sqdwtyxydm` / `sxbm` empty or null,
`blzt` "挂起". Their `ywh` are in `bad_keys`.
"""

from __future__ import annotations

import hmac
import random
from collections import deque
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from connectors.simulators.clock import SimClock, dashed
from connectors.simulators.defects import Defect, DefectBook, SpoilSpec
from connectors.simulators.ledger import CursorError, Ledger, Record
from connectors.simulators.people import REGIONS, Company, PartyFactory, department, province_of

__all__ = ["CASE_STATUSES", "ITEM_NAME", "ZrzySimulator", "create_app"]

ITEM_NAME = "建设项目用地预审与选址意见书核发"
_ITEM_SUFFIX = "3330103005000"
# 办理状态 (blzt), in the department's own words.
CASE_STATUSES = ("受理", "审查", "补正", "办结", "不予许可", "撤回")
_OPEN = frozenset({"受理", "审查", "补正"})
_DONE = frozenset({"办结", "不予许可", "撤回"})
_STEPS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "受理": (("审查", "撤回"), (95, 5)),
    "审查": (("办结", "不予许可", "补正", "撤回"), (65, 10, 20, 5)),
    "补正": (("审查", "撤回"), (85, 15)),
}
_PROJECTS = (
    "新建厂房项目",
    "物流仓储中心项目",
    "安置小区建设项目",
    "道路改扩建工程",
    "污水处理厂扩建工程",
)
_LAYOUT = "%Y-%m-%d %H:%M:%S"
_CERT_SPOIL = SpoilSpec(
    ids=("qlrzjh",),
    dates=(("djsj", _LAYOUT),),
    required=("qlr", "qlrzjh", "bdcqzh"),
    codes=(("zszt", ("未知",)),),
)
# No impossible dates in cases: the shipped mapping (profiles/zrzy-ydys.yaml) takes the
# event time from gxsj and does not read slsj, so a spoiled slsj would go unseen.
_CASE_SPOIL = SpoilSpec(
    ids=("sqdwtyxydm",),
    required=("sqdw", "sqdwtyxydm", "sxbm"),
    codes=(("blzt", ("挂起",)),),
)


class ZrzySimulator:
    """The 自然资源 system's records, in memory, and the switch that makes its API fail."""

    def __init__(self, *, seed: int = 0, bad_share: float = 0.0, region: str = "330802") -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        self.region = region
        self.certificates = Ledger()
        self.cases = Ledger()
        # Titles deleted outright (a registration struck out, 注销登记 entered in error and
        # undone): what `/api/v1/bdcqz/deleted` pages through, by deletion time 删除时间 scsj.
        self.deleted = Ledger(key="ywh", version="scsj")
        self.registry = department(region, "bdc")  # 不动产登记中心: registers titles
        self.bureau = department(region, "zrzy")  # 自然资源和规划局: handles pre-review
        self._rng = random.Random(seed)
        self._parties = PartyFactory(self._rng, region)
        self._clock = SimClock(strict=True)
        self._book = DefectBook(self._rng, bad_share)
        self._handlers = [self._parties.name() for _ in range(5)]
        self._seq: dict[str, int] = {}
        self._failures: deque[int] = deque()

    @property
    def bad_keys(self) -> set[str]:
        """`ywh` of the records generated with a defect (certificates and cases alike)."""
        return self._book.bad_keys

    @property
    def defects(self) -> dict[str, Defect]:
        return self._book.defects

    def fail_next(self, n: int, status: int = 503) -> None:
        """Make the next n requests fail with `status` (before authentication is checked)."""
        self._failures.extend([status] * n)

    def take_failure(self) -> int | None:
        """The status the current request must fail with, if `fail_next` asked for one."""
        return self._failures.popleft() if self._failures else None

    def add_certificates(self, n: int, at: datetime | None = None) -> list[str]:
        """Register n title certificates (现势); returns their ywh."""
        now = self._clock.now(at)
        bad = self._book.plan(n)
        keys = []
        for index in range(n):
            item = self._certificate(now)
            if index in bad:
                self._book.spoil(str(item["ywh"]), _CERT_SPOIL, item, now)
            self.certificates.put(item)
            keys.append(str(item["ywh"]))
        return keys

    def add_cases(self, n: int, at: datetime | None = None) -> list[str]:
        """Accept n land pre-review cases (受理); returns their ywh."""
        now = self._clock.now(at)
        bad = self._book.plan(n)
        keys = []
        for index in range(n):
            item = self._case(now)
            if index in bad:
                self._book.spoil(str(item["ywh"]), _CASE_SPOIL, item, now)
            self.cases.put(item)
            keys.append(str(item["ywh"]))
        return keys

    def advance(self, n: int, at: datetime | None = None) -> list[str]:
        """Move up to n open cases one step (受理→审查→(补正→审查)→办结/不予许可, or 撤回)."""
        now = self._clock.now(at)
        candidates = self.cases.oldest(lambda case: case["blzt"] in _OPEN, 4 * n)
        moved = []
        for case in self._rng.sample(candidates, min(n, len(candidates))):
            nexts, weights = _STEPS[str(case["blzt"])]
            new = self._rng.choices(nexts, weights=weights)[0]
            updates: Record = {"blzt": new, "gxsj": dashed(now)}
            if new in _DONE:
                updates["bjsj"] = dashed(now)
            self._book.keep(str(case["ywh"]), updates)
            self.cases.put(case | updates)
            moved.append(str(case["ywh"]))
        return moved

    def revoke(self, n: int, at: datetime | None = None) -> list[str]:
        """Cancel (注销) up to n current (现势) certificates, as after a transfer of title."""
        now = self._clock.now(at)
        candidates = self.certificates.oldest(lambda cert: cert["zszt"] == "现势", 4 * n)
        revoked = []
        for cert in self._rng.sample(candidates, min(n, len(candidates))):
            updates: Record = {"zszt": "注销", "gxsj": dashed(now)}
            self._book.keep(str(cert["ywh"]), updates)
            self.certificates.put(cert | updates)
            revoked.append(str(cert["ywh"]))
        return revoked

    def delete_certificates(self, keys: list[str], at: datetime | None = None) -> list[str]:
        """Delete title certificates outright; each is listed at the deletions endpoint."""
        now = self._clock.now(at)
        for key in keys:
            self.certificates.remove(key)
            self.deleted.put({"ywh": key, "scsj": dashed(now)})
        return keys

    def _next_key(self, prefix: str, now: datetime) -> str:
        head = f"{prefix}{self.region}{now:%Y%m%d}"
        self._seq[head] = self._seq.get(head, 0) + 1
        return f"{head}{self._seq[head]:06d}"

    def _certificate_number(self, now: datetime) -> str:
        """不动产权证书号, e.g. 浙(2026)衢州市柯城区不动产权第0012345号 (numbered per year)."""
        year_key = f"cert{now.year}"
        number = self._seq.get(year_key) or self._rng.randint(1000, 20000)
        self._seq[year_key] = number + 1
        abbr = province_of(self.region)[1]
        return f"{abbr}({now.year}){REGIONS[self.region]}不动产权第{number:07d}号"

    def _certificate(self, now: datetime) -> Record:
        rng, parties = self._rng, self._parties
        holder: Company | None = None
        if rng.random() < 0.3:
            holder = parties.company()
            use = "工业" if rng.random() < 0.6 else "商业"
            name, id_kind, id_number = holder.name, "营业执照", holder.uscc
        else:
            person = parties.person(now)
            use = "住宅" if rng.random() < 0.85 else "商业"
            name, id_kind, id_number = person.name, "身份证", person.id_number
        low, high = {"住宅": (50, 180), "商业": (20, 600), "工业": (2000, 50000)}[use]
        land_only = use == "工业" and rng.random() < 0.5
        return {
            "ywh": self._next_key("DJ", now),
            "bdcqzh": self._certificate_number(now),
            "qlr": name,
            "qlrzjzl": id_kind,
            "qlrzjh": id_number,
            "zl": parties.address(
                {"住宅": "home", "商业": "office", "工业": "industrial"}[use], province=False
            ),
            "mj": f"{rng.uniform(low, high):.2f}",
            "yt": use,
            "qllx": "国有建设用地使用权" if land_only else "国有建设用地使用权/房屋所有权",
            "djsj": dashed(now),
            "djjg": self.registry.name,
            "djjgdm": self.registry.code,
            "xzqdm": self.region,
            "zszt": "现势",
            "gxsj": dashed(now),
        }

    def _case(self, now: datetime) -> Record:
        rng, parties = self._rng, self._parties
        applicant = parties.state_company() if rng.random() < 0.3 else parties.company()
        return {
            "ywh": self._next_key("YS", now),
            "xmmc": f"{applicant.brand}{rng.choice(_PROJECTS)}",
            "sqdw": applicant.name,
            "sqdwtyxydm": applicant.uscc,
            "sxbm": self.bureau.code + _ITEM_SUFFIX,
            "sxmc": ITEM_NAME,
            "blzt": "受理",
            "slsj": dashed(now),
            "bjsj": None,
            "gxsj": dashed(now),
            "cnsx": 15,
            "fdsx": 20,
            "xzqdm": self.region,
            "jbr": rng.choice(self._handlers),
            "blbm": self.bureau.name,
            "blbmdm": self.bureau.code,
        }


# Module level: with postponed annotations FastAPI resolves these names in module globals.
PageSize = Annotated[int, Query(ge=1, le=1000, description="每页条数 / page size")]


class ApiError(Exception):
    """A refusal the API answers in its own envelope: HTTP status and a numeric code."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


def _envelope(status: int, msg: str) -> JSONResponse:
    headers = {"Retry-After": "1"} if status in (429, 503) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"code": status * 100, "msg": msg, "data": None}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(sim: ZrzySimulator, token: str) -> FastAPI:
    """The department API over `sim`, accepting `Authorization: Bearer <token>`."""
    app = FastAPI(title="自然资源 simulated department API", version="1.0")
    expected = f"Bearer {token}".encode()

    async def guard(authorization: Annotated[str | None, Header()] = None) -> None:
        failure = sim.take_failure()
        if failure is not None:
            raise ApiError(failure, "服务暂不可用，请稍后重试")
        if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
            raise ApiError(401, "未授权：缺少或错误的访问令牌")

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _envelope(exc.status, exc.msg)

    async def on_bad_request(_request: Request, exc: Exception) -> JSONResponse:
        return _envelope(400, f"参数错误：{exc}")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_bad_request)
    app.add_exception_handler(CursorError, on_bad_request)

    guarded = [Depends(guard)]

    @app.get("/api/v1/bdcqz", summary="不动产权证书", dependencies=guarded)
    async def bdcqz(since: str = "", page_size: PageSize = 100) -> JSONResponse:
        return _page(sim.certificates, since, page_size)

    @app.get(
        "/api/v1/bdcqz/deleted",
        summary="已删除的不动产权证书（业务号与删除时间）",
        dependencies=guarded,
    )
    async def bdcqz_deleted(since: str = "", page_size: PageSize = 100) -> JSONResponse:
        return _page(sim.deleted, since, page_size)

    @app.get("/api/v1/ydys", summary="建设项目用地预审", dependencies=guarded)
    async def ydys(since: str = "", page_size: PageSize = 100) -> JSONResponse:
        return _page(sim.cases, since, page_size)

    return app


def _page(ledger: Ledger, since: str, size: int) -> JSONResponse:
    page = ledger.page(since, size)
    data = {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more}
    return JSONResponse({"code": 0, "msg": "ok", "data": data})
