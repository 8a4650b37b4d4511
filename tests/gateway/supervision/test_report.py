"""The monthly bulletin (电子监察月报) on a known data set, with figures checked by hand.

November 2026 has no holidays: working days are Nov 2–6, 9–13, 16–20, 23–27 and 30. Every case
has promised 5 and statutory 8 working days, so yellow at 4 days and red at 9 (share 0.8).

发改 (FGW):
- F1 accepted Nov 2, completed Nov 5: 3 days, on time.
- F2 accepted Nov 2, completed Nov 12: 8 days, late against the promise; yellow Nov 6.
- F3 accepted Nov 2, 补正 Nov 4 (2 days), resumed Nov 16, completed Nov 18: 4 days, on time;
  yellow Nov 18.
- F4 accepted Oct 26, still open: yellow Oct 30 (not November), red at the end of Nov 5.
- F5 accepted Nov 20, still open: yellow Nov 26, red at the end of Dec 2 (not November).
- F6 first seen in review Nov 10 (acceptance unknown), completed Nov 11: accepted (partially
  observed), completed, not timed.
- F7 accepted Nov 25, withdrawn Nov 26: accepted, not completed.
- F8 seen only at 办结, Nov 20: accepted (partially observed), completed, not timed. F9 the
  same in October: not counted.
→ accepted 7 (2 partially observed), completed 5, timed 3, on time 2 (66.7 %), average
  (3 + 8 + 4) / 3 = 5.0, yellow 3, red 1.
Channels and visits (跑动次数) of the completed: F1 online, no visit; F2 at a window, twice; F3
at a window, once; F6 on a mobile app, no visit; F8 not recorded → 一网通办 2 of 4 (50.0 %),
最多跑一次 3 of 4 (75.0 %); none completed on its day of acceptance → 即办件 0 of 3.

市场监管 (SCJG):
- S1 accepted Fri Oct 30, completed Tue Nov 3: 2 days, on time.
- S2 accepted Nov 30 (natural days), open. S3 accepted Dec 1: not in November.
→ accepted 1, completed 1, timed 1, on time 1 (100.0 %), average 2.0, no cards; S1 at a
  window, once: 一网通办 0.0 %, 最多跑一次 100.0 %, 即办件 0.0 %.

Total: accepted 8, completed 6, timed 4, on time 3 (75.0 %), average 17 / 4 = 4.25 → 4.3;
一网通办 2 of 5 (40.0 %), 最多跑一次 4 of 5 (80.0 %), 即办件 0 of 4. No material was fetched
through the gateway: 0 reused.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.log import EventLog
from tests.gateway.supervision.cases import at, event
from tests.gateway.supervision.test_overdue import CASES as LATE_CASES
from tests.gateway.supervision.test_subscriber import alerts, publish, run_once

EVENTS = [
    event("F1", "ACCEPTED", "2026-11-02", channel="ONLINE", visits=0),
    event("F1", "COMPLETED", "2026-11-05", channel="ONLINE", visits=0),
    event("F2", "ACCEPTED", "2026-11-02"),
    event("F2", "COMPLETED", "2026-11-12", visits=2),
    event("F3", "ACCEPTED", "2026-11-02"),
    event("F3", "SUPPLEMENT", "2026-11-04"),
    event("F3", "IN_REVIEW", "2026-11-16"),
    event("F3", "COMPLETED", "2026-11-18"),
    event("F4", "ACCEPTED", "2026-10-26"),
    event("F5", "ACCEPTED", "2026-11-20"),
    event("F6", "IN_REVIEW", "2026-11-10", channel="MOBILE", visits=0),
    event("F6", "COMPLETED", "2026-11-11", channel="MOBILE", visits=0),
    event("F7", "ACCEPTED", "2026-11-25"),
    event("F7", "WITHDRAWN", "2026-11-26"),
    event("F8", "COMPLETED", "2026-11-20", channel=None, visits=None),
    event("F9", "COMPLETED", "2026-10-20"),
    event("S1", "ACCEPTED", "2026-10-30", department="SCJG"),
    event("S1", "COMPLETED", "2026-11-03", department="SCJG"),
    event("S2", "ACCEPTED", "2026-11-30", department="SCJG", unit="NATURAL_DAYS"),
    event("S3", "ACCEPTED", "2026-12-01", department="SCJG"),
]

FGW = ["11330802002493025K", "衢州市柯城区发展和改革局"]
SCJG = ["113308020024930577", "衢州市柯城区市场监督管理局"]
EXPECTED = [  # the three 双告知 columns (notices received, claimed on time, overdue) are 0 here
    [*FGW, "7", "5", "3", "2", "66.7", "5.0", "3", "1", "0", "0", "0", ""]
    + ["2", "50.0", "75.0", "0.0", "0"],
    [*SCJG, "1", "1", "1", "1", "100.0", "2.0", "0", "0", "0", "0", "0", ""]
    + ["0", "0.0", "100.0", "0.0", "0"],
    ["", "合计 total", "8", "6", "4", "3", "75.0", "4.3", "3", "1", "0", "0", "0", ""]
    + ["2", "40.0", "80.0", "0.0", "0"],
]


@pytest.fixture
def report_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVGATE_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


async def test_the_monthly_report_on_a_known_data_set(
    event_log: EventLog, report_env: Path
) -> None:
    state = f"sqlite:///{report_env / 'supervise.db'}"
    await publish(event_log, *EVENTS)
    await run_once(event_log, state, at("2026-12-15"))

    out = report_env / "out"
    args = ["supervise", "report", "--month", "2026-11", "--state", state, "--now", "2026-12-15"]
    result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "衢州市柯城区发展和改革局: accepted 7, completed 5, on time 66.7%" in result.output
    assert "一网通办 50.0%, 最多跑一次 75.0%, 即办 0.0%, reused 0" in result.output

    raw = (out / "supervision-report-2026-11.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["部门编码 department_code", "部门名称 department_name", "受理 accepted"]
    assert rows[1:] == EXPECTED

    book = openpyxl.load_workbook(out / "supervision-report-2026-11.xlsx")
    sheet = book["2026-11"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == rows[0]
    assert [[_text(i, v) for i, v in enumerate(r)] for r in values[1:]] == EXPECTED
    assert sheet["H2"].number_format == "0.0"
    book.close()

    # Written again from the same state: the same figures.
    again = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--out", str(out / "again")])
    assert again.exit_code == 0, again.output
    assert (out / "again" / "supervision-report-2026-11.csv").read_bytes() == raw


# The cases of test_overdue.py, all 发改 (FGW); cards and completions, by month:
# - O2 accepted 09-22, last day 09-30, completed 10-09: yellow 09-29 and red 09-30 (September),
#   completed late in October, 7 working days.
# - O3 accepted 10-16, last day Fri 10-23, completed Sat 10-24: yellow 10-22, red 10-23,
#   completed late, 5 working days.
# - O4 accepted 10-23, last day Fri 10-30, completed Mon 11-02: yellow 10-29, red 10-30.
# - O5 7 natural days from 09-28, last day 10-08, completed 10-09: yellow 09-30 (the last working
#   day before the holiday), red 10-08, completed late, 4 working days.
# - O6 promised 3 from 09-29, last day 10-09, completed 10-09: yellow 10-08, on time, 3 days.
# October: accepted 2 (O3, O4), completed 4, on time 1 (25.0 %), average 19 / 4 = 4.75 → 4.8,
# yellow 3 (O3, O4, O6), red 3 (O3, O4, O5). September: accepted 3, yellow 2, red 1 (O2).
# All at a window, once: 一网通办 0 %, 最多跑一次 100 %, none completed on its day of acceptance.
OCTOBER = [*FGW, "2", "4", "4", "1", "25.0", "4.8", "3", "3", "0", "0", "0", ""]
OCTOBER += ["0", "0.0", "100.0", "0.0", "0"]
SEPTEMBER = [*FGW, "3", "0", "0", "0", "", "", "2", "1", "0", "0", "0", "", "0", "", "", "", "0"]


async def test_the_late_cases_are_in_the_month_their_limit_ran_out(
    event_log: EventLog, report_env: Path
) -> None:
    state = f"sqlite:///{report_env / 'supervise.db'}"
    await publish(event_log, *LATE_CASES)
    await run_once(event_log, state, at("2026-11-15"))
    assert sorted(card for _, case_no, card in await alerts(event_log) if case_no != "O1") == [
        *["RED"] * 4,
        *["YELLOW"] * 5,
    ]

    for month, expected in (("2026-10", OCTOBER), ("2026-09", SEPTEMBER)):
        args = ["supervise", "report", "--month", month, "--state", state, "--now", "2026-11-15"]
        out = report_env / month
        result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = (out / f"supervision-report-{month}.csv").read_text(encoding="utf-8-sig")
        assert list(csv.reader(text.splitlines()))[1] == expected, month


def _text(column: int, value: object) -> str:
    if value is None:
        return ""
    if column in (6, 7, 15, 16, 17):  # rates and average: stored as numbers, shown as "0.0"
        assert isinstance(value, int | float)
        return f"{value:.1f}"
    return str(value)


def test_a_bad_month_is_refused_naming_the_value(report_env: Path) -> None:
    result = CliRunner().invoke(main, ["supervise", "report", "--month", "2026-13"])
    assert result.exit_code == 1
    assert "REPORT_INVALID: month '2026-13': expected YYYY-MM" in result.output
