"""The console (管理控制台): web pages for the people who run, govern and supervise the sharing.

The contract page modules build on:

- `install(app, services)` mounts it at /console (gateway/api/app.py, one line);
- pages are modules of `gateway.api.console.pages`, each with `router: APIRouter` (paths under
  /console/…) and `NAV: NavItem`; every route of a page is gated by `NAV.roles`;
- `require_person(*roles)` → `Person` (sign-in and back when no session; 403 page when the role
  is not allowed); `csrf_protect` on every POST (form field `csrf_token`);
- `render(request, "template.html", person=..., **context)`: templates extend base.html;
- `audit_action(services, person, action, target, detail)`: an audited action in the hash
  chain under `person:<username>`;
- `mask_for(text, person, settings)`: personal ids masked unless the role may see them (every
  `{{ … }}` of a template is masked already).
"""

from __future__ import annotations

from gateway.api.console.audit import audit_action
from gateway.api.console.auth import current_session, require_person
from gateway.api.console.csrf import csrf_protect
from gateway.api.console.masking import mask_for, may_see_ids
from gateway.api.console.mount import install
from gateway.api.console.nav import NavItem
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.people.person import ROLE_NAMES, ROLES, Person, Role

__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "NavItem",
    "Person",
    "Role",
    "audit_action",
    "console_state",
    "csrf_protect",
    "current_session",
    "install",
    "mask_for",
    "may_see_ids",
    "render",
    "require_person",
]
