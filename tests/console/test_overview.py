"""The overview page: figures from the log, connectors, dead letters, subscriptions and the
audit chain; ids masked for roles without the right; the chain verified from the page."""

from __future__ import annotations

from pathlib import Path

import httpx

from gateway.api.app import create_app
from gateway.overview import stream_rates
from schemas.codec import EventCodec
from tests.console.conftest import PERSON_ID, Console, console_settings, seed_operations
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
    assert "尚无校验记录" in text
    assert "前往审计查询校验" not in text  # readonly may not verify
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


async def test_the_last_recorded_verification_is_shown(console: Console) -> None:
    from gateway.audit.chain import verify
    from gateway.audit.hashing import chain_keys
    from gateway.audit.verifications import Verifications

    await seed(console)
    svc = console.services
    readonly = await console.sign_in("readonly")
    page = (await readonly.get("/console/overview")).text
    assert "尚无校验记录" in page and "前往审计查询校验" not in page
    report = await verify(svc.engine, chain_keys(svc.audit_secret))
    await Verifications(svc.engine, svc.audit_secret).record(svc.audit, report, "person:chen")
    shown = (await readonly.get("/console/overview")).text
    assert "完整" in shown and "person:chen" in shown
    auditor = await console.sign_in("auditor")
    assert 'href="/console/audit"' in (await auditor.get("/console/overview")).text


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
