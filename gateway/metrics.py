"""Prometheus metrics of the gateway, and the `/metrics` route that exposes them.

Each app has a registry of its own (not the process-global one), so several apps in one
process (tests, the benchmark) do not collide. Route labels are route templates, never paths:
a path holds ids, and labels must stay few.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from gateway.audit.log import AuditLog
    from gateway.lookup import Materializer

router = APIRouter(tags=["operations"])
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Requests by route and decision, latency, audit lag, materializer lag, webhooks."""

    def __init__(self, audit: AuditLog) -> None:
        self.registry = CollectorRegistry()
        self.materializer: Materializer | None = None
        self.requests = Counter(
            "govgate_requests",
            "Requests answered, by route template, decision (allow/deny) and code.",
            ["route", "method", "decision", "code"],
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
        )
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
        )

    def observe(
        self, route: str, method: str, status: int, code: str | None, seconds: float
    ) -> None:
        decision = "allow" if status < 400 else "deny"
        self.requests.labels(route, method, decision, code or "").inc()
        self.latency.labels(route).observe(seconds)

    async def refresh(self) -> None:
        """Update the gauges that must be asked for (the materializer's lag)."""
        if self.materializer is None:
            return
        for stream, lag in (await self.materializer.lag()).items():
            self.materializer_lag.labels(stream).set(lag)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    found = request.app.state.services.metrics
    assert isinstance(found, Metrics)
    await found.refresh()
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)
