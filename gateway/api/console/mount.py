"""`install(app, services)`: the console at /console, its pages, static files and handlers."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gateway.api.console import signin
from gateway.api.console.auth import (
    SIGNIN,
    RoleNotAllowed,
    SignInRequired,
    clear_session_cookie,
    require_person,
)
from gateway.api.console.csrf import CsrfRefused
from gateway.api.console.headers import ConsoleHeaders
from gateway.api.console.nav import Page, discover
from gateway.api.console.sso import router as sso_router
from gateway.api.console.templating import STATIC_PATH, render
from gateway.api.services import Services

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, services: Callable[[Request], Services]) -> None:
    """Mount the console on `app`: the sign-in routes, every page module (each route gated
    by its page's roles), /console/static, the refusal handlers and the security headers.
    `services` is how a request finds the gateway's services (gateway.api.services.services).
    """
    pages = discover()
    app.state.console_pages = pages
    app.state.console_services = services
    app.include_router(signin.router)
    app.include_router(sso_router)
    for page in pages:
        include_page(app, page)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(RoleNotAllowed, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRefused, _csrf_refused)  # type: ignore[arg-type]
    app.add_middleware(ConsoleHeaders)


def include_page(app: FastAPI, page: Page) -> None:
    """Serve `page`, every route of it gated by its `NAV.roles` (deny by default: a route that
    forgets `require_person` still serves no one else)."""
    app.include_router(
        page.router,
        dependencies=[Depends(require_person(*page.nav.roles))],
        include_in_schema=False,
    )


async def _sign_in(request: Request, exc: SignInRequired) -> Response:
    query = {"next": exc.next_path} | ({"expired": "1"} if exc.expired else {})
    url = f"{SIGNIN}?{urllib.parse.urlencode(query)}"
    response: Response
    if request.headers.get("hx-request"):  # htmx follows this header, not a 3xx
        response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if exc.expired:
        clear_session_cookie(request, response)
    return response


async def _forbidden(request: Request, exc: RoleNotAllowed) -> Response:
    return render(
        request,
        "forbidden.html",
        person=exc.person,
        status_code=403,
        message="您的角色无权查看此页面。",
    )


async def _csrf_refused(request: Request, exc: CsrfRefused) -> Response:
    return render(
        request,
        "forbidden.html",
        person=exc.person,
        status_code=403,
        message="请求缺少有效的安全令牌（CSRF），已拒绝并记入审计。请刷新页面后重试。",
    )
