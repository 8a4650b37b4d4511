"""Connector files are checked when loaded; errors name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import MappingSpecError
from connectors.mapping import load_connector_spec

PROFILES = Path(__file__).resolve().parents[3] / "connectors" / "profiles"

GOOD = """\
name: demo
source_system: demo
source: {kind: sql, url: "${DEMO_URL:-sqlite:///x.db}", table: T}
target: {record: CaseEvent, stream: case-events}
fields:
  case_no: {from: SLBH}
  item_code: {from: SXBM}
  item_name: {from: SXMC}
  department_code: {const: D}
  department_name: {const: 发改局}
  region_code: {from: XZQHDM}
  applicant.type: {const: PERSON}
  applicant.name: {from: XM}
  applicant.id_type: {const: RESIDENT_ID}
  applicant.id_number: {from: SFZH}
  stage: {from: ZT, codes: {"1": ACCEPTED}}
  occurred_at: {from: SJ}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_profile_loads(path: Path) -> None:
    spec = load_connector_spec(path)
    assert spec.name == path.stem


def test_environment_variables_are_substituted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_connector_spec(write(tmp_path, GOOD)).source["url"] == "sqlite:///x.db"
    monkeypatch.setenv("DEMO_URL", "postgresql://h/db")
    assert load_connector_spec(write(tmp_path, GOOD)).source["url"] == "postgresql://h/db"


def test_a_default_may_name_a_variable_and_pinned_variables_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = write(tmp_path, GOOD.replace("sqlite:///x.db", "sqlite:///${DEMO_DIR}/x.db"))
    monkeypatch.delenv("DEMO_URL", raising=False)
    monkeypatch.setenv("DEMO_DIR", "relative")
    assert load_connector_spec(nested).source["url"] == "sqlite:///relative/x.db"
    pinned = load_connector_spec(nested, {"DEMO_DIR": "/srv/govgate"})
    assert pinned.source["url"] == "sqlite:////srv/govgate/x.db"
    monkeypatch.delenv("DEMO_DIR")
    with pytest.raises(MappingSpecError, match="environment variable DEMO_DIR is not set"):
        load_connector_spec(nested)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '  stage: {from: ZT, codes: {"1": ACCEPTED}}',
            '  stage: {from: ZT, codes: {"1": BEGUN}}',
            ":16: fields.stage: 'BEGUN' is not one of ACCEPTED",
        ),
        (
            "  item_name: {from: SXMC}\n",
            "",
            "fields.item_name: is required by CaseEvent but not mapped",
        ),
        (
            "  case_no: {from: SLBH}",
            "  case_nr: {from: SLBH}",
            ":6: fields.case_nr: is not a field of CaseEvent",
        ),
        ("  case_no: {from: SLBH}", "  case_no: {from: SLBH, const: X}", ":6: fields.case_no"),
        ("target: {record: CaseEvent", "target: {record: Passport", ":4: target.record"),
        ("name: demo", "name: Demo Connector", ":1: name"),
    ],
)
def test_mistakes_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(MappingSpecError) as caught:
        load_connector_spec(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_an_unset_variable_without_default_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("${DEMO_URL:-sqlite:///x.db}", "${NO_SUCH_GOVGATE_VAR}"))
    with pytest.raises(MappingSpecError, match="NO_SUCH_GOVGATE_VAR"):
        load_connector_spec(path)
