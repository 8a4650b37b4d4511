"""The overview page: figures from the log, connectors, dead letters, subscriptions and the
audit chain; ids masked for roles without the right; the chain verified from the page."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.audit.tables import audit_rows
from gateway.overview import stream_rates
from schemas.codec import EventCodec
from tests.console.conftest import PERSON_ID, Console, console_settings, csrf_in, seed_operations
from tests.samples import case_event

codec = EventCodec()


async def seed(console: Console) -> None:
    await seed_operations(console.services)


async def test_the_overview_shows_the_figures(console: Console) -> None:
    await seed(console)
    client = await console.sign_in("readonly")
    page = await client.get("/console/overview")
    assert page.status_code == 200
    text = page.text
    for shown in ("case-events", "scjg-yyzz", "运行中", "1,234", "ID_NUMBER_CHECK", "rs-sb-drop"):
        assert shown in text, shown
    assert "已暂停" in text and "requested" in text and "supervision" in text
    assert "从未在控制台校验" in text
    assert "立即校验哈希链" not in text  # readonly may not verify
    assert PERSON_ID not in text and "330802********3748" in text  # masked for this role
    fragment = await client.get("/console/overview/figures")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'hx-get="/console/overview/figures"' in fragment.text


async def test_a_role_with_the_right_sees_ids_in_clear(data_dir: Path) -> None:
    app = create_app(console_settings(data_dir, roles_seeing_ids=("operator",)))
    async with app.router.lifespan_context(app):
        console = Console(app, httpx.ASGITransport(app=app))
        await seed(console)
        operator = await console.sign_in("operator")
        assert PERSON_ID in (await operator.get("/console/overview")).text
        auditor = await console.sign_in("auditor")
        assert PERSON_ID not in (await auditor.get("/console/overview")).text
        for client in console.clients:
            await client.aclose()


async def test_an_auditor_verifies_the_chain_from_the_page(console: Console) -> None:
    await seed(console)
    auditor = await console.sign_in("auditor")
    page = await auditor.get("/console/overview")
    answer = await auditor.post("/console/overview/verify", data={"csrf_token": csrf_in(page.text)})
    assert answer.status_code == 303
    shown = (await auditor.get("/console/overview")).text
    assert "完整" in shown and "intact rows=" in shown
    async with console.services.engine.connect() as conn:
        row = (
            await conn.execute(
                select(audit_rows.c.member_id).where(audit_rows.c.route == "console:audit_verified")
            )
        ).one()
    assert row.member_id.startswith("person:auditor")
    readonly = await console.sign_in("readonly")
    page = await readonly.get("/console/overview")
    refused = await readonly.post(
        "/console/overview/verify", data={"csrf_token": csrf_in(page.text)}
    )
    assert refused.status_code == 403


async def test_rates_count_the_last_minutes_and_say_when_they_are_a_lower_bound(
    console: Console,
) -> None:
    svc = console.services
    await svc.log.append(
        "case-events", [codec.encode("CaseEvent", case_event(f"SL-{i:04}")) for i in range(30)]
    )
    [rate] = await stream_rates(svc.log, ["case-events"], minutes=5)
    assert rate.last_minute == 30 and rate.total == 30 and not rate.lower_bound
    [cut] = await stream_rates(svc.log, ["case-events"], minutes=5, tail=10)
    assert cut.last_minute == 10 and cut.lower_bound
