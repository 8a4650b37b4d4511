"""Console actions in the audit hash chain, each naming the person (`person:<username>`)."""

from __future__ import annotations

from gateway.api.services import Services
from gateway.audit.log import AuditEntry, Decision
from gateway.people.person import Person

METHOD = "CONSOLE"


async def audit_action(
    services: Services,
    person: Person,
    action: str,
    target: str,
    detail: str = "",
    *,
    decision: Decision = "allow",
    status: int = 200,
) -> int:
    """Write one audited action of `person` to the hash chain; returns its seq once committed.

    `action` is a short stable name (`signin`, `catalogue.publish`, `csrf_refused`), stored as
    the row's code and in its route (`console:<action>`); `target` what it acted on (an entry
    code, an application id, a page path) and `detail` a few words (a reason), both in the
    row's path, where id-shaped tokens become keyed pseudonyms as in every audit row.
    Raises `AuditUnavailable` when the row could not be made durable: the action must then
    be refused.
    """
    text = target if target.startswith("/console") else f"/console/{target.lstrip('/')}"
    if detail:
        text = f"{text} {detail}"
    entry = AuditEntry(
        method=METHOD,
        path=text,
        route=f"console:{action}",
        decision=decision,
        status=status,
        member_id=person.actor,
        code=action,
    )
    return await services.audit.record(entry)
