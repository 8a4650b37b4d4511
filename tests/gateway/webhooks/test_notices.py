"""Webhooks of 双告知 notices carry only what the subscribing department may see: its own
notices (its `notice` grant), as the feed shows them, never another department's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.members.store import Grant
from gateway.notices.matcher import route
from gateway.notices.notices import routed_notices, scope_of
from gateway.notices.rules import load_rules
from schemas.codec import EventCodec
from tests.gateway.webhooks.conftest import Hooks, Receiver, until
from tests.samples import certificate

codec = EventCodec()
SCOPE = "许可项目：餐饮服务；道路货物运输；危险化学品经营。"


def notices() -> list[dict[str, Any]]:
    licence = certificate("YYZZ-913308020000000002")
    licence["surface_fields"] = {"经营范围": SCOPE}
    table = load_rules()
    now = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    return routed_notices(licence, route(scope_of(licence, table), table), table, now)


async def test_a_department_gets_only_its_own_notices(hooks: Hooks, receiver: Receiver) -> None:
    await receiver.start()
    await hooks.add_member("jtys", "subscriber", grants=(Grant("notice", "330802-JTYS"),))
    body = {"stream": "notices", "target_url": receiver.url, "start": "beginning"}
    created = await hooks.post_json("/v1/subscriptions", body, member="jtys")
    assert created.status_code == 201, created.text
    routed = notices()
    assert sorted(n["department_code"] for n in routed) == [
        "330802-JTYS",
        "330802-SCJG",
        "330802-YJGL",
    ]
    await hooks.services.log.append("notices", [codec.encode("Notice", n) for n in routed])
    await until(lambda: _lag_is_zero(hooks, created.json()["id"]))
    assert [e["data"]["department_code"] for e in receiver.events] == ["330802-JTYS"]
    assert receiver.events[0]["data"]["item_name"] == "道路运输经营许可（货运）"


async def _lag_is_zero(hooks: Hooks, subscription_id: str) -> bool:
    return (await hooks.subscription(subscription_id, member="jtys"))["lag"] == 0
