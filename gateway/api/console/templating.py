"""`render`: a console page from its Jinja2 template, with the nav for the person's role.

Templates live in gateway/api/console/templates/ (a page's own under templates/<page>/) and
extend base.html. Autoescaping is on, and every `{{ … }}` is finalized through the id mask
(gateway.api.console.masking) unless the person's role may see ids. Pages carry no inline
script or style (the Content-Security-Policy forbids both): behaviour comes from htmx
attributes and /console/static/console.js, looks from /console/static/console.css.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from gateway.api.console.masking import masked_value, may_see_ids
from gateway.api.console.state import console_state
from gateway.people.person import ROLE_NAMES, Person

TEMPLATES = Path(__file__).parent / "templates"
STATIC_PATH = "/console/static"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: int | datetime | None, seconds: bool = True) -> str:
    """A time as people here read it: Beijing time, `2026-12-05 14:03:09` (ms since the
    epoch, or an aware datetime); "—" for None."""
    if value is None:
        return "—"
    moment = (
        value if isinstance(value, datetime) else datetime.fromtimestamp(value / 1000, SHANGHAI)
    )
    return moment.astimezone(SHANGHAI).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def clock(value: int | datetime | None) -> str:
    """A time, compact: `14:03:09` when it is today (Beijing time), else the full date."""
    if value is None:
        return "—"
    moment = (
        value if isinstance(value, datetime) else datetime.fromtimestamp(value / 1000, SHANGHAI)
    )
    moment = moment.astimezone(SHANGHAI)
    if moment.date() == datetime.now(SHANGHAI).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    if value is None:
        return ""
    if context.get("may_see_ids") is True:
        return value
    return masked_value(value)


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["role_names"] = ROLE_NAMES
    env.globals["static"] = STATIC_PATH
    env.filters["local_time"] = local_time
    env.filters["clock"] = clock
    return env


def render(
    request: Request,
    template: str,
    *,
    person: Person | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page `template` for `person` (None on the sign-in pages), with `context`."""
    state = console_state(request)
    session = getattr(request.state, "console_session", None)
    nav = (
        [p.nav for p in state.pages if p.nav.show and p.nav.allows(person.role)]
        if person is not None
        else []
    )
    values = {
        **context,
        "request": request,
        "person": person,
        "nav": nav,
        "current_path": request.url.path,
        "csrf_token": session.csrf if session is not None else context.get("csrf_token", ""),
        "may_see_ids": may_see_ids(person, state.settings),
        "oidc": state.settings.oidc_enabled,
        "oidc_label": state.settings.oidc_label,
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
