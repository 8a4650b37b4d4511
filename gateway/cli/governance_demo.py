"""Sharing applications for `govgate up --demo`, so the console's 共享申请 and 授权与成员 pages
have work on them from a fresh clone: a county window member (柯城区综合窗口, `demo-window`, its
key pair in DATA_DIR/keys/) applies for three of the shipped resources, through the same
service as a signed `POST /v1/applications`:

- 市场监管's 营业执照 (SCJG-YYZZ), passed by the bureau: it awaits 市场监管's officer (审核决定);
- 自然资源's 不动产权证书 (ZRZY-BDCQZ): it awaits the bureau's operator (合规审查);
- 人社's 社保缴费证明 (RS-SBJFZM), passed and approved: a grant, with its expiry.

Run once per database: when any application exists, nothing is added.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateway.catalogue.errors import UnknownResource
from gateway.cli.governance import opened
from gateway.governance.application_in import ApplicationIn
from gateway.governance.record import Actor
from gateway.governance.tables import sharing_applications
from gateway.members.errors import UnknownMember
from gateway.members.keys import generate_private_key, write_key_pair
from gateway.settings import Settings

WINDOW, WINDOW_DEPARTMENT = "demo-window", "330802-ZHCK"
ITEM = "11330802002493025K3330111703000"  # 企业投资项目备案, the demo departments' item
SCENARIO = "柯城区综合窗口一窗通办：核验申请人提交的证照，免于重复提交"
# resource, how far it goes: 0 submitted, 1 passed by the bureau, 2 approved by its provider
PLAN = (("SCJG-YYZZ", 1), ("ZRZY-BDCQZ", 0), ("RS-SBJFZM", 2))


async def demo_applications(settings: Settings) -> list[str]:
    """File the demo's applications (unless some exist); returns their ids."""
    async with opened(settings) as found:
        gov, members = found.governance, found.members
        async with gov.recorder.engine.connect() as conn:
            if await conn.scalar(select(func.count()).select_from(sharing_applications)):
                return []
        try:
            await members.get_member(WINDOW)
        except UnknownMember:
            key = generate_private_key("ed25519")
            await asyncio.to_thread(write_key_pair, settings.data_dir / "keys", key, name=WINDOW)
            await members.add_member(
                WINDOW,
                ("consumer",),
                name="柯城区综合窗口（演示）",
                keys=[key.public_key()],
                department=WINDOW_DEPARTMENT,
            )
        window = Actor(WINDOW, WINDOW_DEPARTMENT)
        filed = []
        for code, steps in PLAN:
            try:
                entry = await gov.catalogue.published(code)
            except UnknownResource:
                continue
            asked = ApplicationIn(code, (ITEM,), SCENARIO, entry.field_names[:2], 90)
            app_id = str((await gov.applications.apply(window, asked))["application_id"])
            filed.append(app_id)
            if steps >= 1:
                await gov.applications.decide(Actor.command_line(), app_id, "PASS", None)
            if steps >= 2:
                await gov.applications.decide(Actor.command_line(), app_id, "APPROVE", None)
        return filed
