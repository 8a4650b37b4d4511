"""The governance parts wired once, for the gateway's lifespan and the command line alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.log import AuditLog
from gateway.catalogue.store import CatalogueStore
from gateway.governance.applications import Applications
from gateway.governance.grants import GrantBook
from gateway.governance.record import Actor, Recorder
from gateway.log import EventLog
from gateway.members.store import Member, MembersStore
from gateway.settings import GovernanceSettings
from schemas.codec import EventCodec


@dataclass
class Governance:
    settings: GovernanceSettings
    recorder: Recorder
    catalogue: CatalogueStore
    applications: Applications
    grants: GrantBook

    @classmethod
    def build(
        cls,
        engine: AsyncEngine,
        audit: AuditLog,
        log: EventLog | None,
        codec: EventCodec,
        members: MembersStore | None,
        settings: GovernanceSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> Governance:
        recorder = Recorder(engine, audit, log, codec, members, clock=clock)
        catalogue = CatalogueStore(engine)
        return cls(
            settings,
            recorder,
            catalogue,
            Applications(recorder, catalogue, settings),
            GrantBook(recorder, settings.bureau_code),
        )

    def actor(self, member: Member) -> Actor:
        return Actor(member.member_id, member.department)

    def is_bureau(self, member: Member) -> bool:
        return member.department == self.settings.bureau_code
