"""Prometheus metrics of the gateway (exposed by `gateway.api.routes.metrics`).

Each app has a registry of its own (not the process-global one), so several apps in one
process (tests, the benchmark) do not collide. Route labels are route templates, never paths:
a path holds ids, and labels must stay few.

Under `govgate up --workers N` a scrape reaches one worker, so the workers share their figures
through prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by the parent
before they start): counters and histograms are summed over every worker that ever ran, the
audit lag is summed over live workers, and the gauges each worker refreshes every few seconds,
since a scrape cannot ask the other workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import generate_latest

if TYPE_CHECKING:
    from gateway.audit.log import AuditLog
    from gateway.lookup import Materializer

logger = logging.getLogger(__name__)
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
REFRESH_S = 5.0  # how often a worker refreshes its gauges in multiprocess mode
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Requests by route and decision, latency, audit lag, materializer lag, webhooks."""

    def __init__(self, audit: AuditLog) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get(METRICS_DIR_ENV))
        self._audit = audit
        self.materializer: Materializer | None = None
        self.requests = Counter(
            "govgate_requests",
            "Requests answered, by route template, decision (allow/deny) and code.",
            ["route", "method", "decision", "code"],
            registry=self.registry,
        )
        self.unidentified_refusals = Counter(
            "govgate_unidentified_refusals",
            "Refusals of callers without a valid signature, by code: tallied into one audit "
            "row per code and interval (gateway.audit_refusals_interval_s), not one row each.",
            ["code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "govgate_request_duration_seconds",
            "Time from request to signed, audited response.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.audit_pending = Gauge(
            "govgate_audit_pending_rows",
            "Audit rows queued and not yet committed (audit lag).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        if not self.multiprocess:  # a function is asked at scrape time, by this process only
            self.audit_pending.set_function(lambda: audit.pending)
        self.webhook_deliveries = Counter(
            "govgate_webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed) and subscriptions paused.",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "govgate_webhook_events",
            "Events acknowledged by webhook receivers.",
            registry=self.registry,
        )
        self.webhook_lag = Histogram(
            "govgate_webhook_lag_seconds",
            "Time from an event's append to the log to its receiver's acknowledgement.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=self.registry,
        )
        self.materializer_lag = Gauge(
            "govgate_materializer_lag_records",
            "Records on the log not yet in the lookup store, per stream.",
            ["stream"],
            registry=self.registry,
            multiprocess_mode="livemax",  # worker 0 alone materializes
        )

    def observe(
        self, route: str, method: str, status: int, code: str | None, seconds: float
    ) -> None:
        decision = "allow" if status < 400 else "deny"
        self.requests.labels(route, method, decision, code or "").inc()
        self.latency.labels(route).observe(seconds)

    async def refresh(self) -> None:
        """Update the gauges that must be asked for (the materializer's lag)."""
        if self.multiprocess:
            self.audit_pending.set(self._audit.pending)
        if self.materializer is None:
            return
        for stream, lag in (await self.materializer.lag()).items():
            self.materializer_lag.labels(stream).set(lag)

    async def refresh_every(self, seconds: float = REFRESH_S) -> None:
        """In multiprocess mode, keep this worker's gauges fresh for scrapes other workers
        answer. Runs until cancelled; a failed refresh (the log unreachable) is retried."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the gauges keep their last value meanwhile
                logger.debug("metrics refresh failed: %r", exc)
            await asyncio.sleep(seconds)

    def exposition(self) -> bytes:
        """The text a scrape gets: this app's registry, or every worker's figures."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
