"""The subscriber on a real log (SQL log and Kafka): cards reach supervision-alerts once each,
open cases earn cards as time passes with no new event, and a restart resumes where it was."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gateway.log import EventLog, OutRecord
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.runner import supervise
from gateway.supervision.sources import CaseSource, LogSource
from gateway.supervision.state import open_state
from gateway.supervision.supervisor import Supervisor
from schemas.codec import EventCodec
from tests.gateway.supervision.cases import at, event

codec = EventCodec()
GROUP = "test-supervise"


async def publish(log: EventLog, *events: dict[str, Any]) -> None:
    await log.append("case-events", [codec.encode("CaseEvent", e) for e in events])


async def run_once(log: EventLog, state_url: str, now: dt.datetime) -> Supervisor:
    """One `govgate supervise --once` pass, in process, with the clock held at `now`."""
    async with open_state(state_url) as state:
        supervisor = Supervisor(
            state,
            WorkCalendar(),
            yellow_share=0.8,
            now=lambda: now,
            publish_to=log,
            echo=lambda line: None,
        )

        @asynccontextmanager
        async def source() -> AsyncIterator[CaseSource]:
            saved = await state.position(LogSource.source_id(GROUP))
            async with LogSource(log, GROUP, saved, codec).opened() as opened:
                yield opened

        await asyncio.wait_for(
            supervise(supervisor, source, asyncio.Event(), interval=60, once=True), 60
        )
        return supervisor


async def alerts(log: EventLog) -> list[tuple[str, str, str]]:
    """(key, case_no, card) of every SupervisionAlert on the stream, sorted."""
    found = []
    async for record in log.iterate("supervision-alerts"):
        alert = codec.decode(record.value)
        assert alert.name == "SupervisionAlert"
        assert record.key is not None
        found.append((record.key.decode(), alert.record["case_no"], alert.record["card"]))
    return sorted(found)


async def test_cards_reach_the_alerts_stream_once_each(event_log: EventLog, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'supervise.db'}"
    await publish(
        event_log,
        event("A1", "ACCEPTED", "2026-09-28"),  # yellow Oct 9, red at the end of Oct 14
        event("A1", "IN_REVIEW", "2026-09-29"),
        event("B1", "ACCEPTED", "2026-09-28"),  # paused 补正 Sep 30 – Oct 9:
        event("B1", "SUPPLEMENT", "2026-09-30"),  # yellow Oct 12, red at the end of Fri Oct 16
        event("B1", "IN_REVIEW", "2026-10-09"),
        event("C1", "ACCEPTED", "2026-09-28"),  # completed within its limits
        event("C1", "COMPLETED", "2026-10-08"),
    )
    await event_log.append("case-events", [OutRecord(b"X9", b"\xc3\x01not avro at all")])

    first = await run_once(event_log, state, at("2026-10-16", 12))
    assert (first.counts.events, first.counts.skipped, first.counts.cards) == (7, 1, 3)
    assert await alerts(event_log) == [
        ("A1", "A1", "RED"),
        ("A1", "A1", "YELLOW"),
        ("B1", "B1", "YELLOW"),
    ]
    assert sorted(line.split(":")[0] for line in first.counts.lines) == [
        "RED 红牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
        "YELLOW 黄牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
        "YELLOW 黄牌 B1 衢州市柯城区发展和改革局 企业投资项目备案",
    ]

    # Same time again: nothing new read, nothing raised twice.
    again = await run_once(event_log, state, at("2026-10-16", 18))
    assert (again.counts.events, again.counts.cards) == (0, 0)

    # B1 sits; when Fri Oct 16, its last allowed day, ends, it is overdue with no new event:
    # the card comes at Saturday 00:00, not on Monday.
    later = await run_once(event_log, state, at("2026-10-17", 0))
    assert (later.counts.events, later.counts.cards) == (0, 1)
    assert list(later.counts.lines) == [
        "RED 红牌 B1 衢州市柯城区发展和改革局 企业投资项目备案: 8 working days elapsed, "
        "statutory limit 8 (overdue since the end of 2026-10-16)"
    ]
    assert len(await alerts(event_log)) == 4


async def test_a_restart_resumes_from_the_saved_position(
    event_log: EventLog, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path / 'supervise.db'}"
    await publish(event_log, event("D1", "ACCEPTED", "2026-09-28"))
    first = await run_once(event_log, state, at("2026-09-29"))
    assert (first.counts.events, first.counts.cards) == (1, 0)

    # Paused for 补正 before it could earn anything; the pause holds past every limit.
    await publish(event_log, event("D1", "SUPPLEMENT", "2026-09-30"))
    second = await run_once(event_log, state, at("2026-11-30"))
    assert (second.counts.events, second.counts.duplicates, second.counts.cards) == (1, 0, 0)

    # Resumed: the clock picks up at 2 days; the old events are not read again.
    await publish(event_log, event("D1", "IN_REVIEW", "2026-11-30"))
    third = await run_once(event_log, state, at("2026-12-02"))
    assert (third.counts.events, third.counts.cards) == (1, 1)  # day 4: yellow
    assert await alerts(event_log) == [("D1", "D1", "YELLOW")]


async def test_a_new_state_database_reads_what_the_group_already_passed(
    event_log: EventLog, tmp_path: Path
) -> None:
    """The group's committed position is ahead of an empty state (restored or replaced):
    the gap is read again from the log, so no case is lost."""
    await publish(event_log, event("E1", "ACCEPTED", "2026-09-28"))
    first = await run_once(event_log, f"sqlite:///{tmp_path / 'a.db'}", at("2026-10-16"))
    assert (first.counts.events, first.counts.cards) == (1, 2)

    replaced = await run_once(event_log, f"sqlite:///{tmp_path / 'b.db'}", at("2026-10-16"))
    assert (replaced.counts.events, replaced.counts.cards) == (1, 2)
    # the same cards again, with the same event ids: a subscriber downstream can tell
    ids = [
        codec.decode(r.value).record["event_id"]
        async for r in event_log.iterate("supervision-alerts")
    ]
    assert len(ids) == 4 and len(set(ids)) == 2
