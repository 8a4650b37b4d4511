"""The audit pages over HTTP (httpx against the app, on SQLite and PostgreSQL: conftest.py):
roles, validation, pages, exports, the verification state, and no holder id in clear."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from gateway.api.console.pages import audit_search
from gateway.audit.log import AuditEntry, access_log
from gateway.audit.pseudonyms import holder_hash
from gateway.audit.tables import audit_rows
from schemas.validators import make_resident_id, mask
from tests.console.conftest import Console, csrf_in

HOLDER = make_resident_id("330802", date(1988, 6, 1), 17)
OTHER = make_resident_id("130105", date(1979, 11, 2), 7)
HOLDER_PAGE = "/console/audit/holder"
SEQ = re.compile(r'data-seq="(\d+)"')


async def seed(console: Console, count: int, **fields: object) -> None:
    for i in range(count):
        values: dict[str, object] = {
            "method": "GET",
            "path": "/v1/certificates",
            "route": "/v1/certificates",
            "decision": "allow",
            "status": 200,
            "member_id": "kecheng-window",
            "keyid": "kecheng-window-2026",
            "purpose": "330802-XK-0017",
            "case_no": f"SL2026-{i:05d}",
        }
        await console.services.audit.record(AuditEntry(**(values | fields)))  # type: ignore[arg-type]


async def signed_in(console: Console, role: str) -> tuple[httpx.AsyncClient, str]:
    username, password = await console.add_person(role, "330802-ZJ" if role == "officer" else None)
    client = console.client()
    assert (await console.post_signin(client, username, password)).status_code == 303
    return client, username


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    form = await client.get(page)
    return await client.post(action, data=data | {"csrf_token": csrf_in(form.text)})


async def post_holder(client: httpx.AsyncClient, holder: str) -> httpx.Response:
    return await post_form(client, HOLDER_PAGE, HOLDER_PAGE, {"holder": holder})


def seqs(html: str) -> list[int]:
    return [int(s) for s in SEQ.findall(html)]


@pytest.mark.parametrize(
    ("role", "search", "holder"),
    [
        ("auditor", 200, 200),
        ("operator", 200, 403),
        ("officer", 403, 403),
        ("supervisor", 403, 403),
        ("readonly", 403, 403),
    ],
)
async def test_roles_see_the_audit_pages_they_may_and_no_other(
    console: Console, role: str, search: int, holder: int
) -> None:
    client, _ = await signed_in(console, role)
    assert (await client.get("/console/audit")).status_code == search
    assert (await client.get("/console/audit/holder")).status_code == holder
    assert (await client.get("/console/audit/verification")).status_code == search
    nav = (await client.get("/console/overview")).text
    assert ('href="/console/audit"' in nav) == (search == 200)
    assert ('href="/console/audit/holder"' in nav) == (holder == 200)


async def test_only_an_auditor_searches_by_a_holders_id(console: Console) -> None:
    await seed(console, 3, holder_id=HOLDER)
    operator, _ = await signed_in(console, "operator")
    page = await operator.get("/console/audit")
    assert 'name="holder"' not in page.text  # the field is not offered
    refused = await post_form(operator, "/console/audit", "/console/audit", {"holder": HOLDER})
    assert refused.status_code == 403
    # an id in the query string is never searched by (nor echoed)
    ignored = await operator.get(f"/console/audit?holder={HOLDER}")
    assert ignored.status_code == 200 and HOLDER not in ignored.text


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("since=yesterday", "since", "yesterday"),
        ("until=2026-02-30", "until", "2026-02-30"),
        ("decision=maybe", "decision", "maybe"),
        ("member=a%20b", "member", "a b"),
        ("item=%3Cscript%3E", "item", "&lt;script&gt;"),
        ("holder_key=xyz", "holder_key", "xyz"),
        ("after=12", "after", "12"),
        ("limit=5000", "limit", "5000"),
    ],
)
async def test_a_wrong_filter_is_a_400_naming_the_field_and_value(
    console: Console, query: str, field: str, value: str
) -> None:
    client, _ = await signed_in(console, "auditor")
    answer = await client.get(f"/console/audit?{query}")
    assert answer.status_code == 400
    assert 'data-code="AUDIT_FILTER_INVALID"' in answer.text
    assert f'data-field="{field}"' in answer.text
    assert f"（{field}）：“{value}”" in answer.text
    assert "<script>" not in answer.text


async def test_a_wrong_holder_id_is_named_masked(console: Console) -> None:
    client, _ = await signed_in(console, "auditor")
    bad = HOLDER + "\u0007" + HOLDER
    answer = await post_form(
        client, "/console/audit/holder", "/console/audit/holder", {"holder": bad}
    )
    assert answer.status_code == 400 and 'data-field="holder"' in answer.text
    assert HOLDER not in answer.text and mask(bad)[:6] in answer.text
    empty = await post_form(
        client, "/console/audit/holder", "/console/audit/holder", {"holder": " "}
    )
    assert empty.status_code == 400 and 'data-field="holder"' in empty.text


async def test_pages_follow_next_links_newest_first_without_repeats(console: Console) -> None:
    await seed(console, 120, member_id="qujiang-window")
    await seed(console, 5)
    client, _ = await signed_in(console, "operator")
    url: str | None = "/console/audit?member=qujiang-window&limit=50"
    found: list[int] = []
    sizes = []
    while url is not None:
        answer = await client.get(url)
        assert answer.status_code == 200
        sizes.append(len(seqs(answer.text)))
        found += seqs(answer.text)
        link = re.search(r'href="([^"]+)" rel="next"', answer.text)
        url = link.group(1).replace("&amp;", "&") if link else None
    assert sizes == [50, 50, 20]
    assert found == sorted(found, reverse=True) and len(set(found)) == 120
    assert min(found) == 1 and max(found) == 120


async def test_an_auditor_finds_a_holders_accesses_and_the_look_is_audited(
    console: Console,
) -> None:
    await seed(console, 3, holder_id=HOLDER, member_id="kecheng-window")
    await seed(console, 2, holder_id=OTHER, member_id="xinhua-window")
    await seed(
        console,
        1,
        holder_id=HOLDER,
        member_id="xinhua-window",
        decision="deny",
        status=403,
        code="PURPOSE_NOT_GRANTED",
        purpose="130105-XK-0002",
    )
    client, username = await signed_in(console, "auditor")
    typed = "".join(chr(ord(c) + 0xFEE0) for c in HOLDER.lower())  # full-width, lower-case
    answer = await post_form(
        client, "/console/audit/holder", "/console/audit/holder", {"holder": typed}
    )
    assert answer.status_code == 200
    accesses = await access_log(console.services.engine, console.services.audit_secret, HOLDER)
    look = accesses[0]  # the look itself, filed under the holder: it is an access too
    assert (look.member_id, look.route) == (f"person:{username}", "console:audit.holder")
    assert seqs(answer.text) == [look.seq, 6, 3, 2, 1]
    assert "xinhua-window" in answer.text and "PURPOSE_NOT_GRANTED" in answer.text
    assert "130105-XK-0002" in answer.text and "拒绝" in answer.text
    assert HOLDER not in answer.text and typed not in answer.text
    assert mask(HOLDER) in answer.text
    assert "{id:" + holder_hash(console.services.audit_secret, HOLDER)[:16] + "}" in answer.text


async def test_viewing_the_search_is_an_audited_action(console: Console) -> None:
    client, username = await signed_in(console, "operator")
    assert (
        await client.get("/console/audit?decision=refused&item=330802-XK-0017")
    ).status_code == 200
    async with console.services.engine.connect() as conn:
        row = (
            await conn.execute(
                select(audit_rows).where(audit_rows.c.route == "console:audit.search")
            )
        ).one()
    assert row.member_id == f"person:{username}"
    assert "decision=deny" in row.path and "item=330802-XK-0017" in row.path


async def test_a_holder_search_on_the_search_page_keeps_the_id_out_of_links(
    console: Console,
) -> None:
    await seed(console, 60, holder_id=HOLDER)
    client, _ = await signed_in(console, "auditor")
    answer = await post_form(client, "/console/audit", "/console/audit", {"holder": HOLDER})
    assert answer.status_code == 200 and len(seqs(answer.text)) == 50
    assert HOLDER not in answer.text
    key = holder_hash(console.services.audit_secret, HOLDER)
    link = re.search(r'href="([^"]+)" rel="next"', answer.text)
    assert link is not None and f"holder_key={key}" in link.group(1)
    rest = await client.get(link.group(1).replace("&amp;", "&"))
    assert len(seqs(rest.text)) == 11  # 60 and the first look, filed under the holder


async def test_exports_stream_csv_and_xlsx_of_the_search(console: Console) -> None:
    await seed(console, 30, holder_id=HOLDER, path=f"/v1/certificates/{HOLDER}")
    await seed(console, 5, member_id="other-window")
    client, username = await signed_in(console, "auditor")
    data = {"member": "kecheng-window", "format": "csv"}
    answer = await post_form(client, "/console/audit", "/console/audit/export", data)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-')
    assert HOLDER.encode() not in answer.content
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 31 and {r[2] for r in rows[1:]} == {"kecheng-window"}

    data["format"] = "xlsx"
    book = await post_form(client, "/console/audit", "/console/audit/export", data)
    assert book.status_code == 200 and book.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 31
    async with console.services.engine.connect() as conn:
        exported = (
            await conn.execute(
                select(audit_rows.c.path)
                .where(audit_rows.c.route == "console:audit.export")
                .order_by(audit_rows.c.seq)
            )
        ).all()
    assert [p.split(" member")[0] for (p,) in exported] == [
        "/console/audit/export csv 30 rows",
        "/console/audit/export xlsx 30 rows",
    ]


async def test_an_export_over_the_limit_and_a_wrong_format_are_refused(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_search, "MAX_EXPORT_ROWS", 10)
    await seed(console, 11)
    client, _ = await signed_in(console, "operator")
    too_many = await post_form(client, "/console/audit", "/console/audit/export", {"format": "csv"})
    assert too_many.status_code == 400
    assert 'data-code="AUDIT_EXPORT_TOO_LARGE"' in too_many.text
    narrowed = {"format": "csv", "until": "2000-01-02"}
    assert (
        await post_form(client, "/console/audit", "/console/audit/export", narrowed)
    ).status_code == 200
    wrong = await post_form(client, "/console/audit", "/console/audit/export", {"format": "pdf"})
    assert wrong.status_code == 400 and 'data-field="format"' in wrong.text
    without_token = await client.post("/console/audit/export", data={"format": "csv"})
    assert without_token.status_code == 403


async def wait_verified(client: httpx.AsyncClient) -> str:
    for _ in range(200):
        panel = await client.get("/console/audit/verification")
        if "正在校验" not in panel.text:
            return panel.text
        await asyncio.sleep(0.05)
    raise AssertionError("the verification did not finish")


async def test_verify_now_records_the_chain_state_and_the_page_rechecks_it(
    console: Console,
) -> None:
    await seed(console, 20)
    client, username = await signed_in(console, "auditor")
    assert 'data-state="never"' in (await client.get("/console/audit")).text
    started = await post_form(client, "/console/audit", "/console/audit/verify", {})
    assert started.status_code == 303
    panel = await wait_verified(client)
    assert 'data-state="intact"' in panel and f"person:{username}" in panel

    async with console.services.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_rows SET member_id = 'x-window' WHERE seq = 4"))
    await post_form(client, "/console/audit", "/console/audit/verify", {})
    panel = await wait_verified(client)
    assert 'data-state="broken"' in panel and "seq 4: ALTERED" in panel
    page = await client.get("/console/audit?member=x-window")
    assert "已被篡改" in page.text  # the row itself, where it is shown

    async with console.services.engine.begin() as conn:  # a "passed" run forged over it
        await conn.execute(text("UPDATE audit_verifications SET ok = TRUE, problem_count = 0"))
    assert 'data-state="record-forged"' in (await client.get("/console/audit")).text


async def test_verify_by_htmx_answers_the_panel(console: Console) -> None:
    client, _ = await signed_in(console, "operator")
    page = await client.get("/console/audit")
    answer = await client.post(
        "/console/audit/verify",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_in(page.text)},
    )
    assert answer.status_code == 200 and answer.text.startswith('<section id="verification"')
    await wait_verified(client)
