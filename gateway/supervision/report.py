"""The monthly supervision bulletin (电子监察月报), per department, as CSV and XLSX.

For month M (dates in Asia/Shanghai), per department:

- accepted (受理): cases whose 受理 event falls in M; and cases whose 受理 was never seen (first
  seen in a later stage, or only at 办结: a connector started on a system with history) in
  the month they were first seen, flagged as partially observed.
- partially_observed (部分观测): how many of the accepted were counted that way.
- completed (办结): cases whose 办结 falls in M, including those seen only at 办结; withdrawn
  cases (退回/撤回) are not completed.
- timed (计时): completed cases with a 受理 event and a time limit; only these enter the
  on-time rate and the average, since an inferred start would make a case look faster.
- on_time (按时办结): timed cases completed by the end of the last allowed day of the promised
  limit (承诺时限), or of the statutory one when no promise was made; a completion after it is
  late whatever kind of day it falls on.
- avg_working_days (平均用时): mean working days from 受理 to 办结 of timed cases, 补正 and
  特别程序 excluded.
- yellow / red (黄牌/红牌): cards that belong to M, on the same rule as the subscriber: a yellow
  card by its yellow day, a red card by the day at whose end the limit was exceeded (a case
  whose last allowed day is Oct 30 or Oct 31 is overdue in October's bulletin), earned by the
  end of M or by now if M is not over.
- notices_received / notices_claimed_on_time / notices_overdue (双告知): notices routed to
  the department in M, claimed within their limit, and red-carded, from the notices' claim
  clocks (`gateway.notices.tracker`) by the same rules (``add_notices``).
- provisional (暂定): some figure rests on a year whose holidays are only forecast (no notice).
- online_rate (一网通办率): of the completed cases whose channel the department records, the
  share handled fully online: every recorded step online or on a mobile app, and no visit.
- at_most_once_rate (最多跑一次率): of the completed cases whose visits (跑动次数) are recorded,
  the share whose applicant came in person at most once.
- on_the_spot_rate (即办件率): of the completed cases whose 受理 was seen, the share completed on
  the day they were accepted.
- materials_reused (材料复用): materials a window fetched through the gateway for a case of this
  department in M (allowed content requests naming the case in `Gov-Case`), instead of asking
  the applicant for them again; blank when the gateway's audit log was not at hand.

Figures depend only on the cases' stages, the calendar and the yellow share: the same state
gives the same bulletin whenever it is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.cards import earned_cards, local_date
from gateway.supervision.cases import CaseFile, StageAt
from gateway.supervision.clock import BEIJING, Card, LimitUnit, start_of
from gateway.supervision.errors import ReportError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(slots=True)
class DepartmentRow:
    """One department's figures for the month."""

    department_code: str
    department_name: str
    accepted: int = 0
    completed: int = 0
    timed: int = 0
    on_time: int = 0
    working_days: int = 0  # sum over timed cases, for the average
    yellow: int = 0
    red: int = 0
    # 双告知 notices routed to the department (`govgate notices run`; see `add_notices`)
    notices_received: int = 0
    notices_on_time: int = 0  # claimed (认领) within their working-day limit
    notices_overdue: int = 0  # red cards: unclaimed (or claimed) past the limit
    provisional: bool = False
    partially_observed: int = 0
    channel_known: int = 0  # completed, with a recorded channel
    online: int = 0
    visits_known: int = 0  # completed, with recorded visits
    at_most_once: int = 0
    acceptance_seen: int = 0  # completed, with their 受理 seen
    on_the_spot: int = 0
    materials_reused: int | None = None  # None: the gateway's audit log was not read

    @property
    def online_rate(self) -> float | None:
        return _rate(self.online, self.channel_known)

    @property
    def at_most_once_rate(self) -> float | None:
        return _rate(self.at_most_once, self.visits_known)

    @property
    def on_the_spot_rate(self) -> float | None:
        return _rate(self.on_the_spot, self.acceptance_seen)

    @property
    def on_time_rate(self) -> float | None:
        """Percentage, one decimal; None when no completed case was timed."""
        return _one_decimal(Decimal(100 * self.on_time) / self.timed) if self.timed else None

    @property
    def avg_working_days(self) -> float | None:
        return _one_decimal(Decimal(self.working_days) / self.timed) if self.timed else None


def _rate(part: int, whole: int) -> float | None:
    """A percentage, one decimal, half up; None when there is nothing to take a share of."""
    return _one_decimal(Decimal(100 * part) / whole) if whole else None


def _one_decimal(value: Decimal) -> float:
    # Half up, as a bulletin reader rounds (round() would give 4.2 for 4.25).
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


HEADERS = (
    "部门编码 department_code",
    "部门名称 department_name",
    "受理 accepted",
    "办结 completed",
    "计时办结 timed",
    "按时办结 on_time",
    "按时办结率% on_time_rate",
    "平均用时（工作日） avg_working_days",
    "黄牌 yellow_cards",
    "红牌 red_cards",
    "双告知推送 notices_received",
    "按时认领 notices_claimed_on_time",
    "认领超时 notices_overdue",
    "暂定 provisional",
    "部分观测 partially_observed",
    "一网通办率% online_rate",
    "最多跑一次率% at_most_once_rate",
    "即办件率% on_the_spot_rate",
    "材料复用 materials_reused",
)
ONLINE_CHANNELS = frozenset({"ONLINE", "MOBILE"})
TOTAL = ("", "合计 total")
PROVISIONAL_NOTE = (
    "暂定：计时涉及节假日安排尚未公布的年份，按法定节日推算（不含调休） / provisional: counted "
    "with the fixed statutory holidays only (no bridge or make-up days) in a year whose "
    "holiday notice is not known yet"
)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First day of ``month`` (YYYY-MM) and first day of the next one."""
    found = _MONTH.match(month)
    if found is None:
        raise ReportError(f"{ReportError.code}: month {month!r}: expected YYYY-MM, e.g. 2026-11")
    year, number = int(found[1]), int(found[2])
    start = dt.date(year, number, 1)
    end = dt.date(year + number // 12, number % 12 + 1, 1)
    return start, end


def month_window(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The month as aware times in Asia/Shanghai: [start, end)."""
    start, end = month_bounds(month)
    return (
        dt.datetime.combine(start, dt.time(), BEIJING),
        dt.datetime.combine(end, dt.time(), BEIJING),
    )


def monthly_report(
    cases: Iterable[CaseFile],
    calendar: WorkCalendar,
    month: str,
    *,
    yellow_share: float,
    now: dt.datetime,
    reused: Mapping[tuple[str, str], int] | None = None,
) -> list[DepartmentRow]:
    """Rows by department code, for cases whose clock ran at some time in ``month``.

    ``reused``: materials reused in the month by (department code, name), from the gateway's
    audit log (`gateway.audit.log.content_fetches`); None leaves the column blank.
    """
    start, end = month_bounds(month)
    until = min(now, start_of(end))
    rows: dict[str, DepartmentRow] = {}
    for case in cases:
        row = rows.setdefault(
            case.department_code, DepartmentRow(case.department_code, case.department_name)
        )
        _count(row, case, calendar, start, end, until, yellow_share)
    if reused is not None:
        for row in rows.values():
            row.materials_reused = 0
        for (code, name), count in reused.items():
            rows.setdefault(code, DepartmentRow(code, name, materials_reused=0))
            rows[code].materials_reused = (rows[code].materials_reused or 0) + count
    return [rows[code] for code in sorted(rows)]


def _count(
    row: DepartmentRow,
    case: CaseFile,
    calendar: WorkCalendar,
    start: dt.date,
    end: dt.date,
    until: dt.datetime,
    yellow_share: float,
) -> None:
    accepted = case.accepted
    if accepted is not None and not case.accepted_inferred:
        row.accepted += start <= local_date(accepted.at) < end
    elif case.stages and start <= local_date(case.stages[0].at) < end:
        row.accepted += 1  # its 受理 was never seen: counted when first seen, and flagged
        row.partially_observed += 1
    clock = case.clock(calendar)
    completed = case.completed
    if completed is not None and start <= local_date(completed.at) < end:
        row.completed += 1
        _count_service(row, case, completed)
        limit = case.promised_limit if case.promised_limit is not None else case.statutory_limit
        if accepted is not None and not case.accepted_inferred and limit is not None:
            deadline = clock.deadline(limit)  # None: stopped before reaching the limit
            working = case.clock(calendar, LimitUnit.WORKING_DAYS).elapsed(completed.at)
            row.timed += 1
            row.on_time += deadline is None or not deadline.runs_past
            row.working_days += working.days
            row.provisional |= working.provisional or bool(deadline and deadline.provisional)
    for earned in earned_cards(case, clock, until, yellow_share):
        if start <= earned.crossed_on < end:
            row.yellow += earned.card is Card.YELLOW
            row.red += earned.card is Card.RED
            row.provisional |= earned.provisional


def add_notices(
    rows: Sequence[DepartmentRow], notices: Sequence[DepartmentRow]
) -> list[DepartmentRow]:
    """`rows` with each department's 双告知 figures: `notices` is the same bulletin computed
    over the notices' claim clocks (received = accepted, claimed on time = on time, overdue =
    red cards), merged by department code."""
    merged = {row.department_code: row for row in rows}
    for theirs in notices:
        row = merged.setdefault(
            theirs.department_code, DepartmentRow(theirs.department_code, theirs.department_name)
        )
        row.notices_received += theirs.accepted
        row.notices_on_time += theirs.on_time
        row.notices_overdue += theirs.red
        row.provisional |= theirs.provisional
    return [merged[code] for code in sorted(merged)]


def _count_service(row: DepartmentRow, case: CaseFile, completed: StageAt) -> None:
    """The 一网通办 figures of a case completed in the month."""
    channels = case.channels
    visits = case.visits
    if channels:
        row.channel_known += 1
        row.online += channels <= ONLINE_CHANNELS and not visits
    if visits is not None:
        row.visits_known += 1
        row.at_most_once += visits <= 1
    accepted = case.accepted
    if accepted is not None and not case.accepted_inferred:
        row.acceptance_seen += 1
        row.on_the_spot += local_date(accepted.at) == local_date(completed.at)


def total(rows: Sequence[DepartmentRow]) -> DepartmentRow:
    out = DepartmentRow(*TOTAL)
    for row in rows:
        for f in fields(DepartmentRow)[2:]:
            mine, theirs = getattr(out, f.name), getattr(row, f.name)
            if f.name == "provisional":
                out.provisional |= row.provisional
            elif f.name == "materials_reused":
                out.materials_reused = None if theirs is None else (mine or 0) + theirs
            else:
                setattr(out, f.name, mine + theirs)
    return out


def _cells(row: DepartmentRow) -> list[str | int | float | None]:
    return [
        row.department_code,
        row.department_name,
        row.accepted,
        row.completed,
        row.timed,
        row.on_time,
        row.on_time_rate,
        row.avg_working_days,
        row.yellow,
        row.red,
        row.notices_received,
        row.notices_on_time,
        row.notices_overdue,
        "是 yes" if row.provisional else "",
        row.partially_observed,
        row.online_rate,
        row.at_most_once_rate,
        row.on_the_spot_rate,
        row.materials_reused,
    ]


def write_csv(rows: Sequence[DepartmentRow], path: Path) -> None:
    """UTF-8 with a BOM, so Excel opens the Chinese correctly; a total row last."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for row in [*rows, total(rows)]:
            writer.writerow(["" if c is None else c for c in _cells(row)])


def write_xlsx(rows: Sequence[DepartmentRow], path: Path, month: str) -> None:
    """One sheet named after the month; bold header, frozen, a note when figures are provisional."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = month
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    summary = total(rows)
    for row in [*rows, summary]:
        sheet.append(_cells(row))
        for cell in [*sheet[sheet.max_row][6:8], *sheet[sheet.max_row][15:18]]:  # rates, days
            cell.number_format = "0.0"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    if summary.provisional:
        sheet.append([])
        sheet.append([PROVISIONAL_NOTE])
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQRS",
        (22, 36, 10, 10, 10, 10, 14, 16, 10, 10, 12, 12, 12, 10, 12, 14, 16, 14, 12),
        strict=True,
    ):
        sheet.column_dimensions[letter].width = width
    book.properties.creator = "govgate supervise"
    book.properties.title = f"电子监察月报 {month}"
    book.save(path)
