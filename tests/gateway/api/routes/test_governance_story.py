"""Issue #13, done when: the whole story through the HTTP API, signed, on SQLite and PostgreSQL.

市场监管 publishes a 有条件共享 entry for 营业执照 with its legal basis; a county window applies
for two fields for one item; the bureau passes it; 市场监管 approves one field and refuses the
other with a reason; the window's lookup shows the approved field and masks the rest, and is
refused without `Gov-Case` or with a case of another item; the grant
expires (the clock of `govgate governance run --now`, which the test holds) and the next lookup
is refused; a reviewer who sits past the deadline gets a red card on `supervision-alerts`;
`govgate audit verify` passes and the audit rows tell the story.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.audit.tables import audit_rows
from schemas.codec import EventCodec
from tests.gateway.api.conftest import PURPOSE, Gateway, Profile
from tests.gateway.api.test_auth import assert_problem
from tests.samples import case_event, certificate

BASIS = "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）第九条"
OTHER_ITEM = "11330802002493025K3330111704000"
ENTRY = {
    "code": "SCJG-YYZZ",
    "name": "营业执照",
    "department_code": "SCJG",
    "department_name": "市场监督管理局",
    "kind": "certificate",
    "record_codes": ["YYZZ"],
    "sharing_class": "CONDITIONAL",
    "legal_basis": BASIS,
    "modes": ["lookup", "feed"],
    "update_cycle": "REALTIME",
    "fields": [
        {"name": "法定代表人", "type": "string", "description": "法定代表人姓名", "personal": True},
        {"name": "住所", "type": "string", "description": "住所"},
        {"name": "注册资本", "type": "string", "description": "注册资本"},
    ],
}


@pytest.fixture
def profile() -> Profile:
    return Profile("ed25519", gateway={"member_cache_s": 0})  # every change seen at once


async def body(gw: Gateway, method: str, path: str, member: str, data: Any = None) -> Any:
    payload = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
    response = await gw.call(method, path, member, purpose=None, body=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def post(gw: Gateway, path: str, member: str, data: Any) -> Any:
    payload = json.dumps(data, ensure_ascii=False).encode()
    return await gw.call("POST", path, member, purpose=None, body=payload)


def cli(gw: Gateway, data_dir: Path, binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    settings = gw.services.settings
    env = os.environ | {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_GATEWAY_AUDIT_SECRET": "test-audit-secret-0123456789",
    }
    if settings.database.url is not None:
        env["GOVGATE_DATABASE_URL"] = settings.database.url.get_secret_value()
    return subprocess.run(
        [binary, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def departments(gw: Gateway) -> None:
    members = gw.services.members
    for member_id, roles, department in (
        ("scjg", ("publisher", "consumer"), "SCJG"),
        ("window", ("consumer",), "330802-ZHCK"),
        ("bureau", ("auditor",), "DSJJ"),
    ):
        await gw.add_member(member_id, *roles)
        await members.set_department(member_id, department)


async def test_the_whole_story(gw: Gateway, data_dir: Path, govgate_bin: str) -> None:
    await departments(gw)
    # 市场监管 publishes its 有条件共享 营业执照 with the legal basis; every member reads it
    published = await body(gw, "POST", "/v1/catalogue", "scjg", ENTRY)
    assert published["entry"]["version"] == 1
    page = await body(
        gw, "GET", "/v1/catalogue?department=SCJG&sharing_class=CONDITIONAL", "window"
    )
    assert [e["code"] for e in page["items"]] == ["SCJG-YYZZ"]
    assert page["items"][0]["legal_basis"] == BASIS
    shown = await body(gw, "GET", "/v1/catalogue/SCJG-YYZZ", "bureau")
    assert shown["entry"]["sharing_class"] == "CONDITIONAL"

    # the county window applies for two fields for one item
    ask = {
        "resource_code": "SCJG-YYZZ",
        "purposes": [PURPOSE],
        "scenario": "企业开办一窗通办，核验营业执照住所与法定代表人",
        "fields": ["法定代表人", "住所"],
        "days": 10,
    }
    app = (await body(gw, "POST", "/v1/applications", "window", ask))["application"]
    app_id = app["application_id"]
    assert app["status"] == "PENDING_BUREAU"
    assert app["steps"][0]["department_code"] == "DSJJ" and app["steps"][0]["limit_days"] == 2

    # bad input, each with its code naming the field
    for change, code, field in (
        ({"resource_code": "NO-SUCH"}, "UNKNOWN_RESOURCE", "resource_code"),
        ({"fields": ["法定代表人", "股东"]}, "UNKNOWN_FIELD", "股东"),
        ({"purposes": ["not an item"]}, "INVALID_PURPOSE", "purposes[0]"),
    ):
        refused = await post(gw, "/v1/applications", "window", ask | change)
        assert_problem(refused, 403 if code == "NOT_SHAREABLE" else 400, code)
        assert field in refused.json()["detail"]
    own = await post(gw, "/v1/applications", "scjg", ask)
    assert_problem(own, 400, "OWN_RESOURCE")
    assert "resource_code" in own.json()["detail"]
    decision = f"/v1/applications/{app_id}/decision"
    not_theirs = await post(gw, decision, "scjg", {"decision": "PASS"})
    assert_problem(not_theirs, 403, "NOT_YOUR_DECISION")
    assert "application_id" in not_theirs.json()["detail"]

    # the bureau passes it; 市场监管 approves one field and refuses the other, with a reason
    passed = (await body(gw, "POST", decision, "bureau", {"decision": "PASS"}))["application"]
    assert passed["status"] == "PENDING_PROVIDER"
    assert passed["steps"][1]["department_code"] == "SCJG" and passed["steps"][1]["limit_days"] == 5
    no_reason = await post(gw, decision, "scjg", {"decision": "NARROW", "fields": ["住所"]})
    assert_problem(no_reason, 400, "REASON_REQUIRED")
    reason = "法定代表人属个人信息，企业开办核验住所即可"
    narrowed = await body(
        gw, "POST", decision, "scjg", {"decision": "NARROW", "fields": ["住所"], "reason": reason}
    )
    assert narrowed["application"]["status"] == "APPROVED"
    grants = (await body(gw, "GET", "/v1/grants", "window"))["items"]
    assert [(g["code"], g["purpose"], g["fields"], g["status"]) for g in grants] == [
        ("YYZZ", PURPOSE, ["住所"], "ACTIVE")
    ]
    assert grants[0]["application_id"] == app_id and grants[0]["provider_code"] == "SCJG"

    # the window's lookup shows the approved field and masks the rest
    await gw.publish("Certificate", certificate())
    looked = await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")
    assert looked.status_code == 200, looked.text
    surface = looked.json()["record"]["surface_fields"]
    assert surface["住所"] == "衢州市柯城区荷花街道"
    assert surface["法定代表人"] == "***" and surface["注册资本"] == "***"

    # 有条件共享 serves a case: without Gov-Case, or with a case of another item, refused
    url = "/v1/certificates/330802-YYZZ-0001"
    assert_problem(await gw.call("GET", url, "window", case=None), 400, "CASE_REQUIRED")
    other = case_event("SL330802202611239999") | {"item_code": OTHER_ITEM}
    await gw.publish("CaseEvent", other)
    mismatch = await gw.call("GET", url, "window", case="SL330802202611239999")
    assert_problem(mismatch, 403, "CASE_MISMATCH")
    await gw.publish("CaseEvent", case_event())  # a case of the purpose's item, this holder's
    assert (await gw.call("GET", url, "window", case="SL330802202611230001")).status_code == 200

    # another application nobody at the bureau looks at
    waiting = await body(gw, "POST", "/v1/applications", "window", ask | {"purposes": [OTHER_ITEM]})
    waiting_id = waiting["application"]["application_id"]

    # three weeks on (the clock of `governance run`): the grant has expired, the step is late
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=21)
    at = later.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M:%S")
    ran = cli(gw, data_dir, govgate_bin, "governance", "run", "--once", "--now", at)
    assert ran.returncode == 0, ran.stderr
    assert "1 grants expired" in ran.stderr
    refused = await gw.call("GET", "/v1/certificates/330802-YYZZ-0001", "window")
    assert refused.status_code == 403, refused.text
    grants = (await body(gw, "GET", "/v1/grants", "bureau"))["items"]
    assert [g["status"] for g in grants] == ["EXPIRED"]

    codec = EventCodec()
    alerts = [
        codec.decode(r.value or b"").record
        async for r in gw.services.log.iterate("supervision-alerts")
    ]
    red = [a for a in alerts if a["card"] == "RED"]
    assert [(a["case_no"], a["department_code"]) for a in red] == [(f"{waiting_id}-B", "DSJJ")]
    assert red[0]["department_name"] == "大数据局"

    # the audit chain holds, and its governance rows tell the story
    verified = cli(gw, data_dir, govgate_bin, "audit", "verify", "--no-anchors")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    async with gw.services.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(audit_rows.c.member_id, audit_rows.c.code, audit_rows.c.path)
                .where(audit_rows.c.method == "GOV")
                .order_by(audit_rows.c.seq)
            )
        ).all()
    assert [(r.member_id, r.code) for r in rows] == [
        ("scjg", "CATALOGUE_PUBLISHED"),
        ("window", "APPLICATION_SUBMITTED"),
        ("window", "STEP_OPENED"),
        ("bureau", "STEP_DECIDED"),
        ("bureau", "STEP_OPENED"),
        ("scjg", "STEP_DECIDED"),
        ("scjg", "GRANT_CREATED"),
        ("window", "APPLICATION_SUBMITTED"),
        ("window", "STEP_OPENED"),
        ("operator", "GRANT_EXPIRED"),
    ]
    events = [
        codec.decode(r.value or b"").record async for r in gw.services.log.iterate("governance")
    ]
    assert [e["action"] for e in events] == [r.code for r in rows]
    decided = [e for e in events if e["action"] == "STEP_DECIDED"]
    assert [(e["decision"], e["reason"], e["fields"]) for e in decided] == [
        ("PASS", None, ["法定代表人", "住所"]),
        ("NARROW", reason, ["住所"]),
    ]
