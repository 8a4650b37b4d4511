"""共享申请 (sharing applications): the queue for my role with each step's working-day deadline
and its yellow / red status (黄牌/红牌); an application with its steps; the bureau's compliance
check (合规审查) and the owning department's decision (审核决定): approve, narrow the fields,
purposes or period, or refuse, with a reason.

The queue and its clocks are `gateway.governance.queue` (the supervision calendar and cards);
decisions go through `PersonActions`, the service the API's decisions use. A decision form is
checked server-side and shown again naming the field at fault (400); a decision that is not
the person's is refused (403, or 404 when the application is not one it may see), audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.auth import require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.pages import _governance as g
from gateway.api.console.templating import render
from gateway.catalogue.errors import CatalogueError
from gateway.governance.acting import is_operator, officer_of
from gateway.governance.errors import GovernanceError, NotForYourRole
from gateway.governance.queue import STATUSES, QueueItem
from gateway.people.person import ROLES, Person
from schemas.errors import GovgateError

NAV = NavItem(title="共享申请", path="/console/applications", roles=ROLES, order=30)
router = APIRouter()
PersonDep = Annotated[Person, Depends(require_person())]
PAGE = 50
BUREAU_DECISIONS = ("PASS", "REFUSE")
PROVIDER_DECISIONS = ("APPROVE", "NARROW", "REFUSE")


def acts(person: Person) -> bool:
    return is_operator(person) or officer_of(person) is not None


@router.get("/console/applications", response_class=HTMLResponse)
async def queue(request: Request, person: PersonDep) -> Response:
    q = request.query_params
    view = q.get("view") or ("mine" if acts(person) else "all")
    status = q.get("status") if q.get("status") in STATUSES else None
    number = int(q["page"]) if q.get("page", "").isdigit() and 0 < int(q["page"]) < 10**6 else 1
    parts = g.parts(request)
    now = parts.now()
    try:
        items, total = await parts.queue.page(
            person,
            now,
            mine=view == "mine",
            status=status,
            resource_code=(q.get("resource") or "").strip()[:64] or None,
            offset=(number - 1) * PAGE,
            limit=PAGE,
        )
    except GovernanceError as exc:
        code = await g.refused(request, person, "applications.view", "applications", exc)
        return g.refusal_page(request, person, exc, code)
    return render(
        request,
        "applications/index.html",
        person=person,
        **g.context(
            items=items,
            total=total,
            view=view,
            status=status,
            statuses=STATUSES,
            resource=q.get("resource", ""),
            number=number,
            pages=max(1, -(-total // PAGE)),
            acts=acts(person),
            now=now,
        ),
    )


async def _detail(
    request: Request,
    person: Person,
    item: QueueItem,
    *,
    error: GovgateError | None = None,
    asked: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    step = item.open_step
    bureau = item.awaits_me and step is not None and step.step == "BUREAU_CHECK"
    parts = g.parts(request)
    grants = []
    if item.status == "APPROVED":
        views, _ = await parts.roster.grant_views(person, parts.now(), limit=200)
        grants = [v for v in views if v.grant.application_id == item.application_id]
    return render(
        request,
        "applications/detail.html",
        person=person,
        status_code=status,
        **g.context(
            item=item,
            decisions=(BUREAU_DECISIONS if bureau else PROVIDER_DECISIONS),
            bureau=bureau,
            error=error,
            error_field=g.field_of(error) if error else "",
            asked=asked or {},
            grants=grants,
            done=g.done_text(request),
        ),
    )


@router.get("/console/applications/{application_id}", response_class=HTMLResponse)
async def detail(request: Request, person: PersonDep, application_id: str) -> Response:
    parts = g.parts(request)
    try:
        item = await parts.queue.get(person, application_id[:64], parts.now())
    except GovernanceError as exc:
        target = f"applications/{application_id[:64]}"
        code = await g.refused(request, person, "applications.view", target, exc)
        return g.refusal_page(request, person, exc, code)
    return await _detail(request, person, item)


def _choices(form: Any, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _decision(form: Any, item: QueueItem) -> dict[str, Any]:
    """The decision form, checked against what was applied for; each error names its field."""
    decision = g.one_line(form, "decision", most=16)
    bureau = item.open_step is not None and item.open_step.step == "BUREAU_CHECK"
    allowed = BUREAU_DECISIONS if bureau else PROVIDER_DECISIONS
    if decision not in allowed:
        raise g.InvalidForm(f"decision: one of {', '.join(allowed)}, not {decision!r}")
    reason = g.one_line(form, "reason") or None
    if reason is None and decision in ("REFUSE", "NARROW"):
        raise g.InvalidForm(f"reason: required to {decision.lower()} (理由必填)")
    if bureau:
        return {
            "decision": decision,
            "reason": reason,
            "fields": None,
            "purposes": None,
            "days": None,
        }
    fields, purposes = _choices(form, "fields"), _choices(form, "purposes")
    days = g.whole_number(form, "days", 1, item.days)
    if decision == "APPROVE" and (
        set(fields) != set(item.fields)
        or set(purposes) != set(item.purposes)
        or days not in (None, item.days)
    ):
        raise g.InvalidForm(
            "decision: APPROVE grants all that was applied for; to keep fewer fields, purposes "
            "or days choose NARROW (部分批准) and give the reason"
        )
    if decision == "NARROW":
        if not fields:
            raise g.InvalidForm("fields: a narrowing keeps at least one field")
        if not purposes:
            raise g.InvalidForm("purposes: a narrowing keeps at least one purpose")
    return {
        "decision": decision,
        "reason": reason,
        "fields": fields if decision == "NARROW" else None,
        "purposes": purposes if decision == "NARROW" else None,
        "days": days if decision == "NARROW" else None,
    }


@router.post(
    "/console/applications/{application_id}/decision",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
async def decide(request: Request, person: PersonDep, application_id: str) -> Response:
    parts = g.parts(request)
    application_id = application_id[:64]
    target = f"applications/{application_id}"
    form = await request.form()
    asked = {
        "decision": form.get("decision"),
        "reason": form.get("reason"),
        "fields": _choices(form, "fields"),
        "purposes": _choices(form, "purposes"),
        "days": form.get("days"),
    }
    try:
        item = await parts.queue.get(person, application_id, parts.now())
    except GovernanceError as exc:
        code = await g.refused(request, person, "applications.decide", target, exc)
        return g.refusal_page(request, person, exc, code)
    try:
        if not acts(person):
            raise NotForYourRole(f"role {person.role!r}: may read applications, not decide them")
        await parts.actions.authorize(person, application_id)  # who, before what
        chosen = _decision(form, item)
        if is_operator(person):
            await parts.actions.check(person, application_id, chosen["decision"], chosen["reason"])
        else:
            await parts.actions.decide(
                person,
                application_id,
                chosen["decision"],
                chosen["reason"],
                fields=chosen["fields"],
                purposes=chosen["purposes"],
                days=chosen["days"],
            )
    except (GovernanceError, CatalogueError, g.InvalidForm) as exc:
        code = await g.refused(request, person, "applications.decide", target, exc)
        if code == 400:
            return await _detail(request, person, item, error=exc, asked=asked, status=code)
        return g.refusal_page(request, person, exc, code)
    await g.audited(request, person, "applications.decide", target, chosen["decision"])
    return g.back(f"/console/applications/{application_id}", "decided")
