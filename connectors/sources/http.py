"""HTTP source: a department's paged JSON API read forward with a since-cursor.

The API answers `GET {path}?since=<cursor>&page_size=<n>` with a page of items, the cursor to
ask for next and whether more pages follow (e.g. 自然资源 real-estate certificates, 不动产权证书,
at `/api/v1/bdcqz`). Requests are retried with backoff on 5xx, 429, timeouts and connection
errors, and spaced to stay under the department's rate limit.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic

from connectors.errors import SourceConfigError, SourceUnavailable
from connectors.sources.base import OffsetReader, Source, SourceRecord
from gateway.backoff import backoff_delay
from schemas.timeparse import TimeParseError, parse_timestamp

_MISSING = object()


class HttpSourceConfig(pydantic.BaseModel):
    """Where the API is, how its pages look and how gently to call it."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    base_url: str
    path: str  # e.g. "/api/v1/bdcqz"
    since_param: str = "since"
    page_size_param: str = "page_size"
    page_size: int = pydantic.Field(500, gt=0)
    items_path: str = "data.items"  # dotted path into the JSON response
    next_cursor_path: str = "data.next_cursor"
    has_more_path: str | None = "data.has_more"
    key_field: str  # e.g. "ywh" (业务号)
    version_field: str | None = None  # e.g. "gxsj" (更新时间); None → the page's cursor
    auth_header: str = "Authorization"
    auth_value_env: str | None = None  # env var holding e.g. "Bearer abc"; never logged
    timeout_s: float = pydantic.Field(10, gt=0)
    max_retries: int = pydantic.Field(5, ge=0)  # retries after the first attempt
    backoff_base_s: float = pydantic.Field(0.5, ge=0)
    backoff_max_s: float = pydantic.Field(30, ge=0)
    rate_limit_per_s: float = pydantic.Field(10, gt=0)  # max requests per second
    poll_interval_s: float = pydantic.Field(2.0, ge=0)
    # Where the API lists deleted records (same paging and cursor, items naming `key_field`),
    # e.g. "/api/v1/bdcqz/deleted"; each becomes a delete downstream. None: no deletes.
    deletions_path: str | None = None
    deleted_at_field: str | None = None  # e.g. "scsj" (删除时间), Asia/Shanghai wall clock


@dataclass(frozen=True, slots=True)
class _Page:
    items: Sequence[Any]
    next_cursor: Any  # None when the API gave none
    has_more: bool


@dataclass(frozen=True, slots=True)
class _Retry:
    problem: str  # for the SourceUnavailable message once retries run out
    wait_s: float | None  # what the server asked for (Retry-After); None → backoff


class _Stopped(Exception):
    """`stop()` was called while a request was waiting to be retried."""


class RateLimiter:
    """Spaces calls at least `1 / rate` seconds apart, so N calls take ≥ (N - 1) / rate s.

    No library (aiolimiter and the like): one source makes its requests one after another,
    so a next-allowed timestamp behind a lock is all the state needed, and bursts are not
    wanted anyway (department gateways count requests per second, not per minute).
    """

    def __init__(self, rate_per_s: float) -> None:
        self._interval = 1.0 / rate_per_s
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until the next call is allowed, then reserve its slot."""
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            # from when this slot was actually granted: a late wake-up never shortens the gap
            self._next = time.monotonic() + self._interval


class HttpSource(Source):
    """Reads one endpoint page by page from the saved cursor; polls for new items afterwards.

    `partition` is the endpoint path and the offset is `{"cursor": <cursor to ask for>}`.
    """

    def __init__(
        self,
        name: str,
        config: HttpSourceConfig,
        *,
        backfill: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.config = config
        self.backfill = backfill
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._limiter = RateLimiter(config.rate_limit_per_s)
        self._cursor: Any = None
        self._deleted_cursor: Any = None

    async def start(self, offsets: OffsetReader) -> None:
        """Open the HTTP client and load the saved cursors (none: from the beginning)."""
        saved = await offsets.get(self.config.path)
        self._cursor = saved.get("cursor") if saved else None
        if self.config.deletions_path is not None:
            saved = await offsets.get(self.config.deletions_path)
            self._deleted_cursor = saved.get("cursor") if saved else None
        self._client = httpx.AsyncClient(
            base_url=self.config.base_url,
            headers=self._auth_headers(),
            timeout=self.config.timeout_s,
            transport=self._transport,
        )

    def _auth_headers(self) -> dict[str, str]:
        env = self.config.auth_value_env
        if env is None:
            return {}
        value = os.environ.get(env)
        if not value:
            raise SourceConfigError(f"{self.name}: environment variable {env} is not set")
        return {self.config.auth_header: value}

    async def batches(self) -> AsyncGenerator[list[SourceRecord], None]:
        """One batch per non-empty page, in cursor order, until caught up (backfill) or stopped."""
        while not self.stopping.is_set():
            request_cursor = self._cursor
            try:
                page = await self._fetch(request_cursor)
            except _Stopped:
                return
            if page.items:
                if page.next_cursor is None:
                    raise SourceConfigError(
                        f"{self.config.path}: a page with items has no cursor at "
                        f"{self.config.next_cursor_path!r}, so reading cannot go forward"
                    )
                yield self._records(page, request_cursor)
            if page.next_cursor is not None:
                self._cursor = page.next_cursor
            if page.items and page.has_more and self._cursor != request_cursor:
                continue
            if self.config.deletions_path is not None:
                try:
                    async for batch in self._deletions(self.config.deletions_path):
                        yield batch
                except _Stopped:
                    return
            if self.backfill:
                return
            await self._pause(self.config.poll_interval_s)

    async def _deletions(self, path: str) -> AsyncGenerator[list[SourceRecord], None]:
        """The deletions endpoint's pages from its own cursor, as deleted records."""
        while not self.stopping.is_set():
            request_cursor = self._deleted_cursor
            page = await self._fetch(request_cursor, path)
            if page.items:
                if page.next_cursor is None:
                    raise SourceConfigError(f"{path}: a page with items has no cursor")
                yield [
                    self._deleted(path, item, i, page, request_cursor)
                    for i, item in enumerate(page.items)
                ]
            if page.next_cursor is not None:
                self._deleted_cursor = page.next_cursor
            if not (page.items and page.has_more and self._deleted_cursor != request_cursor):
                return

    def _deleted(
        self, path: str, item: Any, i: int, page: _Page, request_cursor: Any
    ) -> SourceRecord:
        cfg = self.config
        if not isinstance(item, Mapping) or cfg.key_field not in item:
            raise SourceConfigError(
                f"{path}: item {i} of the page at cursor {request_cursor!r} is not an "
                f"object with the key field {cfg.key_field!r}"
            )
        data: dict[str, Any] = dict(item)
        when = item.get(cfg.deleted_at_field) if cfg.deleted_at_field else None
        if when not in (None, ""):
            try:
                data["__deleted_at"] = parse_timestamp(when, cfg.deleted_at_field or "deleted")
            except TimeParseError:
                pass  # the delete still counts; only its time is unknown
        last = i == len(page.items) - 1
        return SourceRecord(
            partition=path,
            offset={"cursor": page.next_cursor if last else request_cursor},
            table=cfg.path,
            key=str(item[cfg.key_field]),
            version=f"deleted@{when if when not in (None, '') else page.next_cursor}",
            data=data,
            deleted=True,
            how="DELETIONS_ENDPOINT",
        )

    def _records(self, page: _Page, request_cursor: Any) -> list[SourceRecord]:
        """The page's items as records, each with an offset that never skips a record.

        A cursor addresses pages, not items: asking again for the page's request cursor
        returns the whole page, asking for its next cursor returns what follows it. So every
        record but the last carries the request cursor (resuming re-reads this page, and the
        records before the crash point come again, harmlessly: the event id is deterministic),
        and the last one carries the next cursor (resuming goes on after this page).
        """
        cfg = self.config
        version = str(page.next_cursor)  # the watermark of this page: what it reads up to
        last = len(page.items) - 1
        records = []
        for i, item in enumerate(page.items):
            if not isinstance(item, Mapping) or cfg.key_field not in item:
                raise SourceConfigError(
                    f"{cfg.path}: item {i} of the page at cursor {request_cursor!r} is not an "
                    f"object with the key field {cfg.key_field!r}"
                )
            own_version = item.get(cfg.version_field) if cfg.version_field else None
            records.append(
                SourceRecord(
                    partition=cfg.path,
                    offset={"cursor": page.next_cursor if i == last else request_cursor},
                    table=cfg.path,
                    key=str(item[cfg.key_field]),
                    version=version if own_version is None else str(own_version),
                    data=dict(item),
                )
            )
        return records

    async def _fetch(self, cursor: Any, path: str | None = None) -> _Page:
        """One page, retried on transient failures; `SourceUnavailable` once retries run out."""
        cfg = self.config
        path = path or cfg.path
        params: dict[str, Any] = {cfg.page_size_param: cfg.page_size}
        if cursor is not None:
            params[cfg.since_param] = cursor
        retry = _Retry("not tried", None)
        for attempt in range(cfg.max_retries + 1):
            if attempt:
                wait = retry.wait_s
                if wait is None:  # full jitter: retries of many sources do not line up
                    wait = backoff_delay(attempt - 1, cfg.backoff_base_s, cfg.backoff_max_s)
                await self._pause_or_stop(wait)
            outcome = await self._attempt(path, params)
            if isinstance(outcome, _Page):
                return outcome
            retry = outcome
        raise SourceUnavailable(
            f"{path}: no answer after {cfg.max_retries + 1} attempts; last: {retry.problem}"
        )

    async def _attempt(self, path: str, params: dict[str, Any]) -> _Page | _Retry:
        """One rate-limited request: a page, or why and when to try again."""
        cfg = self.config
        await self._limiter.acquire()
        try:
            response = await self._http().get(path, params=params)
        except httpx.TransportError as exc:  # timeouts, refused and reset connections
            return _Retry(f"{type(exc).__name__}: {exc}", None)
        status = response.status_code
        if status == 429:
            return _Retry(f"HTTP {status}", _retry_after_s(response))
        if status >= 500 or status == 408:
            return _Retry(f"HTTP {status}", None)
        if not response.is_success:
            raise SourceConfigError(
                f"{path} answered HTTP {status}; check the URL, the parameters and the "
                f"credentials in {cfg.auth_value_env or 'the configuration'}"
            )
        return self._page(path, response)

    def _page(self, path: str, response: httpx.Response) -> _Page:
        cfg = self.config
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceConfigError(f"{path} did not answer JSON: {exc}") from exc
        items = _dig(body, cfg.items_path)
        if not isinstance(items, list):
            raise SourceConfigError(f"{path}: the answer has no list at {cfg.items_path!r}")
        next_cursor = _dig(body, cfg.next_cursor_path)
        more = _dig(body, cfg.has_more_path) if cfg.has_more_path else _MISSING
        # Without a has-more flag a non-empty page may have a successor; an empty one ends it.
        has_more = bool(items) if more is _MISSING or more is None else bool(more)
        return _Page(items, None if next_cursor is _MISSING else next_cursor, has_more)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError(f"{self.name}: start() was not called")
        return self._client

    async def _pause(self, seconds: float) -> None:
        """Sleep, waking early when `stop()` is called."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _pause_or_stop(self, seconds: float) -> None:
        await self._pause(seconds)
        if self.stopping.is_set():
            raise _Stopped

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _retry_after_s(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date; None if absent or bad."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _dig(body: Any, path: str) -> Any:
    """The value at a dotted path (`data.items`), or `_MISSING`."""
    node = body
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node
