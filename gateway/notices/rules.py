"""The 双告知 routing rules: a YAML file shipped in the repo (`routing.yaml`), or the operator's.

Rules are data: a city edits the file (its departments, their codes, its local permits) and
the router picks it up at start; nothing about a permit is written in code. Loading checks
every rule and names the file, the rule and the field when one is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.notices.errors import RoutingRulesError

SHIPPED = Path(__file__).parent / "routing.yaml"
_CODE = r"^[A-Za-z0-9._-]{1,64}$"


class RuleSpec(BaseModel):
    """One permit (后置审批事项) and what in a business scope calls for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_CODE)
    item_code: str = Field(pattern=_CODE)  # 事项编码 of the permit
    item_name: str = Field(min_length=1)
    department: str = Field(pattern=r"^[A-Z0-9_]{1,16}$")  # a key of `departments`
    phrases: list[str] = Field(min_length=1)
    unless: list[str] = []
    general: bool = False  # also applies to items under "一般项目" (备案 items listed there)
    claim_days: int | None = Field(default=None, ge=1, le=60)


class PoolSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(default="POOL", pattern=r"^[A-Z0-9_]{1,16}$")
    name: str = "双告知待认领公共池"
    item_code: str = Field(default="SGZ-POOL", pattern=_CODE)
    item_name: str = "待认定的后置审批事项"


class DirectoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)


class RoutingSpec(BaseModel):
    """The whole file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    licence_types: list[str] = Field(default=["YYZZ"], min_length=1)
    scope_field: str = "经营范围"
    max_age_days: int = Field(default=30, ge=0)
    claim_days: int = Field(default=5, ge=1, le=60)
    departments: dict[str, str] = Field(min_length=1)
    pool: PoolSpec = PoolSpec()
    directory: dict[str, dict[str, DirectoryEntry]] = {}
    rules: list[RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RoutingSpec:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids must be unique: {', '.join(twice)}")
        for rule in self.rules:
            if rule.department not in self.departments:
                raise ValueError(
                    f"rule {rule.id}: department {rule.department!r} is not in departments"
                )
        return self


@dataclass(frozen=True, slots=True)
class Department:
    """Where a notice goes: a department of one region (or the region's pool)."""

    code: str  # e.g. 330802-JTYS, or the directory's real code
    name: str  # e.g. 衢州市柯城区交通运输局
    kind: str  # e.g. JTYS


class RoutingTable:
    """The loaded rules, and the departments they name, per region."""

    def __init__(self, spec: RoutingSpec, source: str = "routing rules") -> None:
        self.spec = spec
        self.source = source
        self.rules = list(spec.rules)

    def claim_days(self, rule: RuleSpec | None) -> int:
        if rule is not None and rule.claim_days is not None:
            return rule.claim_days
        return self.spec.claim_days

    def department(self, kind: str, region: str, prefix: str) -> Department:
        """The department of `kind` in `region`; `prefix` (e.g. 衢州市柯城区) names it when the
        directory does not."""
        listed = self.spec.directory.get(region, {}).get(kind)
        if listed is not None:
            return Department(listed.code, listed.name, kind)
        if kind == self.spec.pool.kind:
            return Department(f"{region}-{kind}", f"{prefix}{self.spec.pool.name}", kind)
        return Department(f"{region}-{kind}", f"{prefix}{self.spec.departments[kind]}", kind)

    def department_by_code(self, code: str, region: str, prefix: str) -> Department | None:
        """The department a code names in `region` (a directory code, or `<region>-<KIND>`)."""
        for kind, listed in self.spec.directory.get(region, {}).items():
            if listed.code == code:
                return Department(listed.code, listed.name, kind)
        head, _, kind = code.partition("-")
        if head == region and (kind in self.spec.departments or kind == self.spec.pool.kind):
            return self.department(kind, region, prefix)
        return None

    @property
    def pool_kind(self) -> str:
        return self.spec.pool.kind

    def codes_of(self, department: str) -> frozenset[str]:
        """The codes a department goes by: `department` itself and, when it names a kind
        (SCJG), the directory's real codes (统一社会信用代码) of that kind in every region.
        (`<region>-<KIND>` codes are matched by their suffix where they are read.)"""
        listed = {
            entry.code
            for kinds in self.spec.directory.values()
            for kind, entry in kinds.items()
            if kind == department
        }
        return frozenset({department, *listed})


def load_rules(path: Path | None = None) -> RoutingTable:
    """The routing table at `path` (default: the shipped one); `RoutingRulesError` if wrong."""
    path = path or SHIPPED
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingRulesError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RoutingRulesError(f"{path}: expected a mapping at the top")
    try:
        spec = RoutingSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(raw, tuple(first["loc"]))
        raise RoutingRulesError(f"{path}: {where}: {first['msg']}") from exc
    return RoutingTable(spec, str(path))


def _where(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """`rules[3] (id road-freight).phrases`: the field, and the rule's id when there is one."""
    text = ".".join(str(p) for p in loc) or "(top)"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = raw.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rest = ".".join(str(p) for p in loc[2:])
            return f"rules[{loc[1]}] (id {rules[loc[1]].get('id')!r}){'.' + rest if rest else ''}"
    return text
