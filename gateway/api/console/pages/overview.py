"""总览 (overview): how the sharing runs now — events per stream per minute, connectors and
their state, dead letters by code, materializer and webhook lag, paused subscriptions, and
the audit chain's head and last recorded verification (gateway.audit.verifications: runs of
the 审计查询 page's 立即校验 and of `govgate audit verify --record`). Every role sees it. The
figures refresh every 15 s (htmx); the page works without script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway import overview
from gateway.api.console.auth import require_person
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.audit.verifications import Verifications
from gateway.log.streams import STREAMS
from gateway.people.person import ROLES, Person

NAV = NavItem(title="总览", path="/console/overview", roles=ROLES, order=10)
SHOWN_STREAMS = [s for s in STREAMS if s != "connect-offsets"]
MINUTES = 10
router = APIRouter()


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    count: int


def bars(rate: overview.Rate, height: int = 24, width: int = 10) -> list[Bar]:
    """The rate's minutes as an SVG bar chart (no script, no inline style)."""
    peak = max(rate.peak, 1)
    found = []
    for i, count in enumerate(rate.per_minute):
        tall = 0 if count == 0 else max(1, round(count / peak * height))
        found.append(Bar(i * width, height - tall, tall, count))
    return found


def may_open(request: Request, person: Person, path: str) -> bool:
    """Whether `person`'s role may open the page at `path` (its NAV's roles)."""
    pages = console_state(request).pages
    return any(p.nav.path == path and p.nav.allows(person.role) for p in pages)


async def figures(request: Request, person: Person) -> dict[str, Any]:
    services = console_state(request).services
    rates = await overview.stream_rates(services.log, SHOWN_STREAMS, minutes=MINUTES)
    lags = await overview.webhook_lags(services.log, services.subscriptions)
    return {
        "minutes": MINUTES,
        "rates": [(rate, bars(rate)) for rate in rates],
        "connectors": await overview.connectors(services.engine),
        "dead": await overview.dead_letters(services.engine, services.log, services.codec),
        "materializer": await overview.materializer_lag(services.materializer),
        "materializing": services.settings.gateway.materialize,
        "webhooks": lags[:50],
        "webhook_count": len(lags),
        "paused": [lag for lag in lags if lag.state == "paused"],
        "head_seq": (await overview.audit_head(services.engine))[0],
        "verified": await Verifications(services.engine, services.audit_secret).latest(),
        "audit_pending": services.audit.pending,
        "log_backend": services.settings.log_backend,
        "may_see_dead": may_open(request, person, "/console/deadletters"),
        "may_verify": may_open(request, person, "/console/audit"),
    }


@router.get("/console/overview", response_class=HTMLResponse)
async def overview_page(
    request: Request, person: Annotated[Person, Depends(require_person())]
) -> HTMLResponse:
    return render(
        request,
        "overview/index.html",
        person=person,
        **await figures(request, person),
    )


@router.get("/console/overview/figures", response_class=HTMLResponse)
async def overview_figures(
    request: Request, person: Annotated[Person, Depends(require_person())]
) -> HTMLResponse:
    """The figures alone: the fragment htmx swaps in every 15 s."""
    return render(
        request,
        "overview/figures.html",
        person=person,
        **await figures(request, person),
    )
