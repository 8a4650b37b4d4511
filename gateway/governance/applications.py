"""Sharing applications (共享申请) and their review steps.

A consumer department applies for a catalogue resource: purposes (事项编码, one or more), the
scenario in words, the fields it needs (a subset of the entry's) and for how many days. The
data bureau (大数据局) checks compliance (BUREAU_CHECK: PASS or REFUSE); an 无条件共享 resource
is then granted, an 有条件共享 one goes to the providing department (PROVIDER_DECISION:
APPROVE, NARROW to fewer fields or purposes, or REFUSE); 不予共享 cannot be applied for. Each
step has a working-day limit (`governance.*_days`), clocked by `govgate governance run`.
An approval's grants, audit rows and events commit in one transaction with the decision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from gateway.catalogue.entries import Entry, plain_text
from gateway.catalogue.store import CatalogueStore
from gateway.governance.application_in import ApplicationIn
from gateway.governance.errors import (
    DepartmentRequired,
    InvalidDecision,
    NotShareable,
    NotYourDecision,
    OwnResource,
    ReasonRequired,
    StepClosed,
    UnknownApplication,
    UnknownField,
)
from gateway.governance.grants import grant_kind, put_grants
from gateway.governance.record import Action, Actor, Recorder
from gateway.governance.tables import review_steps, sharing_applications
from gateway.settings import GovernanceSettings
from gateway.store.errors import store_unavailable

DAY_MS = 86_400_000
BUREAU, PROVIDER = "BUREAU_CHECK", "PROVIDER_DECISION"
DECISIONS = {BUREAU: ("PASS", "REFUSE"), PROVIDER: ("APPROVE", "NARROW", "REFUSE")}


def _step_row(row: Any) -> dict[str, Any]:
    return {
        "step": row.step,
        "department_code": row.department_code,
        "limit_days": row.limit_days,
        "opened_ms": row.opened_ms,
        "decided_ms": row.decided_ms,
        "decided_by": row.decided_by,
        "decision": row.decision,
        "reason": row.reason,
        "fields": None if row.fields is None else json.loads(row.fields),
        "purposes": None if row.purposes is None else json.loads(row.purposes),
    }


class Applications:
    def __init__(
        self, recorder: Recorder, catalogue: CatalogueStore, settings: GovernanceSettings
    ) -> None:
        self.recorder, self.catalogue, self.settings = recorder, catalogue, settings

    async def apply(self, actor: Actor, request: ApplicationIn) -> dict[str, Any]:
        if actor.department is None:
            raise DepartmentRequired("department: your member belongs to no department")
        entry = await self.catalogue.published(request.resource_code)
        if entry.sharing_class == "NOT_SHARED":
            raise NotShareable(
                f"resource_code {entry.code!r} is 不予共享 (NOT_SHARED): {entry.legal_basis}"
            )
        if entry.department_code == actor.department:
            raise OwnResource(
                f"resource_code {entry.code!r} belongs to your own department "
                f"{actor.department}: use it directly, do not apply for it"
            )
        unknown = [f for f in request.fields if f not in entry.field_names]
        if unknown:
            raise UnknownField(
                f"fields: {', '.join(unknown)} not in {entry.code} "
                f"(its fields: {', '.join(entry.field_names)})"
            )
        grant_kind(entry)  # refuses now what could never be granted
        application_id = f"SQ-{uuid.uuid4().hex[:16].upper()}"
        body = {
            "purposes": list(request.purposes),
            "scenario": request.scenario,
            "fields": list(request.fields),
            "days": request.days,
        }
        async with self.recorder.action(actor) as act:
            await act.conn.execute(
                sharing_applications.insert().values(
                    application_id=application_id,
                    member_id=actor.member_id,
                    department_code=actor.department,
                    resource_code=entry.code,
                    resource_version=entry.version,
                    provider_code=entry.department_code,
                    status="PENDING_BUREAU",
                    body=json.dumps(body, ensure_ascii=False),
                    created_ms=act.at_ms,
                    updated_ms=act.at_ms,
                )
            )
            act.note(
                "APPLICATION_SUBMITTED",
                application_id,
                entry.code,
                **self._about(entry, application_id, actor.member_id, request.purposes),
                fields=list(request.fields),
                reason=request.scenario,
            )
            await self._open(act, entry, application_id, actor.member_id, body, BUREAU)
        return await self.get(actor, application_id)

    def _about(
        self, entry: Entry, application_id: str, member_id: str, purposes: Sequence[str]
    ) -> dict[str, Any]:
        return {
            "resource_version": entry.version,
            "resource_name": entry.name,
            "provider_department_code": entry.department_code,
            "application_id": application_id,
            "consumer_member_id": member_id,
            "sharing_class": entry.sharing_class,
            "legal_basis": entry.legal_basis,
            "purposes": list(purposes),
        }

    async def _open(
        self,
        act: Action,
        entry: Entry,
        application_id: str,
        member_id: str,
        body: dict[str, Any],
        step: str,
    ) -> None:
        if step == BUREAU:
            department, name = self.settings.bureau_code, self.settings.bureau_name
            days = self.settings.bureau_days
        else:
            department, name = entry.department_code, entry.department_name
            days = (
                self.settings.provider_days
                if entry.on_platform
                else self.settings.provider_days_unpublished
            )
        await act.conn.execute(
            review_steps.insert().values(
                application_id=application_id,
                step=step,
                department_code=department,
                limit_days=days,
                opened_ms=act.at_ms,
            )
        )
        act.note(
            "STEP_OPENED",
            application_id,
            entry.code,
            **self._about(entry, application_id, member_id, body["purposes"]),
            step=step,
            step_department_code=department,
            step_department_name=name,
            limit_days=days,
            fields=body["fields"],
        )

    async def decide(
        self,
        actor: Actor,
        application_id: str,
        decision: str,
        reason: str | None,
        fields: Sequence[str] | None = None,
        purposes: Sequence[str] | None = None,
        days: int | None = None,
    ) -> dict[str, Any]:
        """The open step's decision, by a member of its department (or the operator). A NARROW
        keeps fewer fields, purposes or days (the grant's period) than were applied for."""
        reason = (reason or "").strip() or None
        if reason is not None and (len(reason) > 2000 or not plain_text(reason)):
            raise InvalidDecision("reason: a text of at most 2000 characters, no control ones")
        async with self.recorder.action(actor) as act:
            app = await self._application(act, application_id)
            step = (
                await act.conn.execute(
                    select(review_steps).where(
                        review_steps.c.application_id == application_id,
                        review_steps.c.decided_ms.is_(None),
                    )
                )
            ).first()
            if step is None:
                raise StepClosed(f"application_id {application_id!r} is {app['status']}")
            if not actor.operator and actor.department != step.department_code:
                raise NotYourDecision(
                    f"application_id {application_id!r}: {step.step} is for department "
                    f"{step.department_code}, not {actor.department or 'none'}"
                )
            if decision not in DECISIONS[step.step]:
                raise InvalidDecision(
                    f"decision {decision!r}: at {step.step} one of "
                    f"{', '.join(DECISIONS[step.step])}"
                )
            if decision in ("REFUSE", "NARROW") and reason is None:
                raise ReasonRequired(f"reason: required to {decision.lower()} an application")
            body = app["body"]
            kept_fields, kept_purposes, kept_days = self._kept(
                decision, body, fields, purposes, days
            )
            entry = await self.catalogue.published(app["resource_code"], act.conn)
            decided = await act.conn.execute(
                update(review_steps)
                .where(
                    review_steps.c.application_id == application_id,
                    review_steps.c.step == step.step,
                    review_steps.c.decided_ms.is_(None),
                )
                .values(
                    decided_ms=act.at_ms,
                    decided_by=actor.member_id,
                    decision=decision,
                    reason=reason,
                    fields=json.dumps(kept_fields, ensure_ascii=False),
                    purposes=json.dumps(kept_purposes, ensure_ascii=False),
                )
            )
            if decided.rowcount != 1:  # decided meanwhile by someone else
                raise StepClosed(f"application_id {application_id!r} was just decided")
            about = self._about(entry, application_id, app["member_id"], kept_purposes)
            act.note(
                "STEP_DECIDED",
                application_id,
                entry.code,
                **about,
                step=step.step,
                step_department_code=step.department_code,
                decision=decision,
                reason=reason,
                fields=kept_fields,
            )
            if decision == "REFUSE":
                status = "REFUSED"
            elif decision == "PASS" and entry.sharing_class == "CONDITIONAL":
                await self._open(act, entry, application_id, app["member_id"], body, PROVIDER)
                status = "PENDING_PROVIDER"
            else:
                expires = act.at_ms + kept_days * DAY_MS
                await put_grants(
                    act,
                    app["member_id"],
                    entry,
                    kept_purposes,
                    kept_fields,
                    expires,
                    application_id,
                )
                status = "APPROVED"
            await act.conn.execute(
                update(sharing_applications)
                .where(sharing_applications.c.application_id == application_id)
                .values(status=status, updated_ms=act.at_ms)
            )
        return await self.get(actor, application_id)

    @staticmethod
    def _kept(
        decision: str,
        body: dict[str, Any],
        fields: Sequence[str] | None,
        purposes: Sequence[str] | None,
        days: int | None = None,
    ) -> tuple[list[str], list[str], int]:
        asked_fields, asked_purposes = list(body["fields"]), list(body["purposes"])
        asked_days = int(body["days"])
        if decision != "NARROW":
            return asked_fields, asked_purposes, asked_days
        kept_fields = list(dict.fromkeys(fields)) if fields else asked_fields
        kept_purposes = list(dict.fromkeys(purposes)) if purposes else asked_purposes
        kept_days = asked_days if days is None else days
        extra = sorted(set(kept_fields) - set(asked_fields))
        if extra:
            raise InvalidDecision(f"fields: {extra} were not applied for")
        extra = sorted(set(kept_purposes) - set(asked_purposes))
        if extra:
            raise InvalidDecision(f"purposes: {extra} were not applied for")
        if not 1 <= kept_days <= asked_days:
            raise InvalidDecision(f"days: {kept_days} is not 1 to the {asked_days} applied for")
        if not kept_fields or not kept_purposes:
            raise InvalidDecision("fields: a narrowing keeps at least one field and purpose")
        if (
            set(kept_fields) == set(asked_fields)
            and set(kept_purposes) == set(asked_purposes)
            and kept_days == asked_days
        ):
            raise InvalidDecision("fields: a narrowing approves less than was applied for")
        return kept_fields, kept_purposes, kept_days

    async def _application(self, act: Action, application_id: str) -> dict[str, Any]:
        row = (
            await act.conn.execute(
                select(sharing_applications).where(
                    sharing_applications.c.application_id == application_id
                )
            )
        ).first()
        if row is None:
            raise UnknownApplication(f"application_id {application_id!r}: no such application")
        return {**row._mapping, "body": json.loads(row.body)}

    async def get(self, actor: Actor, application_id: str) -> dict[str, Any]:
        """An application with its steps, to its applicant, its provider and the bureau."""
        found = await self.list(actor, application_id=application_id)
        if not found:
            raise UnknownApplication(f"application_id {application_id!r}: no such application")
        return found[0]

    async def list(
        self, actor: Actor, *, application_id: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        apps = sharing_applications.c
        query = select(sharing_applications).order_by(apps.created_ms, apps.application_id)
        if application_id is not None:
            query = query.where(apps.application_id == application_id)
        if status is not None:
            query = query.where(apps.status == status)
        if not (actor.operator or actor.department == self.settings.bureau_code):
            query = query.where(
                (apps.member_id == actor.member_id) | (apps.provider_code == actor.department)
            )
        async with store_unavailable(), self.recorder.engine.connect() as conn:
            rows = (await conn.execute(query.limit(500))).all()
            ids = [r.application_id for r in rows]
            steps = (
                await conn.execute(
                    select(review_steps)
                    .where(review_steps.c.application_id.in_(ids))
                    .order_by(review_steps.c.opened_ms)
                )
            ).all()
        by_app: dict[str, list[dict[str, Any]]] = {}
        for s in steps:
            by_app.setdefault(s.application_id, []).append(_step_row(s))
        return [
            {
                "application_id": r.application_id,
                "member_id": r.member_id,
                "department_code": r.department_code,
                "resource_code": r.resource_code,
                "resource_version": r.resource_version,
                "provider_code": r.provider_code,
                "status": r.status,
                **json.loads(r.body),
                "created_ms": r.created_ms,
                "updated_ms": r.updated_ms,
                "steps": by_app.get(r.application_id, []),
            }
            for r in rows
        ]
