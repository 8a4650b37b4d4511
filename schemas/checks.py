"""Checks of a canonical record beyond its Avro shape: the identifiers it carries are real.

The codec proves a record fits its schema; these prove its region codes, credit codes and
resident id numbers pass their national standards. Connectors run both before appending,
and so does the gateway for pushed events; a failure goes to the dead-letter stream (or back
to the publisher as 422), never silently onward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.validators import FieldValueError, validate_party_id, validate_region_code

_PARTIES = {
    "CaseEvent": ("applicant",),
    "Certificate": ("holder",),
    "Material": ("holder",),
    "CreditEntry": ("subject",),
}
_REGIONS = {"CaseEvent": ("region_code",), "Certificate": ("region_code",)}

# Values known to pass, so that the applicants and regions that recur across a case's events
# are checked once. Only passes are kept: whether a value passes does not depend on the field
# it is in, and a pass stays a pass (a resident id's birth date only moves further into the
# past), while a failure is re-checked each time so its error names the field. Cleared when
# full, so memory stays bounded on long runs.
_PASSED_LIMIT = 100_000
_passed_regions: set[str] = set()
_passed_parties: set[tuple[str, str]] = set()


def check_record(name: str, record: Mapping[str, Any]) -> list[FieldValueError]:
    """Every identifier of `record` (a canonical `name`) that fails its standard."""
    errors: list[FieldValueError] = []
    for field in _REGIONS.get(name, ()):
        value = record.get(field)
        if isinstance(value, str) and value not in _passed_regions:
            try:
                validate_region_code(value, field)
            except FieldValueError as exc:
                errors.append(exc)
            else:
                _remember(_passed_regions, value)
    for field in _PARTIES.get(name, ()):
        party = record.get(field)
        if (party.__class__ is dict or isinstance(party, Mapping)) and isinstance(
            number := party.get("id_number"), str
        ):
            id_type = str(party.get("id_type", "OTHER"))
            if (id_type, number) in _passed_parties:
                continue
            try:
                validate_party_id(id_type, number, f"{field}.id_number")
            except FieldValueError as exc:
                errors.append(exc)
            else:
                _remember(_passed_parties, (id_type, number))
    return errors


def _remember(passed: set[Any], value: Any) -> None:
    if len(passed) >= _PASSED_LIMIT:
        passed.clear()
    passed.add(value)
