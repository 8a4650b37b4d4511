"""Publishing and withdrawing catalogue entries (资源目录): a department's own, or anyone's from
the operator's command line (the shipped profiles' entries at set-up). A change is a new
version; publishing what is already current publishes nothing."""

from __future__ import annotations

import json

from gateway.catalogue.entries import Entry, plain_text
from gateway.catalogue.errors import InvalidEntry, NotYourResource
from gateway.catalogue.store import CatalogueStore
from gateway.governance.errors import ReasonRequired
from gateway.governance.record import Actor, Recorder


def _own(actor: Actor, department: str) -> None:
    if not actor.operator and actor.department != department:
        raise NotYourResource(
            f"department_code {department!r}: your member belongs to "
            f"{actor.department or 'no department'}; publish your own department's resources"
        )


async def publish(recorder: Recorder, store: CatalogueStore, actor: Actor, entry: Entry) -> Entry:
    """Publish `entry` as its code's next version (unless the current one says the same)."""
    _own(actor, entry.department_code)
    async with recorder.action(actor) as act:
        current = await store.current(entry.code, act.conn)
        if current is not None:
            _own(actor, current.department_code)  # a code stays with its department
            if not current.withdrawn and current.same_content(entry):
                return current
        published = await store.append(act.conn, entry, act.at_ms, actor.member_id)
        act.note(
            "CATALOGUE_PUBLISHED",
            entry.code,
            entry.code,
            resource_version=published.version,
            resource_name=published.name,
            provider_department_code=published.department_code,
            sharing_class=published.sharing_class,
            legal_basis=published.legal_basis,
            fields=list(published.field_names),
            entry_json=json.dumps(published.to_json(), ensure_ascii=False),
        )
    return published


async def withdraw(
    recorder: Recorder, store: CatalogueStore, actor: Actor, code: str, reason: str
) -> Entry:
    """Withdraw (撤销) a resource: a new version, withdrawn. Grants made on it stay until their
    provider or the bureau revokes them; applications for it are refused from now on."""
    if not reason.strip():
        raise ReasonRequired("reason: say why the resource is withdrawn")
    if len(reason) > 2000 or not plain_text(reason):
        raise InvalidEntry("reason: a text of at most 2000 characters, no control ones")
    async with recorder.action(actor) as act:
        current = await store.published(code, act.conn)
        _own(actor, current.department_code)
        withdrawn = await store.append(
            act.conn, store.withdrawn(current, act.at_ms), act.at_ms, actor.member_id
        )
        act.note(
            "CATALOGUE_WITHDRAWN",
            code,
            code,
            resource_version=withdrawn.version,
            resource_name=withdrawn.name,
            provider_department_code=withdrawn.department_code,
            reason=reason.strip(),
        )
    return withdrawn
