"""What the two audit pages share (审计查询, 个人访问记录): filter messages, rows as shown, the
audit of a look at the audit, and the chain verification state with its 立即校验 runner.

Not a page itself (the leading underscore keeps it out of the page discovery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request

from gateway.api.console.audit import METHOD, audit_action
from gateway.api.console.state import console_state
from gateway.api.services import Services
from gateway.audit.errors import AuditFilterInvalid
from gateway.audit.filters import FIELDS, LOCAL, AuditQuery
from gateway.audit.log import AuditEntry
from gateway.audit.pseudonyms import PSEUDONYM_HEX
from gateway.audit.search import AuditRecord, AuditSearch
from gateway.audit.verifications import Verification, Verifications, anchors_due, verify_now
from gateway.members.keys import key_id, public_key_of
from gateway.people.person import Person

logger = logging.getLogger(__name__)

LABELS = {
    "member": "成员",
    "holder": "持有人证件号",
    "holder_key": "持有人假名",
    "item": "事项编码",
    "decision": "结果",
    "since": "开始时间",
    "until": "结束时间",
    "after": "翻页位置",
    "limit": "每页行数",
    "format": "导出格式",
}
WHY = {
    "member": "不是成员标识（字母、数字及 . _ : @ -）",
    "holder": "不是持有人证件号",
    "holder_key": "不是持有人假名（16 或 64 位十六进制）",
    "item": "不是事项编码（字母、数字及 . _ -，至多 64 位）",
    "decision": "只能是“允许”或“拒绝”",
    "since": "不是日期或时间（如 2026-12-05 或 2026-12-05T08:30）",
    "until": "不是日期或时间，或不晚于开始时间",
    "after": "不是有效的翻页位置",
    "limit": "须为 1 至 200",
    "format": "只能是 csv 或 xlsx",
}
DECISIONS = {"allow": "允许", "deny": "拒绝"}
CHECKS = {"intact": "完整", "unkeyed": "旧式（未加密钥）", "altered": "已被篡改"}


@dataclass(frozen=True)
class FilterError:
    """A wrong field as a page shows it: which field, what was given, why, and the code."""

    field: str
    label: str
    value: str
    message: str
    code: str

    @classmethod
    def of(cls, exc: AuditFilterInvalid) -> FilterError:
        label = LABELS.get(exc.field, exc.field)
        why = WHY.get(exc.field, "无效")
        message = f"{label}（{exc.field}）：“{exc.value}” {why}"
        return cls(exc.field, label, exc.value, message, exc.code)


@dataclass(frozen=True)
class RowView:
    """An audit row as the tables show it: local time, words for codes; no id in clear."""

    row: AuditRecord
    when: str
    decision: str
    check: str

    @classmethod
    def of(cls, row: AuditRecord) -> RowView:
        when = datetime.fromtimestamp(row.at_ms / 1000, LOCAL).strftime("%Y-%m-%d %H:%M:%S")
        return cls(row, when, DECISIONS.get(row.decision, row.decision), CHECKS[row.check])

    @property
    def holder_key(self) -> str | None:
        """The pseudonym's hex digits, for a link searching by it."""
        return None if self.row.holder is None else self.row.holder[4:-1]


def form_values(raw: Mapping[str, str]) -> dict[str, str]:
    """The filter fields of a form or query string (the holder's id never among them: a
    page does not echo it back)."""
    return {name: raw[name].strip() for name in FIELDS if name != "holder" and name in raw}


def searcher(services: Services) -> AuditSearch:
    return AuditSearch(services.engine, services.audit_secret)


def describe(query: AuditQuery) -> str:
    """The query in a few words, for its audit row: the holder as its pseudonym."""
    parts = [f"{k}={v}" for k, v in query.as_params().items() if k != "holder_key"]
    if query.holder:
        parts.append("holder={id:" + query.holder[:PSEUDONYM_HEX] + "}")
    return " ".join(parts) or "(all)"


async def audit_view(
    services: Services,
    person: Person,
    action: str,
    target: str,
    query: AuditQuery,
    *,
    holder_id: str | None = None,
) -> None:
    """Audit a look at the audit. With the holder's id (a person typed it), the row is filed
    under that holder, as `/v1/access-log` files its own: the holder's access log then shows
    that this person looked at it. (`audit_action` files no holder, hence this one case.)"""
    if holder_id is None:
        await audit_action(services, person, action, target, describe(query))
        return
    await services.audit.record(
        AuditEntry(
            method=METHOD,
            path=f"{target} {describe(query)}",
            route=f"console:{action}",
            decision="allow",
            status=200,
            member_id=person.actor,
            holder_id=holder_id,
            code=action,
        )
    )


@dataclass
class VerificationRun:
    """The 立即校验 run of this process: at most one at a time."""

    task: asyncio.Task[None] | None = None
    error: str | None = None
    by: str | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


def verification_run(request: Request) -> VerificationRun:
    found = getattr(request.app.state, "audit_verification", None)
    if not isinstance(found, VerificationRun):
        found = VerificationRun()
        request.app.state.audit_verification = found
    return found


def start_verification(request: Request, person: Person) -> bool:
    """Start verifying the whole chain in the background (a 100k-row chain takes seconds);
    False when a run is going already. The result is recorded (gateway.audit.verifications)."""
    run = verification_run(request)
    if run.running:
        return False
    services = console_state(request).services
    run.error, run.by = None, person.actor
    run.task = asyncio.create_task(_verify(services, person, run), name="console-audit-verify")
    return True


async def _verify(services: Services, person: Person, run: VerificationRun) -> None:
    try:
        keys = {key_id(k): public_key_of(k) for k in services.keys.published}
        due = anchors_due(services.settings.gateway.audit_anchor_interval_s)
        report = await verify_now(
            services.engine, services.log, services.audit_secret, keys, anchors_due_s=due
        )
        await Verifications(services.engine, services.audit_secret).record(
            services.audit, report, person.actor
        )
    except Exception as exc:  # shown on the page, which is where the person waits for it
        logger.exception("the console's audit verification failed")
        run.error = f"{type(exc).__name__}: {exc}"


async def verification_state(request: Request) -> dict[str, Any]:
    """The template context of the verification panel: the latest runs, re-checked."""
    services = console_state(request).services
    recent: list[Verification] = await Verifications(services.engine, services.audit_secret).recent(
        5
    )
    run = verification_run(request)
    return {
        "verifications": recent,
        "latest": recent[0] if recent else None,
        "verifying": run.running,
        "verify_error": run.error,
        "local_time": lambda at_ms: datetime.fromtimestamp(at_ms / 1000, LOCAL).strftime(
            "%Y-%m-%d %H:%M"
        ),
    }


async def stop_verification(request: Request) -> None:
    """Wait out a run (tests, shutdown)."""
    run = verification_run(request)
    if run.task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await run.task
