"""What the console holds per app: the people stores, the sign-in, the pages and templates.

Built at the first console request from the gateway's `Services` (they exist only once the
lifespan has started), and kept on `app.state` for the app's life.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from gateway.api.console.nav import Page
from gateway.api.services import Services
from gateway.people.accounts import PeopleStore
from gateway.people.passwords import Passwords
from gateway.people.sessions import SessionStore
from gateway.people.signin import SignIn
from gateway.settings import ConsoleSettings


@dataclass
class ConsoleState:
    services: Services
    settings: ConsoleSettings
    people: PeopleStore
    sessions: SessionStore
    signin: SignIn
    pages: tuple[Page, ...]
    secure_cookies: bool

    @classmethod
    def build(cls, services: Services, pages: tuple[Page, ...]) -> ConsoleState:
        settings = services.settings.console
        passwords = Passwords(
            min_length=settings.password_min_length, concurrency=settings.max_concurrent_hashes
        )
        people = PeopleStore(services.engine, passwords)
        secure = settings.secure_cookies
        if secure is None:
            secure = (services.settings.gateway.public_url or "").startswith("https://")
        return cls(
            services=services,
            settings=settings,
            people=people,
            sessions=SessionStore(
                services.engine,
                idle_s=settings.session_idle_s,
                absolute_s=settings.session_absolute_s,
            ),
            signin=SignIn(people, failures=settings.lockout_failures, lockout_s=settings.lockout_s),
            pages=pages,
            secure_cookies=secure,
        )


def console_state(request: Request) -> ConsoleState:
    """The console of the app serving `request` (built for its services at the first call)."""
    app_state = request.app.state
    services = app_state.console_services(request)
    found: ConsoleState | None = getattr(app_state, "console", None)
    if found is None or found.services is not services:
        found = ConsoleState.build(services, app_state.console_pages)
        app_state.console = found
    return found
