"""The supervisor: applies case events to the state, raises cards, and puts them on the log.

Cards are raised by sweeps: each checks the open cases and those changed since the last one
against the clock now, so a case that simply sits past its limit gets its card with no new
event. The runner sweeps only once the source is caught up: a subscriber that was stopped for a
while must not judge a case by "now" before it has read what happened to it meanwhile. ``now``
is injectable (``--now`` on the command line), which is how the tests hold the clock still.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.log import EventLog
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cards import alert_record, card_limits, earned_cards, operator_line
from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import Card
from gateway.supervision.errors import CaseEventError
from gateway.supervision.state import NewCard, SupervisionState
from schemas.codec import EventCodec

logger = logging.getLogger(__name__)

ALERTS_STREAM = "supervision-alerts"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One case event from a source: its place there, and the record (None: undecodable)."""

    where: str  # e.g. "case-events/0@17" or a feed cursor, for the log line
    event: Mapping[str, Any] | None
    error: str | None = None


@dataclass(slots=True)
class Counts:
    """What the supervisor has done since it started."""

    events: int = 0
    duplicates: int = 0
    skipped: int = 0  # undecodable or unusable events, each logged with its position
    cards: int = 0
    published: int = 0
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=1000))  # the newest cards


class Supervisor:
    """Keeps case clocks in the state database and raises each card once per case."""

    def __init__(
        self,
        state: SupervisionState,
        calendar: WorkCalendar,
        *,
        yellow_share: float,
        now: Callable[[], dt.datetime],
        publish_to: EventLog | None = None,
        codec: EventCodec | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.state = state
        self.calendar = calendar
        self.yellow_share = yellow_share
        self.now = now
        self.publish_to = publish_to
        self.codec = codec or EventCodec()
        self.echo = echo
        self.counts = Counts()

    async def apply(
        self, batch: Sequence[Incoming], source: str | None = None, position: str | None = None
    ) -> None:
        """Take a batch of events; save the touched cases and the position together."""
        touched: dict[str, CaseFile] = {}
        usable = [i for i in batch if self._usable(i)]
        wanted = {str(i.event["case_no"]) for i in usable if i.event is not None}
        known = await self.state.cases(wanted)
        for item in usable:
            assert item.event is not None
            case_no = str(item.event["case_no"])
            try:
                case = touched.get(case_no) or known.get(case_no)
                if case is None:
                    case = CaseFile.from_event(item.event)
                elif not case.add(item.event):
                    self.counts.duplicates += 1
                    continue
            except CaseEventError as exc:
                self._skip(item.where, str(exc))
                continue
            touched[case_no] = case
            self.counts.events += 1
        await self.state.save(list(touched.values()), [], source, position)

    async def sweep(self) -> int:
        """Check open and changed cases against the clock now; returns the cards raised.

        The holiday notices folder is looked at first, so a notice dropped while the subscriber
        runs counts from this sweep on (cards already raised keep their dates).
        """
        self.calendar.refresh()
        cases = await self.state.to_check()
        cards = await self._new_cards(cases)
        closed = [c.case_no for c in cases if c.closed or c.accepted is None]
        if cards or closed:
            await self.state.save([], cards, checked=closed)
            self._announce(cards)
        return len(cards)

    async def publish(self) -> int:
        """Append cards not yet on the log to `supervision-alerts`; returns how many."""
        if self.publish_to is None:
            return 0
        done = 0
        while pending := await self.state.unpublished():
            await self.publish_to.append(ALERTS_STREAM, [record for _, _, record in pending])
            await self.state.mark_published((case_no, card) for case_no, card, _ in pending)
            done += len(pending)
        self.counts.published += done
        return done

    async def _new_cards(self, cases: Sequence[CaseFile]) -> list[NewCard]:
        now = self.now()
        raised = await self.state.raised(c.case_no for c in cases)
        cards: list[NewCard] = []
        for case in cases:
            if all((case.case_no, c) in raised for c, _ in card_limits(case)):
                continue  # every card it can earn is out: no clock to build
            clock = case.clock(self.calendar)
            for earned in earned_cards(case, clock, now, self.yellow_share):
                if (case.case_no, earned.card) in raised:
                    continue
                record = alert_record(case, clock, earned, now)
                cards.append(
                    NewCard(
                        case.case_no,
                        earned.card,
                        earned.limit,
                        earned.crossed_on,
                        now,
                        operator_line(record),
                        self.codec.encode("SupervisionAlert", record),
                    )
                )
        return sorted(cards, key=lambda c: (c.crossed_on, c.case_no, c.card is Card.RED))

    def _announce(self, cards: Sequence[NewCard]) -> None:
        for card in cards:
            self.counts.cards += 1
            self.counts.lines.append(card.line)
            self.echo(card.line)

    def _usable(self, item: Incoming) -> bool:
        if item.event is None:
            self._skip(item.where, item.error or "undecodable")
            return False
        case_no = item.event.get("case_no")
        if not isinstance(case_no, str) or not case_no:
            self._skip(item.where, f"{CaseEventError('case_no', case_no, 'must be set')}")
            return False
        return True

    def _skip(self, where: str, why: str) -> None:
        self.counts.skipped += 1
        logger.warning("case event at %s skipped: %s", where, why)
