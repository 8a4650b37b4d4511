"""Tests for connectors/simulators/demo.py: the demo keeps four departments busy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from connectors.simulators.demo import Demo


async def test_the_demo_fills_history_and_keeps_working(tmp_path: Path) -> None:
    async with Demo(tmp_path / "demo", seed=1) as demo:
        assert await demo.fgw.count() == 515
        assert len(demo.fgw.stalled) == 5
        assert await demo.scjg.count() == 300
        assert len(demo.zrzy.certificates) == 30
        stop = asyncio.Event()
        runner = asyncio.create_task(demo.run(stop, interval_s=0.01))
        while len(list(demo.drop_folder.glob("jfzm_*"))) < 1:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(runner, 5)
        assert await demo.fgw.count() > 515
        assert list(demo.drop_folder.glob("cbdj_*.csv"))
    # Reopening the same folder does not add the history again.
    async with Demo(tmp_path / "demo", seed=1) as again:
        assert await again.scjg.count() >= 300
        assert await again.fgw.count() > 515


async def test_serve_zrzy_on_a_real_socket(tmp_path: Path) -> None:
    demo = Demo(tmp_path, seed=2, zrzy_port=0, zrzy_token="t0ken")
    demo.zrzy.add_certificates(3)
    stop = asyncio.Event()
    server = asyncio.create_task(demo.serve_zrzy(stop=stop))
    await asyncio.sleep(0)  # binds the socket before the first await
    try:
        assert demo.zrzy_port != 0
        headers = {"Authorization": "Bearer t0ken"}
        async with httpx.AsyncClient(base_url=demo.zrzy_url, headers=headers) as http:
            for _ in range(100):
                try:
                    response = await http.get("/api/v1/bdcqz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
        assert response.status_code == 200
        assert len(response.json()["data"]["items"]) == 3
    finally:
        stop.set()
        await asyncio.wait_for(server, 5)
        await demo.close()
