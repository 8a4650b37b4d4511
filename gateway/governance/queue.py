"""The applications queue (共享申请队列) for a person's role: what awaits me, and every review
step's working-day deadline with its yellow / red status (黄牌/红牌).

The clocks are the e-supervision subscriber's own (`CaseClock` on the supervision calendar:
statutory holidays, make-up working days, provisional years), fed as `clocks.as_case_event`
feeds the supervisor: a step's opening is its 受理, its decision its 办结, the step's limit both
the promised and the statutory one. So the card a page shows is the card the supervisor raises
on `supervision-alerts`, at the same moment.

Who sees what: the bureau's operators, supervisors, auditors and read-only people every
application; an officer those for its department's resources and those its department applied
for; any other role none (deny by default). What awaits a person: for an operator the open
compliance checks (合规审查), for an officer the open decisions (审核决定) of its department.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from gateway.catalogue.store import CatalogueStore
from gateway.governance.acting import OFFICER, OPERATOR, Acting, officer_of
from gateway.governance.applications import BUREAU, PROVIDER, Applications
from gateway.governance.clocks import STEP_NAMES
from gateway.governance.errors import NotForYourRole, UnknownApplication
from gateway.governance.record import Actor
from gateway.governance.tables import review_steps, sharing_applications
from gateway.settings import Settings
from gateway.store.errors import store_unavailable
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.clock import Card, CaseClock, Stage

READERS = ("operator", "officer", "supervisor", "auditor", "readonly")
STATUSES = ("PENDING_BUREAU", "PENDING_PROVIDER", "APPROVED", "REFUSED")
MAX_PAGE = 200


def work_calendar(settings: Settings) -> WorkCalendar:
    """The supervision calendar, with the operator's holiday notices (as `govgate supervise`)."""
    notices: Path = settings.supervision.notices_dir or settings.data_dir / "holiday-notices"
    return WorkCalendar(notices)


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


@dataclass(frozen=True)
class StepClock:
    """One review step, its working-day limit, deadline and card at the time asked."""

    step: str
    name: str  # 合规审查 / 审核决定
    department_code: str
    limit_days: int
    opened_at: dt.datetime
    last_day: dt.date | None  # the limit's last allowed day (Asia/Shanghai)
    elapsed_days: int
    card: Card  # ON_TIME, YELLOW (黄牌) or RED (红牌)
    provisional: bool  # the deadline rests on a year whose holidays are only forecast
    decided_at: dt.datetime | None
    decided_by: str | None
    decision: str | None
    reason: str | None
    fields: tuple[str, ...] | None

    @property
    def open(self) -> bool:
        return self.decided_at is None


@dataclass(frozen=True)
class QueueItem:
    """An application as the queue shows it."""

    application_id: str
    resource_code: str
    resource_version: int
    resource_name: str | None
    member_id: str  # the applying member
    department_code: str  # the applying department
    provider_code: str
    status: str
    purposes: tuple[str, ...]
    fields: tuple[str, ...]
    days: int
    scenario: str
    created_at: dt.datetime
    steps: tuple[StepClock, ...]
    awaits_me: bool  # its open step is the person's to decide

    @property
    def open_step(self) -> StepClock | None:
        return next((s for s in self.steps if s.open), None)


def step_clock(
    step: dict[str, Any], calendar: WorkCalendar, now: dt.datetime, yellow_share: float
) -> StepClock:
    """A step's clock, as the supervisor keeps it (`clocks.as_case_event`)."""
    clock = CaseClock(calendar)
    clock.feed(Stage.ACCEPTED, _time(step["opened_ms"]))
    decided = step["decided_ms"]
    if decided is not None:
        clock.feed(Stage.COMPLETED, _time(decided))
    limit = int(step["limit_days"])
    deadline = clock.deadline(limit)
    if deadline is None:  # decided before its last day: the day it was due all the same
        due = CaseClock(calendar)
        due.feed(Stage.ACCEPTED, _time(step["opened_ms"]))
        deadline = due.deadline(limit)
    elapsed = clock.elapsed(now if decided is None else min(now, _time(decided)))
    return StepClock(
        step=step["step"],
        name=STEP_NAMES.get(step["step"], step["step"]),
        department_code=step["department_code"],
        limit_days=limit,
        opened_at=_time(step["opened_ms"]),
        last_day=None if deadline is None else deadline.last_day,
        elapsed_days=elapsed.days,
        card=clock.status(now, limit, limit, yellow_share),
        provisional=(deadline is not None and deadline.provisional) or elapsed.provisional,
        decided_at=None if decided is None else _time(decided),
        decided_by=step["decided_by"],
        decision=step["decision"],
        reason=step["reason"],
        fields=None if step["fields"] is None else tuple(step["fields"]),
    )


class Queue:
    """The applications a person may see, with clocks; the page's and a test's one way in."""

    def __init__(
        self,
        applications: Applications,
        catalogue: CatalogueStore,
        calendar: WorkCalendar,
        bureau_code: str,
        yellow_share: float,
    ) -> None:
        self.applications, self.catalogue = applications, catalogue
        self.calendar, self.bureau_code, self.yellow_share = calendar, bureau_code, yellow_share

    def _scope(self, person: Acting) -> Any:
        """The SQL condition on `sharing_applications` of what `person` may see."""
        if person.role not in READERS:
            raise NotForYourRole(f"role {person.role!r}: may not see applications")
        if person.role != OFFICER:
            return None
        department = officer_of(person)
        if department is None:
            raise NotForYourRole("role 'officer': bound to no department, sees nothing")
        apps = sharing_applications.c
        return or_(apps.provider_code == department, apps.department_code == department)

    def _awaiting(self, person: Acting) -> Any:
        """The SQL condition on `review_steps` of the open steps that are `person`'s."""
        steps = review_steps.c
        if person.role == OPERATOR:
            return and_(steps.step == BUREAU, steps.department_code == self.bureau_code)
        department = officer_of(person)
        if department is not None:
            return and_(steps.step == PROVIDER, steps.department_code == department)
        return None

    async def page(
        self,
        person: Acting,
        now: dt.datetime,
        *,
        mine: bool = False,
        status: str | None = None,
        resource_code: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[QueueItem], int]:
        """One page of the queue, newest first (what awaits me: oldest step first), and how
        many match in all."""
        apps = sharing_applications.c
        conditions: list[Any] = []
        scope = self._scope(person)
        if scope is not None:
            conditions.append(scope)
        order: list[Any] = [apps.created_ms.desc(), apps.application_id]
        if mine:
            awaiting = self._awaiting(person)
            if awaiting is None:
                return [], 0
            open_mine = (
                select(review_steps.c.opened_ms)
                .where(
                    review_steps.c.application_id == apps.application_id,
                    review_steps.c.decided_ms.is_(None),
                    awaiting,
                )
                .correlate(sharing_applications)
            )
            conditions.append(exists(open_mine))
            order = [apps.updated_ms, apps.application_id]
        if status is not None:
            conditions.append(apps.status == status)
        if resource_code:
            conditions.append(apps.resource_code == resource_code)
        limit = max(1, min(limit, MAX_PAGE))
        query = select(sharing_applications).where(*conditions)
        counting = select(func.count()).select_from(sharing_applications).where(*conditions)
        async with store_unavailable(), self.applications.recorder.engine.connect() as conn:
            total = int(await conn.scalar(counting) or 0)
            rows = (await conn.execute(query.order_by(*order).offset(offset).limit(limit))).all()
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
            row = dict(s._mapping)
            row["fields"] = None if row["fields"] is None else json.loads(row["fields"])
            by_app.setdefault(s.application_id, []).append(row)
        names: dict[str, str | None] = {}
        items = []
        for r in rows:
            if r.resource_code not in names:
                entry = await self.catalogue.current(r.resource_code)
                names[r.resource_code] = None if entry is None else entry.name
            items.append(
                self._item(person, dict(r._mapping), by_app.get(r.application_id, []), now, names)
            )
        return items, total

    async def get(self, person: Acting, application_id: str, now: dt.datetime) -> QueueItem:
        """One application the person may see; UNKNOWN_APPLICATION otherwise (as if none)."""
        self._scope(person)
        found = await self.applications.list(Actor.command_line(), application_id=application_id)
        department = officer_of(person)
        if not found or (
            person.role == OFFICER
            and department not in (found[0]["provider_code"], found[0]["department_code"])
        ):
            raise UnknownApplication(f"application_id {application_id!r}: no application you see")
        app = found[0]
        entry = await self.catalogue.current(app["resource_code"])
        names = {app["resource_code"]: None if entry is None else entry.name}
        return self._item(person, app | {"body": None}, app["steps"], now, names)

    def _item(
        self,
        person: Acting,
        app: dict[str, Any],
        steps: list[dict[str, Any]],
        now: dt.datetime,
        names: dict[str, str | None],
    ) -> QueueItem:
        body = json.loads(app["body"]) if app.get("body") else app
        clocks = tuple(step_clock(s, self.calendar, now, self.yellow_share) for s in steps)
        open_step = next((c for c in clocks if c.open), None)
        awaits = open_step is not None and (
            (person.role == OPERATOR and open_step.step == BUREAU)
            or (officer_of(person) == open_step.department_code and open_step.step == PROVIDER)
        )
        return QueueItem(
            application_id=app["application_id"],
            resource_code=app["resource_code"],
            resource_version=int(app["resource_version"]),
            resource_name=names.get(app["resource_code"]),
            member_id=app["member_id"],
            department_code=app["department_code"],
            provider_code=app["provider_code"],
            status=app["status"],
            purposes=tuple(body["purposes"]),
            fields=tuple(body["fields"]),
            days=int(body["days"]),
            scenario=str(body["scenario"]),
            created_at=_time(int(app["created_ms"])),
            steps=clocks,
            awaits_me=awaits,
        )
