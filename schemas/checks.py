"""Checks of a canonical record beyond its Avro shape: the identifiers it carries are real.

The codec proves a record fits its schema; these prove its region codes, credit codes and
resident id numbers pass their national standards. Connectors run both before appending,
and so does the gateway for pushed events; a failure goes to the dead-letter stream (or back
to the publisher as 422), never silently onward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from schemas.validators import FieldValueError, validate_party_id, validate_region_code

_PARTIES = {"CaseEvent": ("applicant",), "Certificate": ("holder",), "Material": ("holder",)}
_REGIONS = {"CaseEvent": ("region_code",), "Certificate": ("region_code",)}


def check_record(name: str, record: Mapping[str, Any]) -> list[FieldValueError]:
    """Every identifier of `record` (a canonical `name`) that fails its standard."""
    checks: list[tuple[Callable[..., str], tuple[str, ...]]] = []
    for field in _REGIONS.get(name, ()):
        if isinstance(value := record.get(field), str):
            checks.append((validate_region_code, (value, field)))
    for field in _PARTIES.get(name, ()):
        party = record.get(field)
        if isinstance(party, Mapping) and isinstance(number := party.get("id_number"), str):
            id_type = str(party.get("id_type", "OTHER"))
            checks.append((validate_party_id, (id_type, number, f"{field}.id_number")))
    errors: list[FieldValueError] = []
    for check, args in checks:
        try:
            check(*args)
        except FieldValueError as exc:
            errors.append(exc)
    return errors
