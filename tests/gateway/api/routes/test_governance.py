"""Governance over HTTP beyond the story: versions, 不予共享, the stricter class, grant changes by
whom, and nothing half-applied when the audit chain cannot take the rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select

from gateway.audit.tables import audit_head
from gateway.governance.tables import governance_outbox, review_steps
from gateway.members.tables import grants
from gateway.supervision.calendar import WorkCalendar
from schemas.codec import EventCodec
from tests.gateway.api.conftest import PURPOSE, Gateway, Profile
from tests.gateway.api.routes.test_governance_story import ENTRY, cli, departments, post
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate

ASK = {
    "resource_code": "SCJG-YYZZ",
    "purposes": [PURPOSE],
    "scenario": "企业开办",
    "fields": ["住所"],
    "days": 30,
}


@pytest.fixture
def profile() -> Profile:
    return Profile("ed25519", gateway={"member_cache_s": 0})


async def ok(gw: Gateway, path: str, member: str, data: Any = None, method: str = "POST") -> Any:
    payload = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
    response = await gw.call(method, path, member, purpose=None, body=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def approved(gw: Gateway, entry: dict[str, Any] = ENTRY) -> dict[str, Any]:
    """An application for `entry` through both steps; the window's grant."""
    await ok(gw, "/v1/catalogue", "scjg", entry)
    app = (await ok(gw, "/v1/applications", "window", ASK))["application"]
    path = f"/v1/applications/{app['application_id']}/decision"
    await ok(gw, path, "bureau", {"decision": "PASS"})
    if entry["sharing_class"] == "CONDITIONAL":
        await ok(gw, path, "scjg", {"decision": "APPROVE"})
    found = (await ok(gw, "/v1/grants", "window", method="GET"))["items"]
    assert len(found) == 1
    return dict(found[0])


async def test_a_change_is_a_new_version_and_the_same_entry_none(gw: Gateway) -> None:
    await departments(gw)
    assert (await ok(gw, "/v1/catalogue", "scjg", ENTRY))["entry"]["version"] == 1
    assert (await ok(gw, "/v1/catalogue", "scjg", ENTRY))["entry"]["version"] == 1
    changed = ENTRY | {"update_cycle": "DAILY"}
    assert (await ok(gw, "/v1/catalogue", "scjg", changed))["entry"]["version"] == 2
    shown = await ok(gw, "/v1/catalogue/SCJG-YYZZ", "window", method="GET")
    assert [h["version"] for h in shown["history"]] == [1, 2]
    assert shown["entry"]["update_cycle"] == "DAILY"
    withdrawn = await ok(gw, "/v1/catalogue/SCJG-YYZZ/withdraw", "scjg", {"reason": "停用"})
    assert withdrawn["entry"]["version"] == 3 and withdrawn["entry"]["withdrawn_ms"]
    listed = await ok(gw, "/v1/catalogue", "window", method="GET")
    assert listed["items"] == []
    refused = await post(gw, "/v1/applications", "window", ASK)
    assert_problem(refused, 400, "UNKNOWN_RESOURCE")


async def test_publishing_is_for_the_own_department_and_checked(gw: Gateway) -> None:
    await departments(gw)
    await gw.add_member("zrzy", "publisher")
    await gw.services.members.set_department("zrzy", "ZRZY")
    assert_problem(await post(gw, "/v1/catalogue", "zrzy", ENTRY), 403, "NOT_YOUR_RESOURCE")
    no_basis = await post(gw, "/v1/catalogue", "scjg", ENTRY | {"legal_basis": None})
    assert_problem(no_basis, 400, "INVALID_ENTRY")
    assert "legal_basis" in no_basis.json()["detail"]
    assert_problem(await post(gw, "/v1/catalogue", "window", ENTRY), 403, "ROLE_REQUIRED")


async def test_not_shared_is_refused_citing_its_legal_basis(gw: Gateway) -> None:
    await departments(gw)
    basis = "《保守国家秘密法》第九条"
    await ok(
        gw, "/v1/catalogue", "scjg", ENTRY | {"sharing_class": "NOT_SHARED", "legal_basis": basis}
    )
    refused = await post(gw, "/v1/applications", "window", ASK)
    assert_problem(refused, 403, "NOT_SHAREABLE")
    assert basis in refused.json()["detail"]


async def test_an_unconditional_resource_needs_only_the_bureau(gw: Gateway) -> None:
    await departments(gw)
    grant = await approved(gw, ENTRY | {"sharing_class": "UNCONDITIONAL", "legal_basis": None})
    assert grant["status"] == "ACTIVE" and grant["fields"] == ["住所"]


async def test_the_catalogue_class_wins_when_stricter(gw: Gateway) -> None:
    await departments(gw)
    await approved(gw)
    await gw.publish("Certificate", certificate(sharing="UNCONDITIONAL"))
    looked = await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")
    assert looked.status_code == 200, looked.text
    assert looked.json()["record"]["surface_fields"]["法定代表人"] == "***"  # CONDITIONAL wins
    stricter = ENTRY | {"sharing_class": "NOT_SHARED", "legal_basis": "《保守国家秘密法》"}
    await ok(gw, "/v1/catalogue", "scjg", stricter)
    refused = await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")
    assert_problem(refused, 403, "NOT_SHARED")


async def test_grants_are_changed_by_the_bureau_and_the_provider_only(gw: Gateway) -> None:
    await departments(gw)
    grant = await approved(gw, ENTRY | {"fields": ENTRY["fields"]})
    await gw.publish("Certificate", certificate())
    base = f"/v1/grants/{grant['grant_id']}"
    assert_problem(
        await post(gw, f"{base}/suspend", "scjg", {"reason": "x"}), 403, "NOT_YOUR_DECISION"
    )
    assert_problem(
        await post(gw, f"{base}/revoke", "window", {"reason": "x"}), 403, "NOT_YOUR_DECISION"
    )
    assert_problem(await post(gw, f"{base}/suspend", "bureau", {}), 400, "REASON_REQUIRED")
    suspended = await ok(gw, f"{base}/suspend", "bureau", {"reason": "核查违规调用"})
    assert suspended["grant"]["status"] == "SUSPENDED"
    lookup = await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")
    assert lookup.status_code == 403
    await ok(gw, f"{base}/reinstate", "bureau", {})
    assert (await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")).status_code == 200
    revoked = await ok(gw, f"{base}/revoke", "scjg", {"reason": "不再需要"})
    assert revoked["grant"]["status"] == "REVOKED"
    assert (await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")).status_code == 403
    again = await post(gw, f"{base}/reinstate", "bureau", {})
    assert_problem(again, 409, "GRANT_NOT_ACTIVE")


async def test_an_approval_is_all_or_nothing(gw: Gateway) -> None:
    await departments(gw)
    await ok(gw, "/v1/catalogue", "scjg", ENTRY)
    app = (await ok(gw, "/v1/applications", "window", ASK))["application"]
    path = f"/v1/applications/{app['application_id']}/decision"
    await ok(gw, path, "bureau", {"decision": "PASS"})
    engine = gw.services.engine
    async with engine.begin() as conn:
        head = (await conn.execute(select(audit_head))).one()._asdict()
        outbox_before = await conn.scalar(select(func.count()).select_from(governance_outbox))
        await conn.execute(delete(audit_head))  # the chain cannot take the approval's rows
    try:
        failed = await post(gw, path, "scjg", {"decision": "APPROVE"})
        assert failed.status_code >= 500
    finally:
        async with engine.begin() as conn:
            await conn.execute(insert(audit_head).values(**head))
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(grants)) == 0
        open_steps = await conn.scalar(
            select(func.count())
            .select_from(review_steps)
            .where(review_steps.c.decided_ms.is_(None))
        )
        assert open_steps == 1
        assert (
            await conn.scalar(select(func.count()).select_from(governance_outbox)) == outbox_before
        )
    status = await ok(gw, f"/v1/applications/{app['application_id']}", "window", method="GET")
    assert status["application"]["status"] == "PENDING_PROVIDER"
    await ok(gw, path, "scjg", {"decision": "APPROVE"})  # and it can be decided after all


async def test_a_step_at_80_percent_gets_a_yellow_card(
    gw: Gateway, data_dir: Path, govgate_bin: str
) -> None:
    """The bureau's 2 working days: on the first working day after the application a yellow
    card names the bureau; no red card yet."""
    await departments(gw)
    await ok(gw, "/v1/catalogue", "scjg", ENTRY)
    app = (await ok(gw, "/v1/applications", "window", ASK))["application"]
    beijing = dt.timezone(dt.timedelta(hours=8))
    today = dt.datetime.now(beijing).date()
    day_one = WorkCalendar().add_working_days(today, 1)
    ran = cli(
        gw, data_dir, govgate_bin, "governance", "run", "--once", "--now", f"{day_one}T12:00:00"
    )
    assert ran.returncode == 0, ran.stderr
    codec = EventCodec()
    alerts = [
        codec.decode(r.value or b"").record
        async for r in gw.services.log.iterate("supervision-alerts")
    ]
    assert [(a["card"], a["case_no"], a["department_code"]) for a in alerts] == [
        ("YELLOW", f"{app['application_id']}-B", "DSJJ")
    ]
    assert alerts[0]["item_code"] == PURPOSE and "营业执照" in alerts[0]["item_name"]


async def test_two_decisions_at_once_one_wins(gw: Gateway) -> None:
    await departments(gw)
    await gw.add_member("bureau2", "auditor")
    await gw.services.members.set_department("bureau2", "DSJJ")
    await ok(gw, "/v1/catalogue", "scjg", ENTRY)
    app = (await ok(gw, "/v1/applications", "window", ASK))["application"]
    path = f"/v1/applications/{app['application_id']}/decision"
    answers = await asyncio.gather(
        post(gw, path, "bureau", {"decision": "PASS"}),
        post(gw, path, "bureau2", {"decision": "REFUSE", "reason": "用途不明"}),
    )
    assert sorted(a.status_code == 200 for a in answers) == [False, True]
    loser = next(a for a in answers if a.status_code != 200)
    # refused by the step the winner left: closed (a refusal) or now the provider's (a pass)
    assert (loser.status_code, loser.json()["code"]) in {
        (409, "STEP_CLOSED"),
        (403, "NOT_YOUR_DECISION"),
    }
    shown = await ok(gw, f"/v1/applications/{app['application_id']}", "window", method="GET")
    assert len([s for s in shown["application"]["steps"] if s["step"] == "BUREAU_CHECK"]) == 1
