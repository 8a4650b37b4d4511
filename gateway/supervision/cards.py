"""Yellow and red cards (黄牌/红牌): which a case has earned by a given time, and the alert record.

Red: the case was still open when its statutory limit (法定时限) ran out, at the end of the
last allowed day (``CaseClock.deadline``); a completion after that moment is late whatever kind
of day it falls on. Yellow: the start of the yellow day of the promised limit (承诺时限,
``CaseClock.yellow_day``): ``yellow_share`` of it, and at least a working day before its last
day when it has room for one. Each card carries the date it belongs to (``crossed_on``: the
yellow day, or the red card's last allowed day, the day the limit was exceeded at the end of),
computed from the case's stages, so the same case gives the same cards and dates whenever it is
evaluated: the monthly report counts by that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import BEIJING, Card, CaseClock, start_of
from schemas.ids import event_id

SOURCE_SYSTEM = "govgate-supervise"
SOURCE_TABLE = "supervision-alerts"
CARD_NAMES = {Card.YELLOW: "黄牌", Card.RED: "红牌"}


@dataclass(frozen=True, slots=True)
class EarnedCard:
    """A card a case has earned: when, on which day, at what count, against which limit."""

    card: Card
    limit: int  # the promised limit for yellow, the statutory limit for red
    threshold: int  # yellow: days counted on the yellow day; red: the statutory limit
    crossed_on: dt.date  # yellow: the yellow day; red: the last allowed day
    earned_at: dt.datetime  # yellow: 00:00 of the yellow day; red: the end of the last day
    provisional: bool


def card_limits(case: CaseFile) -> list[tuple[Card, int]]:
    """(card, limit) for each limit the case has: yellow for the promised, red the statutory."""
    found: list[tuple[Card, int]] = []
    if case.promised_limit is not None:
        found.append((Card.YELLOW, case.promised_limit))
    if case.statutory_limit is not None:
        found.append((Card.RED, case.statutory_limit))
    return found


def earned_cards(
    case: CaseFile, clock: CaseClock, until: dt.datetime, yellow_share: float
) -> list[EarnedCard]:
    """The cards ``case`` has earned at or before ``until`` (a timezone-aware time)."""
    earned = [_earned(card, limit, clock, yellow_share) for card, limit in card_limits(case)]
    return [e for e in earned if e is not None and e.earned_at <= until]


def _earned(card: Card, limit: int, clock: CaseClock, yellow_share: float) -> EarnedCard | None:
    if card is Card.YELLOW:
        yellow = clock.yellow_day(limit, yellow_share)
        if yellow is None:
            return None
        at = start_of(yellow.day)
        return EarnedCard(card, limit, yellow.count, yellow.day, at, yellow.provisional)
    deadline = clock.deadline(limit)
    if deadline is None or not deadline.runs_past:
        return None
    return EarnedCard(card, limit, limit, deadline.last_day, deadline.ends_at, deadline.provisional)


def alert_record(
    case: CaseFile,
    clock: CaseClock,
    earned: EarnedCard,
    raised_at: dt.datetime,
) -> dict[str, Any]:
    """The SupervisionAlert for one earned card (schemas/avsc/SupervisionAlert.avsc)."""
    accepted = case.accepted
    assert accepted is not None, "a case earns cards only once its clock has started"
    elapsed = clock.elapsed(raised_at)  # a stopped clock stops counting by itself
    version = f"{earned.card}:{earned.limit}:{case.limit_unit}"
    return {
        "event_id": event_id(SOURCE_SYSTEM, SOURCE_TABLE, case.case_no, version),
        "case_no": case.case_no,
        "item_code": case.item_code,
        "item_name": case.item_name,
        "department_code": case.department_code,
        "department_name": case.department_name,
        "region_code": case.region_code,
        "card": str(earned.card),
        "elapsed_days": elapsed.days,
        "threshold_days": earned.threshold,
        "limit_unit": str(case.limit_unit),
        "promised_limit": case.promised_limit,
        "statutory_limit": case.statutory_limit,
        "promised_due": _due(clock, case.promised_limit),
        "statutory_due": _due(clock, case.statutory_limit),
        "crossed_on": earned.crossed_on,
        "accepted_at": accepted.at,
        "accepted_inferred": case.accepted_inferred,
        # Whether the card rests on forecast holidays; how many days have elapsed since (in a
        # year not known yet, perhaps) does not make a card earned in a known year provisional.
        "provisional": earned.provisional,
        "raised_at": raised_at,
        "provenance": {
            "source_system": SOURCE_SYSTEM,
            "source_table": SOURCE_TABLE,
            "source_key": case.case_no,
            "source_version": version,
            "fetched_at": raised_at,
            "connector": None,
        },
    }


def operator_line(alert: dict[str, Any]) -> str:
    """One line per card for the operator's terminal; holds no applicant data at all."""
    card = Card(alert["card"])
    limit = alert["statutory_limit"] if card is Card.RED else alert["promised_limit"]
    kind = "statutory" if card is Card.RED else "promised"
    unit = "working days" if alert["limit_unit"] == "WORKING_DAYS" else "natural days"
    flags = " [provisional]" if alert["provisional"] else ""
    flags += " [accepted time inferred]" if alert["accepted_inferred"] else ""
    if card is Card.RED:
        when = f"overdue since the end of {alert['crossed_on']:%Y-%m-%d}"
    else:
        due = alert["promised_due"]
        last = "not yet known" if due is None else f"{due:%Y-%m-%d}"
        when = f"yellow from {alert['crossed_on']:%Y-%m-%d}, last day {last}"
    return (
        f"{card} {CARD_NAMES[card]} {alert['case_no']} {alert['department_name']} "
        f"{alert['item_name']}: {alert['elapsed_days']} {unit} elapsed, {kind} limit {limit} "
        f"({when}){flags}"
    )


def _due(clock: CaseClock, limit: int | None) -> dt.date | None:
    deadline = None if limit is None else clock.deadline(limit)
    return None if deadline is None else deadline.last_day


def local_date(at: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware time."""
    return at.astimezone(BEIJING).date()
