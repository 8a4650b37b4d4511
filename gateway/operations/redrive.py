"""Re-drive (重新投递) a dead letter once its source is corrected: re-fetch, re-check, publish.

The department fixes the row (a wrong check digit, a missing name); the operator asks for a
re-drive. The gateway cannot read department systems itself — that is the connectors' job, and
the gateway never imports them — so a `Refetcher` does it: given the dead letter's connector,
source table and key, it reads the row again, maps and checks it as the connector would, and
appends it to the target stream if it passes. The composition root provides one: the CLI passes
the connectors' directly, and the gateway process loads the one registered under the entry point
group `govgate.redrive` (the connectors package registers theirs), so a gateway installed
without the connectors says so instead of failing.

Every attempt is kept in `dl_redrives` with who asked and what came of it; a published record
marks the dead letter REDRIVEN. A record that still fails is not appended again (its dead letter
is already there); the attempt says why, masked.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import EventLog
from gateway.operations.deadletters import REDRIVEN, DeadLetter, DeadLetterIndex, mask_text
from gateway.operations.errors import OperationsUnavailable, RedriveUnavailable
from gateway.operations.tables import dl_redrives
from gateway.settings import Settings
from gateway.store.errors import unavailable_as
from schemas.errors import GovgateError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "govgate.redrive"


class Outcome(enum.StrEnum):
    REPUBLISHED = "REPUBLISHED"  # the corrected record passed and is on its stream
    STILL_FAILING = "STILL_FAILING"  # read again, and still not a valid record
    NOT_FOUND = "NOT_FOUND"  # the source no longer has the row
    FAILED = "FAILED"  # the source or the log could not be reached, or re-fetch is not possible


@dataclass(frozen=True, slots=True)
class RedriveRequest:
    """What a re-fetcher needs: where the record came from (unmasked: never shown)."""

    event_id: str
    connector: str
    target_stream: str
    source_system: str
    source_table: str
    source_key: str
    source_version: str


@dataclass(frozen=True, slots=True)
class RedriveResult:
    outcome: Outcome
    event_ids: tuple[str, ...] = ()  # published
    code: str | None = None  # why not
    reason: str | None = None


class Refetcher(Protocol):
    async def __call__(self, request: RedriveRequest) -> RedriveResult: ...


# What the entry point names: builds a re-fetcher for this process's settings, log and database.
RefetcherFactory = Callable[[Settings, EventLog, AsyncEngine], Refetcher]


def load_refetcher(settings: Settings, log: EventLog, engine: AsyncEngine) -> Refetcher | None:
    """The re-fetcher registered under `govgate.redrive` (the first by name), or None."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    if not found:
        return None
    factory: RefetcherFactory = found[0].load()
    return factory(settings, log, engine)


@dataclass(frozen=True, slots=True)
class Redrive:
    """One attempt, as kept."""

    event_id: str
    actor: str
    at_ms: int
    outcome: Outcome
    code: str | None
    detail: str | None
    event_ids: tuple[str, ...]

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at_ms / 1000, dt.UTC)


class Redrives:
    """Re-drives dead letters of the index and keeps each attempt."""

    def __init__(self, index: DeadLetterIndex, log: EventLog, refetcher: Refetcher | None) -> None:
        self.index = index
        self.log = log
        self.refetcher = refetcher

    @property
    def available(self) -> bool:
        return self.refetcher is not None

    async def redrive(self, event_id: str, actor: str) -> Redrive:
        """Re-fetch the dead letter's record and publish it if it now passes."""
        if self.refetcher is None:
            raise RedriveUnavailable(
                "no re-fetcher in this process: install the connectors beside the gateway"
            )
        letter = await self.index.get(event_id)
        request = await self._request(letter)
        try:
            result = await self.refetcher(request)
        except GovgateError as exc:
            logger.warning("re-drive of %s failed: %s", event_id, exc.code)
            result = RedriveResult(Outcome.FAILED, code=exc.code, reason=exc.detail)
        attempt = Redrive(
            event_id=letter.event_id,
            actor=actor,
            at_ms=int(time.time() * 1000),
            outcome=result.outcome,
            code=result.code,
            detail=None if result.reason is None else mask_text(result.reason)[:2000],
            event_ids=result.event_ids,
        )
        await self._keep(attempt)
        if result.outcome is Outcome.REPUBLISHED:
            await self.index.set_state(letter.event_id, REDRIVEN)
        return attempt

    async def attempts(self, event_id: str) -> list[Redrive]:
        """The attempts for one dead letter, newest first."""
        c = dl_redrives.c
        query = select(dl_redrives).where(c.event_id == event_id).order_by(c.id.desc())
        async with unavailable_as(OperationsUnavailable), self.index.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Redrive(
                r.event_id,
                r.actor,
                int(r.at_ms),
                Outcome(r.outcome),
                r.code,
                r.detail,
                tuple(json.loads(r.event_ids or "[]")),
            )
            for r in rows
        ]

    async def _request(self, letter: DeadLetter) -> RedriveRequest:
        original = await self.index.original(self.log, letter)
        prov = original["provenance"]
        return RedriveRequest(
            event_id=letter.event_id,
            connector=str(original["connector"]),
            target_stream=str(original["target_stream"]),
            source_system=str(prov["source_system"]),
            source_table=str(prov["source_table"]),
            source_key=str(prov["source_key"]),
            source_version=str(prov["source_version"]),
        )

    async def _keep(self, attempt: Redrive) -> None:
        async with unavailable_as(OperationsUnavailable), self.index.engine.begin() as conn:
            await conn.execute(
                dl_redrives.insert().values(
                    event_id=attempt.event_id,
                    actor=attempt.actor[:200],
                    at_ms=attempt.at_ms,
                    outcome=str(attempt.outcome),
                    code=attempt.code,
                    detail=attempt.detail,
                    event_ids=json.dumps(list(attempt.event_ids)),
                )
            )
