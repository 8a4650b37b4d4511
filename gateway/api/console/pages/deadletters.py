"""死信 (dead letters): what connectors could not map or validate, by connector and code, and
the re-drive of a corrected record.

Read from the dead-letter index (`gateway.operations.deadletters`), brought up to date with the
`dead-letters` stream on each visit (bounded, so a visit never waits on a whole backlog). The
index holds reasons, raw records and source keys masked already, so no role sees a personal id
here in clear. Re-drive is the operator's (大数据局运维): a POST with the session's CSRF token,
audited in the hash chain under the person's name with what came of it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.api.services import Services
from gateway.operations.deadletters import STATES, DeadLetterIndex, Filter
from gateway.operations.errors import DeadLetterNotFound, InvalidFilter, OperationsError
from gateway.operations.redrive import Outcome, Redrives, load_refetcher
from gateway.people.person import Person

NAV = NavItem(
    title="死信", path="/console/deadletters", roles=("operator", "auditor", "readonly"), order=60
)
router = APIRouter()
PAGE = 50
REFRESH_LIMIT = 5_000  # dead letters indexed per visit at most (~0.5 s); the rest next time
OUTCOMES = {
    Outcome.REPUBLISHED: "已重新发布",
    Outcome.STILL_FAILING: "仍未通过校验",
    Outcome.NOT_FOUND: "来源中已无此记录",
    Outcome.FAILED: "重新投递失败",
}

Reader = Annotated[Person, Depends(require_person())]
Operator = Annotated[Person, Depends(require_person("operator"))]


def _services(request: Request) -> Services:
    return console_state(request).services


def _index(services: Services) -> DeadLetterIndex:
    return DeadLetterIndex(services.engine, services.codec)


@router.get("/console/deadletters", response_class=HTMLResponse)
async def browse(
    request: Request,
    person: Reader,
    connector: str | None = None,
    code: str | None = None,
    state: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    services = _services(request)
    index = _index(services)
    values = {"connector": connector or "", "code": code or "", "state": state or ""}
    try:
        where = Filter.parse(connector, code, state)
        behind = await index.refresh(services.log, limit=REFRESH_LIMIT) >= REFRESH_LIMIT
        page = await index.page(where, after, PAGE)
        tallies = await index.tallies(where.connector)
        connectors = await index.connectors()
    except InvalidFilter as exc:
        return render(
            request,
            "deadletters/index.html",
            person=person,
            status_code=400,
            error=exc.detail,
            error_field=exc.field,
            values=values,
            states=STATES,
            page=None,
            tallies=[],
            connectors=[],
            behind=False,
        )
    return render(
        request,
        "deadletters/index.html",
        person=person,
        values=values,
        states=STATES,
        page=page,
        tallies=tallies,
        total=sum(n for _, n in tallies),
        connectors=connectors,
        behind=behind,
    )


@router.get("/console/deadletters/{event_id}", response_class=HTMLResponse)
async def detail(
    request: Request, event_id: str, person: Reader, done: str | None = None
) -> Response:
    services = _services(request)
    index = _index(services)
    try:
        letter = await index.get(event_id)
    except (InvalidFilter, DeadLetterNotFound) as exc:
        status = 400 if isinstance(exc, InvalidFilter) else 404
        return render(
            request, "deadletters/missing.html", person=person, status_code=status, error=exc.detail
        )
    redrives = Redrives(index, services.log, None)
    outcome = Outcome(done) if done is not None and done in Outcome.__members__ else None
    return render(
        request,
        "deadletters/detail.html",
        person=person,
        letter=letter,
        raw=sorted(letter.raw_fields().items()),
        attempts=await redrives.attempts(letter.event_id),
        outcomes=OUTCOMES,
        outcome=outcome,
        may_redrive=person.role == "operator",
    )


@router.post(
    "/console/deadletters/{event_id}/redrive",
    dependencies=[Depends(csrf_protect)],
    response_class=HTMLResponse,
)
async def redrive(request: Request, event_id: str, person: Operator) -> Response:
    services = _services(request)
    index = _index(services)
    refetcher = load_refetcher(services.settings, services.log, services.engine)
    try:
        attempt = await Redrives(index, services.log, refetcher).redrive(event_id, person.actor)
    except (InvalidFilter, DeadLetterNotFound) as exc:
        status = 400 if isinstance(exc, InvalidFilter) else 404
        return render(
            request, "deadletters/missing.html", person=person, status_code=status, error=exc.detail
        )
    except OperationsError as exc:  # no re-fetcher here: said, and audited as refused
        await audit_action(
            services, person, "deadletters.redrive", event_id, exc.code, decision="deny", status=503
        )
        return render(
            request, "deadletters/missing.html", person=person, status_code=503, error=exc.detail
        )
    await audit_action(
        services,
        person,
        "deadletters.redrive",
        event_id,
        f"{attempt.outcome} {attempt.code or ''}".strip(),
    )
    return RedirectResponse(
        f"/console/deadletters/{event_id}?done={attempt.outcome}", status_code=303
    )
