"""What a consumer asks for in a sharing application (共享申请), checked field by field: a
malformed purpose code, a missing scenario or a duration out of range is refused naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.catalogue.entries import plain_text
from gateway.governance.errors import InvalidApplication, InvalidPurpose

PURPOSE = re.compile(r"[A-Za-z0-9._-]{1,64}")  # 事项编码, as Gov-Purpose names it


@dataclass(frozen=True)
class ApplicationIn:
    """What a consumer asks for."""

    resource_code: str
    purposes: tuple[str, ...]
    scenario: str
    fields: tuple[str, ...]
    days: int


def parse_request(raw: Any, max_days: int) -> ApplicationIn:
    """An application body, checked; each error names its field."""
    if not isinstance(raw, dict):
        raise InvalidApplication("the body must be a JSON object")
    code = raw.get("resource_code")
    if not isinstance(code, str) or not PURPOSE.fullmatch(code):
        raise InvalidApplication(f"resource_code: a catalogue resource code, not {code!r}")
    purposes = raw.get("purposes")
    if not isinstance(purposes, list) or not purposes:
        raise InvalidPurpose("purposes: a non-empty list of item codes (事项编码)")
    for i, purpose in enumerate(purposes):
        if not isinstance(purpose, str) or not PURPOSE.fullmatch(purpose):
            raise InvalidPurpose(
                f"purposes[{i}]: {purpose!r} is not an item code (事项编码: 1-64 letters, "
                "digits, '.', '_', '-')"
            )
    scenario = raw.get("scenario")
    if (
        not isinstance(scenario, str)
        or not scenario.strip()
        or len(scenario) > 2000
        or not plain_text(scenario)
    ):
        raise InvalidApplication("scenario: the use scenario in words, 1-2000 characters")
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise InvalidApplication("fields: a non-empty list of the resource's field names")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= max_days:
        raise InvalidApplication(f"days: how long the grant is needed, 1 to {max_days}")
    return ApplicationIn(
        code,
        tuple(dict.fromkeys(purposes)),
        scenario.strip(),
        tuple(dict.fromkeys(fields)),
        days,
    )
