"""Governance as people act on it: the gateway's database (SQLite, and PostgreSQL), its audit
chain and SQL log, the governance parts on a clock the test holds, and the three departments of
the governance story (市场监管 publishes, a county window applies, the bureau checks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.api.services import load_audit_secret
from gateway.audit.log import AuditLog
from gateway.catalogue.entries import Entry, parse_entry
from gateway.governance.acting import PersonActions
from gateway.governance.application_in import ApplicationIn
from gateway.governance.queue import Queue, work_calendar
from gateway.governance.record import Actor
from gateway.governance.roster import Roster
from gateway.governance.service import Governance
from gateway.log import open_log
from gateway.members.keys import generate_private_key
from gateway.members.store import MembersStore
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.gateway.api.conftest import PURPOSE, gateway_settings, reset_postgres
from tests.gateway.api.routes.test_governance_story import ENTRY

BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BEIJING)  # a Tuesday, no holiday that week


@dataclass(frozen=True)
class Someone:
    """A console person, as `gateway.api.console.Person` is (only what acting reads)."""

    username: str
    role: str
    department_code: str | None = None


OPERATOR = Someone("dsj-op", "operator")
SCJG = Someone("scjg-officer", "officer", "SCJG")
ZRZY = Someone("zrzy-officer", "officer", "ZRZY")
WINDOW_OFFICER = Someone("zhck-officer", "officer", "330802-ZHCK")
SUPERVISOR = Someone("jc-sup", "supervisor")
AUDITOR = Someone("sj-aud", "auditor")
READONLY = Someone("ro", "readonly")


@dataclass
class Clock:
    at: dt.datetime = START

    def __call__(self) -> float:
        return self.at.timestamp()

    def days(self, n: float) -> None:
        self.at += dt.timedelta(days=n)


@dataclass
class Gov:
    settings: Settings
    governance: Governance
    members: MembersStore
    clock: Clock
    actions: PersonActions
    queue: Queue
    roster: Roster
    audit: AuditLog
    applied: list[str] = field(default_factory=list)

    def entry(self, **change: object) -> Entry:
        return parse_entry(ENTRY | change)

    async def apply(self, fields: tuple[str, ...] = ("法定代表人", "住所"), days: int = 30) -> str:
        """The county window's application for 营业执照 (SCJG-YYZZ)."""
        request = ApplicationIn("SCJG-YYZZ", (PURPOSE,), "企业开办一窗通办", fields, days)
        app = await self.governance.applications.apply(Actor("window", "330802-ZHCK"), request)
        self.applied.append(app["application_id"])
        return str(app["application_id"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def gov(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Gov]:
    url = None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
        await reset_postgres(url)
    settings = gateway_settings(data_dir, url)
    clock = Clock()
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        async with AuditLog(engine, load_audit_secret(settings)) as audit:
            members = MembersStore(engine, clock=clock)
            governance = Governance.build(
                engine, audit, log, EventCodec(), members, settings.governance, clock=clock
            )
            for member_id, department in (
                ("scjg", "SCJG"),
                ("window", "330802-ZHCK"),
                ("zrzy", "ZRZY"),
            ):
                key = generate_private_key("ed25519").public_key()
                await members.add_member(
                    member_id, ("consumer",), keys=[key], department=department
                )
            queue = Queue(
                governance.applications,
                governance.catalogue,
                work_calendar(settings),
                settings.governance.bureau_code,
                settings.supervision.yellow_share,
            )
            yield Gov(
                settings,
                governance,
                members,
                clock,
                PersonActions(governance),
                queue,
                Roster(governance.grants, members),
                audit,
            )
