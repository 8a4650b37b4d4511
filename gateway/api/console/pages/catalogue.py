"""资源目录 (the catalogue): browse, search and filter the entries; an entry with its versions;
a department's officer publishes a new entry or version and withdraws its own.

Reads go through the catalogue store the API reads (`GET /v1/catalogue`); publishing and
withdrawing through `PersonActions`, the service the API's publishing uses, under the person's
name. A form that does not hold together is shown again with the field named (400).
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
from gateway.catalogue.entries import CYCLES, FIELD_TYPES, KINDS, MODES, SHARING_CLASSES, Entry
from gateway.catalogue.entries import parse_entry as parse_checked
from gateway.catalogue.errors import (
    CatalogueError,
    InvalidEntry,
    NotYourResource,
    UnknownResource,
)
from gateway.governance.acting import may_publish, officer_of
from gateway.governance.errors import GovernanceError, NotForYourRole
from gateway.lookup.errors import InvalidQuery
from gateway.people.person import ROLES, Person
from schemas.errors import GovgateError

NAV = NavItem(title="资源目录", path="/console/catalogue", roles=ROLES, order=20)
router = APIRouter()
PersonDep = Annotated[Person, Depends(require_person())]
YES = ("是", "yes", "true", "1", "personal", "个人", "个人信息", "y")
NO = ("", "否", "no", "false", "0", "n")


@router.get("/console/catalogue", response_class=HTMLResponse)
async def browse(request: Request, person: PersonDep) -> Response:
    q = request.query_params
    filters = {
        "keyword": (q.get("q") or "").strip()[:100] or None,
        "department": (q.get("department") or "").strip()[:64] or None,
        "kind": q.get("kind") if q.get("kind") in KINDS else None,
        "sharing_class": q.get("sharing_class")
        if q.get("sharing_class") in SHARING_CLASSES
        else None,
    }
    withdrawn = q.get("withdrawn") == "1"
    parts = g.parts(request)
    try:
        entries, following = await parts.services.governance.catalogue.page(
            **filters, withdrawn=withdrawn, after=q.get("after") or None, limit=50
        )
    except InvalidQuery:
        entries, following = [], None
    return render(
        request,
        "catalogue/index.html",
        person=person,
        **g.context(
            entries=entries,
            following=following,
            filters=filters,
            withdrawn=withdrawn,
            query=dict(q),
            kinds=KINDS,
            classes=SHARING_CLASSES,
            department=officer_of(person),
            done=g.done_text(request),
        ),
    )


def _blank(person: Person) -> dict[str, Any]:
    return {
        "code": f"{officer_of(person) or ''}-",
        "kind": "certificate",
        "sharing_class": "CONDITIONAL",
        "modes": ["lookup"],
        "update_cycle": "REALTIME",
        "on_platform": True,
        "fields_text": "",
    }


def _values(entry: Entry) -> dict[str, Any]:
    """An entry as the form shows it."""
    lines = [
        " | ".join((f.name, f.type, "是" if f.personal else "否", f.description)).rstrip(" |")
        for f in entry.fields
    ]
    return entry.content() | {
        "record_codes_text": " ".join(entry.record_codes),
        "legal_basis": entry.legal_basis or "",
        "fields_text": "\n".join(lines),
    }


def _form(
    request: Request,
    person: Person,
    values: dict[str, Any],
    *,
    new: bool,
    error: GovgateError | None = None,
    status: int = 200,
    withdrawn: bool = False,
) -> HTMLResponse:
    return render(
        request,
        "catalogue/form.html",
        person=person,
        status_code=status,
        **g.context(
            values=values,
            new=new,
            withdrawn=withdrawn,
            error=error,
            error_field=g.field_of(error) if error else "",
            kinds=KINDS,
            classes=SHARING_CLASSES,
            modes=MODES,
            cycles=CYCLES,
            field_types=FIELD_TYPES,
            department=officer_of(person),
        ),
    )


@router.get("/console/catalogue/new", response_class=HTMLResponse)
async def new_entry(request: Request, person: PersonDep) -> Response:
    if officer_of(person) is None:
        error = NotForYourRole(f"role {person.role!r}: only a department's officer publishes")
        status = await g.refused(request, person, "catalogue.new", "catalogue/new", error)
        return g.refusal_page(request, person, error, status)
    return _form(request, person, _blank(person), new=True)


@router.get("/console/catalogue/{code}", response_class=HTMLResponse)
async def entry_page(request: Request, person: PersonDep, code: str) -> Response:
    store = g.parts(request).services.governance.catalogue
    versions = await store.versions(code) if len(code) <= 64 else []
    if not versions:
        error = UnknownResource(f"resource_code {code[:64]!r}: no such resource in the catalogue")
        status = await g.refused(request, person, "catalogue.view", f"catalogue/{code[:64]}", error)
        return g.refusal_page(request, person, error, status)
    current = versions[-1]
    asked = request.query_params.get("version", "")
    shown = next((v for v in versions if str(v.version) == asked), current)
    mine = may_publish(person, current.department_code)
    return render(
        request,
        "catalogue/entry.html",
        person=person,
        **g.context(
            entry=shown,
            current=current,
            versions=list(reversed(versions)),
            mine=mine,
            done=g.done_text(request),
        ),
    )


@router.get("/console/catalogue/{code}/edit", response_class=HTMLResponse)
async def edit_entry(request: Request, person: PersonDep, code: str) -> Response:
    store = g.parts(request).services.governance.catalogue
    current = await store.current(code) if len(code) <= 64 else None
    if current is None or not may_publish(person, current.department_code):
        error: GovgateError = UnknownResource(f"resource_code {code[:64]!r}: no such resource")
        if current is not None:
            error = NotYourResource(
                f"department_code {current.department_code!r}: you publish for "
                f"{officer_of(person) or 'no department'} only"
            )
        status = await g.refused(request, person, "catalogue.edit", f"catalogue/{code[:64]}", error)
        return g.refusal_page(request, person, error, status)
    return _form(request, person, _values(current), new=False, withdrawn=current.withdrawn)


def _fields(text: str) -> list[dict[str, Any]]:
    """The fields textarea: one field a line, `名称 | 类型 | 个人信息(是/否) | 说明`."""
    found = []
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        cells = [c.strip() for c in line.split("|")]
        personal = cells[2].lower() if len(cells) > 2 else ""
        if personal not in YES + NO:
            raise InvalidEntry(f"fields[{number - 1}].personal: 是 or 否, not {cells[2]!r}")
        found.append(
            {
                "name": cells[0],
                "type": (cells[1] if len(cells) > 1 else "") or "string",
                "personal": personal in YES,
                "description": " | ".join(cells[3:]),
            }
        )
    return found


def _raw(form: Any, person: Person) -> dict[str, Any]:
    """The form as the catalogue's JSON form (`parse_entry` checks it, naming the field)."""
    codes = g.one_line(form, "record_codes_text", most=2000).replace(",", " ").replace("，", " ")
    return {
        "code": g.one_line(form, "code", most=64),
        "name": g.one_line(form, "name", most=200),
        "department_code": officer_of(person),
        "department_name": g.one_line(form, "department_name", most=200),
        "kind": g.one_line(form, "kind", most=32),
        "record_codes": codes.split(),
        "sharing_class": g.one_line(form, "sharing_class", most=32),
        "legal_basis": g.one_line(form, "legal_basis", most=1000) or None,
        "modes": [m for m in form.getlist("modes") if isinstance(m, str)],
        "update_cycle": g.one_line(form, "update_cycle", most=32),
        "on_platform": form.get("on_platform") == "1",
        "description": g.one_line(form, "description", most=2000),
        "fields": _fields(g.one_line(form, "fields_text", most=20000)),
    }


@router.post(
    "/console/catalogue", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)]
)
async def publish(request: Request, person: PersonDep) -> Response:
    form = await request.form()
    new = form.get("new") == "1"
    values = {k: v for k, v in form.items() if k != "csrf_token"} | {
        "modes": form.getlist("modes"),
        "on_platform": form.get("on_platform") == "1",
    }
    target = f"catalogue/{str(values.get('code', ''))[:64]}"
    parts = g.parts(request)
    try:
        if officer_of(person) is None:
            raise NotForYourRole(f"role {person.role!r}: only a department's officer publishes")
        raw = _raw(form, person)
        entry = parse_checked(raw)
        if new and await parts.services.governance.catalogue.current(entry.code) is not None:
            raise InvalidEntry(f"code: {entry.code!r} exists already; publish a new version of it")
        published = await parts.actions.publish(person, entry)
    except (CatalogueError, GovernanceError, g.InvalidForm) as exc:
        status = await g.refused(request, person, "catalogue.publish", target, exc)
        if status in (400, 409):
            return _form(request, person, values, new=new, error=exc, status=status)
        return g.refusal_page(request, person, exc, status)
    await g.audited(
        request, person, "catalogue.publish", f"catalogue/{published.code}", f"v{published.version}"
    )
    return g.back(f"/console/catalogue/{published.code}", "published")


@router.post(
    "/console/catalogue/{code}/withdraw",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
async def withdraw(request: Request, person: PersonDep, code: str) -> Response:
    form = await request.form()
    parts = g.parts(request)
    target = f"catalogue/{code[:64]}"
    try:
        reason = g.one_line(form, "reason")
        withdrawn = await parts.actions.withdraw(person, code, reason)
    except (CatalogueError, GovernanceError, g.InvalidForm) as exc:
        status = await g.refused(request, person, "catalogue.withdraw", target, exc)
        if status == 400:
            versions = await parts.services.governance.catalogue.versions(code)
            return render(
                request,
                "catalogue/entry.html",
                person=person,
                status_code=status,
                **g.context(
                    entry=versions[-1],
                    current=versions[-1],
                    versions=list(reversed(versions)),
                    mine=True,
                    error=exc,
                    error_field=g.field_of(exc),
                ),
            )
        return g.refusal_page(request, person, exc, status)
    await g.audited(request, person, "catalogue.withdraw", target, f"v{withdrawn.version}")
    return g.back(f"/console/catalogue/{code}", "withdrawn")
