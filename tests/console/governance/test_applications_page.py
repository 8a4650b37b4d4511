"""共享申请 in the console: the queue for my role with deadlines and cards; the bureau's check and
the owning officer's decision by form, checked server-side naming the field; another department
refused (404 when it may not see it, 403 when it may see but not decide), audited."""

from __future__ import annotations

from gateway.api.services import load_audit_secret
from gateway.audit.chain import verify
from gateway.audit.hashing import chain_keys
from tests.console.conftest import Console
from tests.console.governance.helpers import post_form, rows, signed
from tests.console.governance.story import passed, seed
from tests.gateway.api.conftest import PURPOSE


async def test_the_bureau_checks_from_its_queue(console: Console) -> None:
    story = await seed(console.services)
    app_id = story.application_id
    client, name = await signed(console, "operator")
    queue = await client.get("/console/applications")
    assert queue.status_code == 200
    assert app_id in queue.text and "待我处理" in queue.text and "合规审查" in queue.text
    assert "正常" in queue.text and "0/2" in queue.text
    assert 'hx-trigger="every 60s"' in queue.text  # the clocks move: the list refreshes itself
    page = f"/console/applications/{app_id}"
    detail = await client.get(page)
    assert "审查通过" in detail.text and "批准的字段" not in detail.text
    action = f"{page}/decision"
    refused = await post_form(client, page, action, {"decision": "REFUSE", "reason": ""})
    assert refused.status_code == 400 and "reason" in refused.text
    wrong = await post_form(client, page, action, {"decision": "APPROVE"})
    assert wrong.status_code == 400 and "decision" in wrong.text
    done = await post_form(client, page, action, {"decision": "PASS"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=decided")
    (app,) = await console.services.governance.applications.list(
        console.services.governance.actor(await console.services.members.get_member("window"))
    )
    assert app["status"] == "PENDING_PROVIDER"
    assert app["steps"][0]["decided_by"] == f"person:{name}"
    empty = await client.get("/console/applications")
    assert "没有待您处理的申请" in empty.text
    assert [r for r in await rows(console, name) if r[2] == "allow"][-3:] == [
        ("GOV", "STEP_DECIDED", "allow"),
        ("GOV", "STEP_OPENED", "allow"),
        ("CONSOLE", "applications.decide", "allow"),
    ]


async def test_the_owning_officer_narrows_fields_and_period(console: Console) -> None:
    story = await seed(console.services)
    app_id = story.application_id
    await passed(console.services, app_id)
    client, name = await signed(console, "officer", "SCJG")
    queue = await client.get("/console/applications")
    assert app_id in queue.text and "审核决定" in queue.text and "0/5" in queue.text
    page = f"/console/applications/{app_id}"
    action = f"{page}/decision"
    base = {"fields": ["住所"], "purposes": [PURPOSE], "days": "10", "reason": "个人信息不予共享"}
    for change, code, named in (
        ({"decision": "NARROW", "reason": ""}, "INVALID_FORM", "reason"),
        ({"decision": "NARROW", "days": "十天"}, "INVALID_FORM", "days"),
        ({"decision": "NARROW", "days": "31"}, "INVALID_FORM", "days: a whole number from 1 to 30"),
        ({"decision": "NARROW", "fields": []}, "INVALID_FORM", "fields"),
        ({"decision": "APPROVE"}, "INVALID_FORM", "decision"),
        ({"decision": "PASS"}, "INVALID_FORM", "decision"),
        ({"decision": "NARROW", "fields": ["注册资本"]}, "INVALID_DECISION", "fields"),
    ):
        answer = await post_form(client, page, action, base | change)
        assert answer.status_code == 400, (change, answer.text[:300])
        assert code in answer.text and named in answer.text, change
    done = await post_form(client, page, action, base | {"decision": "NARROW"})
    assert done.status_code == 303
    (grant,) = await console.services.governance.grants.all()
    assert grant.fields == ("住所",) and grant.status == "ACTIVE"
    assert grant.expires_ms is not None and grant.created_ms + 10 * 86_400_000 == grant.expires_ms
    shown = await client.get(page)
    assert "部分批准（缩小范围）：住所" in shown.text and "个人信息不予共享" in shown.text
    assert "授权结果" in shown.text and f"/console/grants/{grant.grant_id}" in shown.text
    assert ("GOV", "GRANT_CREATED", "allow") in await rows(console, name)
    secret = load_audit_secret(console.services.settings)
    report = await verify(console.services.engine, chain_keys(secret))
    assert report.ok, report.problems


async def test_other_departments_and_read_only_roles_are_refused(console: Console) -> None:
    story = await seed(console.services)
    app_id = story.application_id
    page = f"/console/applications/{app_id}"
    # 自然资源's officer: not its application at all
    other, other_name = await signed(console, "officer", "ZRZY")
    assert app_id not in (await other.get("/console/applications?view=all")).text
    assert (await other.get(page)).status_code == 404
    blind = await post_form(
        other, "/console/applications", f"{page}/decision", {"decision": "PASS"}
    )
    assert blind.status_code == 404 and "UNKNOWN_APPLICATION" in blind.text
    assert await rows(console, other_name) == [
        ("CONSOLE", "signin", "allow"),
        ("CONSOLE", "applications.view", "deny"),
        ("CONSOLE", "applications.decide", "deny"),
    ]
    # the owning officer's turn has not come: the bureau checks first
    owner, _ = await signed(console, "officer", "SCJG")
    early = await post_form(owner, page, f"{page}/decision", {"decision": "REFUSE", "reason": "x"})
    assert early.status_code == 409 and "STEP_CLOSED" in early.text
    # the applying department's officer sees it, may not decide it
    await passed(console.services, app_id)
    window, _ = await signed(console, "officer", "330802-ZHCK")
    seen = await window.get(page)
    assert seen.status_code == 200 and "提交决定" not in seen.text
    data = {"decision": "APPROVE", "fields": ["法定代表人", "住所"], "purposes": [PURPOSE]}
    mine = await post_form(window, page, f"{page}/decision", data)
    assert mine.status_code == 403 and "NOT_YOUR_DECISION" in mine.text
    sloppy = await post_form(window, page, f"{page}/decision", {"decision": "REFUSE"})
    assert sloppy.status_code == 403 and "NOT_YOUR_DECISION" in sloppy.text
    # supervision reads every application, decides none
    supervisor, _ = await signed(console, "supervisor")
    queue = await supervisor.get("/console/applications")
    assert app_id in queue.text and "待我处理" not in queue.text.split("<table")[1]
    role = await post_form(supervisor, page, f"{page}/decision", data)
    assert role.status_code == 403 and "NOT_FOR_YOUR_ROLE" in role.text
    assert await console.services.governance.grants.all() == []
