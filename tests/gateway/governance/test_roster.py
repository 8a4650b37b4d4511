"""Grants and members by role: who may see what, until when, which changes each person may
make, and members' keys with their expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.governance.errors import NotForYourRole
from gateway.members.keys import generate_private_key
from gateway.members.store import Grant
from tests.gateway.api.conftest import PURPOSE
from tests.gateway.governance.conftest import (
    AUDITOR,
    OPERATOR,
    READONLY,
    SCJG,
    WINDOW_OFFICER,
    ZRZY,
    Gov,
    Someone,
)


async def approved(gov: Gov, days: int = 20) -> str:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply(days=days)
    await gov.actions.check(OPERATOR, app_id, "PASS", None)
    await gov.actions.decide(SCJG, app_id, "APPROVE", None)
    (grant,) = await gov.governance.grants.all()
    return grant.grant_id


async def test_grants_by_role_with_the_changes_each_may_make(gov: Gov) -> None:
    gid = await approved(gov)
    # an operator's bootstrap grant to 自然资源, on no catalogued resource
    await gov.governance.grants.grant_by_operator(
        "zrzy", Grant("certificate", "BDCQZ", PURPOSE, ("权利人",))
    )
    now = gov.clock.at
    everything, total = await gov.roster.grant_views(OPERATOR, now)
    assert total == 2
    scjg_view = next(v for v in everything if v.grant.grant_id == gid)
    assert scjg_view.may == ("suspend", "revoke") and scjg_view.state == "ACTIVE"
    assert scjg_view.consumer_department == "330802-ZHCK" and scjg_view.days_left == 20
    assert scjg_view.expiring_soon
    # the provider's officer: grants on its resources, suspend and revoke
    (view,), _ = await gov.roster.grant_views(SCJG, now)
    assert view.grant.grant_id == gid and view.may == ("suspend", "revoke")
    # the consumer's officer: the grants to its department, no change
    (view,), _ = await gov.roster.grant_views(WINDOW_OFFICER, now)
    assert view.grant.grant_id == gid and view.may == ()
    # 自然资源's officer: the grant to its own member only
    (view,), _ = await gov.roster.grant_views(ZRZY, now)
    assert view.grant.code == "BDCQZ" and view.grant.expires_ms is None and view.may == ()
    for person in (AUDITOR, READONLY):
        views, total = await gov.roster.grant_views(person, now)
        assert total == 2 and all(v.may == () for v in views)
    assert await gov.roster.grant(ZRZY, gid, now) is None
    assert (await gov.roster.grant(SCJG, gid, now)) is not None
    # after a suspension the operator may reinstate; past the expiry nobody changes it
    await gov.actions.change_grant(SCJG, gid, "suspend", "核查")
    shown = await gov.roster.grant(OPERATOR, gid, now)
    assert shown is not None and shown.may == ("reinstate", "revoke")
    shown = await gov.roster.grant(SCJG, gid, now)
    assert shown is not None and shown.may == ("revoke",)
    await gov.actions.change_grant(OPERATOR, gid, "reinstate", None)
    later = now + dt.timedelta(days=21)
    shown = await gov.roster.grant(OPERATOR, gid, later)
    assert shown is not None and (shown.state, shown.may) == ("EXPIRED", ())
    # filters
    assert (await gov.roster.grant_views(OPERATOR, now, member_id="zrzy"))[1] == 1
    assert (await gov.roster.grant_views(OPERATOR, now, resource="SCJG"))[1] == 1
    assert (await gov.roster.grant_views(OPERATOR, later, state="EXPIRED"))[1] == 1
    with pytest.raises(NotForYourRole):
        await gov.roster.grant_views(Someone("nobody", "guest"), now)


async def test_members_and_their_keys_expiry(gov: Gov) -> None:
    await approved(gov)
    now = gov.clock.at
    soon = generate_private_key("ed25519").public_key()
    await gov.members.add_key("window", soon, not_after=now + dt.timedelta(days=10))
    gone = generate_private_key("ed25519").public_key()
    await gov.members.add_key(
        "window", gone, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
    )
    everyone = await gov.roster.member_views(OPERATOR, now)
    assert [m.member.member_id for m in everyone] == ["scjg", "window", "zrzy"]
    window = everyone[1]
    assert window.active_grants == 1
    assert sorted((k.state, k.days_left) for k in window.keys) == [
        ("active", None),
        ("expired", -1),
        ("expiring", 10),
    ]
    assert [m.member.member_id for m in await gov.roster.member_views(WINDOW_OFFICER, now)] == [
        "window"
    ]
    assert [m.member.member_id for m in await gov.roster.member_views(SCJG, now)] == ["scjg"]
    assert len(await gov.roster.member_views(AUDITOR, now)) == 3
    with pytest.raises(NotForYourRole):
        await gov.roster.member_views(Someone("x", "guest"), now)
