"""Cards (黄牌/红牌) earned by a case: across National Day 2026, with pauses, and what is inferred.

2026 around National Day (chinese-calendar 1.11.0): Oct 1–7 off, Sat Oct 10 a make-up working
day (调休上班), Sun Oct 11 off. A case accepted Mon Sep 28 counts Sep 29 (1), Sep 30 (2), Oct 8
(3), Oct 9 (4), Sat Oct 10 (5), Oct 12 (6), Oct 13 (7), Oct 14 (8), Oct 15 (9). With promised 5
and statutory 8 working days, its yellow card comes on Oct 9 and its red card at the end of
Oct 14, the last allowed day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cards import alert_record, card_limits, earned_cards, operator_line
from gateway.supervision.cases import CaseFile
from gateway.supervision.clock import BEIJING, Card
from gateway.supervision.errors import CaseEventError
from schemas.codec import EventCodec
from tests.gateway.supervision.cases import at, event

D = dt.date.fromisoformat


def case_of(*events: dict[str, object]) -> CaseFile:
    case = CaseFile.from_event(events[0])
    for e in events[1:]:
        case.add(e)
    return case


def cards(
    case: CaseFile, day: str, hour: int = 12, share: float = 0.8
) -> list[tuple[Card, dt.date]]:
    """The cards earned by `hour`:00 on `day` (Beijing time), with the day each belongs to."""
    clock = case.clock(WorkCalendar())
    return [(c.card, c.crossed_on) for c in earned_cards(case, clock, at(day, hour), share)]


def test_cards_across_national_day_and_its_make_up_saturday() -> None:
    case = case_of(event("A1", "ACCEPTED", "2026-09-28"), event("A1", "IN_REVIEW", "2026-09-29"))
    assert card_limits(case) == [(Card.YELLOW, 5), (Card.RED, 8)]
    assert cards(case, "2026-10-08") == []
    assert cards(case, "2026-10-09", 0) == [(Card.YELLOW, D("2026-10-09"))]  # 4 days
    assert cards(case, "2026-10-14", 23) == [(Card.YELLOW, D("2026-10-09"))]  # the last day
    assert cards(case, "2026-10-15", 0) == [
        (Card.YELLOW, D("2026-10-09")),
        (Card.RED, D("2026-10-14")),  # open when Oct 14 ended
    ]
    clock = case.clock(WorkCalendar())
    _, red = earned_cards(case, clock, at("2026-10-15", 0), 0.8)
    assert red.earned_at == dt.datetime(2026, 10, 15, tzinfo=BEIJING)
    assert red.threshold == 8


def test_the_alert_carries_due_dates_and_elapsed_days() -> None:
    case = case_of(event("A1", "ACCEPTED", "2026-09-28"))
    clock = case.clock(WorkCalendar())
    [_, red] = earned_cards(case, clock, at("2026-10-16"), 0.8)
    record = alert_record(case, clock, red, at("2026-10-16", 15))
    assert record["promised_due"] == D("2026-10-10")  # the make-up Saturday is day 5
    assert record["statutory_due"] == D("2026-10-14")
    assert record["crossed_on"] == D("2026-10-14")  # the day at whose end it became overdue
    assert record["elapsed_days"] == 10  # Oct 16 is day 10
    assert record["threshold_days"] == 8
    assert record["provisional"] is False
    assert record["accepted_inferred"] is False
    EventCodec().encode("SupervisionAlert", record)  # fits the schema
    again = alert_record(case, clock, red, at("2026-10-20"))
    assert again["event_id"] == record["event_id"]  # a re-raised card is recognisable
    line = operator_line(record)
    assert line.startswith("RED 红牌 A1 衢州市柯城区发展和改革局")
    assert "10 working days elapsed, statutory limit 8 (overdue since the end of 2026-10-14)" in (
        line
    )
    [yellow, _] = earned_cards(case, clock, at("2026-10-16"), 0.8)
    assert operator_line(alert_record(case, clock, yellow, at("2026-10-16"))).endswith(
        "promised limit 5 (yellow from 2026-10-09, last day 2026-10-10)"
    )


def test_supplement_pauses_the_clock_and_resumption_picks_it_up() -> None:
    case = case_of(
        event("B1", "ACCEPTED", "2026-09-28"),
        event("B1", "SUPPLEMENT", "2026-09-30"),  # 补正 after 2 days
        event("B1", "IN_REVIEW", "2026-10-09"),  # resubmitted: Oct 9 is like day 0 again
    )
    # counted: Sep 29, Sep 30 | Oct 10 (3), Oct 12 (4) → yellow; … Oct 16 (8), the last day
    assert cards(case, "2026-10-31") == [
        (Card.YELLOW, D("2026-10-12")),
        (Card.RED, D("2026-10-16")),
    ]


def test_special_procedure_open_ended_earns_nothing_more() -> None:
    case = case_of(
        event("B2", "ACCEPTED", "2026-09-28"),
        event("B2", "SPECIAL_PROCEDURE", "2026-09-30"),  # 特别程序, not over yet
    )
    assert cards(case, "2026-12-31") == []


def test_a_case_completed_late_keeps_its_red_card_and_one_on_time_has_none() -> None:
    late = case_of(event("C1", "ACCEPTED", "2026-09-28"), event("C1", "COMPLETED", "2026-10-16"))
    assert [c for c, _ in cards(late, "2026-12-31")] == [Card.YELLOW, Card.RED]
    early = case_of(event("C2", "ACCEPTED", "2026-09-28"), event("C2", "COMPLETED", "2026-10-08"))
    assert cards(early, "2026-12-31") == []


def test_events_out_of_order_and_repeated_land_in_place() -> None:
    accepted = event("D1", "ACCEPTED", "2026-09-28")
    case = case_of(event("D1", "IN_REVIEW", "2026-09-29"), accepted)
    assert case.add(accepted) is False  # the same event id again
    assert not case.accepted_inferred
    assert cards(case, "2026-10-09") == [(Card.YELLOW, D("2026-10-09"))]


def test_a_case_first_seen_in_review_is_clocked_from_there_and_flagged() -> None:
    case = case_of(event("E1", "IN_REVIEW", "2026-10-08"))
    assert case.accepted_inferred
    # counted from Oct 8: Oct 9 (1) … Oct 13 (4) → yellow
    assert cards(case, "2026-10-13") == [(Card.YELLOW, D("2026-10-13"))]
    clock = case.clock(WorkCalendar())
    [yellow] = earned_cards(case, clock, at("2026-10-13"), 0.8)
    record = alert_record(case, clock, yellow, at("2026-10-13", 18))
    assert record["accepted_inferred"] is True
    assert "[accepted time inferred]" in operator_line(record)


def test_a_case_seen_only_completed_has_no_clock() -> None:
    assert cards(case_of(event("E2", "COMPLETED", "2026-10-08")), "2026-12-31") == []


def test_natural_day_limits_count_holidays() -> None:
    case = case_of(event("F1", "ACCEPTED", "2026-09-30", unit="NATURAL_DAYS"))
    # promised 5 natural days: Oct 5 is a holiday, so the last day is Thu Oct 8; no working day
    # lies between acceptance and it, so the yellow card stays at the share, Oct 4.
    # statutory 8 natural days: Oct 8, a working day; overdue at its end.
    assert cards(case, "2026-10-31") == [
        (Card.YELLOW, D("2026-10-04")),
        (Card.RED, D("2026-10-08")),
    ]


def test_the_yellow_share_rounds_up_without_float_noise() -> None:
    case = case_of(event("G1", "ACCEPTED", "2026-09-28", promised=10, statutory=20))
    clock = case.clock(WorkCalendar())
    counts = [clock.yellow_day(10, share) for share in (0.7, 0.01, 1.0)]
    # 7, not 8 (0.7 × 10 = 7.000…01); at least one day; a working day before the last one
    assert [y.count if y else None for y in counts] == [7, 1, 9]


def test_a_count_running_into_an_unknown_year_is_provisional() -> None:
    case = case_of(event("H1", "ACCEPTED", "2026-12-22", promised=5, statutory=8))
    clock = case.clock(WorkCalendar())  # no notice for 2027: its fixed holidays, forecast
    [yellow, red] = earned_cards(case, clock, at("2027-01-31"), 0.8)
    assert (yellow.crossed_on, yellow.provisional) == (D("2026-12-28"), False)
    # Dec 29–31 are days 5–7; Fri Jan 1 2027 (元旦) is off, so Mon Jan 4 is day 8, the last
    assert (red.crossed_on, red.provisional) == (D("2027-01-04"), True)


def test_a_card_earned_in_a_known_year_is_not_provisional_when_raised_in_an_unknown_one() -> None:
    case = case_of(event("H2", "ACCEPTED", "2026-12-22", promised=5, statutory=8))
    clock = case.clock(WorkCalendar())
    raised = at("2027-01-05", 9)  # the subscriber was down over New Year
    [yellow, red] = earned_cards(case, clock, raised, 0.8)
    assert alert_record(case, clock, yellow, raised)["provisional"] is False  # Dec 28
    assert alert_record(case, clock, red, raised)["provisional"] is True  # Jan 4: forecast


def test_a_malformed_event_names_the_field_and_value() -> None:
    bad = event("Z1", "ACCEPTED", "2026-09-28")
    bad["occurred_at"] = "yesterday"
    with pytest.raises(CaseEventError, match="occurred_at.*'yesterday'"):
        CaseFile.from_event(bad)
    bad = event("Z1", "ACCEPTED", "2026-09-28", promised=-3)
    with pytest.raises(CaseEventError, match="promised_limit.*-3"):
        CaseFile.from_event(bad)
