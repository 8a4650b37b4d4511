"""The e-supervision feed: resumable pages, long-poll, filters, SSE with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from gateway.audit.tables import audit_rows
from gateway.feeds import Filter, decode_cursor, encode_cursor, read_page
from gateway.log import EventLog, open_log
from gateway.members.store import Grant as _Grant
from gateway.signatures import verify_response
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import free_port
from tests.gateway.api.conftest import Gateway
from tests.gateway.log.conftest import settings_for
from tests.samples import case_event

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

FEED = "/v1/feeds/case-events"


@pytest.fixture
async def sub(gw: Gateway) -> Gateway:
    await gw.add_member("sup", "subscriber", grants=(EVERY_CASE,))
    await gw.add_member("window", "consumer")
    return gw


def cases(n: int, **fields: Any) -> list[dict[str, Any]]:
    return [case_event(f"SL3308022026112300{i:02d}") | fields for i in range(n)]


async def get(gw: Gateway, query: str, **kw: Any) -> Any:
    response = await gw.call("GET", f"{FEED}?{query}", "sup", **kw)
    assert response.status_code == 200, response.text
    return response.json()


async def test_pages_resume_without_gaps_or_duplicates(sub: Gateway) -> None:
    await sub.publish("CaseEvent", *cases(25))
    seen: list[int] = []
    after = ""
    for expected in (10, 10, 5, 0):
        page = await get(sub, f"limit=10&after={after}")
        assert len(page["items"]) == expected
        seen += [item["offset"] for item in page["items"]]
        after = page["next"]
    assert seen == list(range(25))
    first = (await get(sub, "limit=1"))["items"][0]
    assert first["stream"] == "case-events" and first["partition"] == 0
    assert first["key"] == "SL330802202611230000" == first["event"]["case_no"]
    assert first["type"] == "cn.govgate.CaseEvent.v1" and first["time"].endswith("Z")
    # an item's own cursor resumes just after it
    assert (await get(sub, f"limit=1&after={first['cursor']}"))["items"][0]["offset"] == 1


async def test_long_poll_returns_when_an_event_is_appended(sub: Gateway) -> None:
    await sub.publish("CaseEvent", *cases(2))
    tail = (await get(sub, "limit=500"))["next"]
    started = time.monotonic()
    waiting = asyncio.create_task(get(sub, f"wait=10&after={tail}"))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await sub.publish("CaseEvent", case_event("SL330802202611239999"))
    page = await asyncio.wait_for(waiting, 5)
    assert [i["event"]["case_no"] for i in page["items"]] == ["SL330802202611239999"]
    assert time.monotonic() - started < 5
    started = time.monotonic()
    empty = await get(sub, f"wait=0.5&after={page['next']}")
    assert empty["items"] == [] and empty["next"] == page["next"]
    assert time.monotonic() - started >= 0.5


async def test_filters_apply_server_side_and_still_advance(sub: Gateway) -> None:
    await sub.publish("CaseEvent", *cases(3))
    other = cases(2, department_code="11330802MB0000000X", region_code="330803")
    other = [r | {"case_no": f"X{i}"} for i, r in enumerate(other)]
    await sub.publish("CaseEvent", *other)
    await sub.publish("CaseEvent", case_event("SL330802202611230099") | {"item_code": "OTHER"})
    page = await get(sub, "department=11330802MB0000000X")
    assert [i["offset"] for i in page["items"]] == [3, 4]
    page = await get(sub, "region=330802&item=OTHER")
    assert [i["offset"] for i in page["items"]] == [5]
    page = await get(sub, "region=330802&limit=2")
    assert [i["offset"] for i in page["items"]] == [0, 1]
    rest = await get(sub, f"region=330802&after={page['next']}")
    assert [i["offset"] for i in rest["items"]] == [2, 5]
    assert (await get(sub, f"department=nobody&after={rest['next']}"))["items"] == []
    none = await get(sub, "department=nobody")  # filtered out, yet the cursor moved past all
    assert none["items"] == [] and none["next"] == rest["next"]


def sse_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and ": " in line)
        if "id" in fields:
            events.append(fields)
    return events


async def test_sse_resumes_with_last_event_id(sub: Gateway) -> None:
    await sub.publish("CaseEvent", *cases(8))
    accept = {"Accept": "text/event-stream"}
    request = sub.signed("GET", f"{FEED}?limit=500", sub.members["sup"], headers=accept)
    response = await sub.client.send(request, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "signature" in response.headers  # the head is signed (the body streams)
    got: list[dict[str, str]] = []
    lines: list[str] = []
    async for line in response.aiter_lines():
        lines.append(line)
        if line == "" and any(x.startswith("id: ") for x in lines):
            got += sse_events("\n".join(lines) + "\n\n")
            lines = []
            if len(got) == 3:
                break
    await response.aclose()
    assert [json.loads(e["data"])["offset"] for e in got] == [0, 1, 2]
    assert got[0]["event"] == "cn.govgate.CaseEvent.v1"
    headers = accept | {"Last-Event-ID": got[-1]["id"]}
    again = await sub.call("GET", f"{FEED}?limit=500", "sup", headers=headers)
    rest = [json.loads(e["data"]) for e in sse_events(again.text)]
    assert [e["offset"] for e in rest] == [3, 4, 5, 6, 7]
    assert rest[0]["cursor"] == sse_events(again.text)[0]["id"]


async def test_sse_events_reach_the_subscriber_as_they_are_appended(sub: Gateway) -> None:
    """Over a real socket: the stream's head comes signed (no digest) and audited at once,
    and an event appended afterwards arrives long before the segment's `wait` ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(sub.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        path = f"{FEED}?wait=20"
        request = sub.signed(
            "GET",
            path,
            sub.members["sup"],
            headers={"Accept": "text/event-stream"},
            base=f"http://127.0.0.1:{port}",
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            started = time.monotonic()
            response = await client.send(
                client.build_request(
                    "GET", path, headers={k: v for k, v in request.headers.items() if k != "host"}
                ),
                stream=True,
            )
            verified = verify_response(
                200,
                response.headers,
                None,
                request_method="GET",
                request_url=f"http://127.0.0.1:{port}{path}",
                request_headers=request.headers,
                keys={sub.services.keys.keyid: sub.services.keys.private_key.public_key()},
            )
            assert '"content-digest"' not in verified.covered
            async with sub.services.engine.connect() as conn:
                routes = list(await conn.scalars(select(audit_rows.c.route)))
            assert "/v1/feeds/{stream}" in routes  # committed before the stream's first byte
            await asyncio.sleep(0.3)
            await sub.publish("CaseEvent", *cases(1))
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("data: "):
                    break
            arrived = time.monotonic() - started
            await response.aclose()
        assert json.loads(line.removeprefix("data: "))["offset"] == 0
        assert arrived < 10  # the segment runs 20 s: the event came as it happened
    finally:
        server.should_exit = True
        await serving


async def test_sse_heartbeat_and_bounded_segment(sub: Gateway, monkeypatch: Any) -> None:
    monkeypatch.setattr("gateway.feeds.HEARTBEAT_S", 0.2)
    headers = {"Accept": "text/event-stream"}
    started = time.monotonic()
    response = await sub.call("GET", f"{FEED}?wait=0.5", "sup", headers=headers)
    assert 0.5 <= time.monotonic() - started < 5
    assert response.text.startswith("retry: 1000\n\n")
    assert ": heartbeat\n\n" in response.text


async def test_refusals(sub: Gateway) -> None:
    window = await sub.call("GET", FEED, "window")
    assert window.status_code == 403 and window.json()["code"] == "ROLE_REQUIRED"
    unsigned = await sub.call("GET", FEED, None)
    assert unsigned.status_code == 401
    for bad in ("garbage!", encode_cursor("supervision-alerts", {0: 1}), "eyJ4Ijox"):
        response = await sub.call("GET", f"{FEED}?after={bad}", "sup")
        assert response.status_code == 400 and response.json()["code"] == "INVALID_INPUT"
    sse = await sub.call(
        "GET", FEED, "sup", headers={"Accept": "text/event-stream", "Last-Event-ID": "x"}
    )
    assert sse.status_code == 400 and sse.json()["code"] == "INVALID_INPUT"
    for query in ("limit=0", "limit=501", "wait=31", "department=a%20b"):
        response = await sub.call("GET", f"{FEED}?{query}", "sup")
        assert response.status_code == 400 and response.json()["code"] == "INVALID_INPUT"
    for stream in ("materials", "nope"):
        response = await sub.call("GET", f"/v1/feeds/{stream}", "sup")
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    alerts = await sub.call("GET", "/v1/feeds/supervision-alerts", "sup")
    assert alerts.status_code == 200 and alerts.json()["items"] == []


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def feed_log(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[EventLog]:
    settings = settings_for(request.param, request, data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        yield log


async def test_pages_resume_across_partitions(feed_log: EventLog) -> None:
    """On Kafka (3 partitions) too: every record once, in offset order within its partition."""
    codec = EventCodec()
    await feed_log.append("case-events", [codec.encode("CaseEvent", r) for r in cases(25)])
    seen: list[tuple[int, int]] = []
    start: dict[int, int] = {}
    for _ in range(10):
        page = await read_page(
            feed_log, codec, "case-events", start, limit=10, wait=2, where=Filter()
        )
        seen += [(i["partition"], i["offset"]) for i in page.items]
        start = decode_cursor("case-events", page.next)
        if len(seen) == 25:
            break
    assert len(seen) == len(set(seen)) == 25
    assert len({p for p, _ in seen}) == (3 if feed_log.backend == "kafka" else 1)
    for partition in {p for p, _ in seen}:
        offsets = [o for p, o in seen if p == partition]
        assert offsets == sorted(offsets)
    again = await read_page(feed_log, codec, "case-events", start, limit=10, wait=0, where=Filter())
    assert again.items == []
