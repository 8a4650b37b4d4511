"""The operations pages through httpx: who sees what, masking, bad input, CSRF and re-drive."""

from __future__ import annotations

import json
import re

from tests.console.conftest import Console, csrf_in
from tests.console.ops import seed
from tests.gateway.operations.conftest import letter
from tests.gateway.supervision.cases import DEPARTMENTS

ID_IN_CLEAR = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
FGW, SCJG = DEPARTMENTS["FGW"][0], DEPARTMENTS["SCJG"][0]


async def test_dead_letters_browse_and_detail_never_show_an_id(console: Console) -> None:
    letters = await seed.dead_letters(console.services)
    client = await console.sign_in("auditor")
    page = await client.get("/console/deadletters")
    assert page.status_code == 200
    assert "ID_NUMBER_CHECK" in page.text and "UNKNOWN_CODE" in page.text
    assert not ID_IN_CLEAR.search(page.text)
    raw_id = json.loads(letters[2]["raw"])["SQRZJHM"]
    detail = await client.get(f"/console/deadletters/{letters[2]['event_id']}")
    assert detail.status_code == 200 and raw_id[:6] + "********" + raw_id[-4:] in detail.text
    assert raw_id not in detail.text and not ID_IN_CLEAR.search(detail.text)
    assert 'id="redrive"' not in detail.text  # an auditor cannot re-drive
    only = await client.get("/console/deadletters?code=UNKNOWN_CODE")
    assert str(letter(50)["event_id"]) in only.text and str(letters[0]["event_id"]) not in only.text


async def test_bad_filters_are_a_400_naming_the_field(console: Console) -> None:
    client = await console.sign_in("operator")
    bad = await client.get("/console/deadletters", params={"code": "id_number_check"})
    assert bad.status_code == 400 and "code" in bad.text and "id_number_check" in bad.text
    cursor = await client.get("/console/deadletters", params={"after": "x"})
    assert cursor.status_code == 400 and "after" in cursor.text
    missing = await client.get("/console/deadletters/not-there")
    assert missing.status_code == 404
    month = await client.get("/console/supervision", params={"month": "2026-13"})
    assert month.status_code == 400 and "2026-13" in month.text
    department = await client.get("/console/supervision", params={"department": "x' or 1"})
    assert department.status_code == 400 and "department" in department.text
    status = await client.get("/console/notices", params={"status": "LOST"})
    assert status.status_code == 400 and "status" in status.text


async def test_redrive_is_the_operators_with_csrf_and_audited(console: Console) -> None:
    await seed.bad_department_row(console.services)
    username, password = await console.add_person("operator")
    operator = console.client()
    await console.post_signin(operator, username, password)
    listing = await operator.get("/console/deadletters")
    [event_id] = re.findall(r'href="/console/deadletters/([0-9a-f-]{36})"', listing.text)
    detail = await operator.get(f"/console/deadletters/{event_id}")
    assert seed.BAD_ROW["SQRZJHM"] not in detail.text and 'id="redrive"' in detail.text
    url = f"/console/deadletters/{event_id}/redrive"

    refused = await operator.post(url, data={})
    assert refused.status_code == 403
    reader = await console.sign_in("readonly")
    page = await reader.get(f"/console/deadletters/{event_id}")
    assert (await reader.post(url, data={"csrf_token": csrf_in(page.text)})).status_code == 403

    still = await operator.post(url, data={"csrf_token": csrf_in(detail.text)})
    assert still.status_code == 303 and still.headers["location"].endswith("STILL_FAILING")
    seed.correct_department_row(console.services.settings.data_dir)
    done = await operator.post(url, data={"csrf_token": csrf_in(detail.text)})
    assert done.headers["location"].endswith("done=REPUBLISHED")
    after = await operator.get(done.headers["location"])
    assert "已重新发布" in after.text and "已重新投递" in after.text
    assert seed.FIXED_ID not in after.text

    rows = await seed.audit_codes(console.services, f"person:{username}")
    assert [r for r in rows if r[0] != "signin"] == [
        ("csrf_refused", "deny"),
        ("deadletters.redrive", "allow"),
        ("deadletters.redrive", "allow"),
    ]


async def test_supervision_by_role_and_officers_see_their_department(console: Console) -> None:
    await seed.supervision_state(console.services)
    supervisor = await console.sign_in("supervisor")
    page = await supervisor.get("/console/supervision", params={"month": "2026-11"})
    assert page.status_code == 200
    for text in (DEPARTMENTS["FGW"][1], DEPARTMENTS["SCJG"][1], "<svg", "黄牌", "红牌"):
        assert text in page.text
    cases = await supervisor.get("/console/supervision/cases")
    assert "FG-A" in cases.text and "SC-C" in cases.text and "红牌" in cases.text

    officer = await console.sign_in("officer", SCJG)
    mine = await officer.get("/console/supervision", params={"department": FGW, "month": "2026-11"})
    assert mine.status_code == 200 and DEPARTMENTS["SCJG"][1] in mine.text
    assert DEPARTMENTS["FGW"][1] not in mine.text
    their_cases = await officer.get("/console/supervision/cases", params={"department": FGW})
    assert "SC-C" in their_cases.text and "FG-A" not in their_cases.text
    assert (await officer.get("/console/deadletters")).status_code == 403
    assert (await officer.get("/console/notices/credit")).status_code == 403


async def test_the_bulletin_is_a_page_and_a_fragment_for_htmx(console: Console) -> None:
    await seed.supervision_state(console.services)
    client = await console.sign_in("auditor")
    overview = await client.get("/console/supervision", params={"month": "2026-11"})
    assert 'hx-get="/console/supervision/bulletin?month=2026-11' in overview.text
    page = await client.get("/console/supervision/bulletin", params={"month": "2026-11"})
    assert page.status_code == 200 and "<nav" in page.text and "按时办结率" in page.text
    fragment = await client.get(
        "/console/supervision/bulletin", params={"month": "2026-11"}, headers={"HX-Request": "true"}
    )
    assert fragment.text.lstrip().startswith('<section class="card" id="bulletin">')
    assert DEPARTMENTS["SCJG"][1] in fragment.text and "<nav" not in fragment.text
    officer = await console.sign_in("officer", SCJG)
    theirs = await officer.get("/console/supervision/bulletin", params={"department": FGW})
    assert DEPARTMENTS["SCJG"][1] in theirs.text and DEPARTMENTS["FGW"][1] not in theirs.text
    bad = await client.get("/console/supervision/bulletin", params={"month": "11/2026"})
    assert bad.status_code == 400 and "11/2026" in bad.text


async def test_bulletin_downloads_are_the_reports_and_audited(console: Console) -> None:
    await seed.supervision_state(console.services)
    client = await console.sign_in("auditor")
    csv = await client.get("/console/supervision/bulletin.csv", params={"month": "2026-11"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").startswith("部门编码 department_code")
    xlsx = await client.get("/console/supervision/bulletin.xlsx", params={"month": "2026-11"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert (await client.get("/console/supervision/bulletin.pdf")).status_code == 400


async def test_notices_and_credit_checks(console: Console) -> None:
    await seed.notices_and_checks(console.services)
    client = await console.sign_in("supervisor")
    page = await client.get("/console/notices")
    assert page.status_code == 200
    assert "市场监管局" in page.text and "待认领池" in page.text and "超时未认领" in page.text
    pool = await client.get("/console/notices", params={"pool": "1"})
    assert "SGZ-00000000000000000006" in pool.text and "SGZ-00000000000000000001" not in pool.text
    credit = await client.get("/console/notices/credit")
    assert credit.status_code == 200 and credit.text.count("window-kc") >= 3
    assert not ID_IN_CLEAR.search(credit.text)

    officer = await console.sign_in("officer", "JTYS")  # a kind: 330802-JTYS and the like
    theirs = await officer.get("/console/notices", params={"department": "330802-SCJG"})
    assert "SGZ-00000000000000000005" in theirs.text
    assert "SGZ-00000000000000000001" not in theirs.text


async def test_pages_say_when_the_subscriber_never_ran_here(console: Console) -> None:
    client = await console.sign_in("readonly")
    for path in (
        "/console/supervision",
        "/console/supervision/cases",
        "/console/supervision/cards",
    ):
        page = await client.get(path)
        assert page.status_code == 200 and "govgate supervise" in page.text, path
    assert not (console.services.settings.data_dir / "supervise.db").exists()  # not created
    empty = await client.get("/console/deadletters")
    assert empty.status_code == 200 and "没有死信" in empty.text
    notices = await client.get("/console/notices")
    assert notices.status_code == 200 and "尚无双告知推送" in notices.text
