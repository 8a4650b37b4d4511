"""Checks of a canonical record beyond its Avro shape: the identifiers it carries are real.

The codec proves a record fits its schema; these prove its region codes, credit codes and
resident id numbers pass their national standards. Connectors run both before appending,
and so does the gateway for pushed events; a failure goes to the dead-letter stream (or back
to the publisher as 422), never silently onward.

Identifiers are normalised here, once, at ingest: what passed is written back into the record
in its standard form (NFKC, so full-width `９１３３…` becomes `9133…`; trimmed; the check
character upper-case), and the record keys (certificate, material and case ids) are NFKC'd too.
A record therefore carries exactly the value that passed the check, and a lookup by the
standard id (normalised the same way, gateway.api.inputs) finds it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import MutableMapping
from typing import Any

from schemas.validators import FieldValueError, validate_party_id, validate_region_code

_PARTIES = {
    "CaseEvent": ("applicant",),
    "Certificate": ("holder",),
    "Material": ("holder",),
    "CreditEntry": ("subject",),
}
_REGIONS = {"CaseEvent": ("region_code",), "Certificate": ("region_code",)}
_KEYS = {
    "CaseEvent": ("case_no",),
    "Certificate": ("cert_id",),
    "Material": ("material_id", "case_no"),
}

# Values known to pass, with their normal form, so that the applicants and regions that recur
# across a case's events are checked once. Only passes are kept: whether a value passes does not
# depend on the field it is in, and a pass stays a pass (a resident id's birth date only moves
# further into the past), while a failure is re-checked each time so its error names the field.
# Cleared when full, so memory stays bounded on long runs.
_PASSED_LIMIT = 100_000
_passed_regions: dict[str, str] = {}
_passed_parties: dict[tuple[str, str], str] = {}


def normalize_key(value: str) -> str:
    """A record id as stored and looked up: NFKC (full-width letters and digits made ASCII) and
    trimmed; its case is kept, record ids being opaque to govgate."""
    return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()


def check_record(name: str, record: MutableMapping[str, Any]) -> list[FieldValueError]:
    """Every identifier of `record` (a canonical `name`) that fails its standard.

    Each identifier that passes is replaced in `record` by its normal form (see the module).
    """
    errors: list[FieldValueError] = []
    for field in _KEYS.get(name, ()):
        value = record.get(field)
        if isinstance(value, str) and not value.isascii():
            record[field] = normalize_key(value)
    for field in _REGIONS.get(name, ()):
        value = record.get(field)
        if not isinstance(value, str):
            continue
        normal = _passed_regions.get(value)
        if normal is None:
            try:
                normal = validate_region_code(value, field)
            except FieldValueError as exc:
                errors.append(exc)
                continue
            _remember(_passed_regions, value, normal)
        if normal != value:
            record[field] = normal
    for field in _PARTIES.get(name, ()):
        party = record.get(field)
        if not (party.__class__ is dict or isinstance(party, MutableMapping)) or not isinstance(
            number := party.get("id_number"), str
        ):  # the class test first: an ABC check per record costs the pipeline
            continue
        id_type = str(party.get("id_type", "OTHER"))
        normal = _passed_parties.get((id_type, number))
        if normal is None:
            try:
                normal = validate_party_id(id_type, number, f"{field}.id_number")
            except FieldValueError as exc:
                errors.append(exc)
                continue
            _remember(_passed_parties, (id_type, number), normal)
        if normal != number:
            party["id_number"] = normal
    return errors


def _remember(passed: dict[Any, str], value: Any, normal: str) -> None:
    if len(passed) >= _PASSED_LIMIT:
        passed.clear()
    passed[value] = normal
