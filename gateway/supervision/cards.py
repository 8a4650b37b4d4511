"""Yellow and red cards (黄牌/红牌): which a case has earned by a given time, and the alert record.

Yellow: elapsed days reach ``yellow_share`` × the promised limit (承诺时限), rounded up, at least
one day. Red: elapsed days exceed the statutory limit (法定时限). Each card has the date it was
earned (``crossed_on``), computed from the case's stages, so the same case gives the same cards
and dates whenever it is evaluated: the monthly report counts by that date.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import BEIJING, Card, CaseClock
from schemas.ids import event_id

SOURCE_SYSTEM = "govgate-supervise"
SOURCE_TABLE = "supervision-alerts"
CARD_NAMES = {Card.YELLOW: "黄牌", Card.RED: "红牌"}


@dataclass(frozen=True, slots=True)
class EarnedCard:
    """A card a case has earned: when, at what count, against which limit."""

    card: Card
    limit: int  # the promised limit for yellow, the statutory limit for red
    threshold: int  # elapsed days that trigger it
    crossed_on: dt.date
    provisional: bool


def thresholds(case: CaseFile, yellow_share: float) -> list[tuple[Card, int, int]]:
    """(card, limit, elapsed days that trigger it) for each limit the case has."""
    found: list[tuple[Card, int, int]] = []
    if case.promised_limit is not None:
        # round() first: 0.7 × 10 is 7.000000000000001 in binary floating point
        share = math.ceil(round(yellow_share * case.promised_limit, 9))
        found.append((Card.YELLOW, case.promised_limit, max(share, 1)))
    if case.statutory_limit is not None:
        found.append((Card.RED, case.statutory_limit, case.statutory_limit + 1))
    return found


def earned_cards(
    case: CaseFile, clock: CaseClock, through: dt.date, yellow_share: float
) -> list[EarnedCard]:
    """The cards ``case`` has earned on or before ``through`` (a date in Asia/Shanghai)."""
    start = clock.reached_on(0)
    if start is None:
        return []
    earned: list[EarnedCard] = []
    for card, limit, threshold in thresholds(case, yellow_share):
        crossed = clock.reached_on(threshold)
        if crossed is not None and crossed <= through:
            provisional = clock.range_is_provisional(start + dt.timedelta(days=1), crossed)
            earned.append(EarnedCard(card, limit, threshold, crossed, provisional))
    return earned


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
        "provisional": earned.provisional or elapsed.provisional,
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
    return (
        f"{card} {CARD_NAMES[card]} {alert['case_no']} {alert['department_name']} "
        f"{alert['item_name']}: {alert['elapsed_days']} {unit} elapsed, {kind} limit {limit} "
        f"(passed {alert['crossed_on']:%Y-%m-%d}){flags}"
    )


def _due(clock: CaseClock, limit: int | None) -> dt.date | None:
    return None if limit is None else clock.reached_on(limit)


def local_date(at: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware time."""
    return at.astimezone(BEIJING).date()
