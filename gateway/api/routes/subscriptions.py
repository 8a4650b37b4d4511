"""`/v1/subscriptions`: webhooks (签名回调) of a feed stream, for subscriber members.

A member creates, lists, pauses, resumes and deletes its own subscriptions only; another
member's id answers 404 like one that does not exist. A subscription starts at the end of the
stream (only what comes after it), at the beginning (`start: "beginning"`), or after a feed
cursor (`after`), and filters like the feed. The gateway posts to the target only if its host
is among `webhooks.allowed_hosts` and it resolves to public addresses or ones inside
`webhooks.allowed_networks` (checked here, and again at every delivery).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway import feeds
from gateway.api.problems import InvalidInput, NotFound, TooMany
from gateway.api.routes.feeds import SubscriberDep, feed_filter
from gateway.api.services import Services, services
from gateway.feeds import FEED_STREAMS
from gateway.log.base import Position
from gateway.webhooks.store import Subscription
from gateway.webhooks.targets import check_target, check_target_addresses, parse_networks

router = APIRouter(prefix="/v1", tags=["subscriptions"])


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stream: str = Field(description=", ".join(FEED_STREAMS))
    target_url: str = Field(description="http(s) URL the gateway posts signed batches to")
    department: str | None = Field(default=None, description="department_code (部门) to match")
    region: str | None = Field(default=None, description="region_code (区划) to match")
    item: str | None = Field(default=None, description="item_code (事项编码) to match")
    after: str | None = Field(default=None, description="a feed cursor: start just after it")
    start: Literal["end", "beginning"] = Field(
        default="end", description="without `after`: only new events (end) or all (beginning)"
    )


class FilterOut(BaseModel):
    department: str | None
    region: str | None
    item: str | None


class SubscriptionOut(BaseModel):
    id: str
    stream: str
    target_url: str
    filter: FilterOut
    state: Literal["active", "paused"]
    paused_reason: str | None = Field(
        description="requested; failing (too many failures); or not_allowed (the target no "
        "longer passes the gateway's allowed hosts or networks: `last_error` says why)"
    )
    failures: int = Field(description="consecutive failed attempts")
    last_error: str | None
    last_error_at: datetime | None
    last_delivered_at: datetime | None
    next_attempt_at: datetime | None
    delivered: int = Field(description="events acknowledged by the receiver")
    cursor: str = Field(description="feed cursor after the last event acknowledged")
    lag: int | None = Field(description="records on the stream after the cursor")
    created_at: datetime


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _lag(position: Position, end: Position | None) -> int | None:
    if end is None:
        return None
    return sum(max(0, offset - position.get(p, 0)) for p, offset in end.items())


def _out(sub: Subscription, end: Position | None) -> SubscriptionOut:
    pending = sub.state == "active" and sub.failures > 0
    return SubscriptionOut(
        id=sub.subscription_id,
        stream=sub.stream,
        target_url=sub.target_url,
        filter=FilterOut(
            department=sub.filter.department_code,
            region=sub.filter.region_code,
            item=sub.filter.item_code,
        ),
        state=sub.state,
        paused_reason=sub.paused_reason,
        failures=sub.failures,
        last_error=sub.last_error,
        last_error_at=_at(sub.last_error_ms),
        last_delivered_at=_at(sub.last_delivered_ms),
        next_attempt_at=_at(sub.next_attempt_ms) if pending else None,
        delivered=sub.delivered,
        cursor=feeds.encode_cursor(sub.stream, sub.position),
        lag=_lag(sub.position, end),
        created_at=_at(sub.created_ms) or datetime.now(UTC),
    )


async def _shown(svc: Services, subs: list[Subscription]) -> list[SubscriptionOut]:
    ends = {stream: await svc.log.end_position(stream) for stream in {s.stream for s in subs}}
    return [_out(sub, ends.get(sub.stream)) for sub in subs]


async def _one(svc: Services, sub: Subscription | None) -> SubscriptionOut:
    """The caller's subscription as shown; someone else's, or none, is NOT_FOUND alike."""
    if sub is None:
        raise NotFound()
    return (await _shown(svc, [sub]))[0]


def _subscription_id(subscription_id: Annotated[str, Path(max_length=36)]) -> str:
    return subscription_id


IdDep = Annotated[str, Depends(_subscription_id)]


@router.post("/subscriptions", status_code=201)
async def create_subscription(
    request: Request, body: SubscriptionIn, caller: SubscriberDep
) -> SubscriptionOut:
    """Subscribe a target URL to a stream; signed batches of matching events are posted to it."""
    svc = services(request)
    if body.stream not in FEED_STREAMS:
        message = f"not a feed stream: {body.stream[:64]!r}; one of {', '.join(FEED_STREAMS)}"
        raise InvalidInput(f"stream: {message}", errors=[{"field": "stream", "message": message}])
    where = await feed_filter(body.department, body.region, body.item)
    hooks = svc.settings.webhooks
    target = check_target(body.target_url, hooks.allowed_hosts)
    await check_target_addresses(target, parse_networks(hooks.allowed_networks))
    if body.after is not None:
        start = feeds.decode_cursor(body.stream, body.after)
    elif body.start == "end":
        start = await svc.log.end_position(body.stream)
    else:
        start = {}
    if await svc.subscriptions.count(caller.member_id) >= svc.settings.webhooks.max_per_member:
        raise TooMany(f"at most {svc.settings.webhooks.max_per_member} subscriptions per member")
    sub = await svc.subscriptions.create(caller.member_id, body.stream, target, where, start)
    if svc.deliverer is not None:
        svc.deliverer.wake()
    return await _one(svc, sub)


@router.get("/subscriptions")
async def list_subscriptions(request: Request, caller: SubscriberDep) -> SubscriptionList:
    """The calling member's subscriptions, oldest first."""
    svc = services(request)
    mine = await svc.subscriptions.of_member(caller.member_id)
    return SubscriptionList(items=await _shown(svc, mine))


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(
    request: Request, subscription_id: IdDep, caller: SubscriberDep
) -> SubscriptionOut:
    svc = services(request)
    return await _one(svc, await svc.subscriptions.get(caller.member_id, subscription_id))


@router.delete("/subscriptions/{subscription_id}", status_code=204, response_class=Response)
async def delete_subscription(
    request: Request, subscription_id: IdDep, caller: SubscriberDep
) -> Response:
    """Stop and forget the subscription; a delivery in flight may still arrive once."""
    if not await services(request).subscriptions.delete(caller.member_id, subscription_id):
        raise NotFound()
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/pause")
async def pause_subscription(
    request: Request, subscription_id: IdDep, caller: SubscriberDep
) -> SubscriptionOut:
    """Hold deliveries; the position is kept, so resuming loses nothing."""
    svc = services(request)
    return await _one(svc, await svc.subscriptions.pause(caller.member_id, subscription_id))


@router.post("/subscriptions/{subscription_id}/resume")
async def resume_subscription(
    request: Request, subscription_id: IdDep, caller: SubscriberDep
) -> SubscriptionOut:
    """Deliver again from where it stopped, with the failure count reset."""
    svc = services(request)
    shown = await _one(svc, await svc.subscriptions.resume(caller.member_id, subscription_id))
    if svc.deliverer is not None:
        svc.deliverer.wake()
    return shown
