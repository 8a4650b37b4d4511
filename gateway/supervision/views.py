"""What the console's e-supervision page (电子监察) shows, read from the subscriber's own state.

`govgate supervise` keeps each case's stages and the cards it raised in its state database
(`gateway.supervision.state`); this module reads it for people: the open cases by department
with their clocks (elapsed days, due dates, the card they hold now), the yellow and red cards
raised, newest first, and the monthly bulletin (`gateway.supervision.report`) with its CSV and
XLSX downloads. A department officer passes `department` and sees nothing of another's.

Clocks are computed here by the subscriber's own parts (`CaseFile.clock`, `earned_cards`), so the
page says what the subscriber would; only the page of cases shown is clocked. Lists are
keyset-paginated: case number for open cases, (raised time, case, card) for cards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.engine import make_url

from gateway.settings import Settings, async_url
from gateway.store import make_engine
from gateway.store.errors import unavailable_as
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cards import CARD_NAMES, earned_cards
from gateway.supervision.clock import BEIJING, Card
from gateway.supervision.errors import StateUnavailable, SupervisionError
from gateway.supervision.report import (
    DepartmentRow,
    add_notices,
    month_window,
    monthly_report,
    write_csv,
    write_xlsx,
)
from gateway.supervision.state import SupervisionState, case_from_json, sv_cards, sv_cases
from schemas.errors import InvalidInput

T = TypeVar("T")
# A department's code, or every code one department goes by (an officer's); None: all.
Departments = str | frozenset[str] | None
MAX_PAGE = 200
_DEPARTMENT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CASE_NO = re.compile(r"^[^\x00-\x1f]{1,64}$")


class ViewInputError(InvalidInput, SupervisionError):
    """A page parameter that is not well formed; the message names the field and value."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class DepartmentLoad:
    """One department's open cases and the cards they hold."""

    department_code: str
    department_name: str
    open_cases: int
    yellow: int
    red: int


@dataclass(frozen=True, slots=True)
class OpenCase:
    """An open case and its clock now."""

    case_no: str
    item_name: str
    department_code: str
    department_name: str
    accepted_at: dt.datetime | None
    accepted_inferred: bool
    elapsed_days: int
    unit: str
    promised_limit: int | None
    statutory_limit: int | None
    promised_due: dt.date | None
    statutory_due: dt.date | None
    card: Card  # ON_TIME, YELLOW or RED, now
    running: bool  # False: paused (补正, 特别程序) or not started
    provisional: bool

    @property
    def card_name(self) -> str:
        return CARD_NAMES.get(self.card, "正常")


@dataclass(frozen=True, slots=True)
class CardLine:
    """A card raised by the subscriber, with the line it printed (no applicant data)."""

    case_no: str
    card: Card
    department_code: str
    crossed_on: dt.date
    raised_at: dt.datetime
    line: str

    @property
    def card_name(self) -> str:
        return CARD_NAMES[self.card]


def check_department(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _DEPARTMENT.match(value.strip()):
        raise ViewInputError("department", value, "expected a department code")
    return value.strip()


def check_card(value: str | None) -> Card | None:
    if value is None or not value.strip():
        return None
    if value.strip() not in (Card.YELLOW, Card.RED):
        raise ViewInputError("card", value, "expected YELLOW or RED")
    return Card(value.strip())


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ViewInputError("limit", limit, f"expected 1 to {MAX_PAGE}")
    return limit


class SupervisionViews:
    """Reads one subscriber state (cases or, for 双告知, notices) for the console."""

    def __init__(
        self,
        state: SupervisionState,
        calendar: WorkCalendar,
        *,
        yellow_share: float,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.state = state
        self.calendar = calendar
        self.yellow_share = yellow_share
        self.now = now

    async def departments(self, department: Departments = None) -> list[DepartmentLoad]:
        """Open cases and cards held by open cases, per department (by code)."""
        c = sv_cases.c
        opened = c.closed.is_(False)
        counts = select(c.department_code, func.count().label("n"), func.min(c.case_no))
        counts = counts.where(opened).group_by(c.department_code)
        cards = (
            select(c.department_code, sv_cards.c.card, func.count().label("n"))
            .select_from(sv_cases.join(sv_cards, sv_cards.c.case_no == c.case_no))
            .where(opened)
            .group_by(c.department_code, sv_cards.c.card)
        )
        if (codes := _codes(department)) is not None:
            counts = counts.where(c.department_code.in_(codes))
            cards = cards.where(c.department_code.in_(codes))
        async with unavailable_as(StateUnavailable), self.state.engine.connect() as conn:
            rows = (await conn.execute(counts)).all()
            held = (await conn.execute(cards)).all()
            firsts = [r[2] for r in rows]
            named = await conn.execute(select(c.data).where(c.case_no.in_(firsts)))
            names = {f.department_code: f.department_name for f in map(_case, named.scalars())}
        tally: dict[tuple[str, str], int] = {(r[0], r[1]): int(r[2]) for r in held}
        return [
            DepartmentLoad(
                r.department_code,
                names.get(r.department_code, r.department_code),
                int(r.n),
                tally.get((r.department_code, Card.YELLOW), 0),
                tally.get((r.department_code, Card.RED), 0),
            )
            for r in sorted(rows, key=lambda r: (-int(r.n), r.department_code))
        ]

    async def open_cases(
        self, department: Departments = None, after: str | None = None, limit: int = 50
    ) -> Page[OpenCase]:
        """Open cases by case number, each with its clock now."""
        check_limit(limit)
        c = sv_cases.c
        query = select(c.data).where(c.closed.is_(False))
        if (codes := _codes(department)) is not None:
            query = query.where(c.department_code.in_(codes))
        if after:
            if not _CASE_NO.match(after):
                raise ViewInputError("after", after, "expected the cursor of the previous page")
            query = query.where(c.case_no > after)
        query = query.order_by(c.case_no).limit(limit + 1)
        async with unavailable_as(StateUnavailable), self.state.engine.connect() as conn:
            found = [_case(d) for d in (await conn.execute(query)).scalars()]
        now = self.now()
        items = [self._clocked(case, now) for case in found[:limit]]
        more = len(found) > limit
        return Page(items, items[-1].case_no if more and items else None)

    def _clocked(self, case: Any, now: dt.datetime) -> OpenCase:
        clock = case.clock(self.calendar)
        elapsed = clock.elapsed(now)
        earned = {e.card for e in earned_cards(case, clock, now, self.yellow_share)}
        card = Card.RED if Card.RED in earned else Card.YELLOW if earned else Card.ON_TIME
        promised = None if case.promised_limit is None else clock.deadline(case.promised_limit)
        statutory = None if case.statutory_limit is None else clock.deadline(case.statutory_limit)
        accepted = case.accepted
        return OpenCase(
            case_no=case.case_no,
            item_name=case.item_name,
            department_code=case.department_code,
            department_name=case.department_name,
            accepted_at=None if accepted is None else accepted.at.astimezone(BEIJING),
            accepted_inferred=case.accepted_inferred,
            elapsed_days=elapsed.days,
            unit=str(case.limit_unit),
            promised_limit=case.promised_limit,
            statutory_limit=case.statutory_limit,
            promised_due=None if promised is None else promised.last_day,
            statutory_due=None if statutory is None else statutory.last_day,
            card=card,
            running=clock.running,
            provisional=elapsed.provisional
            or any(d is not None and d.provisional for d in (promised, statutory)),
        )

    async def cards(
        self,
        department: Departments = None,
        card: Card | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> Page[CardLine]:
        """Cards raised, newest first."""
        check_limit(limit)
        k = sv_cards.c
        query = select(
            k.case_no, k.card, k.crossed_on, k.raised_ms, k.line, sv_cases.c.department_code
        )
        query = query.select_from(sv_cards.join(sv_cases, sv_cases.c.case_no == k.case_no))
        if (codes := _codes(department)) is not None:
            query = query.where(sv_cases.c.department_code.in_(codes))
        if card is not None:
            query = query.where(k.card == str(card))
        if after:
            raised, case_no, which = _card_cursor(after)
            query = query.where(
                or_(
                    k.raised_ms < raised,
                    and_(k.raised_ms == raised, tuple_(k.case_no, k.card) < (case_no, which)),
                )
            )
        query = query.order_by(k.raised_ms.desc(), k.case_no.desc(), k.card.desc())
        async with unavailable_as(StateUnavailable), self.state.engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit + 1))).all()
        items = [
            CardLine(
                r.case_no,
                Card(r.card),
                r.department_code,
                dt.date.fromisoformat(r.crossed_on),
                dt.datetime.fromtimestamp(r.raised_ms / 1000, BEIJING),
                r.line,
            )
            for r in rows[:limit]
        ]
        last = rows[limit - 1] if len(rows) > limit else None
        cursor = None if last is None else json.dumps([last.raised_ms, last.case_no, last.card])
        return Page(items, cursor)

    async def bulletin(
        self,
        month: str,
        department: Departments = None,
        notices: SupervisionState | None = None,
        *,
        max_age_s: float = 0,
    ) -> Bulletin:
        """The monthly bulletin's rows (`monthly_report`), with the 双告知 columns when the
        notices' claim clocks are at hand; one department's rows only when it is named.

        Counting clocks is CPU work (about 80 µs a case), done in a thread so the gateway
        keeps answering; with `max_age_s` a bulletin computed that recently for the same
        state, month and notices is reused (the console shows when it was computed)."""
        with_notices = "" if notices is None else str(notices.engine.url)
        key = (str(self.state.engine.url), month, self.yellow_share, with_notices)
        kept = _BULLETINS.get(key)
        if kept is None or time.monotonic() - kept[0] > max_age_s:
            kept = (time.monotonic(), await self._bulletin(month, notices))
            _BULLETINS[key] = kept
            while len(_BULLETINS) > _BULLETINS_KEPT:
                _BULLETINS.pop(next(iter(_BULLETINS)))
        found = kept[1]
        codes = _codes(department)
        rows = [r for r in found.rows if codes is None or r.department_code in codes]
        return Bulletin(month, rows, found.computed_at)

    async def _bulletin(self, month: str, notices: SupervisionState | None) -> Bulletin:
        window = month_window(month)
        now = self.now()
        cases = await self.state.cases_between(*window)
        claims = await notices.cases_between(*window) if notices is not None else None

        def count() -> list[DepartmentRow]:
            share = self.yellow_share
            rows = monthly_report(cases, self.calendar, month, yellow_share=share, now=now)
            if claims is not None:
                figures = monthly_report(claims, self.calendar, month, yellow_share=share, now=now)
                rows = add_notices(rows, figures)
            return rows

        return Bulletin(month, await asyncio.to_thread(count), now.astimezone(BEIJING))


@dataclass(frozen=True, slots=True)
class Bulletin:
    """A month's bulletin rows, and when they were computed (Asia/Shanghai)."""

    month: str
    rows: list[DepartmentRow]
    computed_at: dt.datetime


_BULLETINS: dict[tuple[str, str, float, str], tuple[float, Bulletin]] = {}
_BULLETINS_KEPT = 32


def forget_bulletins() -> None:
    """Drop every bulletin kept (`max_age_s`): after a state was rebuilt, and between tests."""
    _BULLETINS.clear()


def _codes(department: Departments) -> list[str] | None:
    if department is None:
        return None
    return [department] if isinstance(department, str) else sorted(department)


def _case(data: str) -> Any:
    return case_from_json(data)


def _card_cursor(after: str) -> tuple[int, str, str]:
    try:
        raised, case_no, which = json.loads(after)
        if isinstance(raised, int) and isinstance(case_no, str) and isinstance(which, str):
            return raised, case_no, which
    except (ValueError, TypeError):
        pass
    raise ViewInputError("after", after, "expected the cursor of the previous page")


async def bulletin_file(rows: Sequence[DepartmentRow], month: str, kind: str) -> bytes:
    """The bulletin as the CLI writes it (`write_csv`, `write_xlsx`), as bytes to download."""
    if kind not in ("csv", "xlsx"):
        raise ViewInputError("format", kind, "expected csv or xlsx")

    def write() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"supervision-report-{month}.{kind}"
            if kind == "csv":
                write_csv(rows, path)
            else:
                write_xlsx(rows, path, month)
            return path.read_bytes()

    return await asyncio.to_thread(write)


def state_url(settings: Settings) -> str:
    """The subscriber's state, as `govgate supervise` finds it."""
    configured = settings.supervision.state_url
    url = configured.get_secret_value() if configured else None
    return async_url(url or f"sqlite:///{settings.data_dir / 'supervise.db'}")


def notices_state_url(settings: Settings) -> str:
    """The notices' claim clocks, as `govgate notices run` keeps them."""
    configured = settings.notices.state_url
    url = configured.get_secret_value() if configured else None
    return async_url(url or f"sqlite:///{settings.data_dir / 'notices.db'}")


def state_exists(url: str) -> bool:
    """False for a SQLite file that is not there (the subscriber never ran here)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).is_file()


_CALENDARS: dict[Path, WorkCalendar] = {}


def calendar_for(settings: Settings) -> WorkCalendar:
    """One calendar per notices folder for the process (its answers cached, a forecast year
    warned about once), looked at again for notices dropped since (`refresh`)."""
    folder = settings.supervision.notices_dir or settings.data_dir / "holiday-notices"
    found = _CALENDARS.get(folder)
    if found is None:
        found = _CALENDARS[folder] = WorkCalendar(folder)
    else:
        found.refresh()
    return found


def current_month(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING).strftime("%Y-%m")


@asynccontextmanager
async def reading(url: str) -> AsyncIterator[SupervisionState | None]:
    """The state at `url` to read (None when a SQLite file is not there: the subscriber never
    ran here); tables are not created, the engine is disposed on exit."""
    if not state_exists(url):
        yield None
        return
    engine = make_engine(url, pool_size=1)
    try:
        yield SupervisionState(engine)
    finally:
        await engine.dispose()
