"""Who is signed in: the session cookie, `require_person`, and the refusals that send a person
to sign in (`SignInRequired`) or show the 403 page (`RoleNotAllowed`)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from gateway.api.console.state import console_state
from gateway.people.person import ROLES, Person, Role
from gateway.people.sessions import Session
from schemas.errors import GovgateError

COOKIE = "govgate_console"
COOKIE_PATH = "/console"
HOME = "/console/"
SIGNIN = "/console/signin"
_UNSET = object()


class ConsoleRefusal(GovgateError):
    code = "CONSOLE_REFUSED"


class SignInRequired(ConsoleRefusal):
    """No live session: the person is sent to sign in, and back to `next` after."""

    code = "SIGNIN_REQUIRED"

    def __init__(self, next_path: str, *, expired: bool) -> None:
        super().__init__(f"sign in to see {next_path}")
        self.next_path = next_path
        self.expired = expired  # a session cookie came, but its session has ended


class RoleNotAllowed(ConsoleRefusal):
    code = "ROLE_NOT_ALLOWED"

    def __init__(self, person: Person, path: str) -> None:
        super().__init__(f"{person.role} may not see {path}")
        self.person = person


def safe_next(value: str | None) -> str:
    """`value` if it is a path of the console on this host, else the console's home: a sign-in
    never sends a person to another site (open redirect)."""
    if not value:
        return HOME
    parts = urllib.parse.urlsplit(value)
    path = parts.path
    if (
        parts.scheme
        or parts.netloc
        or "\\" in value
        or not (path == "/console" or path.startswith("/console/"))
        or path.startswith("/console/signout")
        or any(ord(c) < 0x20 for c in value)
    ):
        return HOME
    return path + (f"?{parts.query}" if parts.query else "")


def next_of(request: Request) -> str:
    """Where to come back to after signing in: this page (a GET), else the page the form was
    on (the Referer, when it is the console's)."""
    if request.method == "GET":
        query = request.url.query
        return safe_next(request.url.path + (f"?{query}" if query else ""))
    referer = request.headers.get("referer")
    if referer:
        parts = urllib.parse.urlsplit(referer)
        if parts.netloc == request.headers.get("host", ""):
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    return HOME


async def current_session(request: Request) -> Session | None:
    """The live session of the request's cookie (resolved once per request), or None."""
    known = getattr(request.state, "console_session", _UNSET)
    if known is not _UNSET:
        return known if isinstance(known, Session) else None
    token = request.cookies.get(COOKIE)
    session = await console_state(request).sessions.resolve(token) if token else None
    request.state.console_session = session
    return session


def require_person(*roles: Role) -> Callable[[Request], Awaitable[Person]]:
    """A dependency returning the signed-in `Person`: sends a person without a session to sign
    in (and back), and refuses (403 page) a role not in `roles` (none given: any role)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def signed_in_person(request: Request) -> Person:
        session = await current_session(request)
        if session is None:
            raise SignInRequired(next_of(request), expired=COOKIE in request.cookies)
        if roles and session.person.role not in roles:
            raise RoleNotAllowed(session.person, request.url.path)
        return session.person

    return signed_in_person


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        session.token,
        max_age=console_state(request).settings.session_absolute_s,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=console_state(request).secure_cookies,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=console_state(request).secure_cookies,
    )
