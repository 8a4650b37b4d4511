"""Tests for schemas/validators.py: identifier validators, their errors and generators."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.errors import SchemaError
from schemas.validators import (
    LOCAL_TZ,
    USCC_CHARSET,
    IdentifierError,
    make_resident_id,
    make_uscc,
    mask,
    mask_ids_in_text,
    normalize,
    validate_party_id,
    validate_region_code,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 11, 23)
PROVINCES = (
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82"
).split()


# Independent oracles, written from the standards rather than imported, so a bug in the
# module's own check-character code cannot make these tests agree with it.
def oracle_resident_id(body17: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643: W_i = 2^(i-1) mod 11
    check = (12 - sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11) % 11
    return body17 + ("X" if check == 10 else str(check))


def oracle_uscc(body17: str) -> str:
    weights = [3**i % 31 for i in range(17)]  # GB 32100: W_i = 3^(i-1) mod 31
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + USCC_CHARSET[(31 - total % 31) % 31]


def resident(value: str, field: str = "id_number") -> str:
    return validate_resident_id(value, field, today=TODAY)


# --- known-good values ---------------------------------------------------------------

VALID = [
    (validate_uscc, "91350100M000100Y43", "91350100M000100Y43"),
    (validate_uscc, "91110108551385082Q", "91110108551385082Q"),  # 小米科技
    (validate_uscc, "914403001922038216", "914403001922038216"),  # 华为技术
    (validate_uscc, " 91350100m000100y43\t", "91350100M000100Y43"),
    (validate_uscc, "９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
    (resident, "11010519491231002X", "11010519491231002X"),
    (resident, "11010519491231002x", "11010519491231002X"),
    (resident, "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    (resident, "33080219000101001X", "33080219000101001X"),  # earliest birth date
    (resident, "330802202611230015", "330802202611230015"),  # born "today" (TODAY)
    (validate_region_code, "330802", "330802"),  # 衢州市柯城区
    (validate_region_code, "130105", "130105"),  # 石家庄市新华区
    (validate_region_code, "520500", "520500"),  # 毕节市
    (validate_region_code, "110000", "110000"),
    (validate_region_code, "３３０８０２", "330802"),
    (validate_region_code, "\ufeff330802 ", "330802"),
]


@pytest.mark.parametrize(("validate", "value", "expected"), VALID)
def test_valid_values_normalize(validate: Callable[[str], str], value: str, expected: str) -> None:
    assert validate(value) == expected


def test_oracles_agree_with_the_standards_examples() -> None:
    assert oracle_resident_id("11010519491231002") == "11010519491231002X"
    assert oracle_uscc("91350100M000100Y4") == "91350100M000100Y43"


# --- every error code -----------------------------------------------------------------

INVALID = [
    # (validator, value, code, reason fragment)
    (validate_uscc, "91350100M000100Y4", "USCC_FORMAT", "18 characters"),
    (validate_uscc, "91350100M000100Y433", "USCC_FORMAT", "18 characters"),
    (validate_uscc, "91350100M000100I43", "USCC_FORMAT", "18 characters"),  # I not allowed
    (validate_uscc, "91350100M000100O43", "USCC_FORMAT", "18 characters"),
    (validate_uscc, "9135A100M000100Y43", "USCC_FORMAT", "region"),  # letter in region
    (validate_uscc, "", "USCC_FORMAT", "18 characters"),
    (validate_uscc, "91350100M000100Y44", "USCC_CHECK", "'3'"),
    (resident, "110105194912310021", "ID_NUMBER_CHECK", "check digit"),
    (resident, "11010519491231002", "ID_NUMBER_FORMAT", "17 digits"),
    (resident, "1101051949123100XX", "ID_NUMBER_FORMAT", "17 digits"),
    (resident, "11010519491231002Y", "ID_NUMBER_FORMAT", "17 digits"),
    (resident, "110105491231002", "ID_NUMBER_FORMAT", "only 18-digit"),
    (resident, "", "ID_NUMBER_FORMAT", "17 digits"),
    (resident, oracle_resident_id("00010519491231002"), "ID_NUMBER_REGION", "province"),
    (resident, oracle_resident_id("33000219491231002"), "ID_NUMBER_REGION", "'00'"),
    (resident, oracle_resident_id("11010519490230002"), "ID_NUMBER_BIRTHDATE", "real date"),
    (resident, oracle_resident_id("11010519491331002"), "ID_NUMBER_BIRTHDATE", "real date"),
    (resident, "440524188001010014", "ID_NUMBER_BIRTHDATE", "1900"),  # GB 11643's own example
    (resident, oracle_resident_id("11010520261124002"), "ID_NUMBER_BIRTHDATE", "future"),
    (validate_region_code, "33080", "REGION_CODE_FORMAT", "6 digits"),
    (validate_region_code, "3308021", "REGION_CODE_FORMAT", "6 digits"),
    (validate_region_code, "33O802", "REGION_CODE_FORMAT", "6 digits"),
    (validate_region_code, "٣٣٠٨٠٢", "REGION_CODE_FORMAT", "6 digits"),  # Arabic-Indic
    (validate_region_code, "", "REGION_CODE_FORMAT", "6 digits"),
    (validate_region_code, "990000", "REGION_CODE_PROVINCE", "'99'"),
    (validate_region_code, "830000", "REGION_CODE_PROVINCE", "'83'"),
    (validate_region_code, "330002", "REGION_CODE_STRUCTURE", "'00'"),
]


@pytest.mark.parametrize(("validate", "value", "code", "reason"), INVALID)
def test_invalid_values_raise_with_code_field_and_reason(
    validate: Callable[[str, str], str], value: str, code: str, reason: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate(value, "holder_id")
    err = caught.value
    assert (err.code, err.field, err.value) == (code, "holder_id", value)
    assert reason in err.reason
    assert str(err).startswith(f"holder_id: {err.reason} (value ")
    assert err.retriable is False
    assert isinstance(err, ValueError)
    assert isinstance(err, SchemaError)


@pytest.mark.parametrize("value", ["91350100M000100Y44", "33080"])
def test_non_personal_values_are_shown_whole(value: str) -> None:
    validate = validate_uscc if len(value) == 18 else validate_region_code
    with pytest.raises(IdentifierError) as caught:
        validate(value)
    assert repr(value) in str(caught.value)


# --- masking of personal data ---------------------------------------------------------

RESIDENT_INVALID = [row for row in INVALID if row[0] is resident and len(row[1]) > 10]


@pytest.mark.parametrize(("validate", "value", "code", "reason"), RESIDENT_INVALID)
def test_resident_ids_are_masked_in_messages(
    validate: Callable[[str], str], value: str, code: str, reason: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate(value)
    err = caught.value
    shown = value[:6] + "*" * (len(value) - 10) + value[-4:]
    assert f"(value {shown!r})" in str(err)
    for text in (str(err), repr(err), *map(str, err.args)):
        assert value[6:-4] not in text
    assert err.value == value


def test_mask_example_and_short_values() -> None:
    assert mask("33080219900101123X") == "330802********123X"
    assert mask("1234567890") == "**********"
    assert mask("") == ""


def test_error_survives_pickling_still_masked() -> None:
    with pytest.raises(IdentifierError) as caught:
        resident("110105194912310021")
    clone = pickle.loads(pickle.dumps(caught.value))
    assert type(clone) is IdentifierError
    assert (clone.code, clone.field, clone.value) == (
        "ID_NUMBER_CHECK",
        "id_number",
        "110105194912310021",
    )
    assert str(clone) == str(caught.value)


def test_birth_date_bound_defaults_to_shanghai_today() -> None:
    tomorrow = datetime.now(LOCAL_TZ).date() + timedelta(days=2)
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(make_id_body(tomorrow))
    assert caught.value.code == "ID_NUMBER_BIRTHDATE"


def make_id_body(birth: date) -> str:
    return oracle_resident_id(f"330802{birth:%Y%m%d}001")


# --- party id dispatch ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "value", "expected"),
    [
        ("RESIDENT_ID", "11010519491231002x", "11010519491231002X"),
        ("resident_id", "11010519491231002X", "11010519491231002X"),
        ("USCC", "91350100m000100y43", "91350100M000100Y43"),
        ("PASSPORT", " e12345678 ", "E12345678"),
        ("HK_MACAO_PERMIT", "Ｈ１２３４５６７８", "H12345678"),
        ("OTHER", "x" * 64, "X" * 64),
    ],
)
def test_party_id_dispatches_on_type(id_type: str, value: str, expected: str) -> None:
    assert validate_party_id(id_type, value) == expected


@pytest.mark.parametrize(
    ("id_type", "value", "code"),
    [
        ("RESIDENT_ID", "110105194912310021", "ID_NUMBER_CHECK"),
        ("USCC", "91350100M000100Y44", "USCC_CHECK"),
        ("PASSPORT", "", "ID_NUMBER_FORMAT"),
        ("PASSPORT", " \u3000 ", "ID_NUMBER_FORMAT"),
        ("PASSPORT", "E" * 65, "ID_NUMBER_FORMAT"),
    ],
)
def test_party_id_errors(id_type: str, value: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_party_id(id_type, value, field="party.id_number")
    assert (caught.value.code, caught.value.field) == (code, "party.id_number")
    assert str(caught.value).startswith("party.id_number: ")


def test_other_party_ids_are_masked_too() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_party_id("PASSPORT", "E1234567" + "9" * 60)
    assert "E12345" in str(caught.value)
    assert "9" * 20 not in str(caught.value)


# --- normalize and generators ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("３３０８０２", "330802"), ("  abc\t", "ABC"), ("\u3000ｘ\u3000", "X"), ("\ufeff12", "12")],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_generators_match_known_examples() -> None:
    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"
    assert make_resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: make_uscc("91350100M000100Y"), "USCC_FORMAT"),
        (lambda: make_uscc("91350100M000100I4"), "USCC_FORMAT"),
        (lambda: make_uscc("9135A100M000100Y4"), "USCC_FORMAT"),
        (lambda: make_resident_id("990000", date(1990, 1, 1), 1), "REGION_CODE_PROVINCE"),
        (lambda: make_resident_id("330802", date(1899, 1, 1), 1), "ID_NUMBER_BIRTHDATE"),
    ],
)
def test_generators_refuse_invalid_input(make: Callable[[], str], code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        make()
    assert caught.value.code == code


@pytest.mark.parametrize("seq", [-1, 1000])
def test_make_resident_id_refuses_bad_sequence(seq: int) -> None:
    with pytest.raises(ValueError, match="seq"):
        make_resident_id("330802", date(1990, 1, 1), seq)


# --- properties -----------------------------------------------------------------------

DIGITS = "0123456789"


@st.composite
def region_codes(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(PROVINCES))
    city = draw(st.text(DIGITS, min_size=2, max_size=2))
    county = "00" if city == "00" else draw(st.text(DIGITS, min_size=2, max_size=2))
    return province + city + county


uscc_bodies = st.builds(
    lambda head, region, tail: head + region + tail,
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text(DIGITS, min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
)
resident_ids = st.builds(
    make_resident_id,
    region_codes(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(0, 999),
)


@given(uscc_bodies)
def test_made_uscc_always_validates(body: str) -> None:
    code = make_uscc(body)
    assert validate_uscc(code) == code == oracle_uscc(body)


@given(resident_ids)
def test_made_resident_id_always_validates(number: str) -> None:
    assert resident(number) == number == oracle_resident_id(number[:17])


@given(uscc_bodies.map(make_uscc), st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_any_single_uscc_substitution_fails(code: str, position: int, char: str) -> None:
    changed = code[:position] + char + code[position + 1 :]
    if changed != code:
        with pytest.raises(IdentifierError):
            validate_uscc(changed)


@given(resident_ids, st.integers(0, 17), st.sampled_from(DIGITS + "X"))
def test_any_single_resident_id_substitution_fails(number: str, position: int, char: str) -> None:
    changed = number[:position] + char + number[position + 1 :]
    if changed != number:
        with pytest.raises(IdentifierError):
            resident(changed)


@given(st.text(), st.text())
def test_arbitrary_text_raises_only_identifier_error(value: str, id_type: str) -> None:
    for validate in (
        validate_uscc,
        resident,
        validate_region_code,
        lambda v: validate_party_id(id_type, v),
        lambda v: validate_party_id("RESIDENT_ID", v),
    ):
        try:
            validate(value)
        except IdentifierError:
            pass


@given(st.text(DIGITS + "X", min_size=11))
def test_resident_id_errors_never_show_the_middle(value: str) -> None:
    try:
        resident(value)
    except IdentifierError as err:
        assert mask(value) in str(err)
        assert "(value '" + value + "')" not in str(err)


@given(
    st.integers(0, 999),
    st.dates(date(1930, 1, 1), date(2020, 12, 31)),
    st.text(alphabet="申请人身份证号：，。 \"'{}:=", max_size=10),
    st.text(alphabet="申请人身份证号：，。 \"'{}:=", max_size=10),
)
def test_resident_ids_in_free_text_are_masked(
    seq: int, birth: date, before: str, after: str
) -> None:
    number = make_resident_id("330802", birth, seq)
    masked = mask_ids_in_text(f"{before}{number}{after}")
    assert number not in masked and masked == f"{before}{mask(number)}{after}"
    assert mask_ids_in_text(f"ITEM{number}K") == f"ITEM{number}K"  # inside a longer code: kept
