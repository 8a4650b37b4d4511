"""资源目录 in the console: every role browses; a department's officer publishes a version and
withdraws its own; another department is refused (403, audited); forms name the bad field."""

from __future__ import annotations

from tests.console.conftest import Console
from tests.console.governance.helpers import post_form, rows, signed
from tests.console.governance.story import seed

FORM = {
    "new": "0",
    "code": "SCJG-YYZZ",
    "name": "营业执照",
    "department_name": "市场监督管理局",
    "kind": "certificate",
    "record_codes_text": "YYZZ",
    "sharing_class": "CONDITIONAL",
    "legal_basis": "《政务信息资源共享管理暂行办法》第九条",
    "modes": ["lookup", "feed"],
    "update_cycle": "DAILY",
    "on_platform": "1",
    "description": "",
    "fields_text": "法定代表人 | string | 是 | 法定代表人姓名\n住所 | string | 否 | 住所\n注册资本",
}


async def test_every_role_browses_and_filters(console: Console) -> None:
    await seed(console.services, apply=False)
    client, _ = await signed(console, "readonly")
    page = await client.get("/console/catalogue?q=营业&sharing_class=CONDITIONAL")
    assert page.status_code == 200
    assert "SCJG-YYZZ" in page.text and "有条件共享" in page.text
    assert "发布新资源" not in page.text
    none = await client.get("/console/catalogue?kind=material")
    assert "SCJG-YYZZ" not in none.text and "没有符合条件的资源" in none.text
    entry = await client.get("/console/catalogue/SCJG-YYZZ")
    assert entry.status_code == 200 and "法定代表人姓名" in entry.text
    assert "撤销资源" not in entry.text and "person:story-scjg" in entry.text
    assert (await client.get("/console/catalogue/NO-SUCH")).status_code == 404
    assert (await client.get("/console/catalogue/new")).status_code == 403
    assert (await client.get("/console/catalogue?after=garbage")).status_code == 200


async def test_an_officer_publishes_a_version_and_withdraws(console: Console) -> None:
    await seed(console.services, apply=False)
    client, name = await signed(console, "officer", "SCJG")
    edit = await client.get("/console/catalogue/SCJG-YYZZ/edit")
    assert edit.status_code == 200 and "法定代表人 | string | 是 | 法定代表人姓名" in edit.text
    answer = await post_form(
        client, "/console/catalogue/SCJG-YYZZ/edit", "/console/catalogue", FORM
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/catalogue/SCJG-YYZZ?done=published"
    entry = await console.services.governance.catalogue.current("SCJG-YYZZ")
    assert entry is not None and entry.version == 2 and entry.update_cycle == "DAILY"
    assert entry.published_by == f"person:{name}" and entry.field_names[-1] == "注册资本"
    shown = await client.get(answer.headers["location"])
    assert "已发布新版本" in shown.text and "撤销资源" in shown.text
    # a withdrawal needs its reason, named
    page = "/console/catalogue/SCJG-YYZZ"
    bad = await post_form(client, page, f"{page}/withdraw", {"reason": " "})
    assert bad.status_code == 400 and "REASON_REQUIRED" in bad.text and "reason" in bad.text
    done = await post_form(client, page, f"{page}/withdraw", {"reason": "停止共享"})
    assert done.status_code == 303
    entry = await console.services.governance.catalogue.current("SCJG-YYZZ")
    assert entry is not None and entry.withdrawn and entry.version == 3
    assert await rows(console, name) == [
        ("CONSOLE", "signin", "allow"),
        ("GOV", "CATALOGUE_PUBLISHED", "allow"),
        ("CONSOLE", "catalogue.publish", "allow"),
        ("CONSOLE", "catalogue.withdraw", "deny"),
        ("GOV", "CATALOGUE_WITHDRAWN", "allow"),
        ("CONSOLE", "catalogue.withdraw", "allow"),
    ]
    # the owning officer may publish it again, as a new version
    again = await client.get(page)
    assert "重新发布" in again.text and "撤销资源" not in again.text
    back = await post_form(client, f"{page}/edit", "/console/catalogue", FORM)
    assert back.status_code == 303
    entry = await console.services.governance.catalogue.current("SCJG-YYZZ")
    assert entry is not None and entry.version == 4 and not entry.withdrawn


async def test_a_new_entry_form_names_the_bad_field(console: Console) -> None:
    client, _ = await signed(console, "officer", "SCJG")
    page = "/console/catalogue/new"
    new = FORM | {"new": "1", "code": "SCJG-NEW"}
    for change, named in (
        ({"legal_basis": ""}, "legal_basis"),
        ({"fields_text": "住所 | string | 也许"}, "fields[0].personal"),
        ({"fields_text": "住 所"}, "fields[0].name"),
        ({"record_codes_text": ""}, "record_codes"),
        ({"kind": "weather"}, "kind"),
    ):
        answer = await post_form(client, page, "/console/catalogue", new | change)
        assert answer.status_code == 400, change
        assert "INVALID_ENTRY" in answer.text and named in answer.text, change
        assert 'aria-invalid="true"' in answer.text
    published = await post_form(client, page, "/console/catalogue", new)
    assert published.headers["location"].startswith("/console/catalogue/SCJG-NEW")
    again = await post_form(client, page, "/console/catalogue", new)
    assert again.status_code == 400 and "exists already" in again.text


async def test_another_department_is_refused_and_audited(console: Console) -> None:
    await seed(console.services, apply=False)
    client, name = await signed(console, "officer", "ZRZY")
    entry = await client.get("/console/catalogue/SCJG-YYZZ")
    assert "撤销资源" not in entry.text
    assert (await client.get("/console/catalogue/SCJG-YYZZ/edit")).status_code == 403
    page = "/console/catalogue"
    taken = await post_form(client, page, "/console/catalogue", FORM)
    assert taken.status_code == 403 and "NOT_YOUR_RESOURCE" in taken.text
    gone = await post_form(client, page, "/console/catalogue/SCJG-YYZZ/withdraw", {"reason": "x"})
    assert gone.status_code == 403
    current = await console.services.governance.catalogue.current("SCJG-YYZZ")
    assert current is not None and current.version == 1 and not current.withdrawn
    assert await rows(console, name) == [
        ("CONSOLE", "signin", "allow"),
        ("CONSOLE", "catalogue.edit", "deny"),
        ("CONSOLE", "catalogue.publish", "deny"),
        ("CONSOLE", "catalogue.withdraw", "deny"),
    ]
    supervisor, _ = await signed(console, "supervisor")
    refused = await post_form(supervisor, page, "/console/catalogue", FORM)
    assert refused.status_code == 403 and "NOT_FOR_YOUR_ROLE" in refused.text


async def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    await seed(console.services, apply=False)
    client, name = await signed(console, "officer", "SCJG")
    answer = await client.post("/console/catalogue/SCJG-YYZZ/withdraw", data={"reason": "x"})
    assert answer.status_code == 403
    current = await console.services.governance.catalogue.current("SCJG-YYZZ")
    assert current is not None and not current.withdrawn
    assert (await rows(console, name))[-1] == ("CONSOLE", "csrf_refused", "deny")
