"""One governance action = one transaction: the change, its audit row, its `governance` event.

The transaction takes the audit chain's append lock first (`AuditLog.lock_within`), so
actions are serialized: what an action reads (is the step still open? which version is
current?) cannot change under it before it commits. They are short, and rare beside lookups.

`Recorder.action()` opens the transaction; the action's code changes its tables through the
connection and notes what happened (`Action.note`); on the way out the notes become audit rows
in the hash chain (`AuditLog.record_within`, same transaction) and outbox rows, and the commit
makes all of it durable at once, or none of it. The relay then moves the outbox to the log
(`governance` stream). If the log is away, the events wait in the outbox for the next relay
(`govgate governance run` relays every interval): at-least-once, with deterministic event ids
so a consumer recognises a repeat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.audit.log import AuditEntry, AuditLog
from gateway.governance.tables import governance_outbox
from gateway.log import EventLog, LogError, OutRecord
from gateway.members.store import MembersStore
from gateway.store.errors import store_unavailable
from schemas.codec import EventCodec
from schemas.ids import event_id

logger = logging.getLogger(__name__)

STREAM = "governance"
RECORD = "GovernanceEvent"
SOURCE_SYSTEM = "govgate-governance"
OPERATOR = "operator"  # who acts from the command line (govgate catalogue / members grant)


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed member (with its department), or the operator at the command line."""

    member_id: str
    department: str | None
    operator: bool = False

    @classmethod
    def command_line(cls) -> Actor:
        return cls(OPERATOR, None, operator=True)


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


@dataclass
class Action:
    """The open transaction of one action, and what it has noted so far."""

    conn: AsyncConnection
    at_ms: int
    actor: Actor
    events: list[dict[str, Any]] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)

    def note(self, action: str, subject: str, resource_code: str, **values: Any) -> None:
        """Record `action` on `subject`: its audit row and its event (GovernanceEvent fields)."""
        n = len(self.events)
        version = f"{action}@{self.at_ms}#{n}"
        expires = values.pop("expires_ms", None)
        event: dict[str, Any] = {
            "event_id": event_id(SOURCE_SYSTEM, STREAM, subject, version),
            "action": action,
            "subject": subject,
            "resource_code": resource_code,
            "resource_version": None,
            "resource_name": None,
            "provider_department_code": None,
            "application_id": None,
            "grant_id": None,
            "actor_member_id": self.actor.member_id,
            "actor_department_code": self.actor.department,
            "consumer_member_id": None,
            "step": None,
            "step_department_code": None,
            "step_department_name": None,
            "limit_days": None,
            "decision": None,
            "reason": None,
            "sharing_class": None,
            "legal_basis": None,
            "purposes": [],
            "fields": [],
            "expires_at": None if expires is None else _time(int(expires)),
            "entry_json": None,
            "occurred_at": _time(self.at_ms),
            "provenance": {
                "source_system": SOURCE_SYSTEM,
                "source_table": STREAM,
                "source_key": subject,
                "source_version": version,
                "fetched_at": _time(self.at_ms),
                "connector": None,
            },
        }
        unknown = set(values) - set(event)
        assert not unknown, f"not GovernanceEvent fields: {unknown}"
        event.update(values)
        self.events.append(event)
        purposes = event["purposes"]
        self.audits.append(
            AuditEntry(
                method="GOV",
                path=f"/governance/{subject}",
                route=f"governance:{action.lower()}",
                decision="allow",
                status=200,
                member_id=self.actor.member_id,
                purpose=purposes[0] if purposes else None,
                code=action,
                at_ms=self.at_ms,
            )
        )


class Recorder:
    """Opens governance actions on the gateway's database and relays their events to the log."""

    def __init__(
        self,
        engine: AsyncEngine,
        audit: AuditLog,
        log: EventLog | None,
        codec: EventCodec,
        members: MembersStore | None = None,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.engine, self.audit, self.log, self.codec = engine, audit, log, codec
        self.members = members
        self.clock = clock
        self._relaying = asyncio.Lock()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    @asynccontextmanager
    async def action(self, actor: Actor) -> AsyncIterator[Action]:
        """The transaction of one action; commits the change with its audit rows and events."""
        try:
            async with store_unavailable(), self.engine.begin() as conn:
                await self.audit.lock_within(conn)  # one action at a time, reads included
                act = Action(conn, self.now_ms(), actor)
                yield act
                if act.audits:
                    await self.audit.record_within(conn, act.audits)
                if act.events:
                    await conn.execute(
                        governance_outbox.insert(), [self._outbox_row(e) for e in act.events]
                    )
        finally:
            if self.members is not None:
                self.members.generation += 1  # this process's member cache forgets at once
        await self.relay()

    def _outbox_row(self, event: dict[str, Any]) -> dict[str, Any]:
        encoded = self.codec.encode(RECORD, event)
        headers = [[name, value.decode("latin-1")] for name, value in encoded.headers]
        return {
            "event_key": encoded.key,
            "event_value": encoded.value,
            "headers": json.dumps(headers),
            "created_ms": int(event["occurred_at"].timestamp() * 1000),
        }

    async def relay(self, *, batch: int = 500) -> int:
        """Move waiting events from the outbox to the log, oldest first; returns how many.
        A log that is away leaves them waiting (and says so): the change is already durable."""
        if self.log is None:
            return 0
        moved = 0
        async with self._relaying:
            while True:
                async with store_unavailable(), self.engine.connect() as conn:
                    query = select(governance_outbox).order_by(governance_outbox.c.seq)
                    rows = (await conn.execute(query.limit(batch))).all()
                if not rows:
                    return moved
                records = [
                    OutRecord(
                        bytes(r.event_key),
                        bytes(r.event_value),
                        tuple((n, v.encode("latin-1")) for n, v in json.loads(r.headers)),
                    )
                    for r in rows
                ]
                try:
                    await self.log.append(STREAM, records)
                except LogError as exc:
                    logger.warning("governance events wait in the outbox: %s", exc)
                    return moved
                seqs = [r.seq for r in rows]
                async with store_unavailable(), self.engine.begin() as conn:
                    await conn.execute(
                        delete(governance_outbox).where(governance_outbox.c.seq.in_(seqs))
                    )
                moved += len(rows)
