"""`govgate up --demo`'s sharing applications: one awaiting a provider's officer, one the
bureau, one approved into a grant; filed once per database."""

from __future__ import annotations

from pathlib import Path

from gateway.cli.catalogue import publish_shipped
from gateway.cli.governance import opened
from gateway.cli.governance_demo import WINDOW, demo_applications
from gateway.governance.record import Actor
from gateway.settings import GatewaySettings, Settings


async def test_the_demo_files_its_applications_once(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir, gateway=GatewaySettings(audit_secret="test-audit-secret-0123456789")
    )
    await publish_shipped(settings)
    filed = await demo_applications(settings)
    assert len(filed) == 3
    assert await demo_applications(settings) == []
    async with opened(settings) as found:
        apps = await found.governance.applications.list(Actor.command_line())
        grants = await found.governance.grants.all()
        window = await found.members.get_member(WINDOW)
    by_code = {a["resource_code"]: a["status"] for a in apps}
    assert by_code == {
        "SCJG-YYZZ": "PENDING_PROVIDER",
        "ZRZY-BDCQZ": "PENDING_BUREAU",
        "RS-SBJFZM": "APPROVED",
    }
    assert {g.code for g in grants} == {"SBJFZM"} and all(g.expires_ms for g in grants)
    assert window.department == "330802-ZHCK"
    assert (data_dir / "keys" / f"{WINDOW}.private.pem").exists()
