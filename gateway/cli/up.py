"""`govgate up`: start everything that runs in the gateway process (and, with --demo, the
simulated departments and their connectors)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import click
import uvicorn

from gateway.api.app import create_app
from gateway.api.workers import WorkerPool, server_config
from gateway.settings import Settings

logger = logging.getLogger(__name__)
Serve = Callable[[asyncio.Event], Coroutine[Any, Any, None]]  # serves until the event is set


class _EmbeddedServer(uvicorn.Server):
    """uvicorn leaving SIGTERM/SIGINT to us, so connectors can finish their batch first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@click.command()
@click.option("--host", help="Address to listen on (default: gateway.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: gateway.port, 8080).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Gateway processes sharing the port (default: gateway.workers, 1); about one per "
    "core. Worker 0 also runs the materializer, audit anchoring and webhook deliveries.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Also run four simulated departments (发改, 市场监管, 自然资源, 人社) under "
    "DATA_DIR/departments and their connectors, so events flow from the start, and the "
    "e-supervision subscriber and 双告知 router (as `govgate supervise` and `govgate notices "
    "run` would), so the console shows clocks, cards and notices.",
)
def up(host: str | None, port: int | None, workers: int | None, demo: bool) -> None:
    """Start the gateway on the configured store and log; serves /healthz and /readyz."""
    settings = Settings()
    host = host or settings.gateway.host
    port = settings.gateway.port if port is None else port
    listening = settings.gateway.model_copy(update={"host": host, "port": port}).local_url
    click.echo(f"govgate: serving on {listening} (API documentation at {listening}/docs)")
    if settings.console.enabled:
        click.echo(f"govgate: console at {listening}/console/")
    if demo and settings.console.enabled:
        from gateway.cli.users import demo_people

        click.echo("govgate: demo accounts (user name, password, role):")
        for line in asyncio.run(demo_people(settings)):
            click.echo(line)
    count = workers or settings.gateway.workers
    if count > 1:
        verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
        pool = WorkerPool(settings, host, port, count, verbose=verbose)
        asyncio.run(_serve_until_signalled(pool.run, settings, demo))
        return
    config = server_config(create_app(settings, freeze_heap=True), host, port, settings.gateway)
    if not demo:
        uvicorn.Server(config).run()
        return
    server = _EmbeddedServer(config)

    async def serve(stop: asyncio.Event) -> None:
        serving = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await serving

    asyncio.run(_serve_until_signalled(serve, settings, demo))


async def _serve_until_signalled(serve: Serve, settings: Settings, demo: bool) -> None:
    """`serve` (and, with `demo`, the departments and their connectors) until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if demo:
        await _serve_with_demo(settings, serve, stop)
    else:
        await serve(stop)


async def _serve_with_demo(
    settings: Settings,
    serve: Serve,
    stop: asyncio.Event,
) -> None:
    from connectors.runtime.host import (
        load_specs,
        open_host,
        register_publishers,
        run_connectors,
    )
    from connectors.simulators.demo import Demo
    from gateway.cli.catalogue import publish_shipped
    from gateway.cli.demo_subscribers import run_subscribers
    from gateway.cli.governance_demo import demo_applications

    await publish_shipped(settings)  # the departments' catalogue entries (资源目录)
    await demo_applications(settings)  # applications awaiting the console's people (共享申请)

    async with Demo(settings.data_dir / "departments", zrzy_port=0) as departments:
        departments.drop_folder.mkdir(parents=True, exist_ok=True)
        zrzy = asyncio.create_task(departments.serve_zrzy(stop=stop))
        while departments.zrzy_port == 0 and not zrzy.done():
            await asyncio.sleep(0.01)
        os.environ.update(
            GOVGATE_FGW_DB_URL=departments.fgw_url,
            GOVGATE_SCJG_DB_URL=departments.scjg_url,
            GOVGATE_ZRZY_API_URL=departments.zrzy_url,
            GOVGATE_ZRZY_API_AUTH=f"Bearer {departments.zrzy_token}",
            GOVGATE_RS_DROP_DIR=str(departments.drop_folder),
            GOVGATE_XY_DROP_DIR=str(departments.credit_folder),
            GOVGATE_FGW_FILES_DIR=str(departments.fgw_files),
            GOVGATE_ZJ_DROP_DIR=str(departments.zj_folder),
        )
        specs = load_specs(settings)
        logger.info(
            "demo: %d departments simulated, connectors %s", 5, ", ".join(s.name for s in specs)
        )
        async with open_host(settings) as host:
            # the demo's departments publish as their publisher members, registered here
            await register_publishers(host.engine, specs)
            serving = asyncio.create_task(serve(stop))
            busy = asyncio.create_task(departments.run(stop))
            pulling = asyncio.create_task(run_connectors(host, specs, stop))
            # 电子监察 and 双告知 (`govgate supervise`, `govgate notices run`), here in the
            # parent once however many workers serve, for the console's pages
            subscribing = asyncio.create_task(run_subscribers(settings, stop))
            await stop.wait()
            await asyncio.gather(serving, busy, pulling, subscribing, zrzy)
