"""授权与成员 (grants and members): who may see what, for which item, until when; suspend,
reinstate and revoke by the roles allowed; the members with their public keys and expiry.

Read through `gateway.governance.roster` (filtered to the role), changed through
`PersonActions.change_grant` (the `GrantBook` the API uses), each change audited under the
person's name. A grant the person may not see is not found (404); a change its role may not
make is refused (403); both audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.auth import require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.pages import _governance as g
from gateway.api.console.templating import render
from gateway.governance.errors import GovernanceError, UnknownGrant
from gateway.governance.grants import STATUSES
from gateway.governance.roster import GrantView
from gateway.people.person import ROLES, Person
from schemas.errors import GovgateError

NAV = NavItem(title="授权与成员", path="/console/grants", roles=ROLES, order=40)
router = APIRouter()
PersonDep = Annotated[Person, Depends(require_person())]
PAGE = 50
CHANGES = ("suspend", "reinstate", "revoke")


@router.get("/console/grants", response_class=HTMLResponse)
async def grants(request: Request, person: PersonDep) -> Response:
    q = request.query_params
    state = q.get("state") if q.get("state") in STATUSES else None
    number = int(q["page"]) if q.get("page", "").isdigit() and 0 < int(q["page"]) < 10**6 else 1
    parts = g.parts(request)
    now = parts.now()
    try:
        views, total = await parts.roster.grant_views(
            person,
            now,
            member_id=(q.get("member") or "").strip()[:64] or None,
            state=state,
            resource=(q.get("resource") or "").strip()[:64] or None,
            offset=(number - 1) * PAGE,
            limit=PAGE,
        )
    except GovernanceError as exc:
        code = await g.refused(request, person, "grants.view", "grants", exc)
        return g.refusal_page(request, person, exc, code)
    return render(
        request,
        "grants/index.html",
        person=person,
        **g.context(
            views=views,
            total=total,
            state=state,
            statuses=STATUSES,
            member=q.get("member", ""),
            resource=q.get("resource", ""),
            number=number,
            pages=max(1, -(-total // PAGE)),
            now=now,
            done=g.done_text(request),
        ),
    )


@router.get("/console/grants/members", response_class=HTMLResponse)
async def members(request: Request, person: PersonDep) -> Response:
    parts = g.parts(request)
    now = parts.now()
    try:
        views = await parts.roster.member_views(person, now)
    except GovernanceError as exc:
        code = await g.refused(request, person, "members.view", "grants/members", exc)
        return g.refusal_page(request, person, exc, code)
    return render(request, "grants/members.html", person=person, **g.context(views=views, now=now))


def _grant_page(
    request: Request,
    person: Person,
    view: GrantView,
    *,
    error: GovgateError | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "grants/grant.html",
        person=person,
        status_code=status,
        **g.context(
            view=view,
            error=error,
            error_field=g.field_of(error) if error else "",
            done=g.done_text(request),
        ),
    )


@router.get("/console/grants/{grant_id}", response_class=HTMLResponse)
async def grant(request: Request, person: PersonDep, grant_id: str) -> Response:
    parts = g.parts(request)
    grant_id = grant_id[:64]
    try:
        view = await parts.roster.grant(person, grant_id, parts.now())
        if view is None:
            raise UnknownGrant(f"grant_id {grant_id!r}: no grant you may see has this id")
    except GovernanceError as exc:
        code = await g.refused(request, person, "grants.view", f"grants/{grant_id}", exc)
        return g.refusal_page(request, person, exc, code)
    return _grant_page(request, person, view)


@router.post(
    "/console/grants/{grant_id}/{change}",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
async def change(request: Request, person: PersonDep, grant_id: str, change: str) -> Response:
    parts = g.parts(request)
    grant_id, change = grant_id[:64], change[:16]
    target = f"grants/{grant_id}"
    form = await request.form()
    try:
        if change not in CHANGES:
            raise g.InvalidForm(f"change: one of {', '.join(CHANGES)}, not {change!r}")
        reason = g.one_line(form, "reason") or None
        await parts.actions.change_grant(person, grant_id, change, reason)
    except (GovernanceError, g.InvalidForm) as exc:
        code = await g.refused(request, person, f"grants.{change}", target, exc)
        view = await parts.roster.grant(person, grant_id, parts.now())
        if code == 400 and view is not None:
            return _grant_page(request, person, view, error=exc, status=code)
        return g.refusal_page(request, person, exc, code)
    await g.audited(request, person, f"grants.{change}", target, change)
    return g.back(f"/console/grants/{grant_id}", "changed")
