"""`govgate schemas check`: the Apache avro checker refuses breaking changes; docs are bilingual."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from schemas.compat import check_compatibility, check_docs
from schemas.registry import AVSC_DIR, default_registry, load_registry


def test_shipped_schemas_pass_every_check() -> None:
    registry = default_registry()
    assert check_compatibility(registry, mode="full") == []
    assert check_docs(registry) == []
    assert set(registry.current) == {
        "CaseEvent",
        "Certificate",
        "Material",
        "DeadLetter",
        "AuditAnchor",
        "SupervisionAlert",
        "Deletion",
        "CreditEntry",
        "Notice",
        "GovernanceEvent",
    }
    assert all(registry.released[name] for name in registry.current)


def changed(tmp_path: Path, name: str, change: Any) -> Path:
    shutil.copytree(AVSC_DIR, tmp_path / "avsc")
    path = tmp_path / "avsc" / f"{name}.avsc"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return tmp_path / "avsc"


def test_a_new_field_without_default_breaks_backward_compatibility(tmp_path: Path) -> None:
    def add_required(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "floor", "type": "int", "doc": "楼层 / Floor."})

    problems = check_compatibility(load_registry(changed(tmp_path, "Certificate", add_required)))
    assert [(p.schema, p.code) for p in problems] == [("Certificate", "BACKWARD_INCOMPATIBLE")]
    assert "floor" in problems[0].detail


def test_a_new_field_with_default_is_compatible_both_ways(tmp_path: Path) -> None:
    def add_optional(schema: dict[str, Any]) -> None:
        schema["fields"].append(
            {"name": "floor", "type": ["null", "int"], "default": None, "doc": "楼层 / Floor."}
        )

    registry = load_registry(changed(tmp_path, "Certificate", add_optional))
    assert check_compatibility(registry, mode="full") == []


def test_a_changed_field_type_is_refused(tmp_path: Path) -> None:
    def retype(schema: dict[str, Any]) -> None:
        for f in schema["fields"]:
            if f["name"] == "size_bytes":
                f["type"] = "string"

    problems = check_compatibility(load_registry(changed(tmp_path, "Material", retype)))
    assert {p.code for p in problems} == {"BACKWARD_INCOMPATIBLE"}


def test_a_field_without_bilingual_doc_is_reported(tmp_path: Path) -> None:
    def english_only(schema: dict[str, Any]) -> None:
        schema["fields"][1]["doc"] = "Case number."

    problems = check_docs(load_registry(changed(tmp_path, "CaseEvent", english_only)))
    assert [p.detail for p in problems] == ["CaseEvent.case_no needs a doc in Chinese and English"]


def test_named_types_are_identical_wherever_they_are_inlined() -> None:
    """Party and Provenance are inlined in each .avsc; they must not drift apart."""
    seen: dict[str, str] = {}
    for path in sorted(AVSC_DIR.glob("*.avsc")):
        for f in json.loads(path.read_text(encoding="utf-8"))["fields"]:
            if isinstance(f["type"], dict) and f["type"].get("type") == "record":
                text = json.dumps(f["type"], sort_keys=True, ensure_ascii=False)
                assert seen.setdefault(f["type"]["name"], text) == text, path.name
    assert set(seen) == {"Party", "Provenance", "LicenceRef"}
