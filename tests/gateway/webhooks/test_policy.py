"""#12.4: webhooks deliver what the subscription's member may see, masked as on the feed."""

from __future__ import annotations

from gateway.members.store import Grant
from tests.gateway.webhooks.conftest import Hooks, Receiver, case_events, until
from tests.samples import person


async def test_webhooks_mask_resident_ids_and_skip_items_not_granted(
    hooks: Hooks, receiver: Receiver
) -> None:
    await receiver.start()
    await hooks.add_member("item-b", "subscriber", grants=(Grant("case", "ITEM-B"),))
    every = await hooks.subscribe(receiver, start="beginning")
    body = {"stream": "case-events", "target_url": receiver.url, "start": "beginning"}
    response = await hooks.post_json("/v1/subscriptions", body, member="item-b")
    assert response.status_code == 201, response.text
    only_b = response.json()
    sent = case_events(3, 1)
    for record in sent:
        record["applicant"] = person()
    sent[1]["item_code"] = "ITEM-B"
    await hooks.append(sent)
    await until(lambda: len(receiver.events) >= 4)
    await until(
        lambda: _delivered_all(hooks, only_b["id"]),
    )
    by_sub: dict[str, list[str]] = {}
    for sub_id, event in zip(receiver.deliveries, receiver.events, strict=True):
        by_sub.setdefault(sub_id, []).append(event["data"]["case_no"])
        number = event["data"]["applicant"]["id_number"]
        assert number != person()["id_number"] and "*" in number
    # Each case once; on Kafka the order holds per case (partition key), not across cases.
    assert sorted(by_sub[every["id"]]) == sorted(r["case_no"] for r in sent)
    assert by_sub[only_b["id"]] == [sent[1]["case_no"]]


async def _delivered_all(hooks: Hooks, subscription_id: str) -> bool:
    return (await hooks.subscription(subscription_id, member="item-b"))["lag"] == 0
