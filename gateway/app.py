"""The FastAPI application: wires settings, the store, the log and the routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from gateway import __version__
from gateway.log import open_log
from gateway.routes import health
from gateway.settings import Settings
from gateway.store import open_database


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = await stack.enter_async_context(open_database(settings))
            log = await stack.enter_async_context(
                open_log(settings, engine, wait=settings.kafka.startup_wait_s)
            )
            app.state.settings = settings
            app.state.engine = engine
            app.state.log = log
            yield

    app = FastAPI(
        title="govgate",
        version=__version__,
        summary="政务数据共享网关 — inter-agency data-sharing gateway",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    return app
