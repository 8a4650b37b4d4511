"""`govgate catalogue` and the operator's grants: the same governance records as the API, each
publication and grant audited (the chain verifies) and on the `governance` stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from gateway.log import open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def governance_actions(env: dict[str, str]) -> list[str]:
    async def read() -> list[str]:
        settings = Settings(data_dir=Path(env["GOVGATE_DATA_DIR"]))
        async with open_database(settings) as engine, open_log(settings, engine) as log:
            codec = EventCodec()
            return [
                str(codec.decode(r.value or b"").record["action"])
                async for r in log.iterate("governance")
            ]

    return asyncio.run(read())


def test_shipped_entries_published_listed_shown_and_withdrawn(data_dir: Path) -> None:
    env = {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_GATEWAY_AUDIT_SECRET": "test-audit-secret-0123456789",
    }
    published = run(env, "catalogue", "publish", "--shipped")
    assert "SCJG-YYZZ v1 CONDITIONAL 营业执照" in published
    assert "XY-SXMD v1 UNCONDITIONAL" in published
    assert "SCJG-YYZZ v1" in run(env, "catalogue", "publish", "--shipped")  # unchanged: no v2
    listed = run(env, "catalogue", "list", "--department", "SCJG")
    assert listed.strip().splitlines() == ["SCJG-YYZZ v1 SCJG certificate CONDITIONAL 营业执照"]
    assert "RS-SBJFZM" in run(env, "catalogue", "list", "--keyword", "缴费")
    run(env, "catalogue", "withdraw", "ZRZY-BDCQZ", "--reason", "系统迁移")
    shown = [json.loads(line) for line in run(env, "catalogue", "show", "ZRZY-BDCQZ").splitlines()]
    assert [(v["version"], v["withdrawn_ms"] is not None) for v in shown] == [(1, False), (2, True)]
    assert "ZRZY-BDCQZ" not in run(env, "catalogue", "list")

    keys = data_dir / "keys-window"
    run(env, "keys", "generate", "--out", str(keys), "--name", "window")
    run(
        env,
        "members", "add", "window", "--role", "consumer", "--department", "330802-ZHCK",
        "--public-key", str(keys / "window.public.pem"), "--grant", "certificate:YYZZ:*:住所",
    )  # fmt: skip
    member = json.loads(run(env, "members", "list", "--json"))
    assert member["department"] == "330802-ZHCK" and member["grants"] == ["certificate:YYZZ:*:住所"]
    assert governance_actions(env) == [
        *["CATALOGUE_PUBLISHED"] * 5,
        "CATALOGUE_WITHDRAWN",
        "GRANT_CREATED",
    ]
    listed_grants = run(env, "governance", "grants", "--member", "window").splitlines()
    assert len(listed_grants) == 1 and "certificate:YYZZ:*" in listed_grants[0]
    assert "ACTIVE no expiry (operator)" in listed_grants[0]
    grant_id = listed_grants[0].split()[0]
    refused = CliRunner().invoke(main, ["governance", "change", grant_id, "suspend"], env=env)
    assert refused.exit_code != 0 and "REASON_REQUIRED" in refused.output
    assert "SUSPENDED" in run(env, "governance", "change", grant_id, "suspend", "--reason", "核查")
    assert json.loads(run(env, "members", "list", "--json"))["grants"] == []  # not in force
    verified = CliRunner().invoke(main, ["audit", "verify", "--no-anchors"], env=env)
    assert verified.exit_code == 0, verified.output
