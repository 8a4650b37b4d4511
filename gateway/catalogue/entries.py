"""A catalogue entry (资源) and the checks it must pass before it is published.

An entry names what it covers by `kind` and `record_codes`: the certificate types (证照类型),
material catalogs (材料目录), joint-punishment lists (名单), 双告知 departments, or the item codes
(事项编码) whose case events (办件事件) it shares. Its `fields` are what an application may ask
for, each with its type, a description and whether it is personal data (个人信息).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, TypeAlias, get_args

from gateway.catalogue.errors import InvalidEntry

Kind: TypeAlias = Literal["certificate", "material", "case_events", "credit", "notice"]
KINDS: tuple[Kind, ...] = get_args(Kind)
SharingClass: TypeAlias = Literal["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"]
SHARING_CLASSES: tuple[SharingClass, ...] = get_args(SharingClass)
# The stricter class wins where a record and the catalogue disagree: higher is stricter.
STRICTNESS: dict[str, int] = {"UNCONDITIONAL": 0, "CONDITIONAL": 1, "NOT_SHARED": 2}
MODES = ("lookup", "feed")
CYCLES = ("REALTIME", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "ON_CHANGE")
FIELD_TYPES = ("string", "date", "number", "boolean", "code", "id", "file")

CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FIELD = re.compile(r"[^\s:,]{1,64}")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a resource: its name (as a grant names it), type, description, and
    whether it is personal data (a grant must name a personal field for it to be shown)."""

    name: str
    type: str = "string"
    description: str = ""
    personal: bool = False


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    department_code: str
    department_name: str
    kind: Kind
    record_codes: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    sharing_class: SharingClass
    legal_basis: str | None = None
    modes: tuple[str, ...] = ("lookup",)
    update_cycle: str = "REALTIME"
    on_platform: bool = True  # the data is already on the platform: the 5-day decision limit
    description: str = ""
    version: int = 0  # 0 until published
    published_ms: int | None = None
    withdrawn_ms: int | None = None
    published_by: str | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_ms is not None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def content(self) -> dict[str, Any]:
        """What the department declared: everything but the version bookkeeping."""
        data = asdict(self)
        for key in ("version", "published_ms", "withdrawn_ms", "published_by"):
            data.pop(key)
        return data

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def same_content(self, other: Entry) -> bool:
        return json.dumps(self.content(), sort_keys=True) == json.dumps(
            other.content(), sort_keys=True
        )

    def as_version(self, version: int, at_ms: int, by: str) -> Entry:
        return replace(self, version=version, published_ms=at_ms, published_by=by)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain_text(value: str) -> bool:
    """Text a database and the log take: no NUL or other control characters, no lone
    surrogates (newlines and tabs are fine)."""
    return _CONTROL.search(value) is None


def _text(raw: dict[str, Any], name: str, *, required: bool = True, most: int = 500) -> str:
    value = raw.get(name)
    if not required and (value is None or value == ""):
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise InvalidEntry(f"{name}: a text of 1-{most} characters, not {value!r}")
    if not plain_text(value):
        raise InvalidEntry(f"{name}: holds control characters")
    return value.strip()


def _code(value: Any, name: str) -> str:
    if not isinstance(value, str) or not CODE.fullmatch(value):
        raise InvalidEntry(f"{name}: 1-64 letters, digits, '.', '_' or '-', not {value!r}")
    return value


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidEntry(f"{name}: one of {', '.join(choices)}, not {value!r}")
    return str(value)


def _field(raw: Any, index: int) -> FieldSpec:
    where = f"fields[{index}]"
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        raise InvalidEntry(f"{where}: an object with name, type, description, personal")
    name = raw.get("name")
    if not isinstance(name, str) or not _FIELD.fullmatch(name) or not plain_text(name):
        raise InvalidEntry(f"{where}.name: a field name without spaces, ':' or ',', not {name!r}")
    personal = raw.get("personal", False)
    if not isinstance(personal, bool):
        raise InvalidEntry(f"{where}.personal: true or false, not {personal!r}")
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 500 or not plain_text(description):
        raise InvalidEntry(f"{where}.description: a text of at most 500 characters")
    kind = _choice(raw.get("type", "string"), f"{where}.type", FIELD_TYPES)
    return FieldSpec(name, kind, description, personal)


def parse_entry(raw: Any) -> Entry:
    """An entry from its JSON/YAML form, checked; `InvalidEntry` names the field that is wrong."""
    if not isinstance(raw, dict):
        raise InvalidEntry("entry: a JSON object")
    kind = _choice(raw.get("kind"), "kind", KINDS)
    codes = raw.get("record_codes")
    if not isinstance(codes, list) or not codes:
        raise InvalidEntry("record_codes: a non-empty list of the codes this resource covers")
    sharing = _choice(raw.get("sharing_class"), "sharing_class", SHARING_CLASSES)
    basis = raw.get("legal_basis")
    if sharing != "UNCONDITIONAL" and (not isinstance(basis, str) or not basis.strip()):
        raise InvalidEntry(f"legal_basis: required for {sharing} (有条件共享 / 不予共享)")
    if basis is not None and (
        not isinstance(basis, str) or len(basis) > 1000 or not plain_text(basis)
    ):
        raise InvalidEntry("legal_basis: a text of at most 1000 characters")
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields:
        raise InvalidEntry("fields: a non-empty list of the resource's fields")
    specs = tuple(_field(f, i) for i, f in enumerate(fields))
    names = [f.name for f in specs]
    if len(set(names)) != len(names):
        raise InvalidEntry(f"fields: a name appears twice in {names}")
    modes = raw.get("modes", ["lookup"])
    if not isinstance(modes, list) or not modes:
        raise InvalidEntry("modes: a non-empty list of lookup, feed")
    on_platform = raw.get("on_platform", True)
    if not isinstance(on_platform, bool):
        raise InvalidEntry(f"on_platform: true or false, not {on_platform!r}")
    return Entry(
        code=_code(raw.get("code"), "code"),
        name=_text(raw, "name", most=200),
        department_code=_code(raw.get("department_code"), "department_code"),
        department_name=_text(raw, "department_name", most=200),
        kind=kind,  # type: ignore[arg-type]  # checked by _choice
        record_codes=tuple(_code(c, f"record_codes[{i}]") for i, c in enumerate(codes)),
        fields=specs,
        sharing_class=sharing,  # type: ignore[arg-type]  # checked by _choice
        legal_basis=basis.strip() if isinstance(basis, str) and basis.strip() else None,
        modes=tuple(_choice(m, f"modes[{i}]", MODES) for i, m in enumerate(modes)),
        update_cycle=_choice(raw.get("update_cycle", "REALTIME"), "update_cycle", CYCLES),
        on_platform=on_platform,
        description=_text(raw, "description", required=False, most=2000),
    )


def entry_from_json(data: dict[str, Any]) -> Entry:
    """An entry as stored (already checked once): the bookkeeping restored."""
    entry = parse_entry(data)
    return replace(
        entry,
        version=int(data["version"]),
        published_ms=data.get("published_ms"),
        withdrawn_ms=data.get("withdrawn_ms"),
        published_by=data.get("published_by"),
    )


def stricter(first: str, second: str | None) -> str:
    """The stricter of two sharing classes (an unknown one counts as 不予共享)."""
    if second is None:
        return first
    return max(first, second, key=lambda c: STRICTNESS.get(c, 3))
