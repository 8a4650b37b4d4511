"""总览 (overview): how the sharing runs now, for every role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.api.console.auth import require_person
from gateway.api.console.nav import NavItem
from gateway.api.console.templating import render
from gateway.people.person import ROLES, Person

NAV = NavItem(title="总览", path="/console/overview", roles=ROLES, order=10)
router = APIRouter()


@router.get("/console/overview", response_class=HTMLResponse)
async def overview(
    request: Request, person: Annotated[Person, Depends(require_person())]
) -> HTMLResponse:
    return render(request, "overview/index.html", person=person)
