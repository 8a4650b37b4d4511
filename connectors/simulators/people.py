"""Realistic parties (当事人) for the simulated department systems.

Chinese person names, company names in the "衢州市柯城区{字号}{行业}有限公司" style, addresses,
valid unified social credit codes (统一社会信用代码) and resident id numbers (居民身份证号码)
built with `schemas.validators`, and the departments (委办局) that handle cases. Every draw
comes from the caller's `random.Random`, so a seed reproduces a run. The helpers at the end
spoil a value on purpose (wrong check digit, impossible date) for the bad-record share.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from connectors.simulators import words
from schemas.validators import make_resident_id, make_uscc

__all__ = [
    "PROVINCES",
    "REGIONS",
    "Company",
    "Department",
    "PartyFactory",
    "Person",
    "department",
    "fullwidth",
    "impossible_date",
    "org_code",
    "province_of",
    "wrong_check_digit",
]

# Administrative divisions (行政区划代码, GB/T 2260) the demo uses, with their names.
REGIONS: dict[str, str] = {
    "330802": "衢州市柯城区",
    "130105": "石家庄市新华区",
    "520500": "毕节市",
    "330803": "衢州市衢江区",
    "330106": "杭州市西湖区",
    "440305": "深圳市南山区",
    "510107": "成都市武侯区",
}
# Province-level prefix → (name, one-character abbreviation used in certificate numbers).
PROVINCES: dict[str, tuple[str, str]] = {
    "33": ("浙江省", "浙"),
    "13": ("河北省", "冀"),
    "52": ("贵州省", "黔"),
    "44": ("广东省", "粤"),
    "51": ("四川省", "川"),
}

_SURNAME_WEIGHTS = list(
    itertools.accumulate(1.0 / (rank + 8) for rank in range(len(words.SURNAMES)))
)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # org-code characters that a USCC may carry
_INDUSTRY_NAMES = tuple(words.INDUSTRIES)
_REGION_CODES = tuple(REGIONS)
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass(frozen=True, slots=True)
class Person:
    """A natural person (自然人) with a valid resident id number."""

    name: str
    id_number: str
    birth: date
    sex: str  # 男 / 女
    address: str


@dataclass(frozen=True, slots=True)
class Company:
    """A market entity (市场主体) with a valid unified social credit code."""

    name: str
    brand: str  # 字号
    industry: str
    uscc: str
    kind: str  # 企业类型
    legal_rep: str  # 法定代表人
    capital_wan: int  # 注册资本, 万元人民币
    address: str
    region: str


@dataclass(frozen=True, slots=True)
class Department:
    """A government department (委办局) or public institution, with its own USCC."""

    name: str
    code: str  # the department's USCC, used as 部门编码
    region: str


def province_of(region: str) -> tuple[str, str]:
    """(province name, abbreviation) for a region code; unknown provinces get generic names."""
    return PROVINCES.get(region[:2], ("", "省"))


def org_code(rng: random.Random) -> str:
    """A 9-character organisation code (组织机构代码, GB 11714) with its check character.

    Older codes are 8 digits; codes issued since 2015 start with "MA". The check character
    follows GB 11714, as it does inside every real USCC.
    """
    if rng.random() < 0.5:
        body = f"{rng.randrange(100_000_000):08d}"
    else:
        number = rng.randrange(10 * 31**5)  # one draw for a digit and five characters
        tail = ""
        for _ in range(5):
            number, index = divmod(number, 31)
            tail += _ORG_CHARS[index]
        body = f"MA{number}{tail}"
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w
        for ch, w in zip(body, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def department(region: str, kind: str) -> Department:
    """The department of `kind` (a key of `words.DEPARTMENTS`) in `region`.

    Its code depends only on region and kind, never on the seed: a real department keeps
    its code, and connector mappings may list it.
    """
    district_name, city_name = words.DEPARTMENTS[kind]
    is_city = region[4:] == "00"
    name = REGIONS.get(region, f"{region}区") + (city_name if is_city else district_name)
    category = "12" if kind in words.INSTITUTIONS else "11"  # 事业单位 / 机关
    code = make_uscc(category + region + org_code(random.Random(f"dept:{region}:{kind}")))
    return Department(name, code, region)


class PartyFactory:
    """Draws persons, companies and addresses for one region from the caller's generator."""

    def __init__(self, rng: random.Random, region: str) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        self.rng = rng
        self.region = region
        self.region_name = REGIONS[region]
        self._province = province_of(region)[0]
        self._towns, self._roads = words.PLACES.get(region, words.GENERIC_PLACES)

    def name(self, sex: str | None = None) -> str:
        rng = self.rng
        sex = sex or rng.choice("男女")
        first, second = words.GIVEN_MALE if sex == "男" else words.GIVEN_FEMALE
        surname = rng.choices(words.SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
        if rng.random() < 0.3:
            return surname + rng.choice(second)
        return surname + rng.choice(first) + rng.choice(second)

    def person(self, at: datetime, *, min_age: int = 18, max_age: int = 70) -> Person:
        """A person born `min_age`–`max_age` years before `at`, mostly in this region."""
        rng = self.rng
        sex = rng.choice("男女")
        year = at.year - rng.randrange(min_age, max_age + 1)
        birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        born_in = self.region if rng.random() < 0.7 else rng.choice(_REGION_CODES)
        seq = rng.randrange(500) * 2 + (1 if sex == "男" else 0)
        id_number = make_resident_id(born_in, birth, seq)
        return Person(self.name(sex), id_number, birth, sex, self.address("home"))

    def uscc(self, category: str = "91") -> str:
        """A valid USCC: category ('91' enterprise), this region, a GB 11714 org code."""
        return make_uscc(category + self.region + org_code(self.rng))

    def company(self, *, industry: str | None = None) -> Company:
        """A company registered in this region, named after its 字号 and industry."""
        rng = self.rng
        brand = rng.choice(words.BRANDS)
        industry = industry or rng.choice(_INDUSTRY_NAMES)
        kind = rng.choices(words.COMPANY_KINDS, cum_weights=words.COMPANY_KIND_WEIGHTS)[0]
        if kind == "个人独资企业":
            suffix = rng.choice(("经营部", "商行", "工作室"))
        elif kind.startswith("股份"):
            suffix = "股份有限公司"
        else:
            suffix = "有限公司"
        name = f"{self.region_name}{brand}{industry}{suffix}"
        capital = rng.choice(words.CAPITALS_WAN)
        address = self.address("industrial" if industry in words.FACTORIES else "office")
        return Company(
            name, brand, industry, self.uscc(), kind, self.name(), capital, address, self.region
        )

    def state_company(self) -> Company:
        """A state-owned investment group (城投/交投) that applies for government projects.

        There is one group per sector in a region, so its code and legal representative
        depend on region and sector only, like a department's.
        """
        sector = self.rng.choice(words.STATE_SECTORS)
        fixed = PartyFactory(random.Random(f"soe:{self.region}:{sector}"), self.region)
        return Company(
            name=f"{self.region_name}{sector}集团有限公司",
            brand=sector,
            industry=sector,
            uscc=fixed.uscc(),
            kind="有限责任公司(国有独资)",
            legal_rep=fixed.name(),
            capital_wan=fixed.rng.choice((5000, 10000, 50000, 100000)),
            address=fixed.address("office"),
            region=self.region,
        )

    def town(self) -> str:
        return self.rng.choice(self._towns)

    def road(self) -> str:
        return self.rng.choice(self._roads)

    def address(self, kind: str = "office", *, province: bool = True) -> str:
        """A street address: `home` (a flat), `office` or `industrial` (a park).

        Without `province` it starts at the city, as a real-estate 坐落 does.
        """
        rng = self.rng
        head = f"{self._province if province else ''}{self.region_name}{self.town()}"
        number = rng.randrange(1, 1000)
        if kind == "home":
            estate = rng.choice(words.ESTATES)
            building, unit = rng.randrange(1, 31), rng.randrange(1, 5)
            flat = f"{building}幢{unit}单元{rng.randrange(1, 27)}0{rng.randrange(1, 5)}室"
            return f"{head}{self.road()}{number}号{estate}{flat}"
        if kind == "industrial":
            return f"{head}{rng.choice(words.PARKS)}{self.road()}{number}号"
        building, floor = rng.randrange(1, 13), rng.randrange(1, 21)
        return f"{head}{self.road()}{number}号{building}幢{floor}0{rng.randrange(1, 10)}室"

    def scope(self, industry: str) -> str:
        """A business scope (经营范围) in the post-2021 wording."""
        phrases = words.INDUSTRIES[industry]
        # A run of 2-4 phrases from a random start: cheaper than sample() for a million rows.
        start, count = self.rng.randrange(len(phrases)), self.rng.randrange(2, 5)
        chosen = [phrases[(start + i) % len(phrases)] for i in range(min(count, len(phrases)))]
        general = (
            "一般项目："
            + "；".join(chosen)
            + "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
        )
        licensed = words.LICENSED.get(industry)
        if licensed is None:
            return general
        return (  # the permit items first, as registrars write them since 2021
            f"许可项目：{licensed}（依法须经批准的项目，经相关部门批准后方可开展经营活动，"
            f"具体经营项目以审批结果为准）{general}"
        )


def wrong_check_digit(rng: random.Random, value: str) -> str:
    """`value` with its last (check) character replaced by a different digit.

    A digit keeps the shape of both a USCC and a resident id number, so the validator
    fails on the check (`USCC_CHECK` / `ID_NUMBER_CHECK`), not on the format.
    """
    last = value[-1:]
    return value[:-1] + rng.choice([d for d in "0123456789" if d != last])


def impossible_date(rng: random.Random, layout: str, near: datetime) -> str:
    """A date in `layout` (strftime tokens %Y %m %d %H %M %S) that no calendar has.

    E.g. `20261345` (month 13), `2026-02-30 10:00:00` (30 February), `2026/04/31`.
    """
    month, day = rng.choice(
        ((13, rng.randrange(1, 46)), (2, 30), (2, 31), (4, 31), (9, 31), (11, 31), (near.month, 0))
    )
    parts = {
        "%Y": f"{near.year:04d}",
        "%m": f"{month:02d}",
        "%d": f"{day:02d}",
        "%H": f"{near.hour:02d}",
        "%M": f"{near.minute:02d}",
        "%S": f"{near.second:02d}",
    }
    for token, text in parts.items():
        layout = layout.replace(token, text)
    return layout


def fullwidth(text: str) -> str:
    """Digits (and X) as full-width characters, as some department exports write them."""
    return text.translate(_FULLWIDTH)
