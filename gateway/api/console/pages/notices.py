"""双告知与信用核查 (notices and credit checks): the 双告知 notices routed to departments —
received, claimed, overdue by the claim clock — and the unmatched pool; the joint-punishment
lists as they stand and the credit checks windows made.

Notices are read from the lookup store (`gateway.notices.views`), checks from the audit log
(`gateway.credit.views`: the subject is a pseudonym there, never an id). A department officer
sees its own department's notices only, and not the credit checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.api.console.auth import require_person
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.credit.views import CreditViewError, CreditViews, check_member
from gateway.notices.views import (
    DepartmentNotices,
    NoticeFilter,
    NoticeViewError,
    NoticeViews,
)
from gateway.people.person import Person
from gateway.supervision.charts import BLUE, GREY, RED, Series, stacked_bar_chart
from gateway.supervision.clock import BEIJING
from gateway.supervision.views import calendar_for

NAV = NavItem(
    title="双告知与信用",
    path="/console/notices",
    roles=("supervisor", "operator", "auditor", "readonly", "officer"),
    order=55,
)
router = APIRouter()
PAGE = 50
Reader = Annotated[Person, Depends(require_person())]
NotOfficer = Annotated[
    Person, Depends(require_person("supervisor", "operator", "auditor", "readonly"))
]


@router.get("/console/notices", response_class=HTMLResponse)
async def notices(
    request: Request,
    person: Reader,
    department: str | None = None,
    status: str | None = None,
    pool: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    services = console_state(request).services
    values = {"department": department or "", "status": status or "", "pool": bool(pool)}
    also: frozenset[str] = frozenset()
    if person.role == "officer":  # their own department, whatever was asked
        department = person.department_code or "-"
        values["department"] = department
        also = services.routing.codes_of(department)
    views = NoticeViews(services.engine, calendar_for(services.settings))
    try:
        where = NoticeFilter.parse(department, status, bool(pool), also)
        loads = await views.departments(where)
        page = await views.page(where, after, PAGE)
        every = loads if where.department is None else await views.departments()
    except NoticeViewError as exc:
        return render(
            request,
            "notices/index.html",
            person=person,
            status_code=400,
            error=exc.detail,
            values=values,
            loads=None,
        )
    chart = stacked_bar_chart(
        "双告知认领情况（按部门）",
        [(d.department_name, [d.claimed, d.pending - d.overdue, d.overdue]) for d in loads],
        [Series("已认领", BLUE), Series("待认领", GREY), Series("超时未认领", RED)],
    )
    return render(
        request,
        "notices/index.html",
        person=person,
        values=values,
        loads=loads,
        choices=[] if person.role == "officer" else _choices(every, where.department),
        page=page,
        chart=chart,
    )


def _choices(loads: list[DepartmentNotices], chosen: str | None) -> list[tuple[str, str]]:
    found = {d.department_code: d.department_name for d in loads}
    if chosen is not None:
        found.setdefault(chosen, chosen)
    return sorted(found.items(), key=lambda item: (item[0].endswith("-POOL"), item[1]))


@router.get("/console/notices/credit", response_class=HTMLResponse)
async def credit(
    request: Request, person: NotOfficer, member: str | None = None, after: str | None = None
) -> HTMLResponse:
    services = console_state(request).services
    views = CreditViews(services.engine)
    today = dt.datetime.now(BEIJING).date()
    try:
        lists = await views.lists(today)
        checks = await views.checks(check_member(member), after, PAGE)
    except CreditViewError as exc:
        return render(
            request,
            "notices/credit.html",
            person=person,
            status_code=400,
            error=exc.detail,
            member=member or "",
            lists=None,
        )
    return render(
        request,
        "notices/credit.html",
        person=person,
        member=member or "",
        today=today,
        lists=lists,
        checks=checks,
    )
