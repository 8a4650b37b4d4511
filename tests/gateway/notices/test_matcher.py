"""The shipped 双告知 routing rules against business scopes (经营范围) as they are really written:
2021 headers or none, full-width punctuation, bracketed exclusions, boilerplate."""

from __future__ import annotations

import pytest

from gateway.notices.matcher import (
    BOILERPLATE_ONLY,
    NO_RULE_MATCHED,
    NO_SCOPE,
    PERMIT_ITEMS_UNMATCHED,
    route,
)
from gateway.notices.rules import load_rules
from gateway.notices.scope import Section, parse

TABLE = load_rules()

# scope → (permit items routed, pool reason)
CASES: list[tuple[str, list[str], str | None]] = [
    (  # a restaurant that also delivers: two departments
        "一般项目：餐饮管理；外卖递送服务（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
        "许可项目：餐饮服务；道路货物运输（不含危险货物）（依法须经批准的项目，经相关部门批准后方可"
        "开展经营活动，具体经营项目以审批结果为准）。",
        ["SPJYXK", "DLYSXK-HY"],
        None,
    ),
    (  # 仅销售预包装食品 is a 备案 under 一般项目, not the 食品经营许可
        "一般项目：食品销售（仅销售预包装食品）；日用百货销售；五金产品零售（除依法须经批准的项目外，"
        "凭营业执照依法自主开展经营活动）。",
        ["SPJYBA"],
        None,
    ),
    (  # an exclusion in brackets is not the thing excluded
        "一般项目：专用化学产品销售（不含危险化学品）；合成材料制造（不含危险化学品）；普通货物仓储"
        "服务（不含危险化学品等需许可审批的项目）（除依法须经批准的项目外，凭营业执照依法自主开展经营"
        "活动）。",
        [],
        NO_RULE_MATCHED,
    ),
    (  # the same chemicals as a permit item: 应急管理
        "许可项目：危险化学品经营（依法须经批准的项目，经相关部门批准后方可开展经营活动）一般项目："
        "化工产品销售（不含许可类化工产品）",
        ["WHPJYXK"],
        None,
    ),
    (  # pre-2021 run-on text, full-width, no headers
        "医疗器械、五金交电、建筑材料、日用百货批发、零售；普通货物运输。（依法须经批准的项目，经相关"
        "部门批准后方可开展经营活动）",
        ["DLYSXK-HY", "YLQXBA"],
        None,
    ),
    (  # the classes of medical device each have their own procedure
        "一般项目：第一类医疗器械销售；第二类医疗器械销售。许可项目：第三类医疗器械经营。",
        ["YLQXBA-2", "YLQXXK-3"],
        None,
    ),
    (  # HR services excluding 职业中介 need no permit; 职业中介活动 does
        "一般项目：人力资源服务（不含职业中介活动、劳务派遣服务）；企业管理咨询。"
        "许可项目：职业中介活动；劳务派遣服务。",
        ["RLZYFWXK", "LWPQXK"],
        None,
    ),
    (  # the issue's own example, old wording
        "人力资源服务；人才中介。",
        ["RLZYFWXK"],
        None,
    ),
    (  # general construction works need no 资质 since the reform; 建设工程施工 does
        "一般项目：园林绿化工程施工；土石方工程施工。许可项目：建设工程施工；住宅室内装饰装修。",
        ["JZYQYZZ"],
        None,
    ),
    (  # a permit item no rule names goes to the pool, the others to their departments
        "许可项目：第二类增值电信业务；餐饮服务。",
        ["SPJYXK"],
        PERMIT_ITEMS_UNMATCHED,
    ),
    (  # 备案 items listed as general: 机动车维修 still reaches 交通运输
        "一般项目：汽车零配件零售；机动车修理和维护；洗车服务（除依法须经批准的项目外，凭营业执照依法"
        "自主开展经营活动）。",
        ["JDCWXBA"],
        None,
    ),
    (  # only the boilerplate: which permit, nobody can tell: the pool
        "依法须经批准的项目，经相关部门批准后方可开展经营活动。",
        [],
        BOILERPLATE_ONLY,
    ),
    ("", [], NO_SCOPE),
    (  # half-width and mixed punctuation, tabs and spaces
        "许可项目:旅游业务; 出版物零售,烟草制品零售、住宿服务\t(依法须经批准的项目,经相关部门批准后"
        "方可开展经营活动)",
        ["CBWJYXK", "LXSXK", "GGCSWSXK", "YCZMLSXK"],
        None,
    ),
    (  # software and consulting: nothing to follow up, but never silently nowhere
        "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发（除依法须经批准"
        "的项目外，凭营业执照依法自主开展经营活动）。",
        [],
        NO_RULE_MATCHED,
    ),
]


@pytest.mark.parametrize(("scope", "permits", "pool"), CASES)
def test_scopes_are_routed_to_the_permits_they_call_for(
    scope: str, permits: list[str], pool: str | None
) -> None:
    routing = route(scope, TABLE)
    assert sorted(m.rule.item_code for m in routing.matches) == sorted(permits)
    assert routing.pool_reason == pool


def test_matched_items_are_reported_as_written_with_brackets_balanced() -> None:
    routing = route(
        "许可项目：食品经营（销售散装食品）、餐饮服务；货物专用运输（冷藏、冷冻）", TABLE
    )
    by_code = {m.rule.item_code: m.items for m in routing.matches}
    assert by_code == {
        "SPJYXK": ["食品经营(销售散装食品)", "餐饮服务"],
        "DLYSXK-HY": ["货物专用运输(冷藏、冷冻)"],
    }


def test_unmatched_permit_items_are_what_the_pool_is_asked_about() -> None:
    routing = route("许可项目：第一类增值电信业务；互联网信息服务。一般项目：软件开发。", TABLE)
    assert routing.matches == []
    assert routing.pool_reason == PERMIT_ITEMS_UNMATCHED
    assert routing.pool_items == ["第一类增值电信业务", "互联网信息服务"]


def test_the_parse_keeps_sections_and_drops_boilerplate() -> None:
    scope = parse(
        "一般项目：软件开发（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
        "许可项目：餐饮服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    )
    assert [(i.text, i.section) for i in scope.items] == [
        ("软件开发", Section.GENERAL),
        ("餐饮服务", Section.LICENSED),
    ]
    assert scope.says_approval_needed
