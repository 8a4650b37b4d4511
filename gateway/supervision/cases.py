"""A case as the subscriber keeps it (办件档案): what it is, its limits, its stages in order.

Built from CaseEvent records, whether decoded from the log (times are datetimes) or read from
the HTTP feed (times are RFC 3339 texts). Stages are kept sorted by time and deduplicated by
event id, so a re-delivered or late event changes nothing or lands in its place; the clock is
rebuilt from them whenever it is needed.

A connector that starts on a department system with history sees each case at its current
version only, so a case may first appear in 审查中 without its 受理 event. Such a case is clocked
from the first stage seen (``accepted_inferred``): its elapsed days can only be too few, never
too many, so no card is ever raised on a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.clock import PAUSING, STOPPING, CaseClock, LimitUnit, Stage
from gateway.supervision.errors import CaseEventError

_OPEN = frozenset({Stage.IN_REVIEW}) | PAUSING


@dataclass(frozen=True, slots=True)
class StageAt:
    """One stage of a case, at a timezone-aware time, with its channel (办理渠道) and the
    applicant's visits so far (跑动次数) where the department records them."""

    event_id: str
    stage: Stage
    at: dt.datetime
    channel: str | None = None  # ONLINE, WINDOW, SELF_SERVICE, MOBILE, MAIL, OTHER
    visits: int | None = None


@dataclass(slots=True)
class CaseFile:
    """One case's description (from its newest event) and all its stages, oldest first."""

    case_no: str
    item_code: str
    item_name: str
    department_code: str
    department_name: str
    region_code: str
    limit_unit: LimitUnit = LimitUnit.WORKING_DAYS
    promised_limit: int | None = None
    statutory_limit: int | None = None
    stages: list[StageAt] = field(default_factory=list)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> CaseFile:
        case = cls(**{name: _text(event, name) for name in _DESCRIPTION})  # type: ignore[arg-type]
        case.add(event)
        return case

    def add(self, event: Mapping[str, Any]) -> bool:
        """Take one CaseEvent; False when its event id was already taken (a re-delivery)."""
        stage = StageAt(
            _text(event, "event_id"),
            _stage(event),
            _time(event, "occurred_at"),
            _channel(event),
            _visits(event),
        )
        if any(s.event_id == stage.event_id for s in self.stages):
            return False
        if not self.stages or stage.at >= self.stages[-1].at:
            for name in _DESCRIPTION:
                setattr(self, name, _text(event, name))
            self.limit_unit = _unit(event)
            self.promised_limit = _limit(event, "promised_limit", self.promised_limit)
            self.statutory_limit = _limit(event, "statutory_limit", self.statutory_limit)
        self.stages.append(stage)
        self.stages.sort(key=lambda s: s.at)  # stable: same-time stages keep arrival order
        return True

    @property
    def accepted(self) -> StageAt | None:
        """The stage the clock starts at: 受理, else (inferred) the first open stage seen."""
        for s in self.stages:
            if s.stage is Stage.ACCEPTED or s.stage in _OPEN:
                return s
            if s.stage in STOPPING:
                return None
        return None

    @property
    def accepted_inferred(self) -> bool:
        first = self.accepted
        return first is not None and first.stage is not Stage.ACCEPTED

    @property
    def channels(self) -> set[str]:
        """The channels recorded on its stages (empty: the department records none)."""
        return {s.channel for s in self.stages if s.channel is not None}

    @property
    def visits(self) -> int | None:
        """The most visits recorded at any stage (跑动次数), or None when none is recorded."""
        known = [s.visits for s in self.stages if s.visits is not None]
        return max(known) if known else None

    @property
    def ended(self) -> StageAt | None:
        """The 办结 or 退回/撤回 stage that closed the case, if any."""
        return next((s for s in self.stages if s.stage in STOPPING), None)

    @property
    def closed(self) -> bool:
        return self.ended is not None

    @property
    def completed(self) -> StageAt | None:
        """The 办结 stage, when the case ended that way (not withdrawn)."""
        end = self.ended
        return end if end is not None and end.stage is Stage.COMPLETED else None

    def clock(self, calendar: WorkCalendar, unit: LimitUnit | None = None) -> CaseClock:
        """A clock fed every stage, in the case's limit unit unless ``unit`` is given."""
        clock = CaseClock(calendar, unit or self.limit_unit)
        start = self.accepted
        if start is not None and start.stage is not Stage.ACCEPTED:
            clock.feed(Stage.ACCEPTED, start.at)
        for s in self.stages:
            clock.feed(s.stage, s.at)
        return clock


_DESCRIPTION = (
    "case_no",
    "item_code",
    "item_name",
    "department_code",
    "department_name",
    "region_code",
)


def _text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise CaseEventError(name, value, "must be a non-empty string")
    return value


def _stage(event: Mapping[str, Any]) -> Stage:
    value = event.get("stage")
    try:
        return Stage(str(value))
    except ValueError:
        return Stage.UNKNOWN


def _channel(event: Mapping[str, Any]) -> str | None:
    value = event.get("channel")
    return value if isinstance(value, str) and value and value != "UNKNOWN" else None


def _visits(event: Mapping[str, Any]) -> int | None:
    value = event.get("visits")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CaseEventError("visits", value, "must be a whole number >= 0")
    return value


def _unit(event: Mapping[str, Any]) -> LimitUnit:
    # UNKNOWN (or absent) is taken as working days, the unit of nearly every 办件时限.
    value = event.get("limit_unit")
    return LimitUnit.NATURAL_DAYS if value == LimitUnit.NATURAL_DAYS else LimitUnit.WORKING_DAYS


def _limit(event: Mapping[str, Any], name: str, before: int | None) -> int | None:
    value = event.get(name)
    if value is None:
        return before
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CaseEventError(name, value, "must be a whole number of days >= 0")
    return value


def _time(event: Mapping[str, Any], name: str) -> dt.datetime:
    value = event.get(name)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CaseEventError(name, value, "is not an RFC 3339 time") from exc
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise CaseEventError(name, value, "must be a timezone-aware time")
    return value.astimezone(dt.UTC)
