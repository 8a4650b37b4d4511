"""What the console's 双告知 page shows: notices received, claimed and overdue, and the pool.

Read from the lookup store's `lk_notices` (the newest version of each notice, as the API
serves them), the same rows `GET /v1/notices/{id}` reads. Whether a notice is overdue is the
claim clock's verdict (`gateway.notices.tracker`): routing is its 受理, the claim its 办结,
`claim_days` working days, counted by the e-supervision subscriber's own `CaseFile` and
`WorkCalendar`; a notice claimed after its last day counts as claimed late. The pool (待认领池)
holds the notices no rule routed: their department code ends in `-POOL`.

A department officer passes `department` and sees its own notices only. Lists are keyset
pages by notice id; the licence holder's id is masked wherever it spells a person's.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from gateway.lookup.tables import lk_notices
from gateway.notices.errors import NoticesError
from gateway.notices.tracker import as_case_event
from gateway.store.errors import store_unavailable
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import BEIJING
from gateway.supervision.errors import CaseEventError
from schemas.errors import InvalidInput
from schemas.validators import mask_ids_in_text

POOL_SUFFIX = "-POOL"
STATUSES = ("PENDING", "CLAIMED")
MAX_PAGE = 200
MAX_CLOCKED = 20_000  # pending notices clocked for the overdue counts
_DEPARTMENT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NOTICE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class NoticeViewError(InvalidInput, NoticesError):
    """A page parameter that is not well formed; the message names the field and value."""


@dataclass(frozen=True, slots=True)
class NoticeFilter:
    """Which notices: of a department (its code, e.g. 330802-SCJG; or a kind, SCJG, meaning
    that kind in every region, with `also` its directory codes), a status, the pool only."""

    department: str | None = None
    status: str | None = None
    pool: bool = False
    also: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls,
        department: str | None = None,
        status: str | None = None,
        pool: bool = False,
        also: frozenset[str] = frozenset(),
    ) -> NoticeFilter:
        department, status = (v.strip() if v else None for v in (department, status))
        if department and not _DEPARTMENT.match(department):
            raise NoticeViewError("department", department, "expected a department code")
        if status and status not in STATUSES:
            raise NoticeViewError("status", status, f"expected one of {', '.join(STATUSES)}")
        return cls(department or None, status or None, pool, also if department else frozenset())

    def condition(self) -> ColumnElement[bool] | None:
        """The SQL condition on `lk_notices.department_code`; None: every department."""
        if self.department is None:
            return None
        code = lk_notices.c.department_code
        found: list[ColumnElement[bool]] = [code.in_(sorted({self.department, *self.also}))]
        if "-" not in self.department:  # a kind: <region>-<KIND> in every region
            found.append(code.endswith(f"-{self.department}", autoescape=True))
        return or_(*found)


@dataclass(frozen=True, slots=True)
class DepartmentNotices:
    department_code: str
    department_name: str
    received: int
    claimed: int
    pending: int
    overdue: int  # pending past the claim limit, now

    @property
    def pool(self) -> bool:
        return self.department_code.endswith(POOL_SUFFIX)


@dataclass(frozen=True, slots=True)
class NoticeItem:
    notice_id: str
    status: str
    item_name: str
    department_code: str
    department_name: str
    licence_name: str
    licence_uscc: str
    received_at: dt.datetime
    claim_days: int
    last_day: dt.date | None  # the claim limit's last allowed day
    overdue: bool  # pending past it, or claimed after it
    claimed_at: dt.datetime | None
    claimed_by: str | None
    pool_reason: str | None


@dataclass(frozen=True, slots=True)
class NoticePage:
    items: list[NoticeItem]
    next_after: str | None


class NoticeViews:
    """Reads `lk_notices` for the console and clocks what it shows."""

    def __init__(
        self,
        engine: AsyncEngine,
        calendar: WorkCalendar,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.now = now

    async def departments(self, where: NoticeFilter = NoticeFilter()) -> list[DepartmentNotices]:
        """Per department: received, claimed, pending, and overdue now; pools included."""
        n = lk_notices.c
        claimed = func.sum(case((n.status == "CLAIMED", 1), else_=0))
        counts = select(n.department_code, func.count().label("received"), claimed.label("claimed"))
        counts = counts.group_by(n.department_code)
        pending = select(n.department_code, n.record).where(n.status == "PENDING")
        if (chosen := where.condition()) is not None:
            counts = counts.where(chosen)
            pending = pending.where(chosen)
        async with store_unavailable(), self.engine.connect() as conn:
            rows = (await conn.execute(counts)).all()
            open_ = (await conn.execute(pending.limit(MAX_CLOCKED))).all()
        now = self.now()
        overdue: dict[str, int] = {}
        names: dict[str, str] = {}
        for row in open_:
            item = self._item(json.loads(row.record), now)
            names[row.department_code] = item.department_name
            overdue[row.department_code] = overdue.get(row.department_code, 0) + item.overdue
        out = [
            DepartmentNotices(
                r.department_code,
                names.get(r.department_code, r.department_code),
                int(r.received),
                int(r.claimed or 0),
                int(r.received) - int(r.claimed or 0),
                overdue.get(r.department_code, 0),
            )
            for r in rows
        ]
        return sorted(out, key=lambda d: (d.pool, -d.received, d.department_code))

    async def page(
        self, where: NoticeFilter = NoticeFilter(), after: str | None = None, limit: int = 50
    ) -> NoticePage:
        """Notices by id, each with its claim clock's verdict."""
        if not 1 <= limit <= MAX_PAGE:
            raise NoticeViewError("limit", limit, f"expected 1 to {MAX_PAGE}")
        n = lk_notices.c
        query = select(n.record)
        if (chosen := where.condition()) is not None:
            query = query.where(chosen)
        if where.status is not None:
            query = query.where(n.status == where.status)
        if where.pool:
            query = query.where(n.department_code.like(f"%{POOL_SUFFIX}"))
        if after:
            if not _NOTICE_ID.match(after):
                raise NoticeViewError("after", after, "expected the cursor of the previous page")
            query = query.where(n.notice_id > after)
        query = query.order_by(n.notice_id).limit(limit + 1)
        async with store_unavailable(), self.engine.connect() as conn:
            records = [json.loads(r) for r in (await conn.execute(query)).scalars()]
        now = self.now()
        items = [self._item(r, now) for r in records[:limit]]
        more = len(records) > limit
        return NoticePage(items, items[-1].notice_id if more and items else None)

    def _item(self, record: dict[str, Any], now: dt.datetime) -> NoticeItem:
        last_day, overdue = self._clock(record, now)
        licence = record.get("licence") or {}
        return NoticeItem(
            notice_id=str(record["notice_id"]),
            status=str(record["status"]),
            item_name=str(record.get("item_name") or ""),
            department_code=str(record["department_code"]),
            department_name=str(record.get("department_name") or record["department_code"]),
            licence_name=str(licence.get("name") or ""),
            licence_uscc=mask_ids_in_text(str(licence.get("uscc") or "")),
            received_at=_time(record["received_at"]),
            claim_days=int(record.get("claim_days") or 0),
            last_day=last_day,
            overdue=overdue,
            claimed_at=_time(record["claimed_at"]) if record.get("claimed_at") else None,
            claimed_by=record.get("claimed_by"),
            pool_reason=record.get("pool_reason"),
        )

    def _clock(self, record: dict[str, Any], now: dt.datetime) -> tuple[dt.date | None, bool]:
        """(the claim limit's last allowed day, overdue): unclaimed at its end, or claimed
        after it; by the claim clock's rules (routing starts it, working days)."""
        routed = as_case_event({**record, "status": "PENDING"})
        try:
            notice = CaseFile.from_event(routed)
        except CaseEventError:
            return None, False
        deadline = notice.clock(self.calendar).deadline(int(record.get("claim_days") or 0))
        if deadline is None:
            return None, False
        claimed = record.get("claimed_at") if record.get("status") == "CLAIMED" else None
        until = now if claimed is None else _time(claimed)
        return deadline.last_day, until >= deadline.ends_at


def _time(value: Any) -> dt.datetime:
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return at.astimezone(BEIJING)
