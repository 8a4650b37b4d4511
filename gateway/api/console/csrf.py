"""`csrf_protect`: every state-changing console request carries its session's CSRF token.

The token is the form field `csrf_token` (or the `X-CSRF-Token` header htmx sends, from
base.html's `hx-headers`), compared with the session's in constant time; an `Origin` header,
when the browser sends one, must be this site's. A refusal is audited under the person's
name, then answered with the 403 page. (The sign-in form has no session yet: it checks a
token of its own, see gateway.api.console.signin.)
"""

from __future__ import annotations

import hmac
import urllib.parse

from fastapi import Request

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import SignInRequired, current_session, next_of
from gateway.api.console.state import console_state
from gateway.people.person import Person
from schemas.errors import GovgateError

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(GovgateError):
    code = "CSRF_REFUSED"

    def __init__(self, person: Person | None, detail: str) -> None:
        super().__init__(detail)
        self.person = person


def same_origin(request: Request) -> bool:
    """No `Origin` header (an old browser, a same-origin GET), or this site's own."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    public = console_state(request).services.settings.gateway.public_url
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    if public:
        own.add(public.lower())
    parts = urllib.parse.urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}".lower() in own


async def presented_token(request: Request) -> str:
    if header := request.headers.get(HEADER):
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_protect(request: Request) -> None:
    """A dependency for every POST of the console: refuses (403, audited) a request without
    its session's CSRF token; sends one without a session to sign in."""
    if request.method in SAFE_METHODS:
        return
    session = await current_session(request)
    if session is None:
        raise SignInRequired(next_of(request), expired=True)
    presented = await presented_token(request)
    if not same_origin(request):
        problem = "the request came from another site (Origin)"
    elif not presented:
        problem = "the form carried no CSRF token"
    elif not hmac.compare_digest(presented.encode(), session.csrf.encode()):
        problem = "the form's CSRF token is not this session's"
    else:
        return
    await audit_action(
        console_state(request).services,
        session.person,
        "csrf_refused",
        request.url.path,
        problem,
        decision="deny",
        status=403,
    )
    raise CsrfRefused(session.person, problem)
