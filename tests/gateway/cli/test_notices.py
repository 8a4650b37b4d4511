"""`govgate notices run --once` (a real process) on the SQL log: a licence on certificates is
routed, a second run days later cards the unclaimed notices, and `govgate supervise report`
counts them."""

from __future__ import annotations

import asyncio
import csv
import os
from asyncio.subprocess import PIPE, STDOUT
from datetime import date
from pathlib import Path

import pytest

from gateway.log import open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.samples import certificate

SCOPE = (
    "许可项目：餐饮服务；道路货物运输（不含危险货物）（依法须经批准的项目，经相关部门批准后方可开展"
    "经营活动）一般项目：餐饮管理。"
)
codec = EventCodec()


async def test_notices_run_routes_then_cards_and_the_bulletin_counts(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, govgate_bin: str
) -> None:
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(data_dir))

    async def _govgate(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            govgate_bin, *args, stdout=PIPE, stderr=STDOUT, env=os.environ.copy()
        )
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()
        return output.decode()

    licence = certificate("YYZZ-913308020000000001")
    licence.update(issue_date=date(2026, 11, 2), valid_from=date(2026, 11, 2))
    licence["surface_fields"] = {"名称": "衢州市柯城区示例餐饮有限公司", "经营范围": SCOPE}
    settings = Settings(data_dir=data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        await log.append("certificates", [codec.encode("Certificate", licence)])

    routed = await _govgate("notices", "run", "--once", "--now", "2026-11-02 10:00:00")
    lines = routed.splitlines()
    assert any("衢州市柯城区市场监督管理局: 食品经营许可" in line for line in lines), routed
    assert any("衢州市柯城区交通运输局: 道路运输经营许可（货运）" in line for line in lines)
    assert "2 notices (0 to the pool)" in routed

    late = await _govgate("notices", "run", "--once", "--now", "2026-11-11 10:00:00")
    cards = [line for line in late.splitlines() if line.startswith(("YELLOW", "RED"))]
    assert sorted(line.split()[0] for line in cards) == ["RED", "RED", "YELLOW", "YELLOW"]
    assert "0 licences routed" in late  # routed once only

    out = data_dir / "report"
    report = await _govgate(
        "supervise", "report", "--month", "2026-11", "--now", "2026-11-11", "--out", str(out)
    )
    assert "衢州市柯城区交通运输局: accepted 0" in report
    assert "notices 1, claimed on time 0, overdue 1" in report
    rows = list(
        csv.reader(
            (out / "supervision-report-2026-11.csv").read_text(encoding="utf-8-sig").splitlines()
        )
    )
    header = rows[0]
    jtys = next(r for r in rows if r[0] == "330802-JTYS")
    assert jtys[header.index("双告知推送 notices_received")] == "1"
    assert jtys[header.index("认领超时 notices_overdue")] == "1"
