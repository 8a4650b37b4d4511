"""`GET /v1/feeds/{stream}`: the e-supervision (电子监察) feed, as JSON pages or as SSE.

JSON is a long-poll: it returns as soon as one matching record is there, else an empty page
after `wait` seconds. `Accept: text/event-stream` streams the same items as SSE, resuming from
`Last-Event-ID` (else `after`).

An SSE answer passes `gateway.api.audit_and_sign` unbuffered: its audit row is committed and
its head signed (status, bound to the request; no Content-Digest, the body being still to come)
before the first event, then each event reaches the subscriber as it is read from the log, with
a heartbeat comment every 15 s of silence. A connection still ends after `limit` records or
`wait` seconds (bounded work per request); the client reconnects with `Last-Event-ID` (`retry:
1000` is sent first). A subscriber that needs each record under the gateway's signature reads
JSON pages, which are signed whole.

Streams are capped per member (`gateway.max_streams_per_member`) and per gateway process
(`gateway.max_streams`): one more is refused 429 TOO_MANY_STREAMS with `Retry-After`, while
lookups and JSON pages go on being served."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway import feeds
from gateway.api import policy
from gateway.api.auth import with_role
from gateway.api.caller import Caller
from gateway.api.problems import InvalidInput, NotFound
from gateway.api.services import services
from gateway.feeds import FEED_STREAMS, FeedReader, Filter, Page

router = APIRouter(prefix="/v1", tags=["feeds"])

SubscriberDep = Annotated[Caller, Depends(with_role("subscriber"))]
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")
SSE = "text/event-stream"


async def feed_stream(stream: Annotated[str, Path(description=", ".join(FEED_STREAMS))]) -> str:
    if stream not in FEED_STREAMS:
        raise NotFound()
    return stream


async def feed_filter(
    department: str | None = None, region: str | None = None, item: str | None = None
) -> Filter:
    """department_code (部门), region_code (区划), item_code (事项编码) to match exactly."""
    for name, value in (("department", department), ("region", region), ("item", item)):
        if value is not None and not _CODE.fullmatch(value):
            raise InvalidInput(f"{name}: 1-64 letters, digits, '.', '_' or '-'")
    return Filter(department, region, item)


class _SlotStreamingResponse(StreamingResponse):
    """A stream that gives its slot back when it ends, however it ends (the events ran out,
    `wait` passed, the client went away, an error)."""

    def __init__(self, *args: Any, release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


@router.get("/feeds/{stream}", response_model=None)
async def read_feed(
    request: Request,
    caller: SubscriberDep,
    stream: Annotated[str, Depends(feed_stream)],
    where: Annotated[Filter, Depends(feed_filter)],
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
    accept: Annotated[str, Header()] = "application/json",
) -> Page | StreamingResponse:
    """Records after the cursor, in order per partition; `next` resumes without gap or repeat."""
    svc = services(request)
    view = policy.feed_view(caller.grants, stream, caller.purpose)
    if SSE in accept:
        start = feeds.decode_cursor(stream, last_event_id or after)
        reader = FeedReader(svc.log, svc.codec, stream, start, where, view)
        svc.streams.acquire(caller.member_id)  # TOO_MANY_STREAMS (429) when at the cap
        return _SlotStreamingResponse(
            feeds.sse_stream(reader, limit, wait),
            media_type=SSE,
            headers={"Cache-Control": "no-store"},
            release=functools.partial(svc.streams.release, caller.member_id),
        )
    start = feeds.decode_cursor(stream, after)
    return await feeds.read_page(
        svc.log, svc.codec, stream, start, limit=limit, wait=wait, where=where, view=view
    )
