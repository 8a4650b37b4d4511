"""Publish scopes: a publisher member publishes only what it is registered for (deny by default).

A scope names a record kind (the stream: certificates, materials, case-events, credit-entries),
the code that says what the record is (a certificate's type code 证照类型, a material's catalog
code 材料目录, a case event's item code 事项编码, a credit entry's list code; `*` for every code
of the kind, an operator's explicit choice) and the source system (来源系统) the records must
name in their provenance. A member with no scope publishes nothing. The CLI form is
`KIND:CODE@SOURCE`, e.g. `certificates:YYZZ@scjg-djxt`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, get_args

from gateway.publishing.errors import InvalidScope, NotRegistered

# credit-entries: published by the credit platform's connector only (no HTTP push)
PublishKind: TypeAlias = Literal["certificates", "materials", "case-events", "credit-entries"]
PUBLISH_KINDS: tuple[PublishKind, ...] = get_args(PublishKind)
ANY_CODE = "*"
# the field of each kind's record that says what it is
CODE_FIELD: dict[str, str] = {
    "certificates": "type_code",
    "materials": "catalog_code",
    "case-events": "item_code",
    "credit-entries": "list_code",
}
_SINGULAR = {"certificate": "certificates", "material": "materials", "case": "case-events"}
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True, order=True)
class PublishScope:
    kind: PublishKind
    code: str
    source_system: str

    def __post_init__(self) -> None:
        if self.kind not in PUBLISH_KINDS:
            raise InvalidScope(f"kind {self.kind!r}; use {', '.join(PUBLISH_KINDS)}")
        if self.code != ANY_CODE and not _CODE.fullmatch(self.code):
            raise InvalidScope(f"code {self.code!r}: 1-64 letters, digits, '.', '_', '-' or '*'")
        if not _CODE.fullmatch(self.source_system):
            raise InvalidScope(
                f"source system {self.source_system!r}: 1-64 letters, digits, '.', '_', '-'"
            )

    @classmethod
    def parse(cls, text: str) -> PublishScope:
        """`KIND:CODE@SOURCE`, e.g. `certificates:YYZZ@scjg-djxt` (`certificate`, `material`
        and `case` are taken for the kinds too)."""
        kind_code, at, source = text.partition("@")
        kind, colon, code = kind_code.partition(":")
        if not (at and colon):
            raise InvalidScope(f"{text!r}: expected KIND:CODE@SOURCE_SYSTEM")
        kind = _SINGULAR.get(kind, kind)
        found = next((k for k in PUBLISH_KINDS if k == kind), None)
        if found is None:
            raise InvalidScope(f"kind {kind!r}; use {', '.join(PUBLISH_KINDS)}")
        return cls(found, code, source)

    def covers(self, kind: str, code: str, source_system: str) -> bool:
        return (
            self.kind == kind
            and self.code in (ANY_CODE, code)
            and self.source_system == source_system
        )

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}@{self.source_system}"


def record_code(kind: str, record: dict[str, Any]) -> str:
    """The code a scope is matched against: the record's type, catalog or item code."""
    return str(record.get(CODE_FIELD[kind], ""))


def record_source(record: dict[str, Any]) -> str:
    provenance = record.get("provenance")
    return str(provenance.get("source_system", "")) if isinstance(provenance, dict) else ""


def check_scope(scopes: Iterable[PublishScope], kind: str, record: dict[str, Any]) -> None:
    """Refuse (PUBLISH_NOT_REGISTERED) a record no scope covers: deny by default."""
    code, source = record_code(kind, record), record_source(record)
    if not any(scope.covers(kind, code, source) for scope in scopes):
        raise NotRegistered(
            f"{CODE_FIELD[kind]} {code!r} from source system {source!r}: this member is not "
            f"registered to publish that ({kind}:{code}@{source})"
        )
