"""Tests for connectors/simulators/zrzy.py: the 自然资源 HTTP API, through ASGI."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from connectors.simulators.zrzy import CASE_STATUSES, ITEM_NAME, ZrzySimulator, create_app
from tests.connectors.simulators.rowcheck import (
    Check,
    Row,
    assert_defects,
    code,
    party_id,
    region,
    required,
    timestamp,
)

AT = datetime(2026, 11, 23, 9, 0, 0)
TOKEN = "s3cret-token"
CERT_CHECKS: dict[str, Check] = {
    "qlrzjh": party_id(
        lambda row: {"身份证": "RESIDENT_ID", "营业执照": "USCC"}[str(row["qlrzjzl"])]
    ),
    "qlr": required,
    "bdcqzh": required,
    "djsj": timestamp(),
    "gxsj": timestamp(),
    "zszt": code({"现势", "注销"}),
    "xzqdm": region,
}
CASE_CHECKS: dict[str, Check] = {
    "sqdwtyxydm": party_id(lambda _row: "USCC"),
    "sqdw": required,
    "sxbm": required,
    "slsj": timestamp(),
    "bjsj": timestamp(optional=True),
    "blzt": code(CASE_STATUSES),
    "xzqdm": region,
}


@pytest.fixture
def sim() -> ZrzySimulator:
    return ZrzySimulator(seed=9, bad_share=0.2)


@pytest.fixture
async def client(sim: ZrzySimulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(sim, TOKEN))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://zrzy.test", headers=headers
    ) as http:
        yield http


async def read_all(
    client: httpx.AsyncClient, path: str, since: str = "", size: int = 7
) -> tuple[list[Row], str]:
    items: list[Row] = []
    while True:
        response = await client.get(path, params={"since": since, "page_size": size})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["code"] == 0 and body["msg"] == "ok"
        items += body["data"]["items"]
        since = body["data"]["next_cursor"]
        if not body["data"]["has_more"]:
            return items, since


async def test_certificates_page_by_cursor_and_reappear_when_revoked(
    sim: ZrzySimulator, client: httpx.AsyncClient
) -> None:
    keys = sim.add_certificates(25, at=AT)
    items, cursor = await read_all(client, "/api/v1/bdcqz")
    assert [item["ywh"] for item in items] == keys
    first = items[0]
    assert re.fullmatch(r"浙\(2026\)衢州市柯城区不动产权第\d{7}号", str(first["bdcqzh"])) or (
        first["ywh"] in sim.bad_keys
    )
    assert set(first) == {
        "ywh", "bdcqzh", "qlr", "qlrzjzl", "qlrzjh", "zl", "mj", "yt", "qllx", "djsj", "djjg",
        "djjgdm", "xzqdm", "zszt", "gxsj",
    }  # fmt: skip
    assert {item["yt"] for item in items} <= {"住宅", "商业", "工业"}
    assert all(re.fullmatch(r"\d+\.\d\d", str(item["mj"])) for item in items)
    assert len(sim.bad_keys) == 5
    assert_defects({str(i["ywh"]): i for i in items}, CERT_CHECKS, sim.bad_keys, sim.defects)

    empty = await client.get("/api/v1/bdcqz", params={"since": cursor})
    assert empty.json()["data"] == {"items": [], "next_cursor": cursor, "has_more": False}

    revoked = sim.revoke(3, at=AT + timedelta(hours=1))
    again, _ = await read_all(client, "/api/v1/bdcqz", since=cursor)
    assert sorted(str(item["ywh"]) for item in again) == sorted(revoked)
    assert {item["zszt"] for item in again} == {"注销"}
    assert {item["gxsj"] for item in again} == {"2026-11-23 10:00:00"}


async def test_cases_advance_and_are_seen_again(
    sim: ZrzySimulator, client: httpx.AsyncClient
) -> None:
    sim.add_cases(20, at=AT)
    items, cursor = await read_all(client, "/api/v1/ydys", size=100)
    assert {item["blzt"] for item in items if item["ywh"] not in sim.bad_keys} == {"受理"}
    assert {item["sxmc"] for item in items} == {ITEM_NAME}
    seen = {str(item["ywh"]): item for item in items}
    for hour in range(1, 6):
        moved = sim.advance(6, at=AT + timedelta(hours=hour))
        changes, cursor = await read_all(client, "/api/v1/ydys", since=cursor)
        assert sorted(str(item["ywh"]) for item in changes) == sorted(moved)
        for item in changes:
            assert (item["bjsj"] is not None) == (item["blzt"] in {"办结", "不予许可", "撤回"})
            seen[str(item["ywh"])] = item
    assert {"审查", "办结"} <= {item["blzt"] for item in seen.values()}
    assert_defects(seen, CASE_CHECKS, sim.bad_keys, sim.defects)


async def test_changes_in_the_same_second_are_not_skipped(
    sim: ZrzySimulator, client: httpx.AsyncClient
) -> None:
    sim.add_certificates(3, at=AT)
    _, cursor = await read_all(client, "/api/v1/bdcqz")
    sim.add_certificates(2, at=AT)  # same wall-clock second: the clock moves on by one
    later, _ = await read_all(client, "/api/v1/bdcqz", since=cursor)
    assert len(later) == 2


async def test_requests_without_the_token_are_refused(sim: ZrzySimulator) -> None:
    transport = httpx.ASGITransport(app=create_app(sim, TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://zrzy.test") as http:
        missing = await http.get("/api/v1/bdcqz")
        wrong = await http.get("/api/v1/ydys", headers={"Authorization": "Bearer nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == 40100


async def test_fail_next_makes_requests_fail_then_recover(
    sim: ZrzySimulator, client: httpx.AsyncClient
) -> None:
    sim.add_certificates(2, at=AT)
    sim.fail_next(2)
    sim.fail_next(1, status=429)
    statuses = [(await client.get("/api/v1/bdcqz")).status_code for _ in range(4)]
    assert statuses == [503, 503, 429, 200]
    sim.fail_next(1)
    failed = await client.get("/api/v1/ydys")
    assert failed.headers["retry-after"] == "1"
    assert failed.json() == {"code": 50300, "msg": "服务暂不可用，请稍后重试", "data": None}


@pytest.mark.parametrize(
    "params", [{"since": "not-a-cursor!"}, {"page_size": 0}, {"page_size": 5000}]
)
async def test_bad_parameters_get_a_400_envelope(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    response = await client.get("/api/v1/bdcqz", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == 40000


def test_the_same_seed_makes_the_same_records() -> None:
    def run(seed: int) -> list[dict[str, object]]:
        sim = ZrzySimulator(seed=seed, bad_share=0.1)
        sim.add_certificates(10, at=AT)
        sim.add_cases(10, at=AT)
        sim.advance(5, at=AT)
        sim.revoke(2, at=AT)
        return list(sim.certificates) + list(sim.cases)

    assert run(1) == run(1)
    assert run(1) != run(2)
