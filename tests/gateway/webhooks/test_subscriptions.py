"""`/v1/subscriptions`: create, list, get, pause, resume, delete; ownership; refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.client import GatewayClient
from gateway.feeds import decode_cursor, encode_cursor
from gateway.members.store import Grant as _Grant
from gateway.signatures.errors import DigestMismatch
from tests.gateway.webhooks.conftest import Hooks, Receiver, case_events, until

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
SUBS = "/v1/subscriptions"


@pytest.fixture
async def api(hooks: Hooks) -> Hooks:
    await hooks.add_member("other", "subscriber", grants=(EVERY_CASE,))
    await hooks.add_member("window", "consumer")
    return hooks


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert response.headers["content-type"] == "application/problem+json"
    return body


async def test_create_list_get_delete(api: Hooks, receiver: Receiver) -> None:
    await api.append(case_events(2, 2))
    created = await api.subscribe(receiver, region="330802", item="ITEM-1")
    assert created["state"] == "active" and created["failures"] == 0
    assert created["filter"] == {"department": None, "region": "330802", "item": "ITEM-1"}
    assert created["target_url"] == (
        f"http://127.0.0.1:{receiver.port}/%E5%9B%9E%E8%B0%83/%E7%94%B5%E5%AD%90%E7%9B%91%E5%AF%9F"
        "?token=t1"
    )
    assert decode_cursor("case-events", created["cursor"]) == {0: 4}  # from now by default
    assert created["lag"] == 0 and created["delivered"] == 0
    second = await api.subscribe(receiver, start="beginning")
    assert decode_cursor("case-events", second["cursor"]) == {} and second["lag"] == 4
    third = await api.subscribe(receiver, after=encode_cursor("case-events", {0: 1}))
    assert third["lag"] == 3
    listed = await api.call("GET", SUBS, "sup")
    assert [s["id"] for s in listed.json()["items"]] == [created["id"], second["id"], third["id"]]
    assert await api.subscription(created["id"]) == created | {"lag": 0}
    deleted = await api.call("DELETE", f"{SUBS}/{created['id']}", "sup")
    assert deleted.status_code == 204 and deleted.content == b""
    problem(await api.call("GET", f"{SUBS}/{created['id']}", "sup"), 404, "NOT_FOUND")
    problem(await api.call("DELETE", f"{SUBS}/{created['id']}", "sup"), 404, "NOT_FOUND")
    assert "signature" in deleted.headers  # signed and audited like every /v1 response


async def test_members_see_only_their_own(api: Hooks, receiver: Receiver) -> None:
    mine = await api.subscribe(receiver)
    for method, path in (
        ("GET", f"{SUBS}/{mine['id']}"),
        ("DELETE", f"{SUBS}/{mine['id']}"),
        ("POST", f"{SUBS}/{mine['id']}/pause"),
        ("POST", f"{SUBS}/{mine['id']}/resume"),
        ("GET", f"{SUBS}/00000000-0000-0000-0000-000000000000"),
    ):
        body = problem(await api.call(method, path, "other"), 404, "NOT_FOUND")
        assert mine["id"] not in str(body)
    assert (await api.call("GET", SUBS, "other")).json()["items"] == []
    assert (await api.subscription(mine["id"]))["state"] == "active"  # untouched
    problem(await api.call("GET", SUBS, "window"), 403, "ROLE_REQUIRED")
    problem(await api.call("GET", SUBS, None), 401, "SIGNATURE_MISSING")


async def test_pause_and_resume(api: Hooks, receiver: Receiver) -> None:
    sub = await api.subscribe(receiver)
    paused = await api.call("POST", f"{SUBS}/{sub['id']}/pause", "sup")
    assert (paused.json()["state"], paused.json()["paused_reason"]) == ("paused", "requested")
    again = await api.call("POST", f"{SUBS}/{sub['id']}/pause", "sup")
    assert again.status_code == 200 and again.json()["state"] == "paused"
    resumed = await api.call("POST", f"{SUBS}/{sub['id']}/resume", "sup")
    assert (resumed.json()["state"], resumed.json()["paused_reason"]) == ("active", None)


async def post(api: Hooks, body: dict[str, Any], member: str = "sup") -> httpx.Response:
    return await api.post_json(SUBS, body, member=member)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("ftp://127.0.0.1/x", "the scheme must be http or https"),
        ("http://user:pw@127.0.0.1/x", "user information"),
        ("http://127.0.0.1/x#frag", "a fragment"),
        ("http:///x", "no host"),
        ("http://127.0.0.1/a b", "spaces or control characters"),
        ("http://127.0.0.1:99999/x", "not a URL"),
        ("/relative", "the scheme must be http or https"),
        ("http://127.0.0.1/" + "a" * 2100, "longer than 2048 characters"),
    ],
)
async def test_invalid_targets_name_the_field_and_value(api: Hooks, target: str, why: str) -> None:
    body = problem(
        await post(api, {"stream": "case-events", "target_url": target}), 400, "INVALID_INPUT"
    )
    [error] = body["errors"]
    assert error["field"] == "target_url" and why in error["message"]
    assert target[:50] in error["message"]


async def test_targets_outside_the_allowed_hosts_are_refused(api: Hooks) -> None:
    for target in (
        "http://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "http://[::1]/",
    ):
        body = problem(
            await post(api, {"stream": "case-events", "target_url": target}),
            403,
            "TARGET_NOT_ALLOWED",
        )
        assert body["errors"][0]["field"] == "target_url"
    assert (await api.call("GET", SUBS, "sup")).json()["items"] == []


async def test_other_refusals(api: Hooks, receiver: Receiver) -> None:
    url = receiver.url
    for body, field in (
        ({"stream": "materials", "target_url": url}, "stream"),
        ({"stream": "case-events", "target_url": url, "region": "a b"}, None),
        ({"stream": "case-events", "target_url": url, "after": "garbage!"}, None),
        ({"stream": "case-events", "target_url": url, "start": "middle"}, "body.start"),
        ({"stream": "case-events", "target_url": url, "colour": "red"}, "body.colour"),
        ({"stream": "case-events"}, "body.target_url"),
    ):
        found = problem(await post(api, body), 400, "INVALID_INPUT")
        if field is not None:
            assert [e["field"] for e in found["errors"]] == [field]
    problem(
        await post(api, {"stream": "case-events", "target_url": url}, "window"),
        403,
        "ROLE_REQUIRED",
    )
    problem(await api.call("GET", f"{SUBS}/{'x' * 40}", "sup"), 400, "INVALID_INPUT")


async def test_a_member_may_have_only_so_many(make_hooks: Any, receiver: Receiver) -> None:
    async with make_hooks(max_per_member=2) as api:
        await api.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        await api.subscribe(receiver)
        await api.subscribe(receiver)
        body = {"stream": "case-events", "target_url": receiver.url}
        problem(await post(api, body), 409, "TOO_MANY")


async def test_the_client_subscribes_and_verifies_deliveries(
    api: Hooks, receiver: Receiver
) -> None:
    await receiver.start()
    signer = api.members["sup"]
    transport = httpx.ASGITransport(app=api.app)
    async with GatewayClient(
        "http://gateway", member_id="sup", private_key=signer.key, transport=transport
    ) as client:
        answer = await client.subscribe("case-events", receiver.url, region="330802")
        assert answer.status == 201 and answer.data["filter"]["region"] == "330802"
        await api.append(case_events(1, 2))
        await until(lambda: len(receiver.raw) >= 1)
        url, headers, body = receiver.raw[0]
        verified = await client.verify_delivery(url, headers, body)
        assert verified.subscription_id == answer.data["id"]
        assert [e["govgateoffset"] for e in verified.events][:1] == [0]
        with pytest.raises(DigestMismatch):
            await client.verify_delivery(url, headers, body.replace(b"330802", b"330803"))
