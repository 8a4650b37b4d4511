"""Rows in the 发改 department's own shape (TZXM_SPBJ), good and bad, for connector tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from schemas.validators import make_resident_id, make_uscc

START = datetime(2026, 1, 5, 9, 0)
DEFECTS = ("bad_check_digit", "bad_date", "missing_name", "unknown_status")


def fgw_row(i: int, defect: str | None = None) -> dict[str, Any]:
    person = i % 3 == 0
    id_number = (
        make_resident_id("330802", date(1980 + i % 30, 1 + i % 12, 1 + i % 28), i % 1000)
        if person
        else make_uscc(f"91330802MA{i:07d}")
    )
    row: dict[str, Any] = {
        "SLBH": f"FG330802{i:010d}",
        "SXBM": "11330802002493025K3330111703000",
        "SXMC": "企业投资项目备案",
        "BLBMBM": "11330802002493025K",
        "BLBMMC": "衢州市柯城区发展和改革局",
        "XZQHDM": "330802",
        "SQRZJLX": "10" if person else "20",
        "SQRMC": "张伟" if person else f"示例{i}有限公司",
        "SQRZJHM": id_number,
        "BLZT": "01",
        "SLSJ": "20260105090000",
        "BJSJ": None,
        "GXSJ": (START + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S"),
        "CNSX": 3,
        "FDSX": 20,
        "JBR": "李娜",
        "BLYJ": None,
    }
    if defect == "bad_check_digit":
        last = row["SQRZJHM"][-1]
        row["SQRZJHM"] = row["SQRZJHM"][:-1] + ("1" if last == "0" else "0")
    elif defect == "bad_date":
        row["GXSJ"] = row["GXSJ"].replace("-01-", "-13-").replace("-02-", "-13-")
        if "-13-" not in row["GXSJ"]:
            row["GXSJ"] = "2026-02-30 10:00:00"
    elif defect == "missing_name":
        row["SQRMC"] = ""
    elif defect == "unknown_status":
        row["BLZT"] = "99"
    return row


def mixed_rows(good: int, bad: int) -> tuple[list[dict[str, Any]], set[str]]:
    """`good + bad` rows with the bad ones spread evenly; returns the rows and the bad keys."""
    rows, bad_keys = [], set()
    every = (good + bad) // bad if bad else 0
    for i in range(good + bad):
        defect = DEFECTS[(i // max(every, 1)) % len(DEFECTS)] if bad and i % every == 0 else None
        row = fgw_row(i, defect)
        rows.append(row)
        if defect:
            bad_keys.add(row["SLBH"])
    return rows, bad_keys
