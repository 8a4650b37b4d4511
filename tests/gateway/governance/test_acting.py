"""A person (not a member key) acts on governance by role: an officer publishes and decides for
its own department, the bureau's operator checks compliance and suspends, the rest read; each
action is the service's own (audit chain, log event) under `person:<username>`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from gateway.api.services import load_audit_secret
from gateway.audit.chain import verify
from gateway.audit.hashing import chain_keys
from gateway.audit.tables import audit_rows
from gateway.catalogue.errors import NotYourResource
from gateway.governance.errors import (
    GrantNotActive,
    InvalidDecision,
    NotForYourRole,
    NotYourDecision,
    ReasonRequired,
    StepClosed,
    UnknownGrant,
)
from schemas.codec import EventCodec
from tests.gateway.governance.conftest import (
    AUDITOR,
    OPERATOR,
    READONLY,
    SCJG,
    SUPERVISOR,
    WINDOW_OFFICER,
    ZRZY,
    Gov,
)


async def audited(gov: Gov) -> list[tuple[str | None, str | None]]:
    async with gov.governance.recorder.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_rows.c.member_id, audit_rows.c.code)
            .where(audit_rows.c.method == "GOV")
            .order_by(audit_rows.c.seq)
        )
        return [(r.member_id, r.code) for r in rows]


async def test_an_officer_publishes_and_withdraws_its_own_department_only(gov: Gov) -> None:
    published = await gov.actions.publish(SCJG, gov.entry())
    assert published.version == 1 and published.published_by == "person:scjg-officer"
    changed = await gov.actions.publish(SCJG, gov.entry(update_cycle="DAILY"))
    assert changed.version == 2
    with pytest.raises(NotYourResource, match="department_code 'SCJG'"):
        await gov.actions.publish(ZRZY, gov.entry())
    with pytest.raises(NotYourResource, match="department_code 'SCJG'"):
        await gov.actions.withdraw(ZRZY, "SCJG-YYZZ", "不是我的")
    with pytest.raises(NotYourResource):  # refused as not theirs, whatever the reason says
        await gov.actions.withdraw(ZRZY, "SCJG-YYZZ", "")
    for person in (OPERATOR, SUPERVISOR, AUDITOR, READONLY):
        with pytest.raises(NotForYourRole, match="role"):
            await gov.actions.publish(person, gov.entry())
    with pytest.raises(ReasonRequired, match="reason"):
        await gov.actions.withdraw(SCJG, "SCJG-YYZZ", "  ")
    withdrawn = await gov.actions.withdraw(SCJG, "SCJG-YYZZ", "停止共享")
    assert withdrawn.version == 3 and withdrawn.withdrawn
    assert await audited(gov) == [
        ("person:scjg-officer", "CATALOGUE_PUBLISHED"),
        ("person:scjg-officer", "CATALOGUE_PUBLISHED"),
        ("person:scjg-officer", "CATALOGUE_WITHDRAWN"),
    ]


async def test_the_bureau_checks_and_the_owning_officer_narrows(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply(days=30)
    # only the bureau's operator checks compliance; the officer's turn has not come
    for person in (SCJG, SUPERVISOR, READONLY):
        with pytest.raises(NotForYourRole):
            await gov.actions.check(person, app_id, "PASS", None)
    with pytest.raises(StepClosed, match="application_id"):
        await gov.actions.decide(SCJG, app_id, "APPROVE", None)
    passed = await gov.actions.check(OPERATOR, app_id, "PASS", None)
    assert passed["status"] == "PENDING_PROVIDER"
    assert passed["steps"][0]["decided_by"] == "person:dsj-op"
    with pytest.raises(StepClosed):
        await gov.actions.check(OPERATOR, app_id, "PASS", None)
    # another department's officer, the operator and the read-only roles are refused
    with pytest.raises(NotYourDecision, match="SCJG"):
        await gov.actions.decide(ZRZY, app_id, "APPROVE", None)
    with pytest.raises(NotYourDecision):
        await gov.actions.decide(WINDOW_OFFICER, app_id, "APPROVE", None)
    for person in (OPERATOR, AUDITOR, SUPERVISOR):
        with pytest.raises(NotForYourRole):
            await gov.actions.decide(person, app_id, "APPROVE", None)
    # a narrowing names what it keeps and why; the period too
    with pytest.raises(ReasonRequired, match="reason"):
        await gov.actions.decide(SCJG, app_id, "NARROW", None, fields=["住所"])
    with pytest.raises(InvalidDecision, match="days"):
        await gov.actions.decide(SCJG, app_id, "NARROW", "太长", days=31)
    with pytest.raises(InvalidDecision, match="fields"):
        await gov.actions.decide(SCJG, app_id, "NARROW", "同样", fields=["法定代表人", "住所"])
    decided = await gov.actions.decide(
        SCJG, app_id, "NARROW", "法定代表人属个人信息", fields=["住所"], days=10
    )
    assert decided["status"] == "APPROVED"
    (grant,) = await gov.governance.grants.all()
    assert grant.fields == ("住所",) and grant.status == "ACTIVE"
    assert grant.expires_ms == int((gov.clock.at + dt.timedelta(days=10)).timestamp() * 1000)
    assert [g.fields for g in await gov.members.grants_for("window")] == [("住所",)]
    assert await audited(gov) == [
        ("person:scjg-officer", "CATALOGUE_PUBLISHED"),
        ("window", "APPLICATION_SUBMITTED"),
        ("window", "STEP_OPENED"),
        ("person:dsj-op", "STEP_DECIDED"),
        ("person:dsj-op", "STEP_OPENED"),
        ("person:scjg-officer", "STEP_DECIDED"),
        ("person:scjg-officer", "GRANT_CREATED"),
    ]
    events = [
        EventCodec().decode(r.value or b"").record
        async for r in gov.governance.recorder.log.iterate("governance")  # type: ignore[union-attr]
    ]
    narrowed = [e for e in events if e["action"] == "STEP_DECIDED"][-1]
    assert narrowed["actor_member_id"] == "person:scjg-officer"
    assert narrowed["actor_department_code"] == "SCJG" and narrowed["fields"] == ["住所"]
    report = await verify(
        gov.governance.recorder.engine, chain_keys(load_audit_secret(gov.settings))
    )
    assert report.ok, report.problems


async def test_a_refusal_needs_a_reason_and_ends_the_application(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply()
    with pytest.raises(ReasonRequired):
        await gov.actions.check(OPERATOR, app_id, "REFUSE", "")
    refused = await gov.actions.check(OPERATOR, app_id, "REFUSE", "用途与事项不符")
    assert refused["status"] == "REFUSED" and refused["steps"][0]["reason"] == "用途与事项不符"
    assert await gov.governance.grants.all() == []


async def test_grants_are_suspended_by_the_provider_and_reinstated_by_the_bureau(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply()
    await gov.actions.check(OPERATOR, app_id, "PASS", None)
    await gov.actions.decide(SCJG, app_id, "APPROVE", None)
    (grant,) = await gov.governance.grants.all()
    gid = grant.grant_id
    for person in (SUPERVISOR, AUDITOR, READONLY):
        with pytest.raises(NotForYourRole):
            await gov.actions.change_grant(person, gid, "suspend", "核查")
    with pytest.raises(UnknownGrant, match="grant_id"):
        await gov.actions.change_grant(ZRZY, gid, "suspend", "不是我的")
    with pytest.raises(UnknownGrant):  # the consumer's officer sees it but may not change it
        await gov.actions.change_grant(WINDOW_OFFICER, gid, "revoke", "不要了")
    with pytest.raises(ReasonRequired):
        await gov.actions.change_grant(SCJG, gid, "suspend", None)
    suspended = await gov.actions.change_grant(SCJG, gid, "suspend", "核查违规调用")
    assert suspended.status == "SUSPENDED" and suspended.reason == "核查违规调用"
    assert await gov.members.grants_for("window") == []
    with pytest.raises(NotYourDecision, match="reinstate"):
        await gov.actions.change_grant(SCJG, gid, "reinstate", None)
    reinstated = await gov.actions.change_grant(OPERATOR, gid, "reinstate", None)
    assert reinstated.status == "ACTIVE" and len(await gov.members.grants_for("window")) == 1
    revoked = await gov.actions.change_grant(OPERATOR, gid, "revoke", "部门撤回授权")
    assert revoked.status == "REVOKED"
    with pytest.raises(GrantNotActive):
        await gov.actions.change_grant(SCJG, gid, "suspend", "再次")
    rows = await audited(gov)
    assert rows[-3:] == [
        ("person:scjg-officer", "GRANT_SUSPENDED"),
        ("person:dsj-op", "GRANT_REINSTATED"),
        ("person:dsj-op", "GRANT_REVOKED"),
    ]


async def test_a_username_too_long_for_the_records_is_refused(gov: Gov) -> None:
    from tests.gateway.governance.conftest import Someone

    long = Someone("x" * 60, "officer", "SCJG")
    with pytest.raises(NotForYourRole, match="username"):
        await gov.actions.publish(long, gov.entry())
