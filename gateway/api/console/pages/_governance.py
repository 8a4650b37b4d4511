"""What the governance pages share (资源目录, 共享申请, 授权与成员): the domain parts built once
per app, the labels the templates show, and how an action's outcome is audited and answered.

Not a page (its name starts with `_`, so discovery skips it). The pages call the same domain
services as the API (`gateway.governance.acting`, `.queue`, `.roster`): every governance action
is the service's own (its audit rows and `governance` event under `person:<username>`), and the
console action around it is one more audited row (`audit_action`), refusals included.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.api.console.audit import audit_action
from gateway.api.console.state import console_state
from gateway.api.console.templating import render
from gateway.api.problems import KINDS
from gateway.api.services import Services
from gateway.governance.acting import PersonActions
from gateway.governance.queue import Queue, work_calendar
from gateway.governance.roster import Roster
from gateway.people.person import Person
from schemas.errors import GovgateError

BEIJING = ZoneInfo("Asia/Shanghai")
# Codes the console answers itself (the API has no person roles).
STATUS_OF = {"NOT_FOR_YOUR_ROLE": 403, "INVALID_FORM": 400, "UNKNOWN_RESOURCE": 404}

LABELS: dict[str, dict[str, str]] = {
    "sharing": {
        "UNCONDITIONAL": "无条件共享",
        "CONDITIONAL": "有条件共享",
        "NOT_SHARED": "不予共享",
    },
    "kind": {
        "certificate": "电子证照",
        "material": "申请材料",
        "case_events": "办件信息",
        "credit": "信用名单",
        "notice": "双告知",
    },
    "grant_kind": {
        "certificate": "电子证照",
        "material": "申请材料",
        "case": "办件信息",
        "credit": "信用名单",
        "notice": "双告知",
    },
    "mode": {"lookup": "查询", "feed": "订阅"},
    "cycle": {
        "REALTIME": "实时",
        "DAILY": "每日",
        "WEEKLY": "每周",
        "MONTHLY": "每月",
        "QUARTERLY": "每季度",
        "YEARLY": "每年",
        "ON_CHANGE": "变更时",
    },
    "status": {
        "PENDING_BUREAU": "待合规审查",
        "PENDING_PROVIDER": "待部门审核",
        "APPROVED": "已批准",
        "REFUSED": "未通过",
    },
    "decision": {
        "PASS": "审查通过",
        "REFUSE": "不予通过",
        "APPROVE": "批准",
        "NARROW": "部分批准（缩小范围）",
    },
    "card": {"ON_TIME": "正常", "YELLOW": "黄牌", "RED": "红牌"},
    "card_class": {"ON_TIME": "ok", "YELLOW": "yellow", "RED": "red"},
    "grant": {"ACTIVE": "有效", "SUSPENDED": "已暂停", "REVOKED": "已撤销", "EXPIRED": "已过期"},
    "grant_class": {"ACTIVE": "ok", "SUSPENDED": "yellow", "REVOKED": "red", "EXPIRED": "red"},
    "change": {"suspend": "暂停", "reinstate": "恢复", "revoke": "撤销"},
    "key": {
        "active": "有效",
        "expiring": "即将到期",
        "expired": "已过期",
        "revoked": "已吊销",
        "not yet valid": "尚未生效",
    },
    "key_class": {
        "active": "ok",
        "expiring": "yellow",
        "expired": "red",
        "revoked": "red",
        "not yet valid": "yellow",
    },
}
# What a redirect after a successful action says (`?done=…`): fixed texts, nothing reflected.
DONE = {
    "published": "已发布新版本，并记入审计链。",
    "withdrawn": "资源已撤销，并记入审计链。",
    "decided": "决定已提交，并记入审计链。",
    "changed": "授权已变更，并记入审计链。",
}


class InvalidForm(GovgateError):
    """A form field that is missing or malformed: the detail names it (`field: …`)."""

    code = "INVALID_FORM"


@dataclass
class Parts:
    services: Services
    actions: PersonActions
    queue: Queue
    roster: Roster

    def now(self) -> dt.datetime:
        """The governance clock's now (the recorder's: tests may hold it)."""
        return dt.datetime.fromtimestamp(self.services.governance.recorder.clock(), dt.UTC)


def parts(request: Request) -> Parts:
    """The governance parts of the app serving `request`, built at the first call."""
    services = console_state(request).services
    found: Parts | None = getattr(request.app.state, "console_governance", None)
    if found is None or found.services is not services:
        gov, settings = services.governance, services.settings
        queue = Queue(
            gov.applications,
            gov.catalogue,
            work_calendar(settings),
            gov.settings.bureau_code,
            settings.supervision.yellow_share,
        )
        found = Parts(services, PersonActions(gov), queue, Roster(gov.grants, services.members))
        request.app.state.console_governance = found
    return found


def local_time(value: int | dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Epoch ms or an aware time, in Asia/Shanghai."""
    if value is None:
        return "—"
    if isinstance(value, int):
        value = dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    return value.astimezone(BEIJING).strftime(fmt)


def context(**values: Any) -> dict[str, Any]:
    """What every governance template gets besides its own values."""
    return {"labels": LABELS, "local_time": local_time, **values}


def done_text(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def status_of(exc: GovgateError) -> int:
    if exc.code in STATUS_OF:
        return STATUS_OF[exc.code]
    kind = KINDS.get(exc.code)
    return kind.status if kind is not None else 400


def field_of(exc: GovgateError) -> str:
    """The form field an error names (`fields[1].name: …` → `fields`), or ''."""
    head = str(exc.detail or "").split(":", 1)[0].strip()
    name = head.split("[", 1)[0].split(".", 1)[0].split(" ", 1)[0]
    return name if name.replace("_", "").isalnum() and name.isascii() else ""


async def audited(
    request: Request, person: Person, action: str, target: str, detail: str = ""
) -> None:
    """The console action `action` on `target`, allowed: one audited row naming the person."""
    await audit_action(console_state(request).services, person, action, target, detail)


async def refused(
    request: Request, person: Person, action: str, target: str, exc: GovgateError
) -> int:
    """A refused console action: audited (deny, with its code) before it is answered;
    returns the status to answer with."""
    status = status_of(exc)
    await audit_action(
        console_state(request).services,
        person,
        action,
        target,
        exc.code,
        decision="deny",
        status=status,
    )
    return status


def refusal_page(request: Request, person: Person, exc: GovgateError, status: int) -> HTMLResponse:
    """The page for a refusal that has no form to show again (403, 404, 409)."""
    title = {403: "无权操作", 404: "未找到", 409: "状态已变化"}.get(status, "无法完成")
    return render(
        request,
        "governance/refused.html",
        person=person,
        status_code=status,
        **context(title=title, code=exc.code, detail=exc.detail),
    )


def back(path: str, done: str) -> RedirectResponse:
    """After a successful POST: to `path` (a console path), saying `done`."""
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}{urllib.parse.urlencode({'done': done})}", 303)


def one_line(form: Any, name: str, *, most: int = 2000) -> str:
    """A text field of a form (stripped); '' when absent."""
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidForm(f"{name}: a text field")
    if len(value) > most:
        raise InvalidForm(f"{name}: at most {most} characters, not {len(value)}")
    return value.strip()


def whole_number(form: Any, name: str, low: int, high: int) -> int | None:
    """An integer field within [low, high]; None when left empty."""
    text = one_line(form, name, most=20)
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidForm(f"{name}: a whole number from {low} to {high}, not {text!r}")
    return int(text)
