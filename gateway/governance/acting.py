"""Governance actions taken by a person at the console (控制台), not by a member key.

The same service functions as the API's (`gateway.governance.catalogue`, `Applications`,
`GrantBook`): the same transaction, audit rows in the hash chain, events on `governance`, clocks
and lock. What differs is who acts and what a role may do, decided here, deny by default:

- operator (大数据局运维): the bureau's compliance check (合规审查, PASS or REFUSE); suspend,
  reinstate and revoke any grant;
- officer (部门数据专员), bound to a department code: publish and withdraw its own department's
  catalogue entries; decide (APPROVE / NARROW / REFUSE) applications for its own department's
  resources; suspend and revoke grants on its own department's resources;
- every other role (supervisor, auditor, readonly, and any role not named here): read only.

The actor recorded is `person:<username>`, with the bureau's department code for an operator
and the officer's own for an officer. Another department's officer is refused with a typed
error (NOT_YOUR_RESOURCE, NOT_YOUR_DECISION, or UNKNOWN_GRANT for a grant it may not see); a role
that may not act at all with NOT_FOR_YOUR_ROLE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gateway.catalogue.entries import Entry
from gateway.catalogue.errors import NotYourResource
from gateway.governance import catalogue
from gateway.governance.applications import BUREAU, PROVIDER
from gateway.governance.errors import (
    NotForYourRole,
    NotYourDecision,
    StepClosed,
    UnknownApplication,
    UnknownGrant,
)
from gateway.governance.grants import GrantRecord
from gateway.governance.record import Actor
from gateway.governance.service import Governance

PERSON = "person:"
OPERATOR, OFFICER = "operator", "officer"
MAX_ACTOR = 64  # review_steps.decided_by, grants' and events' actor columns
OPERATOR_GRANT_CHANGES = ("suspend", "reinstate", "revoke")
OFFICER_GRANT_CHANGES = ("suspend", "revoke")
# A change and the grant states it applies to (GrantBook.change enforces the same).
CHANGE_FROM = {
    "suspend": ("ACTIVE",),
    "reinstate": ("SUSPENDED",),
    "revoke": ("ACTIVE", "SUSPENDED"),
}


class Acting(Protocol):
    """Who acts: the console's signed-in `Person` (gateway.api.console) fits this."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def department_code(self) -> str | None: ...


def actor_id(person: Acting) -> str:
    """The actor a person's actions are recorded under: `person:<username>`."""
    return f"{PERSON}{person.username}"


def is_operator(person: Acting) -> bool:
    return person.role == OPERATOR


def officer_of(person: Acting) -> str | None:
    """The department an officer is bound to; None for anyone else (or an unbound officer)."""
    return person.department_code if person.role == OFFICER and person.department_code else None


def may_publish(person: Acting, department_code: str) -> bool:
    return officer_of(person) == department_code


def may_decide(person: Acting, application: dict[str, Any]) -> bool:
    """Whether `person` may decide `application`'s open step now (as `Applications.list`
    shows it)."""
    step = open_step(application)
    if step is None:
        return False
    if step["step"] == BUREAU:
        return is_operator(person)
    return officer_of(person) == str(step["department_code"])


def grant_changes(person: Acting, grant: GrantRecord) -> tuple[str, ...]:
    """The changes `person` may make to `grant` in its present state."""
    if is_operator(person):
        allowed: tuple[str, ...] = OPERATOR_GRANT_CHANGES
    elif officer_of(person) is not None and officer_of(person) == grant.provider_code:
        allowed = OFFICER_GRANT_CHANGES
    else:
        allowed = ()
    return tuple(c for c in allowed if grant.status in CHANGE_FROM[c])


def open_step(application: dict[str, Any]) -> dict[str, Any] | None:
    return next((s for s in application["steps"] if s["decided_ms"] is None), None)


class PersonActions:
    """The governance actions a person may take, by role; each one audited under its name."""

    def __init__(self, governance: Governance) -> None:
        self.governance = governance

    @property
    def bureau_code(self) -> str:
        return self.governance.settings.bureau_code

    def actor(self, person: Acting) -> Actor:
        """The actor of an operator (the bureau) or an officer (its department); anyone else
        may not act (NOT_FOR_YOUR_ROLE)."""
        who = actor_id(person)
        if len(who) > MAX_ACTOR:
            raise NotForYourRole(f"username {person.username!r}: longer than the records take")
        if is_operator(person):
            return Actor(who, self.bureau_code)
        department = officer_of(person)
        if department is not None:
            return Actor(who, department)
        raise NotForYourRole(f"role {person.role!r}: may read, not act")

    def _officer(self, person: Acting, what: str) -> Actor:
        if officer_of(person) is None:
            raise NotForYourRole(f"role {person.role!r}: only a department's officer may {what}")
        return self.actor(person)

    async def publish(self, person: Acting, entry: Entry) -> Entry:
        """Publish `entry` as its code's next version, for the officer's own department."""
        actor = self._officer(person, "publish catalogue entries")
        if entry.department_code != actor.department:
            raise NotYourResource(
                f"department_code {entry.department_code!r}: you publish for "
                f"{actor.department} only"
            )
        gov = self.governance
        return await catalogue.publish(gov.recorder, gov.catalogue, actor, entry)

    async def withdraw(self, person: Acting, code: str, reason: str) -> Entry:
        """Withdraw (撤销) one of the officer's own department's entries, with a reason."""
        actor = self._officer(person, "withdraw catalogue entries")
        gov = self.governance
        current = await gov.catalogue.current(code)
        if current is not None and current.department_code != actor.department:
            raise NotYourResource(  # who, before what: said whatever the reason
                f"department_code {current.department_code!r}: you withdraw "
                f"{actor.department}'s resources only"
            )
        return await catalogue.withdraw(gov.recorder, gov.catalogue, actor, code, reason)

    async def _open(self, application_id: str) -> dict[str, Any]:
        apps = await self.governance.applications.list(
            Actor.command_line(), application_id=application_id
        )
        if not apps:
            raise UnknownApplication(f"application_id {application_id!r}: no such application")
        return apps[0]

    async def authorize(self, person: Acting, application_id: str) -> Actor:
        """The actor `person` decides `application_id`'s open step as, or the typed refusal:
        NOT_FOR_YOUR_ROLE, NOT_YOUR_DECISION (another department's), STEP_CLOSED (not
        awaiting this person's step). The service checks again inside its transaction."""
        app = await self._open(application_id)
        step = open_step(app)
        if is_operator(person):
            actor = self.actor(person)
            if step is None or step["step"] != BUREAU:
                raise StepClosed(f"application_id {application_id!r}: not awaiting the bureau")
            return actor
        actor = self._officer(person, "decide applications")
        if app["provider_code"] != actor.department:
            raise NotYourDecision(
                f"application_id {application_id!r}: its resource belongs to department "
                f"{app['provider_code']}, not {actor.department}"
            )
        if step is None or step["step"] != PROVIDER:
            raise StepClosed(
                f"application_id {application_id!r} is {app['status']}, not awaiting your decision"
            )
        return actor

    async def check(
        self, person: Acting, application_id: str, decision: str, reason: str | None
    ) -> dict[str, Any]:
        """The bureau's compliance check (合规审查): PASS or REFUSE (with a reason)."""
        if not is_operator(person):
            raise NotForYourRole(
                f"role {person.role!r}: only the data bureau's operators check compliance"
            )
        actor = await self.authorize(person, application_id)
        return await self.governance.applications.decide(actor, application_id, decision, reason)

    async def decide(
        self,
        person: Acting,
        application_id: str,
        decision: str,
        reason: str | None,
        *,
        fields: Sequence[str] | None = None,
        purposes: Sequence[str] | None = None,
        days: int | None = None,
    ) -> dict[str, Any]:
        """The providing department's decision (审核决定): APPROVE, NARROW (fewer fields,
        purposes or days, with a reason) or REFUSE (with a reason)."""
        self._officer(person, "decide applications")
        actor = await self.authorize(person, application_id)
        return await self.governance.applications.decide(
            actor, application_id, decision, reason, fields, purposes, days
        )

    async def change_grant(
        self, person: Acting, grant_id: str, change: str, reason: str | None
    ) -> GrantRecord:
        """suspend / reinstate / revoke a grant, as the person's role allows."""
        allowed: tuple[str, ...]
        if is_operator(person):
            allowed = OPERATOR_GRANT_CHANGES
        elif officer_of(person) is not None:
            allowed = OFFICER_GRANT_CHANGES
        else:
            raise NotForYourRole(f"role {person.role!r}: may not change grants")
        if change not in allowed:
            raise NotYourDecision(f"change {change!r}: your role may {', '.join(allowed)} a grant")
        department = officer_of(person)
        if department is not None:  # an officer: its own resources' grants, even the bureau's
            found = next(
                (g for g in await self.governance.grants.all() if g.grant_id == grant_id), None
            )
            if found is None or found.provider_code != department:
                raise UnknownGrant(
                    f"grant_id {grant_id!r}: no grant on your department's resources has this id"
                )
        return await self.governance.grants.change(
            self.actor(person), grant_id, change, reason, provider_may=OFFICER_GRANT_CHANGES
        )
