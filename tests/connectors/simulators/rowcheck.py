"""Independent checks of simulated rows: which fields a connector would refuse, and why.

Each check returns an error code for a field, or None. Good rows must have none; a bad row
exactly one, on the field its recorded defect names, with the code that defect implies.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Mapping

from connectors.simulators.defects import Defect
from schemas.timeparse import TimeParseError, parse_timestamp
from schemas.validators import IdentifierError, validate_party_id, validate_region_code

Row = Mapping[str, object]
Check = Callable[[Row, str], "str | None"]

EXPECTED = {
    "check_digit": {"USCC_CHECK", "ID_NUMBER_CHECK"},
    "impossible_date": {"DATE_UNPARSEABLE"},
    "missing_field": {"MISSING"},
    "unknown_code": {"UNKNOWN_CODE"},
}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def required(row: Row, field: str) -> str | None:
    return "MISSING" if _missing(row[field]) else None


def party_id(id_type: Callable[[Row], str]) -> Check:
    def check(row: Row, field: str) -> str | None:
        if _missing(row[field]):
            return "MISSING"
        try:
            validate_party_id(id_type(row), str(row[field]))
        except IdentifierError as exc:
            return exc.code
        return None

    return check


def timestamp(optional: bool = False) -> Check:
    def check(row: Row, field: str) -> str | None:
        value = row[field]
        if _missing(value):
            return None if optional else "MISSING"
        try:
            parse_timestamp(value)  # type: ignore[arg-type]
        except TimeParseError as exc:
            return exc.code
        return None

    return check


def code(known: Collection[str]) -> Check:
    def check(row: Row, field: str) -> str | None:
        if _missing(row[field]):
            return "MISSING"
        return None if row[field] in known else "UNKNOWN_CODE"

    return check


def region(row: Row, field: str) -> str | None:
    try:
        validate_region_code(str(row[field]))
    except IdentifierError as exc:
        return exc.code
    return None


def problems(row: Row, checks: Mapping[str, Check]) -> dict[str, str]:
    found = {field: check(row, field) for field, check in checks.items()}
    return {field: problem for field, problem in found.items() if problem is not None}


def assert_defects(
    rows: Mapping[str, Row],
    checks: Mapping[str, Check],
    bad_keys: set[str],
    defects: Mapping[str, Defect],
) -> None:
    """Good rows pass every check; each bad row fails exactly the check its defect names."""
    for key, row in rows.items():
        found = problems(row, checks)
        if key not in bad_keys:
            assert not found, (key, found, dict(row))
            continue
        defect = defects[key]
        assert set(found) == {defect.field}, (key, defect, found)
        assert found[defect.field] in EXPECTED[defect.kind], (key, defect, found)
        assert _plain(row[defect.field]) == _plain(defect.value), (key, defect)


def _plain(value: object) -> object:
    """A value as a connector sees it: full-width digits normalized, an empty cell None."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value) or None
    return value
