"""Loading the 双告知 routing rules: the shipped file, and wrong files named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.notices.errors import RoutingRulesError
from gateway.notices.rules import SHIPPED, load_rules


def test_the_shipped_rules_cover_the_starting_set() -> None:
    table = load_rules()
    names = {r.item_name: r.department for r in table.rules}
    assert names["食品经营许可"] == "SCJG"
    assert names["道路运输经营许可（货运）"] == "JTYS"
    assert names["危险化学品经营许可"] == "YJGL"
    assert names["医疗器械经营备案"] == "YJJ"
    assert names["人力资源服务许可"] == "RSJ"
    assert names["建筑业企业资质"] == "ZJJ"
    assert len(table.rules) >= 25
    department = table.department("JTYS", "330802", "衢州市柯城区")
    assert (department.code, department.name) == ("330802-JTYS", "衢州市柯城区交通运输局")
    pool = table.department("POOL", "330802", "衢州市柯城区")
    assert (pool.code, pool.name) == ("330802-POOL", "衢州市柯城区双告知待认领公共池")


def test_a_directory_entry_gives_a_department_its_real_code(tmp_path: Path) -> None:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["directory"] = {"330802": {"JTYS": {"code": "11330802002500000X", "name": "柯城区交通局"}}}
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    department = load_rules(path).department("JTYS", "330802", "ignored")
    assert (department.code, department.name) == ("11330802002500000X", "柯城区交通局")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda r: r["rules"][4].update(department="XXX"), "rule road-freight: department 'XXX'"),
        (lambda r: r["rules"][4].update(phrases=[]), "rules[4] (id 'road-freight').phrases"),
        (lambda r: r["rules"].append(dict(r["rules"][0])), "rule ids must be unique: food"),
        (lambda r: r.update(claim_days=0), "claim_days"),
    ],
)
def test_a_wrong_file_names_the_rule_and_the_field(
    tmp_path: Path, change: object, said: str
) -> None:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert callable(change)
    change(raw)
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RoutingRulesError) as error:
        load_rules(path)
    assert str(path) in str(error.value) and said in str(error.value)
