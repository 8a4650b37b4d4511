"""总览 (overview): how the sharing runs now — events per stream per minute, connectors and
their state, dead letters by code, materializer and webhook lag, paused subscriptions, and
the audit chain's last verification. Every role sees it; operators and auditors may verify
the chain from here. The figures refresh every 15 s (htmx) and work without script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway import overview
from gateway.api.console.auth import require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.api.console.verification import chain_head, last_verification, verify_chain
from gateway.log.streams import STREAMS
from gateway.people.person import ROLES, Person

NAV = NavItem(title="总览", path="/console/overview", roles=ROLES, order=10)
MAY_VERIFY = ("operator", "auditor")
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


async def figures(request: Request) -> dict[str, Any]:
    services = console_state(request).services
    rates = await overview.stream_rates(services.log, SHOWN_STREAMS, minutes=MINUTES)
    lags = await overview.webhook_lags(services.log, services.subscriptions)
    return {
        "minutes": MINUTES,
        "rates": [(rate, bars(rate)) for rate in rates],
        "connectors": await overview.connectors(services.engine),
        "dead": await overview.dead_letters(services.log, services.codec),
        "materializer": await overview.materializer_lag(services.materializer),
        "materializing": services.settings.gateway.materialize,
        "webhooks": lags[:50],
        "webhook_count": len(lags),
        "paused": [lag for lag in lags if lag.state == "paused"],
        "head": await chain_head(services.engine),
        "verified": await last_verification(services.engine),
        "audit_pending": services.audit.pending,
        "log_backend": services.settings.log_backend,
    }


@router.get("/console/overview", response_class=HTMLResponse)
async def overview_page(
    request: Request, person: Annotated[Person, Depends(require_person())]
) -> HTMLResponse:
    return render(
        request,
        "overview/index.html",
        person=person,
        may_verify=person.role in MAY_VERIFY,
        **await figures(request),
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
        may_verify=person.role in MAY_VERIFY,
        **await figures(request),
    )


@router.post("/console/overview/verify", dependencies=[Depends(csrf_protect)])
async def verify(
    request: Request, person: Annotated[Person, Depends(require_person(*MAY_VERIFY))]
) -> Response:
    """Verify the audit chain now; the result is audited and shown on the overview."""
    await verify_chain(console_state(request).services, person)
    return RedirectResponse("/console/overview#audit", status_code=303)
