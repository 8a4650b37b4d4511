"""The subscriber reading the gateway's HTTP feed as a subscriber member: signed requests,
verified answers, the same cards as from the log, and a cursor that survives a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from gateway.client import GatewayClient
from gateway.log import OutRecord
from gateway.members.store import Grant as _Grant
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.runner import supervise
from gateway.supervision.sources import CaseSource, FeedSource
from gateway.supervision.state import open_state
from gateway.supervision.supervisor import Supervisor
from schemas.codec import EventCodec
from tests.gateway.api import conftest as api
from tests.gateway.api.conftest import Gateway, Signer
from tests.gateway.supervision.cases import at, event

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

gw = api.gw
profile = api.profile  # which algorithms `gw` uses: the default, Ed25519
codec = EventCodec()


async def run_feed_once(
    gw: Gateway, member: Signer, state_url: str, now: dt.datetime, publish: bool = False
) -> Supervisor:
    transport = httpx.ASGITransport(app=gw.app)
    async with (
        GatewayClient(
            "http://gateway",
            member_id=member.member_id,
            private_key=member.key,
            transport=transport,
        ) as client,
        open_state(state_url) as state,
    ):
        supervisor = Supervisor(
            state,
            WorkCalendar(),
            yellow_share=0.8,
            now=lambda: now,
            publish_to=gw.services.log if publish else None,
            echo=lambda line: None,
        )

        @asynccontextmanager
        async def source() -> AsyncIterator[CaseSource]:
            yield FeedSource(client, await state.position(FeedSource.source_id(client.base_url)))

        await asyncio.wait_for(
            supervise(supervisor, source, asyncio.Event(), interval=60, once=True), 60
        )
        return supervisor


async def test_cards_from_the_http_feed(gw: Gateway, tmp_path: Path) -> None:  # noqa: F811
    member = await gw.add_member("esup", "subscriber", grants=(EVERY_CASE,))
    state = f"sqlite:///{tmp_path / 'supervise.db'}"
    log = gw.services.log
    events = [
        event("A1", "ACCEPTED", "2026-09-28"),
        event("A1", "IN_REVIEW", "2026-09-29"),
        event("B1", "ACCEPTED", "2026-09-28"),
        event("B1", "SUPPLEMENT", "2026-09-30"),
    ]
    await log.append("case-events", [codec.encode("CaseEvent", e) for e in events])
    await log.append("case-events", [OutRecord(b"X9", b"garbage")])

    first = await run_feed_once(gw, member, state, at("2026-10-16"))
    # an item that does not decode is shown to no subscriber (who may see it is unknown)
    assert (first.counts.events, first.counts.skipped) == (4, 0)
    assert [line.split(":")[0] for line in first.counts.lines] == [
        "YELLOW 黄牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
        "RED 红牌 A1 衢州市柯城区发展和改革局 企业投资项目备案",
    ]  # B1 is paused at 2 days

    await log.append(
        "case-events", [codec.encode("CaseEvent", event("B1", "IN_REVIEW", "2026-10-09"))]
    )
    second = await run_feed_once(gw, member, state, at("2026-10-16"))
    assert (second.counts.events, second.counts.skipped) == (1, 0)  # resumed by cursor
    assert [line.split(":")[0] for line in second.counts.lines] == [
        "YELLOW 黄牌 B1 衢州市柯城区发展和改革局 企业投资项目备案"
    ]


async def test_cards_are_on_the_supervision_alerts_feed(gw: Gateway, tmp_path: Path) -> None:  # noqa: F811
    member = await gw.add_member("esup", "subscriber", grants=(EVERY_CASE,))
    record = event("A1", "ACCEPTED", "2026-09-28")
    await gw.services.log.append("case-events", [codec.encode("CaseEvent", record)])
    await run_feed_once(gw, member, f"sqlite:///{tmp_path / 's.db'}", at("2026-10-16"), True)

    department = record["department_code"]
    response = await gw.call(
        "GET", f"/v1/feeds/supervision-alerts?department={department}", "esup", purpose=None
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["key"], i["event"]["card"]) for i in items] == [("A1", "YELLOW"), ("A1", "RED")]
    assert items[0]["type"] == "cn.govgate.SupervisionAlert.v1"
    assert items[1]["event"]["statutory_due"] == "2026-10-14"
