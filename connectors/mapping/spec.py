"""The shape of a connector file: which source to read and how its fields map.

```yaml
name: fgw-tzxm                       # connector name (offsets, status, dead letters)
source_system: fgw-tzxm              # provenance and event ids
publisher: fgw                       # the department's publisher member it publishes as
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


# The fields of a Material filled from its file by the runtime, and the source columns (set by
# `connectors.runtime.attachments`) they are read from.
FILE_FIELDS = {
    "sha256": "@file.sha256",
    "sm3": "@file.sm3",  # null unless the file store addresses files by SM3 (files.hash)
    "size_bytes": "@file.size",
    "storage_uri": "@file.uri",
    "content_type": "@file.content_type",
}


class FileSpec(BaseModel):
    """Where a material's file is: a path column, relative to the department's file share.

    ```yaml
    file:
      path: WJLJ                 # column holding the path, e.g. 2026\\11\\FG…\\01.pdf
      root: ${GOVGATE_FGW_FILES_DIR}   # the share, mounted
      sha256: WJZY               # optional: column with the hash the department recorded
      max_bytes: 52428800        # optional: default files.max_bytes
    ```
    The runtime copies the file into govgate's file store and fills `sha256`, `sm3` (with
    `files.hash = "sm3"`), `size_bytes`, `storage_uri` and (unless mapped) `content_type`; a
    file that is missing, unreadable, too large or not what its recorded hash says becomes a
    dead letter.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    root: str = Field(min_length=1)
    sha256: str | None = None
    max_bytes: int | None = Field(default=None, gt=0)


class MappingSpec(BaseModel):
    """Source fields → one canonical record type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_system: str = Field(min_length=1, max_length=64)
    target: TargetSpec
    fields: dict[str, FieldRule]
    surface_fields: dict[str, str] = {}  # 照面信息 label → source field (Certificate only)
    file: FileSpec | None = None  # Material only: the file to copy into the file store

    @model_validator(mode="before")
    @classmethod
    def _file_fields(cls, data: Any) -> Any:
        """With a `file`, the file's facts fill their fields; a mapping may not fill them too
        (only `content_type`, which a department may state better than the bytes show)."""
        if not isinstance(data, dict) or not data.get("file"):
            return data
        target = data.get("target")
        record = target.get("record") if isinstance(target, dict) else None
        if record != "Material":
            raise ValueError(f"file: only a Material has a file, not {record}")
        fields = dict(data.get("fields") or {})
        for name, column in FILE_FIELDS.items():
            rule = fields.get(name)
            ours = isinstance(rule, dict) and rule.get("from") == column
            if rule is not None and not ours and name != "content_type":
                raise ValueError(f"fields.{name}: filled from the file; do not map it")
            fields.setdefault(name, {"from": column})
        return {**data, "fields": fields}


class ConnectorSpec(MappingSpec):
    """A whole connector file: a name, a source and its mapping."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    source: dict[str, Any]  # `kind` + the source's own settings, validated by that source
    # The department's publisher member (成员单位) whose publish scopes bound what this
    # connector may put on the log; a connector without one, or whose member is not registered
    # for its stream and source system, does not start (`govgate connect register`).
    publisher: str | None = Field(default=None, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

    @property
    def source_kind(self) -> str:
        return str(self.source.get("kind", ""))
