"""Grants (授权) as records with a life: created by an approval (or by the operator), narrowed,
suspended and reinstated, revoked, and expired. Each change is a governance action (audited,
on the log). The policy sees only ACTIVE grants before their expiry (`MembersStore.grants_for`),
so a change reaches every gateway worker within the member cache's time."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.catalogue.entries import Entry, plain_text
from gateway.catalogue.tables import catalogue_codes, catalogue_heads
from gateway.governance.errors import (
    GrantNotActive,
    InvalidDecision,
    KindNotGrantable,
    NotYourDecision,
    ReasonRequired,
    UnknownGrant,
)
from gateway.governance.record import Action, Actor, Recorder
from gateway.members.store import GRANT_KINDS, Grant
from gateway.members.tables import grants
from gateway.store.engine import upsert_insert
from gateway.store.errors import store_unavailable
from schemas.ids import event_id

# A catalogue kind and the grant kind that lets a member see it. Case events need the `case`
# grant kind of issue #13 item 8; until it exists they cannot be granted (KIND_NOT_GRANTABLE).
GRANT_KIND_OF = {
    "certificate": "certificate",
    "material": "material",
    "credit": "credit",
    "notice": "notice",
    "case_events": "case",
}
CATALOGUE_KIND_OF = {grant: kind for kind, grant in GRANT_KIND_OF.items()}
STATUSES = ("ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED")
PROVIDER_CHANGES = ("narrow", "revoke")  # what a providing department's member may change


def grant_id(member_id: str, kind: str, code: str, purpose: str) -> str:
    """The grant's stable id: one (member, kind, code, purpose) is one grant, whatever its
    history (its changes are on the log and in the audit chain)."""
    return event_id("govgate-grants", kind, member_id, f"{code}\x1f{purpose}")


@dataclass(frozen=True)
class GrantRecord:
    grant_id: str
    member_id: str
    kind: str
    code: str
    purpose: str
    fields: tuple[str, ...] | None
    status: str
    created_ms: int
    expires_ms: int | None
    application_id: str | None
    reason: str | None
    provider_code: str | None  # the department whose resource it opens, if catalogued

    def to_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["fields"] = None if self.fields is None else list(self.fields)
        return data


def grant_kind(entry: Entry) -> str:
    kind = GRANT_KIND_OF[entry.kind]
    if kind not in GRANT_KINDS:
        raise KindNotGrantable(
            f"resource_code {entry.code!r}: {entry.kind} cannot be granted by this gateway yet"
        )
    return kind


async def put_grants(
    act: Action,
    member_id: str,
    entry: Entry,
    purposes: Sequence[str],
    fields: Sequence[str] | None,
    expires_ms: int | None,
    application_id: str | None,
) -> list[str]:
    """Create (or replace) the grants of an approval: one per purpose and record code."""
    kind = grant_kind(entry)
    ids: list[str] = []
    for purpose in purposes:
        for code in entry.record_codes:
            Grant(kind, code, purpose, None if fields is None else tuple(fields))  # type: ignore[arg-type]
            await _upsert(act, member_id, kind, code, purpose, fields, expires_ms, application_id)
            gid = grant_id(member_id, kind, code, purpose)
            ids.append(gid)
            act.note(
                "GRANT_CREATED",
                gid,
                entry.code,
                resource_version=entry.version,
                resource_name=entry.name,
                provider_department_code=entry.department_code,
                application_id=application_id,
                grant_id=gid,
                consumer_member_id=member_id,
                purposes=[purpose],
                fields=list(fields or ()),
                expires_ms=expires_ms,
                sharing_class=entry.sharing_class,
            )
    return ids


async def _upsert(
    act: Action,
    member_id: str,
    kind: str,
    code: str,
    purpose: str,
    fields: Sequence[str] | None,
    expires_ms: int | None,
    application_id: str | None,
) -> None:
    values = {
        "fields": None if fields is None else json.dumps(list(fields), ensure_ascii=False),
        "status": "ACTIVE",
        "expires_ms": expires_ms,
        "application_id": application_id,
        "updated_ms": act.at_ms,
        "reason": None,
    }
    statement = upsert_insert(act.conn.engine)(grants).values(
        member_id=member_id, kind=kind, code=code, purpose=purpose, created_ms=act.at_ms, **values
    )
    await act.conn.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "kind", "code", "purpose"], set_=values
        )
    )


def _columns() -> Any:
    provider = (
        select(catalogue_heads.c.department_code)
        .join(catalogue_codes, catalogue_codes.c.code == catalogue_heads.c.code)
        .where(
            and_(
                catalogue_codes.c.record_code == grants.c.code,
                catalogue_heads.c.withdrawn.is_(False),
            )
        )
        .limit(1)
        .scalar_subquery()
    )
    return select(grants, provider.label("provider_code"))


def _record(row: Any) -> GrantRecord:
    return GrantRecord(
        grant_id=grant_id(row.member_id, row.kind, row.code, row.purpose),
        member_id=row.member_id,
        kind=row.kind,
        code=row.code,
        purpose=row.purpose,
        fields=None if row.fields is None else tuple(json.loads(row.fields)),
        status=row.status,
        created_ms=row.created_ms,
        expires_ms=row.expires_ms,
        application_id=row.application_id,
        reason=row.reason,
        provider_code=row.provider_code,
    )


class GrantBook:
    """Grants as people see and change them."""

    def __init__(self, recorder: Recorder, bureau_code: str) -> None:
        self.recorder = recorder
        self.bureau_code = bureau_code

    def _bureau(self, actor: Actor) -> bool:
        return actor.operator or actor.department == self.bureau_code

    async def all(self, conn: AsyncConnection | None = None) -> list[GrantRecord]:
        query = _columns().order_by(grants.c.member_id, grants.c.kind, grants.c.code)
        if conn is not None:
            return [_record(r) for r in await conn.execute(query)]
        async with store_unavailable(), self.recorder.engine.connect() as own:
            return [_record(r) for r in await own.execute(query)]

    async def visible(self, actor: Actor, member_id: str | None = None) -> list[GrantRecord]:
        """What `actor` may see: the bureau every grant; a provider those opening its own
        resources; every member its own."""
        found = [
            g
            for g in await self.all()
            if self._bureau(actor)
            or g.member_id == actor.member_id
            or (actor.department is not None and g.provider_code == actor.department)
        ]
        return [g for g in found if member_id is None or g.member_id == member_id]

    async def get(self, actor: Actor, gid: str) -> GrantRecord:
        for g in await self.visible(actor):
            if g.grant_id == gid:
                return g
        raise UnknownGrant(f"grant_id {gid!r}: no grant you may see has this id")

    async def change(
        self,
        actor: Actor,
        gid: str,
        change: str,
        reason: str | None,
        fields: Sequence[str] | None = None,
        *,
        provider_may: Collection[str] = PROVIDER_CHANGES,
    ) -> GrantRecord:
        """narrow / suspend / reinstate / revoke one grant, with a reason (not for reinstate).

        The bureau may do any of them; the providing department may make `provider_may` (narrow
        and revoke for its members; its officers at the console suspend and revoke) on grants
        on its own resources; the holder may not change its grant."""
        if change not in ("narrow", "suspend", "reinstate", "revoke"):
            raise InvalidDecision(f"change {change!r}: narrow, suspend, reinstate or revoke")
        if change != "reinstate" and not (reason or "").strip():
            raise ReasonRequired(f"reason: required to {change} a grant")
        if reason is not None and (len(reason) > 2000 or not plain_text(reason)):
            raise InvalidDecision("reason: a text of at most 2000 characters, no control ones")
        async with self.recorder.action(actor) as act:
            found = next((g for g in await self.all(act.conn) if g.grant_id == gid), None)
            provider = found is not None and found.provider_code == actor.department
            if found is None or not (
                self._bureau(actor) or provider or found.member_id == actor.member_id
            ):
                raise UnknownGrant(f"grant_id {gid!r}: no grant you may see has this id")
            if not self._bureau(actor) and not (provider and change in provider_may):
                raise NotYourDecision(
                    f"change {change!r}: the data bureau makes any change; the providing "
                    f"department may {', '.join(sorted(provider_may))}"
                )
            values: dict[str, Any] = {"updated_ms": act.at_ms, "reason": reason}
            allowed: tuple[str, ...]
            if change == "narrow":
                values["fields"] = json.dumps(_narrower(found, fields), ensure_ascii=False)
                allowed, status, action = ("ACTIVE", "SUSPENDED"), found.status, "GRANT_NARROWED"
            elif change == "suspend":
                allowed, status, action = ("ACTIVE",), "SUSPENDED", "GRANT_SUSPENDED"
            elif change == "reinstate":
                allowed, status, action = ("SUSPENDED",), "ACTIVE", "GRANT_REINSTATED"
            else:
                allowed, status, action = ("ACTIVE", "SUSPENDED"), "REVOKED", "GRANT_REVOKED"
            if found.status not in allowed:
                raise GrantNotActive(f"grant_id {gid!r} is {found.status}; cannot {change} it")
            values["status"] = status
            await act.conn.execute(update(grants).where(*_key(found)).values(**values))
            act.note(
                action,
                gid,
                _resource(found),
                grant_id=gid,
                consumer_member_id=found.member_id,
                provider_department_code=found.provider_code,
                application_id=found.application_id,
                purposes=[found.purpose],
                fields=json.loads(values.get("fields") or "null") or list(found.fields or ()),
                reason=reason,
            )
        return await self.get(actor, gid)

    async def expire_due(self, now_ms: int) -> int:
        """Mark the ACTIVE grants past their expiry EXPIRED, each an audited action."""
        due = [
            g
            for g in await self.all()
            if g.status == "ACTIVE" and g.expires_ms is not None and g.expires_ms <= now_ms
        ]
        for found in due:
            async with self.recorder.action(Actor.command_line()) as act:
                result = await act.conn.execute(
                    update(grants)
                    .where(*_key(found), grants.c.status == "ACTIVE")
                    .values(status="EXPIRED", updated_ms=act.at_ms)
                )
                if result.rowcount == 1:
                    act.note(
                        "GRANT_EXPIRED",
                        found.grant_id,
                        _resource(found),
                        grant_id=found.grant_id,
                        consumer_member_id=found.member_id,
                        application_id=found.application_id,
                        purposes=[found.purpose],
                        expires_ms=found.expires_ms,
                    )
        return len(due)

    async def grant_by_operator(self, member_id: str, grant: Grant) -> str:
        """`govgate members grant`: the same record an approval makes, without expiry, audited
        and on the log under the operator's name."""
        async with self.recorder.action(Actor.command_line()) as act:
            await _upsert(
                act, member_id, grant.kind, grant.code, grant.purpose, grant.fields, None, None
            )
            gid = grant_id(member_id, grant.kind, grant.code, grant.purpose)
            act.note(
                "GRANT_CREATED",
                gid,
                f"{CATALOGUE_KIND_OF.get(grant.kind, grant.kind)}:{grant.code}",
                grant_id=gid,
                consumer_member_id=member_id,
                purposes=[grant.purpose],
                fields=list(grant.fields or ()),
            )
        return gid


def _key(found: GrantRecord) -> tuple[Any, ...]:
    return (
        grants.c.member_id == found.member_id,
        grants.c.kind == found.kind,
        grants.c.code == found.code,
        grants.c.purpose == found.purpose,
    )


def _resource(found: GrantRecord) -> str:
    return f"{CATALOGUE_KIND_OF.get(found.kind, found.kind)}:{found.code}"


def _narrower(found: GrantRecord, fields: Sequence[str] | None) -> list[str]:
    if not fields:
        raise InvalidDecision("fields: name the fields the grant keeps")
    if found.fields is not None and not set(fields) <= set(found.fields):
        extra = sorted(set(fields) - set(found.fields))
        raise InvalidDecision(f"fields: {extra} are not in the grant; narrowing only removes")
    if found.fields is not None and set(fields) == set(found.fields):
        raise InvalidDecision("fields: the same fields as now; narrow removes at least one")
    return list(dict.fromkeys(fields))
