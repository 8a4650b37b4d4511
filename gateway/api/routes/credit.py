"""`GET /v1/credit/{subject_id}?item=`: a credit check at the window (失信联合惩戒).

Before approving, a window clerk asks whether the applicant (a company's 统一社会信用代码 or a
person's 居民身份证号码) is on a joint-punishment list that restricts the item in hand. The
answer names the entries that restrict it, and lists every entry of the subject on the lists
the caller may check, removed (信用修复) and expired ones included with their status. Signed,
audited under the subject (it shows in the subject's access log), answered signed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.api import policy
from gateway.api.auth import ConsumerDep
from gateway.api.inputs import ItemDep, SubjectDep
from gateway.api.services import services
from gateway.credit import check

router = APIRouter(prefix="/v1", tags=["credit"])
BEIJING = ZoneInfo("Asia/Shanghai")


class EntryOut(BaseModel):
    entry_id: str
    list_code: str
    status: str = Field(description="ACTIVE, NOT_YET, EXPIRED or REMOVED (信用修复) on as_of")
    restricts_item: bool
    measures: list[dict[str, Any]] = Field(description="the entry's measures that bar the item")
    record: dict[str, Any]
    masked: list[str]


class CreditOut(BaseModel):
    item: str = Field(description="the item (事项编码) or category checked")
    as_of: dt.date = Field(description="the day judged, Asia/Shanghai")
    lists: list[str] = Field(description="the lists (名单代码) checked: those granted")
    restricted: bool
    restricting: list[str] = Field(description="entry ids that restrict the item")
    entries: list[EntryOut] = Field(description="every entry of the subject on those lists")


@router.get("/credit/{subject_id}")
async def check_credit(
    request: Request, subject_id: SubjectDep, item: ItemDep, caller: ConsumerDep
) -> CreditOut:
    """Is the subject restricted for `item` (default: the Gov-Purpose item) today?"""
    purpose = policy.require_purpose(caller)
    lists = policy.credit_lists(caller, purpose)
    wanted = item or purpose
    entries = await services(request).lookup.credit_entries(subject_id, lists)
    found = check(entries, wanted, dt.datetime.now(BEIJING).date())
    out = []
    for finding in found.findings:
        view = policy.credit_entry_view(caller, purpose, finding.entry)
        out.append(
            EntryOut(
                entry_id=finding.entry.entry_id,
                list_code=finding.entry.list_code,
                status=str(finding.status),
                restricts_item=finding.restricts,
                measures=finding.measures,
                record=dict(view.record),
                masked=list(view.masked),
            )
        )
    return CreditOut(
        item=wanted,
        as_of=found.as_of,
        lists=lists,
        restricted=found.restricted,
        restricting=[f.entry.entry_id for f in found.restricting],
        entries=out,
    )
