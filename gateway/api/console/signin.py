"""Signing in and out: /console/signin, /console/signout, and /console/ (home).

The sign-in form has no session to bind a CSRF token to, so it carries a random one that is
also in a short-lived cookie of its own (double submit): another site can neither read nor
set that cookie, so it cannot sign a person in to an account of its choosing. Nothing is
stored for a visitor who has not signed in.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import (
    COOKIE,
    HOME,
    SIGNIN,
    clear_session_cookie,
    current_session,
    require_person,
    safe_next,
    set_session_cookie,
)
from gateway.api.console.csrf import csrf_protect, same_origin
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.people.errors import AccountDisabled, AccountLocked, SignInRefused
from gateway.people.person import Person

PRE_COOKIE = "govgate_console_signin"
MAX_FIELD = 256

router = APIRouter(include_in_schema=False)


@router.get("/console")
@router.get("/console/")
async def home(request: Request) -> Response:
    """The first page the person's role may see; sign-in when no one is signed in."""
    session = await current_session(request)
    if session is None:
        return RedirectResponse(SIGNIN, status_code=303)
    for page in console_state(request).pages:
        if page.nav.show and page.nav.allows(session.person.role):
            return RedirectResponse(page.nav.path, status_code=303)
    return render(request, "empty.html", person=session.person)


@router.get("/console/signin", response_class=HTMLResponse)
async def signin_page(
    request: Request, next: str | None = None, expired: int | None = None
) -> Response:
    target = safe_next(next)
    if await current_session(request) is not None:
        return RedirectResponse(target, status_code=303)
    notice = "会话已过期，请重新登录。" if expired else None
    return _form(request, target, notice=notice)


@router.post("/console/signin")
async def signin(
    request: Request,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=2048)] = HOME,
) -> Response:
    state = console_state(request)
    target = safe_next(next)
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not (cookie and csrf_token and hmac.compare_digest(cookie, csrf_token)) or not (
        same_origin(request)
    ):
        state.services.refusals.count("CONSOLE_CSRF_REFUSED", 403)
        return _form(request, target, error="表单已失效，请重新提交。", status=403)
    if not username.strip() or not password:
        field = "用户名" if not username.strip() else "密码"
        return _form(request, target, error=f"请填写{field}。", username=username, status=400)
    try:
        person = await state.signin.password(username, password)
    except SignInRefused as exc:
        await _refused(request, exc)
        return _form(request, target, error="用户名或密码不正确。", username=username, status=401)
    except AccountLocked as exc:
        state.services.refusals.count("CONSOLE_ACCOUNT_LOCKED", 401)
        until = time.strftime("%H:%M", time.localtime(exc.until_ms / 1000))
        error = f"连续多次密码错误，账号已暂时锁定，请于 {until} 后再试，或请运维重置密码。"
        return _form(request, target, error=error, username=username, status=401)
    except AccountDisabled:
        state.services.refusals.count("CONSOLE_ACCOUNT_DISABLED", 401)
        return _form(
            request, target, error="账号已停用，请联系运维。", username=username, status=401
        )
    return await start_session(request, person, target, how="password")


async def start_session(request: Request, person: Person, target: str, *, how: str) -> Response:
    """Sign `person` in: a new session (any old one of this browser ended), audited."""
    state = console_state(request)
    old = request.cookies.get(COOKIE)
    if old:
        await state.sessions.revoke(old)
    session = await state.sessions.create(person)
    await audit_action(state.services, person, "signin", "signin", how)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session)
    response.delete_cookie(PRE_COOKIE, path=SIGNIN)
    return response


@router.post("/console/signout", dependencies=[Depends(csrf_protect)])
async def signout(
    request: Request, person: Annotated[Person, Depends(require_person())]
) -> Response:
    state = console_state(request)
    session = await current_session(request)
    if session is not None:
        await state.sessions.revoke(session.token)
    await audit_action(state.services, person, "signout", "signout")
    response = RedirectResponse(SIGNIN, status_code=303)
    clear_session_cookie(request, response)
    return response


async def _refused(request: Request, exc: SignInRefused) -> None:
    """Tally the failure; audit the one that locked an account, under that account's name."""
    state = console_state(request)
    state.services.refusals.count("CONSOLE_SIGNIN_REFUSED", 401)
    if exc.known and exc.locked_until_ms is not None:
        account = await state.people.get(exc.username)
        if account is not None:
            minutes = state.settings.lockout_s // 60
            await audit_action(
                state.services,
                account.person(),
                "locked",
                "signin",
                f"{state.settings.lockout_failures} wrong passwords; locked {minutes} min",
                decision="deny",
                status=401,
            )


def _form(
    request: Request,
    target: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        person=None,
        status_code=status,
        csrf_token=token,
        next=target,
        error=error,
        notice=notice,
        username=username[:64],
    )
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        path=SIGNIN,
        httponly=True,
        samesite="strict",
        secure=console_state(request).secure_cookies,
    )
    return response
