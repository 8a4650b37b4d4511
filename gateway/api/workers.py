"""Several gateway processes on one port: `govgate up --workers N`.

A Python process runs on one core at a time, and a signed, audited lookup is CPU work in Python
(README, Figures). With N workers the parent does once what workers would otherwise race to do
(migrate the database; create the response key and the audit secret if missing), binds one
socket per worker on the port (SO_REUSEPORT: the kernel spreads new connections over them), and
starts N worker processes, each a uvicorn server with its own services on its socket. It
restarts a worker that dies (after a back-off) and stops them all gracefully on SIGTERM or
SIGINT. A worker that hangs without dying is not detected; /healthz per worker is the place for
an orchestrator to look.

What workers share lives in the database: nonces (a replay is refused whichever worker sees
it), the audit chain (appends serialize on its head row) and webhook leases; members are cached
per worker for `gateway.member_cache_s`. Worker 0 alone runs the background tasks (the
materializer, audit anchoring, the webhook deliverer), so each still has a single consumer.
Metrics are summed across workers by prometheus_client's multiprocess mode: the parent makes
the folder named by `PROMETHEUS_MULTIPROC_DIR` and removes it at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from gateway.api.guard import Limits, guarded_protocol
from gateway.backoff import backoff_delay
from gateway.logging_config import configure_logging
from gateway.metrics import METRICS_DIR_ENV
from gateway.settings import GatewaySettings, Settings

logger = logging.getLogger(__name__)

# Spawned, not forked: a worker starts from a fresh interpreter, with no event loop, threads or
# connections inherited from the parent (which, with --demo, runs the departments' connectors).
_CONTEXT = multiprocessing.get_context("spawn")
STOP_GRACE_S = 30.0
RESTART_BACKOFF_S = (0.5, 30.0)  # first delay, largest delay
STABLE_AFTER_S = 60.0  # a worker that ran this long starts its back-off afresh when it dies
BACKLOG = 2048


def server_config(app: Any, host: str, port: int, settings: GatewaySettings) -> uvicorn.Config:
    """uvicorn as the gateway runs it, in one process or in each worker: its HTTP protocol
    guarded (gateway.api.guard: head size, head read time, connections), keep-alive bounded."""
    limits = Limits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout_s=settings.header_timeout_s,
        max_connections=settings.max_connections,
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        h11_max_incomplete_event_size=settings.max_header_bytes,  # should h11 be the protocol
        timeout_keep_alive=settings.keep_alive_s,
        log_config=None,  # keep the logging set up by `govgate`
        proxy_headers=False,
        server_header=False,
        access_log=False,  # queries carry holder ids; the audit log is the access record
    )


def worker_settings(settings: Settings, index: int) -> Settings:
    """Worker `index`'s settings: no migration (the parent ran it), and the background tasks
    (materializer, audit anchoring, webhook deliverer) in worker 0 only."""
    update: dict[str, Any] = {
        "database": settings.database.model_copy(update={"migrate_on_start": False})
    }
    if index > 0:
        update["gateway"] = settings.gateway.model_copy(
            update={"materialize": False, "audit_anchor_interval_s": 0}
        )
        update["webhooks"] = settings.webhooks.model_copy(update={"deliver": False})
    return settings.model_copy(update=update)


async def prepare(settings: Settings) -> None:
    """Once, before the workers start: the schema, the response key and the audit secret."""
    from gateway.api.services import load_audit_secret, load_signing_keys
    from gateway.store import open_database

    async with open_database(settings):  # migrates when database.migrate_on_start
        pass
    await asyncio.to_thread(load_signing_keys, settings)
    await asyncio.to_thread(load_audit_secret, settings)


def bind(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address, one per worker, with SO_REUSEPORT: the kernel
    spreads new connections evenly over them. (With one shared socket, whichever worker is
    in accept() first takes a whole burst of keep-alive connections and keeps them, and the
    others idle.) The
    parent keeps them open, so connections for a worker being restarted wait in its backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0: the others join the port the first got
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve_worker(index: int, settings: Settings, sock: socket.socket, verbose: bool) -> None:
    """A worker process: the gateway app under uvicorn on its inherited socket."""
    configure_logging(verbose)
    logger.info("gateway worker %d starting (pid %d)", index, os.getpid())
    from gateway.api.app import create_app

    app = create_app(worker_settings(settings, index), freeze_heap=True)
    host, port = sock.getsockname()[:2]
    config = server_config(app, host, port, settings.gateway)
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class _Worker:
    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class WorkerPool:
    """N gateway worker processes on `host:port`, kept running until `run`'s `stop` is set."""

    def __init__(
        self, settings: Settings, host: str, port: int, count: int, *, verbose: bool = False
    ) -> None:
        if count < 1:
            raise ValueError(f"workers: at least 1, not {count}")
        self.settings = settings
        self.host = host
        self.port = port
        self.count = count
        self.verbose = verbose
        self._workers = [_Worker(i) for i in range(count)]
        self._sockets: list[socket.socket] = []

    async def run(self, stop: asyncio.Event) -> None:
        if self.settings.database_url.startswith("sqlite"):
            logger.warning(
                "%d workers on SQLite: their writes (audit rows, nonces) take turns on one "
                "database file, so they serve no faster than one worker (bench/lookup.py); "
                "use PostgreSQL (database.url) for --workers > 1",
                self.count,
            )
        await prepare(self.settings)
        self._sockets = bind(self.host, self.port, self.count)
        metrics_dir = tempfile.mkdtemp(prefix="govgate-metrics-")
        os.environ[METRICS_DIR_ENV] = metrics_dir  # inherited by the workers spawned below
        try:
            for worker in self._workers:
                self._start(worker)
            host, port = self._sockets[0].getsockname()[:2]
            logger.info("gateway: %d workers on http://%s:%d", self.count, host, port)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)
                if not stop.is_set():
                    self._tend()
        finally:
            await asyncio.to_thread(self._stop_all)
            for sock in self._sockets:
                sock.close()
            os.environ.pop(METRICS_DIR_ENV, None)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _start(self, worker: _Worker) -> None:
        process = _CONTEXT.Process(
            target=_serve_worker,
            args=(worker.index, self.settings, self._sockets[worker.index], self.verbose),
            name=f"govgate-worker-{worker.index}",
        )
        process.start()
        worker.process, worker.started, worker.restart_at = process, time.monotonic(), None

    def _tend(self) -> None:
        """Restart workers that died, after a back-off that grows while they keep dying."""
        now = time.monotonic()
        for worker in self._workers:
            process = worker.process
            if worker.restart_at is not None:
                if now >= worker.restart_at:
                    logger.info("restarting gateway worker %d", worker.index)
                    self._start(worker)
                continue
            if process is None or process.exitcode is None:
                continue
            _forget_metrics_of(process.pid)
            lived = now - worker.started
            worker.failures = 1 if lived >= STABLE_AFTER_S else worker.failures + 1
            delay = backoff_delay(worker.failures - 1, *RESTART_BACKOFF_S, jitter="none")
            worker.restart_at = now + delay
            logger.error(
                "gateway worker %d (pid %s) exited with %s after %.1f s; restarting in %.1f s",
                worker.index,
                process.pid,
                process.exitcode,
                lived,
                delay,
            )

    def _stop_all(self) -> None:
        """SIGTERM each worker (uvicorn finishes the requests in flight), then wait; SIGKILL
        one that is still there after STOP_GRACE_S."""
        running = [w.process for w in self._workers if w.process and w.process.exitcode is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                logger.error("gateway worker pid %s did not stop; killing it", process.pid)
                process.kill()
                process.join(5)


def _forget_metrics_of(pid: int | None) -> None:
    """Drop a dead worker's live gauges (its counters stay: they were counted)."""
    if pid is None:
        return
    from prometheus_client import multiprocess

    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
