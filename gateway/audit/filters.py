"""The filters of an audit search (审计查询), parsed from what a person typed into a form.

Every field is optional and validated on its own; the first wrong one raises
`AuditFilterInvalid` naming the field and the value, so a page says which field is wrong.

The holder's id (身份证号, 统一社会信用代码) is turned into its keyed hash here, with the same
function the audit writer uses (gateway.audit.pseudonyms.holder_hash), and then forgotten:
`AuditQuery` holds only the hash, and an error message shows the id masked. `holder_key` takes
a hash (64 hex digits) or a pseudonym's 16 as shown in the audit rows (`{id:…}`), so a next-page
link or a click on a pseudonym searches by it without the id ever being in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.audit.errors import AuditFilterInvalid
from gateway.audit.pseudonyms import PSEUDONYM_HEX, holder_hash, normalize_id
from schemas.validators import mask

LOCAL = ZoneInfo("Asia/Shanghai")  # the time a person types and reads
FIELDS = ("member", "holder", "holder_key", "item", "decision", "since", "until")
MAX_PAGE = 200
DEFAULT_PAGE = 50

Decision = Literal["allow", "deny"]
_DECISIONS: dict[str, Decision] = {
    "allow": "allow",
    "allowed": "allow",
    "允许": "allow",
    "deny": "deny",
    "refused": "deny",
    "拒绝": "deny",
}
_MEMBER = re.compile(r"[A-Za-z0-9._:@-]{1,128}")  # member ids, and `person:<username>` actors
_ITEM = re.compile(r"[A-Za-z0-9._-]{1,64}")  # 事项编码, as Gov-Purpose takes it
_HOLDER_KEY = re.compile(rf"[0-9a-f]{{{PSEUDONYM_HEX}}}|[0-9a-f]{{64}}")
_CURSOR = re.compile(r"([0-9]{1,15})\.([0-9]{1,18})")
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What to search for; None is "any". `holder` is a keyed hash (or its first 16 hex
    digits), never an id. Times are UTC milliseconds, `since_ms` included, `until_ms` not."""

    member: str | None = None
    holder: str | None = None
    item: str | None = None
    decision: Decision | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def as_params(self) -> dict[str, str]:
        """The query as form fields again (for a next-page link or an export button): the
        holder as its hash, times in local time."""
        params: dict[str, str] = {}
        if self.member:
            params["member"] = self.member
        if self.holder:
            params["holder_key"] = self.holder
        if self.item:
            params["item"] = self.item
        if self.decision:
            params["decision"] = self.decision
        if self.since_ms is not None:
            params["since"] = local_text(self.since_ms)
        if self.until_ms is not None:
            params["until"] = local_text(self.until_ms)
        return params


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the row (at_ms, seq), in newest-first order."""

    at_ms: int
    seq: int

    def __str__(self) -> str:
        return f"{self.at_ms}.{self.seq}"


def local_text(at_ms: int) -> str:
    """UTC milliseconds as local time `YYYY-MM-DDTHH:MM:SS` (what a datetime-local input takes)."""
    return datetime.fromtimestamp(at_ms / 1000, LOCAL).strftime("%Y-%m-%dT%H:%M:%S")


def parse_query(raw: Mapping[str, str | None], secret: bytes) -> AuditQuery:
    """The query of the form fields `raw` (FIELDS; others are ignored, blanks are "any")."""

    def given(name: str) -> str | None:
        value = raw.get(name)
        return value.strip() if value is not None and value.strip() else None

    holder = _holder(given("holder"), secret)
    key = _holder_key(given("holder_key"))
    if holder and key and not holder.startswith(key):
        raise AuditFilterInvalid("holder_key", key, "names another holder than holder")
    since, until = _time("since", given("since")), _time("until", given("until"), end=True)
    if since is not None and until is not None and since >= until:
        raise AuditFilterInvalid("until", given("until") or "", "is not later than since")
    return AuditQuery(
        member=_match("member", given("member"), _MEMBER, "is not a member id"),
        holder=holder or key,
        item=_match("item", given("item"), _ITEM, "is not an item code (事项编码)"),
        decision=_decision(given("decision")),
        since_ms=since,
        until_ms=until,
    )


def parse_limit(value: str | None) -> int:
    """A page size: 1 to MAX_PAGE rows, DEFAULT_PAGE when not given."""
    if value is None or not value.strip():
        return DEFAULT_PAGE
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise AuditFilterInvalid("limit", text[:40], f"is not a number from 1 to {MAX_PAGE}")
    return int(text)


def parse_cursor(value: str | None) -> Cursor | None:
    """The `after` of a next-page link (`<at_ms>.<seq>`), None for the first page."""
    if value is None or not value.strip():
        return None
    found = _CURSOR.fullmatch(value.strip())
    if found is None:
        raise AuditFilterInvalid("after", value[:40], "is not a page cursor")
    return Cursor(int(found.group(1)), int(found.group(2)))


def _match(field: str, value: str | None, pattern: re.Pattern[str], why: str) -> str | None:
    if value is not None and pattern.fullmatch(value) is None:
        raise AuditFilterInvalid(field, value[:80], why)
    return value


def _holder(value: str | None, secret: bytes) -> str | None:
    if value is None:
        return None
    normal = normalize_id(value)
    if not 2 <= len(normal) <= 64 or not normal.isprintable():
        raise AuditFilterInvalid("holder", mask(normal[:64]), "is not a holder id")
    return holder_hash(secret, normal)


def _holder_key(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.removeprefix("{id:").removesuffix("}").lower()
    if _HOLDER_KEY.fullmatch(key) is None:
        raise AuditFilterInvalid(
            "holder_key", value[:80], f"is not a holder hash ({PSEUDONYM_HEX} or 64 hex digits)"
        )
    return key


def _decision(value: str | None) -> Decision | None:
    if value is None:
        return None
    found = _DECISIONS.get(value.lower())
    if found is None:
        raise AuditFilterInvalid("decision", value[:40], "is not allowed or refused")
    return found


def _time(field: str, value: str | None, *, end: bool = False) -> int | None:
    """ISO 8601 date or date-time; without an offset it is local time (Asia/Shanghai). A date
    alone as `until` means the end of that day (the day is included)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            at = datetime.combine(day + timedelta(days=1 if end else 0), time(), LOCAL)
        else:
            at = datetime.fromisoformat(value.replace(" ", "T", 1))
            at = at if at.tzinfo is not None else at.replace(tzinfo=LOCAL)
    except ValueError:
        at = None
    if at is None or not _EARLIEST <= at <= _LATEST:
        raise AuditFilterInvalid(
            field, value[:40], "is not a date or time (2026-12-05, 2026-12-05T08:30)"
        )
    return int(at.timestamp() * 1000)
