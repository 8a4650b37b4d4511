"""The FastAPI application: wires settings, services, routers and error handlers together."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway import __version__
from gateway.api import console, contract, problems
from gateway.api.audit_and_sign import AuditedSignedResponses
from gateway.api.hot import HotRoutes
from gateway.api.routes import (
    access_log,
    applications,
    cases,
    catalogue,
    certificates,
    credit,
    events,
    feeds,
    grants,
    health,
    materials,
    metrics,
    notices,
    subscriptions,
    wellknown,
)
from gateway.api.services import open_services, services
from gateway.settings import Settings


def create_app(settings: Settings | None = None, *, freeze_heap: bool = False) -> FastAPI:
    """The gateway app. `freeze_heap` is for a process that serves this one app (`govgate up`,
    its workers, the benchmark): see `_freeze_startup_heap`. Tests leave it off, since they
    build many apps in one process and frozen objects are never collected."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.settings = settings
            app.state.engine = services.engine
            app.state.log = services.log
            app.state.services = services
            if freeze_heap:
                _freeze_startup_heap()
            yield

    app = FastAPI(
        title="govgate",
        version=__version__,
        summary="政务数据共享网关 — inter-agency data-sharing gateway",
        lifespan=lifespan,
    )
    for module in (
        health,
        metrics,
        wellknown,
        certificates,
        materials,
        cases,
        credit,
        events,
        access_log,
        feeds,
        notices,
        subscriptions,
        catalogue,
        applications,
        grants,
    ):
        app.include_router(module.router)
    problems.install(app)
    contract.install(app)
    console.install(app, services)  # /console: the web pages for people (gateway.api.console)
    app.add_middleware(HotRoutes)  # inside: its answers are audited and signed too
    app.add_middleware(AuditedSignedResponses)
    return app


def _freeze_startup_heap() -> None:
    """Move what start-up allocated (modules, SQLAlchemy and FastAPI structures, the services)
    out of the collector's reach: a full collection then walks only what requests allocate,
    instead of stalling a request now and then on every start-up object (README, Figures)."""
    gc.collect()
    gc.freeze()
