"""The demo's busy departments (`govgate up --demo`).

`Demo` owns the simulators — 发改 (with its attachments' file share) and 市场监管 as SQLite files
in a folder, 自然资源 in memory behind its HTTP API, 人社, the credit platform (信用平台,
joint-punishment lists) and 住建 (scanned materials with a GBK index) as drop folders — fills
them with some history on first start, and keeps them changing so the feed stays live and
materials arrive from the first minute (a 自然资源 title is now and then deleted outright, a
listed subject removed from its list). Paths, host, port and token are constructor arguments;
the attributes `fgw_url`, `fgw_files`, `scjg_url`, `zrzy_url`, `zrzy_token`, `drop_folder`,
`credit_folder` and `zj_folder` tell the connectors where to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from connectors.simulators.clock import local_now
from connectors.simulators.credit import CreditListSimulator
from connectors.simulators.fgw import FgwSimulator
from connectors.simulators.rs import RsSimulator
from connectors.simulators.scjg import ScjgSimulator
from connectors.simulators.zj import ZjSimulator
from connectors.simulators.zrzy import ZrzySimulator, create_app

__all__ = ["Demo"]


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Demo:
    """Simulated departments, kept busy; use as `async with Demo(folder) as demo:`."""

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 0,
        bad_share: float = 0.02,
        region: str = "330802",
        drop_folder: Path | None = None,
        zrzy_host: str = "127.0.0.1",
        zrzy_port: int = 8731,
        zrzy_token: str = "demo-zrzy-token",
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.fgw_url = f"sqlite:///{folder / 'fgw.db'}"
        self.scjg_url = f"sqlite:///{folder / 'scjg.db'}"
        self.drop_folder = drop_folder or folder / "rs-drop"
        self.fgw_files = folder / "fgw-files"
        self.zj_folder = folder / "zj-drop"
        self.zrzy_host = zrzy_host
        self.zrzy_port = zrzy_port
        self.zrzy_token = zrzy_token
        self.fgw = FgwSimulator(
            self.fgw_url, seed=seed, bad_share=bad_share, region=region, files_dir=self.fgw_files
        )
        self.fgw.repeat_share = 0.3  # applicants come back, with the same documents
        self.scjg = ScjgSimulator(self.scjg_url, seed=seed + 1, bad_share=bad_share, region=region)
        self.zrzy = ZrzySimulator(seed=seed + 2, bad_share=bad_share, region=region)
        self.rs = RsSimulator(self.drop_folder, seed=seed + 3, bad_share=bad_share, region=region)
        self.credit_folder = folder / "xy-drop"
        self.credit = CreditListSimulator(
            self.credit_folder, seed=seed + 5, bad_share=bad_share, region=region
        )
        self.zj = ZjSimulator(self.zj_folder, seed=seed + 6, region=region)
        self.zrzy_app = create_app(self.zrzy, zrzy_token)
        self._rng = random.Random(seed + 4)
        self._started = False
        self._ticks = 0

    @property
    def zrzy_url(self) -> str:
        return f"http://{self.zrzy_host}:{self.zrzy_port}"

    async def start(self) -> None:
        """Create the tables and, on a first start, some history (idempotent)."""
        if self._started:
            return
        await self.fgw.create_schema()
        await self.scjg.create_schema()
        if await self.fgw.count() == 0:
            # Forgotten cases first (the simulator's clock never goes back): accepted 45 and
            # 13 days ago and left untouched, they pass their limits, so `govgate supervise`
            # shows red and yellow cards (红牌/黄牌) from the start.
            now = local_now()
            await self.fgw.add_stalled_cases(3, now - timedelta(days=45))
            await self.fgw.add_stalled_cases(2, now - timedelta(days=13))
            await self.fgw.populate(500)
            await self.fgw.add_cases(10)
        if await self.scjg.count() == 0:
            await self.scjg.populate(300)
        if not len(self.zrzy.certificates):
            self.zrzy.add_certificates(30)
            self.zrzy.add_cases(10)
        self.credit_folder.mkdir(parents=True, exist_ok=True)
        if not any(self.credit_folder.rglob("sxmd_*")):
            self.credit.add_entries(20)
            await asyncio.to_thread(self.credit.write_export)
        if not self.zj_folder.exists():
            await asyncio.to_thread(self.zj.write_applications, 5)
        self._started = True

    async def tick(self) -> None:
        """One round of work in every department."""
        rng = self._rng
        await self.fgw.add_cases(rng.randint(1, 3))
        await self.fgw.advance(rng.randint(1, 4))
        await self.scjg.add_licences(rng.randint(0, 2))
        if rng.random() < 0.2:
            await self.scjg.change_status(1)
        if rng.random() < 0.2:
            await self.scjg.amend(1)
        self.zrzy.add_certificates(rng.randint(0, 2))
        self.zrzy.add_cases(rng.randint(0, 1))
        self.zrzy.advance(rng.randint(0, 2))
        if rng.random() < 0.1:
            self.zrzy.revoke(1)
        if rng.random() < 0.03 and len(self.zrzy.certificates) > 10:
            gone = self.zrzy.certificates.oldest(lambda _cert: True, 20)
            self.zrzy.delete_certificates([str(rng.choice(gone)["ywh"])])
        self._ticks += 1
        if self._ticks % 10 == 1:
            await asyncio.to_thread(self.rs.write_registrations, rng.randint(5, 20))
        if self._ticks % 15 == 7:
            await asyncio.to_thread(self.rs.write_payment_certificates, rng.randint(3, 10))
        if self._ticks % 30 == 20:
            await asyncio.to_thread(self.rs.write_xlsx, rng.randint(3, 10))
        if self._ticks % 20 == 11:
            self.credit.add_entries(rng.randint(1, 4))
            listed = sorted(k for k, row in self.credit.entries.items() if not row["移出日期"])
            if listed and rng.random() < 0.5:
                self.credit.remove(rng.choice(listed))
            await asyncio.to_thread(self.credit.write_export)
        if self._ticks % 10 == 5:
            await asyncio.to_thread(self.zj.write_applications, rng.randint(1, 3))

    async def run(self, stop: asyncio.Event, interval_s: float = 2.0) -> None:
        """Tick every `interval_s` seconds until `stop` is set."""
        await self.start()
        while not stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    async def serve_zrzy(
        self, host: str | None = None, port: int | None = None, stop: asyncio.Event | None = None
    ) -> None:
        """Serve the 自然资源 API on uvicorn until `stop` is set (or the task is cancelled).

        The socket is bound here, before uvicorn starts, so a port in use raises `OSError`
        instead of uvicorn's `sys.exit`; port 0 picks a free port, then in `zrzy_port`.
        """
        host = host or self.zrzy_host
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, self.zrzy_port if port is None else port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self.zrzy_host, self.zrzy_port = host, int(sock.getsockname()[1])
        config = uvicorn.Config(self.zrzy_app, log_level="warning", lifespan="off")
        server = _EmbeddedServer(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            if stop is None:
                await asyncio.shield(serving)
            else:
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
        finally:
            server.should_exit = True
            await serving
            sock.close()

    async def close(self) -> None:
        await self.fgw.close()
        await self.scjg.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
