"""Tests for connectors/simulators/people.py: realistic, valid, reproducible parties."""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest

from connectors.simulators.people import (
    REGIONS,
    PartyFactory,
    department,
    fullwidth,
    impossible_date,
    org_code,
    province_of,
    wrong_check_digit,
)
from schemas.timeparse import TimeParseError, parse_timestamp
from schemas.validators import (
    IdentifierError,
    normalize,
    validate_region_code,
    validate_resident_id,
    validate_uscc,
)

AT = datetime(2026, 11, 23, 10, 0, 0)
GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def gb11714_check(body8: str) -> str:
    """Organisation-code check character, written from the standard as an oracle."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body8, GB11714_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_parties_are_valid_in_every_region(region: str) -> None:
    parties = PartyFactory(random.Random(7), region)
    for _ in range(200):
        person = parties.person(AT)
        assert validate_resident_id(person.id_number) == person.id_number
        assert person.id_number[6:14] == f"{person.birth:%Y%m%d}"
        assert int(person.id_number[16]) % 2 == (1 if person.sex == "男" else 0)
        assert 18 <= AT.year - person.birth.year <= 71
        assert 2 <= len(person.name) <= 3
        company = parties.company()
        assert validate_uscc(company.uscc) == company.uscc
        assert company.uscc[:8] == "91" + region
        assert company.name.startswith(REGIONS[region])
        assert company.address.startswith(province_of(region)[0] + REGIONS[region])
        company.name.encode("gbk")  # the 人社 files are GBK
        company.address.encode("gbk")


def test_org_codes_carry_a_gb11714_check_character() -> None:
    rng = random.Random(1)
    codes = [org_code(rng) for _ in range(2000)]
    assert all(code[8] == gb11714_check(code[:8]) for code in codes)
    assert any(code.startswith("MA") for code in codes)
    assert any(code[:8].isdigit() for code in codes)


def test_the_same_seed_draws_the_same_parties() -> None:
    def draw(seed: int) -> list[object]:
        parties = PartyFactory(random.Random(seed), "330802")
        return [parties.person(AT) for _ in range(20)] + [parties.company() for _ in range(20)]

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_departments_have_fixed_codes_whatever_the_seed() -> None:
    fgw = department("330802", "fgw")
    assert fgw.name == "衢州市柯城区发展和改革局"
    assert fgw.code.startswith("11330802") and validate_uscc(fgw.code) == fgw.code
    assert department("330802", "fgw") == fgw
    assert department("520500", "fgw").name == "毕节市发展和改革委员会"
    assert department("330802", "bdc").code.startswith("12")  # 事业单位
    assert validate_region_code("520500") == "520500"


def test_state_companies_are_one_per_sector() -> None:
    parties = PartyFactory(random.Random(0), "330802")
    by_name: dict[str, str] = {}
    for _ in range(100):
        company = parties.state_company()
        assert by_name.setdefault(company.name, company.uscc) == company.uscc
        assert company.name.endswith("集团有限公司")


def test_wrong_check_digit_fails_on_the_check() -> None:
    rng = random.Random(5)
    parties = PartyFactory(rng, "130105")
    for _ in range(200):
        with pytest.raises(IdentifierError) as resident:
            validate_resident_id(wrong_check_digit(rng, parties.person(AT).id_number))
        assert resident.value.code == "ID_NUMBER_CHECK"
        with pytest.raises(IdentifierError) as uscc:
            validate_uscc(wrong_check_digit(rng, parties.company().uscc))
        assert uscc.value.code == "USCC_CHECK"


@pytest.mark.parametrize(
    ("layout", "shape"),
    [
        ("%Y%m%d", r"\d{8}"),
        ("%Y%m%d%H%M%S", r"\d{14}"),
        ("%Y-%m-%d %H:%M:%S", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"),
        ("%Y/%m/%d", r"\d{4}/\d\d/\d\d"),
    ],
)
def test_impossible_dates_keep_the_layout_but_fail_to_parse(layout: str, shape: str) -> None:
    rng = random.Random(2)
    for _ in range(100):
        text = impossible_date(rng, layout, AT)
        assert re.fullmatch(shape, text), text
        with pytest.raises(TimeParseError) as error:
            parse_timestamp(text)
        assert error.value.code == "DATE_UNPARSEABLE"


def test_fullwidth_digits_normalize_back() -> None:
    assert fullwidth("33080219900101001X") == "３３０８０２１９９００１０１００１Ｘ"
    assert normalize(fullwidth("33080219900101001X")) == "33080219900101001X"
    fullwidth("20261123").encode("gbk")


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        PartyFactory(random.Random(0), "999999")
