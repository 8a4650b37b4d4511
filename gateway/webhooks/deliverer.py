"""The deliverer: a background task of the gateway process that posts subscriptions' events.

Every `poll_interval_s` (or at once when a subscription is created or resumed here) it claims
due subscriptions nobody holds (`SubscriptionStore.claim`: a conditional UPDATE, so one worker
of many sharing the database gets each) and runs one task per claimed subscription:

- read the stream from the saved position, in log order, `batch_size` records at a time;
- post the records that match the filter as one signed CloudEvents batch;
- on 2xx save the position after them (at least once: a crash before the save redelivers
  them, with the same event ids); records filtered out advance the position too;
- on anything else count the failure, schedule a retry after an exponential backoff with full
  jitter (uniform in [0, min(cap, base·2^(n-1))]), let go of the subscription, and pause it
  after `max_failures` consecutive failures;
- a target whose host is no longer among `allowed_hosts`, or that resolves to an address outside
  the allowed networks, pauses the subscription at once (`not_allowed`, with the reason). Both
  are checked at every delivery, and the POST goes to exactly the address that was checked
  (gateway.webhooks.pinning), so neither a narrower list after a restart nor a DNS answer that
  changes (rebinding) lets a delivery reach what the operator has not allowed.

A retry re-reads from the saved position: the same events again, never a later one first — so
the order per key (per partition) holds.

While the database or the log is away, the deliverer waits longer each time before it looks
again (the same backoff with jitter, from `poll_interval_s` up to 30 s), and says so once
per outage, with a reminder each minute and a line when it is over, rather than a warning
per subscription per poll. A delivery interrupted that way is not counted against the
subscription: it is not the receiver's fault.

The lease is renewed after each read, just before the POST, and outlasts an attempt
(`lease_s` ≥ 2·`timeout_s`), so no second worker takes a subscription over while a POST of it
is in flight. Logs name the subscription, the outcome and the attempt, never the target URL or
event content (holder ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from gateway import __version__
from gateway.backoff import Backoff, backoff_delay
from gateway.feeds import ItemView, encode_cursor, to_item, visible
from gateway.log import EventLog, LogError, LogRecord
from gateway.log.base import Position
from gateway.members.keys import PrivateKey
from gateway.metrics import Metrics
from gateway.settings import WebhooksSettings
from gateway.signatures.deliveries import sign_delivery
from gateway.signatures.digests import DigestAlgorithm
from gateway.store.errors import StoreError
from gateway.webhooks.errors import DeliveryFailed, TargetNotAllowed, TargetRefused
from gateway.webhooks.payload import batch_body, cloudevent
from gateway.webhooks.pinning import PinnedTransport
from gateway.webhooks.store import Subscription, SubscriptionStore
from gateway.webhooks.targets import check_target, parse_networks
from schemas.codec import EventCodec

logger = logging.getLogger(__name__)
OUTAGE_REMINDER_S = 60.0
OUTAGE_MAX_WAIT_S = 30.0


class _Outage:
    """One kind of failure that is nobody's fault but the infrastructure's: logged once when it
    starts, reminded every OUTAGE_REMINDER_S, logged when over; its waits grow meanwhile."""

    def __init__(self, what: str, base_s: float) -> None:
        self.what = what
        self._backoff = Backoff(base_s, max(base_s, OUTAGE_MAX_WAIT_S))
        self._since: float | None = None
        self._warned = 0.0
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._failures += 1
        if self._since is None:
            self._since = self._warned = now
            logger.warning("webhooks: %s: %s; retrying with backoff", self.what, exc)
        elif now - self._warned >= OUTAGE_REMINDER_S:
            self._warned = now
            logger.warning(
                "webhooks: still %s after %.0f s (%d failures): %s",
                self.what,
                now - self._since,
                self._failures,
                exc,
            )

    def over(self) -> None:
        if self._since is not None:
            logger.info(
                "webhooks: no longer %s, after %.0f s (%d failures)",
                self.what,
                time.monotonic() - self._since,
                self._failures,
            )
        self._since, self._failures = None, 0
        self._backoff.reset()

    def next_wait(self) -> float:
        return self._backoff.next_delay()


class Deliverer:
    def __init__(
        self,
        store: SubscriptionStore,
        log: EventLog,
        codec: EventCodec,
        settings: WebhooksSettings,
        *,
        keyid: str,
        private_key: PrivateKey,
        digest: DigestAlgorithm = "sha-256",
        metrics: Metrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        views: Callable[[Subscription], Awaitable[ItemView | None]] | None = None,
    ) -> None:
        """Deliveries are signed with `private_key` (the gateway's response key) and carry
        their Content-Digest in `digest` (the gateway's first allowed: `sm3` when SM-only).
        `views`: what a subscription's member may see of its stream's items (the gateway's
        policy, as on the feed); None shows every item."""
        self.store, self.log, self.codec, self.settings = store, log, codec, settings
        self.views = views
        self.keyid, self.private_key, self.metrics = keyid, private_key, metrics
        self.digest = digest
        self.owner = f"{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lease_ms = int(settings.lease_s * 1000)
        self._poll_s = min(1.0, settings.lease_s / 4)
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        poll = settings.poll_interval_s
        self._claims = _Outage("cannot look for due subscriptions", poll)
        self._deliveries = _Outage("deliveries interrupted (log or database away)", poll)

    def wake(self) -> None:
        """Look for due subscriptions now (one was created or resumed)."""
        self._wake.set()

    async def run(self) -> None:
        """Claim due subscriptions until `stop`; each claimed one is served by a task."""
        transport = self._transport or PinnedTransport(
            parse_networks(self.settings.allowed_networks)
        )
        client = httpx.AsyncClient(
            timeout=self.settings.timeout_s,
            follow_redirects=False,
            transport=transport,
            trust_env=False,  # no environment proxy: it would connect past the address checks
        )
        async with client:
            self._http = client
            try:
                while not self._stopping:
                    try:
                        await self._claim_due()
                        self._claims.over()
                    except StoreError as exc:
                        self._claims.failed(exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._next_look_s())
                    self._wake.clear()
            finally:
                await self._abandon()

    def _next_look_s(self) -> float:
        """The poll interval, or longer while the database or the log is away."""
        waits = [o.next_wait() for o in (self._claims, self._deliveries) if o.ongoing]
        return max([self.settings.poll_interval_s, *waits])

    async def stop(self) -> None:
        """Make `run` return; deliveries in flight are abandoned (and redelivered later)."""
        self._stopping = True
        self._wake.set()

    async def _abandon(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(StoreError):  # else the leases expire by themselves
            await self.store.release(self.owner)

    async def _claim_due(self) -> None:
        room = self.settings.max_concurrent - len(self._tasks)
        if room <= 0:
            return
        for subscription_id in await self.store.due(room + len(self._tasks)):
            if subscription_id in self._tasks or len(self._tasks) >= self.settings.max_concurrent:
                continue
            claimed = await self.store.claim(subscription_id, self.owner, self.lease_ms)
            if claimed is None or self._stopping:
                continue
            task = asyncio.create_task(self._deliver(claimed), name=f"webhook {subscription_id}")
            self._tasks[subscription_id] = task
            task.add_done_callback(functools.partial(self._forget, subscription_id))

    def _forget(self, subscription_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(subscription_id, None)

    async def _deliver(self, sub: Subscription) -> None:
        failures = [sub.failures]  # consecutive, as the store will count them
        try:
            await self._serve(sub, failures)  # returns once paused, deleted or taken over
            await self.store.release(self.owner, sub.subscription_id)  # resumable at once
        except TargetRefused as exc:  # not the receiver's failure: the operator's choice
            await self._refused(sub, exc.reason)
        except DeliveryFailed as exc:
            await self._failed(sub, exc.reason, failures[0] + 1)
        except (LogError, StoreError) as exc:  # not the receiver's fault: retry, uncounted
            logger.debug("webhook %s: delivery interrupted: %s", sub.subscription_id, exc)
            self._deliveries.failed(exc)
            with contextlib.suppress(StoreError):
                await self.store.release(self.owner, sub.subscription_id)
        except Exception:  # a bug of ours: counted, so a subscription that hits it pauses
            logger.exception("webhook %s: delivery failed unexpectedly", sub.subscription_id)
            await self._failed(sub, "internal error in the gateway", failures[0] + 1)

    async def _serve(self, sub: Subscription, failures: list[int]) -> None:
        position: Position = dict(sub.position)
        sid = sub.subscription_id
        try:  # the operator may have narrowed the list since the subscription was made
            check_target(sub.target_url, self.settings.allowed_hosts)
        except TargetNotAllowed as exc:
            raise TargetRefused(exc.errors[0]["message"]) from exc
        async with self.log.reader(sub.stream, position or None) as reader:
            renewed = time.monotonic()
            while not self._stopping:
                records = await reader.poll(self.settings.batch_size, self._poll_s)
                view = await self.views(sub) if self.views is not None and records else None
                events, lags = self._events(sub, records, position, view)
                # renewed just before each POST (a pause or delete seen here stops the worker,
                # and the lease then outlasts the attempt), and at least every lease_s / 3
                if events or time.monotonic() - renewed > self.settings.lease_s / 3:
                    if not await self.store.renew(sid, self.owner, self.lease_ms):
                        return  # paused, deleted, or (after a long stall) taken over
                    renewed = time.monotonic()
                if events:
                    await self._post(sub, batch_body(events), failures[0] + 1, len(events))
                    failures[0] = 0
                if records and not await self.store.advance(sid, self.owner, position, len(events)):
                    return
                self._deliveries.over()  # the log and the database answered this round
                self._observe_delivered(lags)

    def _events(
        self,
        sub: Subscription,
        records: list[LogRecord],
        position: Position,
        view: ItemView | None = None,
    ) -> tuple[list[dict[str, Any]], list[float]]:
        """The CloudEvents of the records that match the filter and that the member may see,
        and their ages; `position` moves past every record, shown or not."""
        events, lags = [], []
        for record in records:
            position[record.partition] = record.offset + 1
            item = to_item(self.codec, record, encode_cursor(sub.stream, position))
            shown = visible(item, sub.filter, view)
            if shown is not None:
                events.append(cloudevent(record, shown))
                lags.append(_age_s(record))
        return events, lags

    async def _post(self, sub: Subscription, body: bytes, attempt: int, count: int) -> None:
        headers = sign_delivery(
            sub.target_url,
            body,
            subscription_id=sub.subscription_id,
            delivery_id=str(uuid.uuid4()),
            keyid=self.keyid,
            private_key=self.private_key,
            digest=self.digest,
        )
        headers["User-Agent"] = f"govgate-webhooks/{__version__}"
        assert self._http is not None, "deliveries run only inside run()"
        post = self._http.stream("POST", sub.target_url, content=body, headers=headers)
        try:  # httpx's timeout is per phase (connect, write, read): bound the whole attempt
            async with asyncio.timeout(self.settings.timeout_s), post as response:
                status = response.status_code  # the body is not read: the status is the answer
        except TargetNotAllowed as exc:  # from the pinned transport, at connect time
            raise TargetRefused(exc.errors[0]["message"]) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise DeliveryFailed(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"no answer ({type(exc).__name__})") from exc
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")
        logger.debug(
            "webhook %s: %d events acknowledged, attempt %d", sub.subscription_id, count, attempt
        )

    async def _failed(self, sub: Subscription, reason: str, failures: int) -> None:
        settings = self.settings
        delay = backoff_delay(failures - 1, settings.backoff_base_s, settings.backoff_cap_s)
        try:
            after = await self.store.fail(
                sub.subscription_id,
                self.owner,
                reason,
                int(delay * 1000),
                self.settings.max_failures,
            )
        except StoreError as exc:
            logger.warning("webhook %s: failure not recorded: %s", sub.subscription_id, exc)
            return
        if self.metrics is not None:
            self.metrics.webhook_deliveries.labels("failed").inc()
        if after is not None and after.state == "paused":
            logger.warning(
                "webhook %s: paused after %d consecutive failures (last: %s)",
                sub.subscription_id,
                after.failures,
                reason,
            )
            if self.metrics is not None:
                self.metrics.webhook_deliveries.labels("paused").inc()
        else:
            logger.info(
                "webhook %s: attempt %d failed (%s); retry in %.1f s",
                sub.subscription_id,
                failures,
                reason,
                delay,
            )

    async def _refused(self, sub: Subscription, reason: str) -> None:
        try:
            paused = await self.store.refuse(sub.subscription_id, self.owner, reason)
        except StoreError as exc:
            logger.warning("webhook %s: refusal not recorded: %s", sub.subscription_id, exc)
            return
        if paused:
            logger.warning(
                "webhook %s: paused, target not allowed: %s", sub.subscription_id, reason
            )
            if self.metrics is not None:
                self.metrics.webhook_deliveries.labels("paused").inc()

    def _observe_delivered(self, lag_s: list[float]) -> None:
        if self.metrics is None or not lag_s:
            return
        self.metrics.webhook_deliveries.labels("delivered").inc()
        self.metrics.webhook_events.inc(len(lag_s))
        for lag in lag_s:
            self.metrics.webhook_lag.observe(lag)


def _age_s(record: LogRecord) -> float:
    return max(0.0, time.time() - record.timestamp_ms / 1000)
