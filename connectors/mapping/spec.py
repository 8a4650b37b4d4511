"""The shape of a connector file: which source to read and how its fields map.

```yaml
name: fgw-tzxm                       # connector name (offsets, status, dead letters)
source_system: fgw-tzxm              # provenance and event ids
source: {kind: sql, url: "${FGW_DB_URL}", table: TZXM_SPBJ, ...}
target: {record: CaseEvent, stream: case-events}
fields:
  case_no: {from: SLBH}
  stage: {from: BLZT, codes: {"01": ACCEPTED, "03": COMPLETED}}
  occurred_at: {from: GXSJ, format: "%Y-%m-%d %H:%M:%S"}
  limit_unit: {const: WORKING_DAYS}
  cert_id: {template: "{XZQHDM}-YYZZ-{TYSHXYDM}"}
surface_fields: {法定代表人: FDDBR}
```
Target field types come from the Avro schema, so a mapping never restates them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_UNSET: Any = object()


class FieldRule(BaseModel):
    """How one canonical field gets its value: exactly one of from / const / template."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: str | list[str] | None = Field(default=None, alias="from")  # a list: first non-empty
    const: Any = _UNSET
    template: str | None = None
    codes: dict[str, Any] | None = None  # source code → canonical value
    default: Any = _UNSET  # when the source value is missing, or its code is not in `codes`
    format: str | None = None  # strptime format for times and dates (else the common forms)
    nulls: list[str] = []  # source values meaning "none", e.g. ["长期"]

    @model_validator(mode="after")
    def _one_origin(self) -> FieldRule:
        origins = [self.from_ is not None, self.const is not _UNSET, self.template is not None]
        if sum(origins) != 1:
            raise ValueError("give exactly one of 'from', 'const' or 'template'")
        return self

    @property
    def has_default(self) -> bool:
        return self.default is not _UNSET

    @property
    def has_const(self) -> bool:
        return self.const is not _UNSET


class TargetSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record: Literal["CaseEvent", "Certificate", "Material", "CreditEntry"]
    stream: Literal["case-events", "certificates", "materials", "credit-entries"]


class MappingSpec(BaseModel):
    """Source fields → one canonical record type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_system: str = Field(min_length=1, max_length=64)
    target: TargetSpec
    fields: dict[str, FieldRule]
    surface_fields: dict[str, str] = {}  # 照面信息 label → source field (Certificate only)


class ConnectorSpec(MappingSpec):
    """A whole connector file: a name, a source and its mapping."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    source: dict[str, Any]  # `kind` + the source's own settings, validated by that source

    @property
    def source_kind(self) -> str:
        return str(self.source.get("kind", ""))
