"""授权与成员 in the console: grants filtered by role, suspend / reinstate / revoke by the roles
allowed (a reason required), another department's grant not found (404, audited); members with
their keys' expiry."""

from __future__ import annotations

import datetime as dt

from gateway.members.keys import generate_private_key
from tests.console.conftest import Console
from tests.console.governance.helpers import post_form, rows, signed
from tests.console.governance.story import approved, seed


async def test_the_provider_suspends_and_the_bureau_reinstates(console: Console) -> None:
    story = await seed(console.services)
    gid = await approved(console.services, story.application_id)
    officer, name = await signed(console, "officer", "SCJG")
    listed = await officer.get("/console/grants")
    assert gid in listed.text and "暂停/撤销" in listed.text and "剩余 29 天" in listed.text
    page = f"/console/grants/{gid}"
    shown = await officer.get(page)
    assert "暂停授权" in shown.text and "恢复授权" not in shown.text
    bad = await post_form(officer, page, f"{page}/suspend", {"reason": ""})
    assert bad.status_code == 400 and "REASON_REQUIRED" in bad.text and "reason" in bad.text
    done = await post_form(officer, page, f"{page}/suspend", {"reason": "核查违规调用"})
    assert done.status_code == 303
    assert await console.services.members.grants_for("window") == []
    after = await officer.get(done.headers["location"])
    assert "已暂停" in after.text and "核查违规调用" in after.text and "恢复授权" not in after.text
    again = await post_form(officer, page, f"{page}/reinstate", {})
    assert again.status_code == 403 and "NOT_YOUR_DECISION" in again.text
    assert [r for r in await rows(console, name) if r[0] == "GOV"] == [
        ("GOV", "GRANT_SUSPENDED", "allow")
    ]
    operator, _ = await signed(console, "operator")
    back = await post_form(operator, page, f"{page}/reinstate", {})
    assert back.status_code == 303 and len(await console.services.members.grants_for("window")) == 1
    gone = await post_form(operator, page, f"{page}/revoke", {"reason": "不再需要"})
    assert gone.status_code == 303
    assert "已撤销" in (await operator.get(page)).text


async def test_who_sees_which_grant(console: Console) -> None:
    story = await seed(console.services)
    gid = await approved(console.services, story.application_id)
    page = f"/console/grants/{gid}"
    other, name = await signed(console, "officer", "ZRZY")
    assert gid not in (await other.get("/console/grants")).text
    assert (await other.get(page)).status_code == 404
    hidden = await post_form(other, "/console/grants", f"{page}/suspend", {"reason": "x"})
    assert hidden.status_code == 404 and "UNKNOWN_GRANT" in hidden.text
    assert await rows(console, name) == [
        ("CONSOLE", "signin", "allow"),
        ("CONSOLE", "grants.view", "deny"),
        ("CONSOLE", "grants.suspend", "deny"),
    ]
    window, _ = await signed(console, "officer", "330802-ZHCK")
    seen = await window.get(page)
    assert seen.status_code == 200 and "暂停授权" not in seen.text
    auditor, _ = await signed(console, "auditor")
    assert gid in (await auditor.get("/console/grants")).text
    refused = await post_form(auditor, page, f"{page}/suspend", {"reason": "x"})
    assert refused.status_code == 403 and "NOT_FOR_YOUR_ROLE" in refused.text
    odd = await post_form(auditor, page, f"{page}/delete", {"reason": "x"})
    assert odd.status_code == 400 and "change" in odd.text
    assert len(await console.services.members.grants_for("window")) == 1


async def test_members_and_their_keys_expiry(console: Console) -> None:
    await seed(console.services, apply=False)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10, hours=1)
    await console.services.members.add_key(
        "window", generate_private_key("ed25519").public_key(), not_after=soon
    )
    operator, _ = await signed(console, "operator")
    page = await operator.get("/console/grants/members")
    assert page.status_code == 200
    assert "window 系统" in page.text and "scjg 系统" in page.text
    assert "即将到期（10 天）" in page.text and "长期" in page.text
    officer, _ = await signed(console, "officer", "330802-ZHCK")
    mine = await officer.get("/console/grants/members")
    assert "window 系统" in mine.text and "scjg 系统" not in mine.text
