"""Validators for the identifiers every record carries.

Each validator normalizes its input (full-width to half-width, trimmed, upper-case) and
returns the normalized value, or raises `IdentifierError` with a stable `code`. Errors are
not retriable: a bad identifier goes to the dead-letter stream, never back to the source.
Resident id numbers are personal data, so error messages show them masked.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from schemas.errors import SchemaError

__all__ = [
    "FieldValueError",
    "IdentifierError",
    "make_resident_id",
    "make_uscc",
    "mask",
    "mask_ids_in_text",
    "normalize",
    "validate_party_id",
    "validate_region_code",
    "validate_resident_id",
    "validate_uscc",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Unified social credit code (统一社会信用代码), GB 32100-2015.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: index for index, char in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}", re.ASCII)

# Resident identity card number (居民身份证号码), GB 11643-1999.
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_OLD_RESIDENT_SHAPE = re.compile(r"[0-9]{15}", re.ASCII)
_EARLIEST_BIRTH = date(1900, 1, 1)

# Administrative division code (行政区划代码), GB/T 2260: province-level prefixes.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)

_OTHER_ID_MAX = 64
# A byte-order mark or zero-width space often rides along from Excel-exported CSV files.
_INVISIBLE_EDGES = "\ufeff\u200b\u2060"


class FieldValueError(SchemaError, ValueError):
    """A field value that cannot be accepted; `code` is stable, the message names field and value.

    Part of the package's error tree (`SchemaError`) and a `ValueError` for plain callers.
    Set `sensitive` for personal data: the message then shows the value masked, while the
    `value` attribute keeps it whole for the dead-letter record.
    """

    def __init__(
        self, code: str, field: str, value: object, reason: str, *, sensitive: bool = False
    ) -> None:
        self.code = code
        self.field = field
        self.value = value
        self.reason = reason
        self.sensitive = sensitive
        self.detail = reason
        shown = mask(str(value)) if sensitive else value
        # Not SchemaError.__init__: its "code: detail" message would not name field and value.
        Exception.__init__(self, f"{field}: {reason} (value {shown!r})")

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the error picklable (e.g. across a process pool) despite its constructor.
        state = (type(self), self.code, self.field, self.value, self.reason, self.sensitive)
        return (_rebuild, state)


def _rebuild(
    cls: type[FieldValueError],
    code: str,
    field: str,
    value: object,
    reason: str,
    sensitive: bool,
) -> FieldValueError:
    return cls(code, field, value, reason, sensitive=sensitive)


class IdentifierError(FieldValueError):
    """A value that is not a valid identifier (USCC, resident id, region code, ...)."""


def mask(value: str) -> str:
    """Hide the middle of a personal identifier: keep the first 6 and last 4 characters.

    Values of 10 characters or fewer are masked entirely, since keeping 6 + 4 would
    show all of them.
    """
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


# A resident id number (18: 17 digits and a digit or X; or the old 15 digits) standing alone in
# free text — not inside a longer run of letters or digits, such as a credit code or an item
# code. `\d` also matches full-width digits, which raw department records often carry.
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(?:\d{17}[\dXxＸｘ]|\d{15})(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)


def mask_ids_in_text(text: str) -> str:
    """`text` with every resident id number in it masked (`mask`): for free text and raw
    source records (a dead letter's `raw`), where no field says which value is an id."""
    if len(text) < 15:
        return text
    return _ID_IN_TEXT.sub(lambda m: mask(m.group()), text)


# Id types that name a person: a party of one of these has its `id_number` masked whole.
PERSONAL_ID_TYPES = frozenset(
    {"RESIDENT_ID", "PASSPORT", "HK_MACAO_PASS", "TAIWAN_PASS", "FOREIGN_PERMANENT_ID", "OTHER"}
)


def mask_personal_ids(value: Any) -> Any:
    """`value` (decoded JSON: dicts, lists, texts) with personal ids masked: a party's
    `id_number` whole when its `id_type` names a person, and resident id numbers wherever else
    they appear in text (a dead letter's raw source record and reason, an opinion, a header).
    What `govgate log tail` and the console show unless a role or flag allows more."""
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, dict):
        out = {k: mask_personal_ids(v) for k, v in value.items()}
        if out.get("id_type") in PERSONAL_ID_TYPES and isinstance(out.get("id_number"), str):
            out["id_number"] = mask(out["id_number"])
        return out
    if isinstance(value, list):
        return [mask_personal_ids(v) for v in value]
    return value


def normalize(value: str) -> str:
    """NFKC-normalize (full-width to half-width), trim and upper-case an identifier."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value).strip().strip(_INVISIBLE_EDGES)
    return value.strip().upper()


def _uscc_check_char(body17: str) -> str:
    total = sum(
        _USCC_VALUE[char] * weight for char, weight in zip(body17, _USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARSET[(31 - total % 31) % 31]


def _resident_check_char(body17: str) -> str:
    total = sum(int(char) * weight for char, weight in zip(body17, _RESIDENT_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _region_problem(code6: str) -> tuple[str, str] | None:
    """Return (kind, reason) if six digits are not a well-formed region code, else None."""
    if code6[:2] not in _PROVINCES:
        return "PROVINCE", f"{code6[:2]!r} is not a province-level region code"
    if code6[2:4] == "00" and code6[4:] != "00":
        return "STRUCTURE", "a province-level code (digits 3-4 '00') must end in '00'"
    return None


def validate_uscc(value: str, field: str = "id_number") -> str:
    """Validate a unified social credit code (统一社会信用代码) and return it normalized."""
    code = normalize(value)
    if not _USCC_SHAPE.fullmatch(code):
        raise IdentifierError(
            "USCC_FORMAT",
            field,
            value,
            f"expected 18 characters from {USCC_CHARSET} with a 6-digit region code "
            "in positions 3-8",
        )
    expected = _uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError("USCC_CHECK", field, value, f"check character should be {expected!r}")
    return code


def _shanghai_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _birth_problem(digits: str, today: date) -> str | None:
    """Return why the 8 birth-date digits are unacceptable, or None."""
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return "birth date is not a real date"
    if birth < _EARLIEST_BIRTH:
        return "birth date is before 1900-01-01"
    if birth > today:
        return "birth date is in the future"
    return None


def validate_resident_id(value: str, field: str = "id_number", today: date | None = None) -> str:
    """Validate an 18-digit resident id number (居民身份证号码) and return it normalized.

    `today` (default: the current Asia/Shanghai date) bounds the birth date; tests pin it.
    """
    number = normalize(value)
    if _OLD_RESIDENT_SHAPE.fullmatch(number):
        _refuse_resident(
            value,
            field,
            "ID_NUMBER_FORMAT",
            "only 18-digit numbers are accepted, not the old 15-digit form",
        )
    if not _RESIDENT_SHAPE.fullmatch(number):
        _refuse_resident(
            value, field, "ID_NUMBER_FORMAT", "expected 17 digits followed by a digit or X"
        )
    if number[17] != _resident_check_char(number[:17]):
        _refuse_resident(value, field, "ID_NUMBER_CHECK", "check digit does not match")
    problem = _region_problem(number[:6])
    if problem is not None:
        _refuse_resident(value, field, "ID_NUMBER_REGION", problem[1])
    reason = _birth_problem(number[6:14], today or _shanghai_today())
    if reason is not None:
        _refuse_resident(value, field, "ID_NUMBER_BIRTHDATE", reason)
    return number


def _refuse_resident(value: str, field: str, code: str, reason: str) -> NoReturn:
    raise IdentifierError(code, field, value, reason, sensitive=True)


def validate_region_code(value: str, field: str = "region_code") -> str:
    """Validate an administrative division code (行政区划代码, GB/T 2260) structurally.

    Only the structure is checked, not membership in the current code list, which
    changes every year as counties are merged and renamed.
    """
    code = normalize(value)
    if not _SIX_DIGITS.fullmatch(code):
        raise IdentifierError("REGION_CODE_FORMAT", field, value, "expected exactly 6 digits")
    problem = _region_problem(code)
    if problem is not None:
        raise IdentifierError(f"REGION_CODE_{problem[0]}", field, value, problem[1])
    return code


def validate_party_id(id_type: str, value: str, field: str = "id_number") -> str:
    """Validate a party's (当事人) id number according to its id type.

    Types other than RESIDENT_ID and USCC (passports, permits, ...) are personal
    documents too, so their values are masked in messages as well.
    """
    kind = normalize(id_type)
    if kind == "RESIDENT_ID":
        return validate_resident_id(value, field)
    if kind == "USCC":
        return validate_uscc(value, field)
    number = normalize(value)
    if not number:
        raise IdentifierError(
            "ID_NUMBER_FORMAT", field, value, "id number is empty", sensitive=True
        )
    if len(number) > _OTHER_ID_MAX:
        raise IdentifierError(
            "ID_NUMBER_FORMAT",
            field,
            value,
            f"id number is longer than {_OTHER_ID_MAX} characters",
            sensitive=True,
        )
    return number


def make_uscc(body17: str) -> str:
    """Append the check character to 17 valid USCC characters (for simulators and tests)."""
    body = normalize(body17)
    if len(body) != 17 or any(char not in _USCC_VALUE for char in body):
        raise IdentifierError(
            "USCC_FORMAT", "body17", body17, f"expected 17 characters from {USCC_CHARSET}"
        )
    return validate_uscc(body + _uscc_check_char(body), "body17")


def make_resident_id(region: str, birth: date, seq: int) -> str:
    """Build a valid resident id number from region, birth date and sequence 0-999.

    The sequence's last digit is the sex digit (odd for men), as in GB 11643-1999.
    """
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be between 0 and 999, got {seq}")
    code = validate_region_code(region)
    body = f"{code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return validate_resident_id(body + _resident_check_char(body))
