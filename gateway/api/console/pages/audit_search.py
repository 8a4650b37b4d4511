"""审计查询 (audit search): the audit log by member, holder, item code, decision and time range,
a page at a time, with the chain's verification state and CSV/XLSX export.

Roles: auditor (审计) and operator (大数据局运维); every other role is refused (deny by
default: an access log names who looked at whose data). Searching by a holder's id in clear is
the auditor's alone and goes by POST, so the id is never in a URL (nor any log of URLs); it is
hashed as the audit writer hashes it and the page never shows it back. Links (next page, a
click on a member, an item or a holder's pseudonym) carry only the filters that are not ids.
Every look is an audited action; so is every export and every 立即校验.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import RoleNotAllowed, require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.pages._audit import (
    FilterError,
    RowView,
    audit_view,
    describe,
    form_values,
    searcher,
    start_verification,
    verification_state,
)
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.audit.errors import AuditExportTooLarge, AuditFilterInvalid
from gateway.audit.export import MAX_EXPORT_ROWS, Format, prepare
from gateway.audit.filters import parse_cursor, parse_limit, parse_query
from gateway.people.person import Person, Role

PATH = "/console/audit"
ROLES: tuple[Role, ...] = ("auditor", "operator")
HOLDER_ROLES: tuple[Role, ...] = ("auditor",)  # who may search by a holder's id in clear
NAV = NavItem(title="审计查询", path=PATH, roles=ROLES, order=70)
router = APIRouter()
PersonDep = Annotated[Person, Depends(require_person(*ROLES))]


@router.get(PATH, response_class=HTMLResponse)
async def search_page(request: Request, person: PersonDep) -> HTMLResponse:
    """The form and a page of rows for the filters in the query string (no holder id there)."""
    raw = dict(request.query_params)
    raw.pop("holder", None)  # an id in a URL is refused by ignoring it: it is never searched
    return await _answer(request, person, raw, holder_id=None)


@router.post(PATH, response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def search_posted(request: Request, person: PersonDep) -> HTMLResponse:
    """The form sent: it may carry a holder's id, which only an auditor may search by."""
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    holder = raw.get("holder", "").strip() or None
    if holder is not None and person.role not in HOLDER_ROLES:
        raise RoleNotAllowed(person, request.url.path)
    return await _answer(request, person, raw, holder_id=holder)


async def _answer(
    request: Request, person: Person, raw: dict[str, str], *, holder_id: str | None
) -> HTMLResponse:
    services = console_state(request).services
    context: dict[str, Any] = {
        "values": form_values(raw),
        "may_search_holder": person.role in HOLDER_ROLES,
        "max_export": MAX_EXPORT_ROWS,
        **await verification_state(request),
    }
    try:
        query = parse_query(raw, services.audit_secret)
        after = parse_cursor(raw.get("after"))
        limit = parse_limit(raw.get("limit"))
    except AuditFilterInvalid as exc:
        return render(
            request,
            "audit/search.html",
            person=person,
            status_code=400,
            error=FilterError.of(exc),
            rows=None,
            **context,
        )
    await audit_view(services, person, "audit.search", PATH, query, holder_id=holder_id)
    page = await searcher(services).page(query, after, limit)
    params = query.as_params() | ({"limit": str(limit)} if raw.get("limit") else {})
    next_link = (
        f"{PATH}?{urllib.parse.urlencode(params | {'after': str(page.next_after)})}"
        if page.next_after is not None
        else None
    )
    context["values"] = params  # the form again, the holder as its hash (never the id)
    return render(
        request,
        "audit/search.html",
        person=person,
        rows=[RowView.of(r) for r in page.rows],
        next_link=next_link,
        first_link=f"{PATH}?{urllib.parse.urlencode(params)}" if after else None,
        searched_holder=holder_id is not None or query.holder is not None,
        params=params,
        **context,
    )


@router.get(f"{PATH}/verification", response_class=HTMLResponse)
async def verification_fragment(request: Request, person: PersonDep) -> HTMLResponse:
    """The verification panel alone (htmx polls it while a run goes). Not audited: it shows
    the chain's state, no row of anyone's."""
    return render(
        request, "audit/_verification.html", person=person, **await verification_state(request)
    )


@router.post(f"{PATH}/verify", dependencies=[Depends(csrf_protect)])
async def verify(request: Request, person: PersonDep) -> Response:
    """立即校验: verify the whole chain in the background and record the run."""
    services = console_state(request).services
    started = start_verification(request, person)
    await audit_action(
        services, person, "audit.verify", f"{PATH}/verify", "started" if started else "running"
    )
    if request.headers.get("hx-request"):
        return await verification_fragment(request, person)
    return RedirectResponse(PATH, status_code=303)


@router.post(f"{PATH}/export", dependencies=[Depends(csrf_protect)])
async def export(request: Request, person: PersonDep) -> Response:
    """The search as a CSV or XLSX file (at most MAX_EXPORT_ROWS rows), streamed."""
    services = console_state(request).services
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    raw.pop("holder", None)  # exports go by the holder's hash, as links do
    format_ = raw.get("format", "")
    try:
        if format_ not in ("csv", "xlsx"):
            raise AuditFilterInvalid("format", format_[:20], "is not csv or xlsx")
        query = parse_query(raw, services.audit_secret)
        found = await prepare(searcher(services), query, _format(format_), max_rows=MAX_EXPORT_ROWS)
    except (AuditFilterInvalid, AuditExportTooLarge) as exc:
        return await _refused(request, person, raw, exc)
    await audit_action(
        services,
        person,
        "audit.export",
        f"{PATH}/export",
        f"{format_} {found.rows} rows {describe(query)}",
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        found.stream(),
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename(f"audit-{stamp}")}"',
            "Cache-Control": "no-store",
        },
    )


def _format(value: str) -> Format:
    return "xlsx" if value == "xlsx" else "csv"


async def _refused(
    request: Request,
    person: Person,
    raw: dict[str, str],
    exc: AuditFilterInvalid | AuditExportTooLarge,
) -> HTMLResponse:
    if isinstance(exc, AuditFilterInvalid):
        error = FilterError.of(exc)
    else:
        message = (
            f"导出被拒绝：符合条件的记录超过 {MAX_EXPORT_ROWS:,} 行。"
            "请缩小时间范围或增加条件后分批导出。"
        )
        error = FilterError("", "", "", message, exc.code)
    return render(
        request,
        "audit/search.html",
        person=person,
        status_code=400,
        error=error,
        rows=None,
        values=form_values(raw),
        may_search_holder=person.role in HOLDER_ROLES,
        max_export=MAX_EXPORT_ROWS,
        **await verification_state(request),
    )
