"""个人访问记录 (a holder's access log): who looked at one person's or company's records, when,
for which purpose (事项编码), allowed or refused — the auditor's answer to a citizen's "who
looked at my data".

Auditors only (deny by default: an operator runs the platform, it does not read a person's
access log). The holder's id is sent by POST, never in a URL, so it lands in no access log of
any proxy or server; it is hashed as the audit writer hashes it (gateway.audit.pseudonyms), and
the page shows it masked (330802********3748) and by its pseudonym. Further pages go by the
pseudonym's hash. The look is itself audited, filed under the same holder, so the holder's own
access log shows that an auditor looked at it.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.api.console.auth import require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.pages._audit import FilterError, RowView, audit_view, searcher
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.audit.errors import AuditFilterInvalid
from gateway.audit.export import MAX_EXPORT_ROWS
from gateway.audit.filters import parse_cursor, parse_query
from gateway.audit.pseudonyms import PSEUDONYM_HEX, normalize_id
from gateway.people.person import Person, Role
from schemas.validators import mask

PATH = "/console/audit/holder"
ROLES: tuple[Role, ...] = ("auditor",)
NAV = NavItem(title="个人访问记录", path=PATH, roles=ROLES, order=71)
router = APIRouter()
PersonDep = Annotated[Person, Depends(require_person(*ROLES))]
PAGE = 50


@router.get(PATH, response_class=HTMLResponse)
async def holder_page(request: Request, person: PersonDep) -> HTMLResponse:
    """The form; with `holder_key` (a next-page link), that holder's accesses."""
    raw = {k: v for k, v in request.query_params.items() if k in ("holder_key", "after")}
    if not raw.get("holder_key"):
        return render(request, "audit/holder.html", person=person, rows=None)
    return await _answer(request, person, raw, holder_id=None)


@router.post(PATH, response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def holder_posted(request: Request, person: PersonDep) -> HTMLResponse:
    """The holder's id sent by the form: their accesses, newest first."""
    form = await request.form()
    value = form.get("holder")
    holder = value.strip() if isinstance(value, str) else ""
    return await _answer(request, person, {"holder": holder}, holder_id=holder or None)


async def _answer(
    request: Request, person: Person, raw: dict[str, str], *, holder_id: str | None
) -> HTMLResponse:
    services = console_state(request).services
    try:
        query = parse_query(raw, services.audit_secret)
        after = parse_cursor(raw.get("after"))
        if query.holder is None:
            raise AuditFilterInvalid("holder", "", "is required")
    except AuditFilterInvalid as exc:
        return render(
            request,
            "audit/holder.html",
            person=person,
            rows=None,
            error=FilterError.of(exc),
            status_code=400,
        )
    await audit_view(services, person, "audit.holder", PATH, query, holder_id=holder_id)
    page = await searcher(services).page(query, after, PAGE)
    key = query.holder
    next_link = (
        f"{PATH}?{urllib.parse.urlencode({'holder_key': key, 'after': str(page.next_after)})}"
        if page.next_after is not None
        else None
    )
    return render(
        request,
        "audit/holder.html",
        person=person,
        rows=[RowView.of(r) for r in page.rows],
        masked=mask(normalize_id(holder_id)) if holder_id else None,
        pseudonym="{id:" + key[:PSEUDONYM_HEX] + "}",
        holder_key=key,
        next_link=next_link,
        first_link=f"{PATH}?{urllib.parse.urlencode({'holder_key': key})}" if after else None,
        max_export=MAX_EXPORT_ROWS,
    )
