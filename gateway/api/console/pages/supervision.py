"""电子监察 (e-supervision): open cases by department with their clocks, the yellow and red
cards, and the monthly bulletin with charts and downloads.

Read from the state `govgate supervise` keeps (`gateway.supervision.views`); the 双告知 columns
come from the notices' claim clocks when `govgate notices run` keeps them here. A department
officer (部门数据专员) sees its own department only, whatever the address asks for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import require_person
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.people.person import Person
from gateway.settings import Settings
from gateway.supervision.charts import BLUE, RED, YELLOW, Series, bar_chart, stacked_bar_chart
from gateway.supervision.errors import SupervisionError
from gateway.supervision.report import month_bounds, total
from gateway.supervision.state import SupervisionState
from gateway.supervision.views import (
    DepartmentLoad,
    Departments,
    SupervisionViews,
    bulletin_file,
    calendar_for,
    check_card,
    check_department,
    current_month,
    notices_state_url,
    reading,
    state_url,
)

NAV = NavItem(
    title="电子监察",
    path="/console/supervision",
    roles=("supervisor", "operator", "auditor", "readonly", "officer"),
    order=50,
)
router = APIRouter()
PAGE = 50
BULLETIN_MAX_AGE_S = 60.0  # a bulletin counted this recently is shown again (with its time)
Reader = Annotated[Person, Depends(require_person())]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _settings(request: Request) -> Settings:
    return console_state(request).services.settings


def _department(request: Request, person: Person, asked: str | None) -> Departments:
    """An officer's own department (every code it goes by: its code, and the real codes the
    routing directory lists for it), always; anyone else's choice (checked)."""
    if person.role == "officer":
        if not person.department_code:
            return "-"  # an officer bound to no department sees nothing
        return console_state(request).services.routing.codes_of(person.department_code)
    return check_department(asked)


def _choices(loads: list[DepartmentLoad], chosen: Departments) -> list[tuple[str, str]]:
    """The departments to filter by: those with open cases, and the one chosen (so the form
    shows what the page shows)."""
    found = {d.department_code: d.department_name for d in loads}
    if isinstance(chosen, str):
        found.setdefault(chosen, chosen)
    return sorted(found.items(), key=lambda item: item[1])


def _shown(person: Person, department: Departments) -> str | None:
    """The department the page says it shows: an officer's own code, else the one chosen."""
    if person.role == "officer":
        return person.department_code
    return department if isinstance(department, str) else " / ".join(sorted(department or ()))


def _views(state: SupervisionState, settings: Settings) -> SupervisionViews:
    return SupervisionViews(
        state, calendar_for(settings), yellow_share=settings.supervision.yellow_share
    )


def _month(month: str | None) -> str:
    chosen = (month or "").strip() or current_month()
    month_bounds(chosen)  # ReportError naming the value when it is not YYYY-MM
    return chosen


@router.get("/console/supervision", response_class=HTMLResponse)
async def overview(
    request: Request, person: Reader, department: str | None = None, month: str | None = None
) -> HTMLResponse:
    """Open cases and cards now; the month's bulletin comes in its own request (htmx loads it
    into the page; without script, a link), since counting a month of clocks takes a while."""
    settings = _settings(request)
    try:
        chosen = _department(request, person, department)
        when = _month(month)
    except SupervisionError as exc:
        return _bad(request, person, exc)
    async with reading(state_url(settings)) as state:
        if state is None:
            return render(request, "supervision/index.html", person=person, missing=True)
        views = _views(state, settings)
        loads = await views.departments(chosen)
        if person.role == "officer":
            choices = []
        else:
            choices = loads if chosen is None else await views.departments()
        cards = await views.cards(chosen, limit=10)
    cards_chart = stacked_bar_chart(
        "在办件黄牌与红牌（按部门）",
        [(d.department_name, [d.yellow, d.red]) for d in loads],
        [Series("黄牌", YELLOW), Series("红牌", RED)],
    )
    return render(
        request,
        "supervision/index.html",
        person=person,
        missing=False,
        department=_shown(person, chosen),
        month=when,
        loads=loads,
        choices=_choices(choices, chosen),
        cards=cards,
        cards_chart=cards_chart,
    )


@router.get("/console/supervision/bulletin", response_class=HTMLResponse)
async def bulletin(
    request: Request, person: Reader, department: str | None = None, month: str | None = None
) -> HTMLResponse:
    """The month's bulletin: a fragment for htmx (`HX-Request`), else a page of its own."""
    settings = _settings(request)
    fragment = request.headers.get("hx-request") == "true"
    try:
        chosen = _department(request, person, department)
        when = _month(month)
        async with reading(state_url(settings)) as state:
            if state is None:
                return render(request, "supervision/index.html", person=person, missing=True)
            async with reading(notices_state_url(settings)) as notices:
                found = await _views(state, settings).bulletin(
                    when, chosen, notices, max_age_s=BULLETIN_MAX_AGE_S
                )
    except SupervisionError as exc:
        return _bad(request, person, exc)
    rows = found.rows
    rate_chart = bar_chart(
        f"{when} 按时办结率（%）",
        [(r.department_name, r.on_time_rate) for r in rows if r.on_time_rate is not None],
        colour=BLUE,
        unit="%",
    )
    return render(
        request,
        "supervision/_bulletin.html" if fragment else "supervision/bulletin.html",
        person=person,
        department=_shown(person, chosen),
        month=when,
        rows=rows,
        summary=total(rows) if rows else None,
        computed_at=found.computed_at,
        rate_chart=rate_chart,
    )


@router.get("/console/supervision/cases", response_class=HTMLResponse)
async def open_cases(
    request: Request, person: Reader, department: str | None = None, after: str | None = None
) -> HTMLResponse:
    settings = _settings(request)
    try:
        chosen = _department(request, person, department)
        async with reading(state_url(settings)) as state:
            if state is None:
                return render(request, "supervision/cases.html", person=person, missing=True)
            page = await _views(state, settings).open_cases(chosen, after, PAGE)
    except SupervisionError as exc:
        return _bad(request, person, exc)
    return render(
        request,
        "supervision/cases.html",
        person=person,
        missing=False,
        department=_shown(person, chosen),
        page=page,
    )


@router.get("/console/supervision/cards", response_class=HTMLResponse)
async def cards(
    request: Request,
    person: Reader,
    department: str | None = None,
    card: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    settings = _settings(request)
    try:
        chosen = _department(request, person, department)
        which = check_card(card)
        async with reading(state_url(settings)) as state:
            if state is None:
                return render(request, "supervision/cards.html", person=person, missing=True)
            page = await _views(state, settings).cards(chosen, which, after, PAGE)
    except SupervisionError as exc:
        return _bad(request, person, exc)
    return render(
        request,
        "supervision/cards.html",
        person=person,
        missing=False,
        department=_shown(person, chosen),
        card=which or "",
        page=page,
    )


@router.get("/console/supervision/bulletin.{kind}")
async def download(
    request: Request, kind: str, person: Reader, month: str | None = None
) -> Response:
    settings = _settings(request)
    try:
        chosen = _department(request, person, None)
        when = _month(month)
        if kind not in MEDIA:
            return _bad(request, person, SupervisionError(f"format {kind!r}: csv or xlsx"))
        async with reading(state_url(settings)) as state:
            if state is None:
                return render(request, "supervision/index.html", person=person, missing=True)
            async with reading(notices_state_url(settings)) as notices:
                found = await _views(state, settings).bulletin(
                    when, chosen, notices, max_age_s=BULLETIN_MAX_AGE_S
                )
        body = await bulletin_file(found.rows, when, kind)
    except SupervisionError as exc:
        return _bad(request, person, exc)
    services = console_state(request).services
    await audit_action(services, person, "supervision.download", f"supervision/{when}.{kind}")
    name = f"supervision-report-{when}.{kind}"
    return Response(
        body,
        media_type=MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _bad(request: Request, person: Person, exc: SupervisionError) -> HTMLResponse:
    return render(
        request,
        "supervision/index.html",
        person=person,
        status_code=400,
        missing=False,
        error=exc.detail or str(exc),
        loads=None,
    )
