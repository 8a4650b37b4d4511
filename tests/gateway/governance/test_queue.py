"""The applications queue by role: what awaits me, each step's working-day deadline and its card
(黄牌/红牌) on the supervision calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.governance.errors import NotForYourRole, UnknownApplication
from gateway.supervision.clock import Card
from tests.gateway.governance.conftest import (
    AUDITOR,
    OPERATOR,
    SCJG,
    START,
    SUPERVISOR,
    WINDOW_OFFICER,
    ZRZY,
    Gov,
    Someone,
)


async def test_the_bureau_step_turns_yellow_then_red_on_working_days(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply()  # Tuesday 2026-12-01 10:00: 2 working days, to Thursday
    mine, total = await gov.queue.page(OPERATOR, START, mine=True)
    assert total == 1 and [i.application_id for i in mine] == [app_id]
    (item,) = mine
    step = item.open_step
    assert step is not None and item.awaits_me
    assert (step.name, step.department_code, step.limit_days) == ("合规审查", "DSJJ", 2)
    assert step.last_day == dt.date(2026, 12, 3) and not step.provisional
    assert item.resource_name == "营业执照" and item.fields == ("法定代表人", "住所")
    for at, card, elapsed in (
        (START + dt.timedelta(hours=2), Card.ON_TIME, 0),
        (START + dt.timedelta(days=1), Card.YELLOW, 1),  # a working day before the last
        (START + dt.timedelta(days=2, hours=13), Card.YELLOW, 2),  # Thursday 23:00
        (START + dt.timedelta(days=2, hours=14), Card.RED, 3),  # Friday 00:00: past it
    ):
        shown = await gov.queue.get(OPERATOR, app_id, at)
        assert shown.open_step is not None
        assert (shown.open_step.card, shown.open_step.elapsed_days) == (card, elapsed), at


async def test_a_weekend_does_not_count(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    gov.clock.days(3)  # Friday 2026-12-04
    app_id = await gov.apply()
    item = await gov.queue.get(OPERATOR, app_id, gov.clock.at + dt.timedelta(days=3))
    step = item.open_step
    assert step is not None and step.last_day == dt.date(2026, 12, 8)  # Tuesday
    assert (step.card, step.elapsed_days) == (Card.YELLOW, 1)  # Monday counted only


async def test_each_role_sees_its_own(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    first = await gov.apply()
    gov.clock.days(0.01)
    second = await gov.apply(fields=("住所",))
    await gov.actions.check(OPERATOR, first, "PASS", None)
    now = gov.clock.at
    # the operator awaits the second check, the officer of 市场监管 the first decision
    assert [i.application_id for i in (await gov.queue.page(OPERATOR, now, mine=True))[0]] == [
        second
    ]
    scjg, _ = await gov.queue.page(SCJG, now, mine=True)
    assert [i.application_id for i in scjg] == [first] and scjg[0].awaits_me
    assert scjg[0].open_step is not None and scjg[0].open_step.limit_days == 5
    checked = scjg[0].steps[0]  # decided the day it opened: its last day is shown all the same
    assert checked.decision == "PASS" and checked.last_day == dt.date(2026, 12, 3)
    # the applying department sees its applications, awaiting nothing of it
    window, total = await gov.queue.page(WINDOW_OFFICER, now)
    assert total == 2 and not any(i.awaits_me for i in window)
    assert (await gov.queue.page(WINDOW_OFFICER, now, mine=True))[1] == 0
    # another department sees none, and a single one is as if unknown
    assert (await gov.queue.page(ZRZY, now))[1] == 0
    with pytest.raises(UnknownApplication, match="application_id"):
        await gov.queue.get(ZRZY, first, now)
    # supervision and audit see all and await nothing
    for person in (SUPERVISOR, AUDITOR):
        items, total = await gov.queue.page(person, now)
        assert total == 2 and not any(i.awaits_me for i in items)
        assert (await gov.queue.page(person, now, mine=True))[1] == 0
    # filters and pages
    pending = (await gov.queue.page(OPERATOR, now, status="PENDING_PROVIDER"))[0]
    assert [i.application_id for i in pending] == [first]
    page, total = await gov.queue.page(OPERATOR, now, limit=1, offset=1)
    assert total == 2 and [i.application_id for i in page] == [first]  # newest first
    with pytest.raises(NotForYourRole):
        await gov.queue.page(Someone("nobody", "guest"), now)
    with pytest.raises(NotForYourRole):
        await gov.queue.page(Someone("loose", "officer"), now)


async def test_a_decided_step_keeps_its_verdict(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    app_id = await gov.apply()
    gov.clock.days(7)  # decided late: the next Tuesday
    await gov.actions.check(OPERATOR, app_id, "PASS", None)
    item = await gov.queue.get(SCJG, app_id, gov.clock.at)
    bureau, provider = item.steps
    assert bureau.decision == "PASS" and bureau.decided_by == "person:dsj-op"
    assert bureau.card == Card.RED and not bureau.open
    assert provider.open and provider.card == Card.ON_TIME and item.awaits_me


async def test_a_deadline_in_a_year_without_its_notice_is_provisional(gov: Gov) -> None:
    await gov.actions.publish(SCJG, gov.entry())
    gov.clock.at = dt.datetime(2026, 12, 30, 10, 0, tzinfo=START.tzinfo)  # a Wednesday
    app_id = await gov.apply()
    item = await gov.queue.get(OPERATOR, app_id, gov.clock.at)
    step = item.open_step
    # Thursday counts, 1 January is a statutory holiday (forecast), then the weekend
    assert step is not None and step.last_day == dt.date(2027, 1, 4) and step.provisional
