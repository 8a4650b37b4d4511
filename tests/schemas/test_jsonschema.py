"""JSON Schemas generated from the Avro schemas accept records as the gateway serves them and
refuse what the Avro schema would refuse."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from schemas.codec import EventCodec, to_jsonable
from schemas.jsonschema import record_schemas
from tests.samples import case_event, certificate, dead_letter, material

SAMPLES = {
    "Certificate": certificate,
    "Material": material,
    "CaseEvent": case_event,
    "DeadLetter": dead_letter,
}


def validator(name: str) -> Any:
    """A validator of the named record, its named types resolved within one document."""
    schemas = record_schemas(ref_prefix="#/$defs/")
    return jsonschema_rs.validator_for({"$ref": f"#/$defs/{name}", "$defs": schemas})


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_served_record_is_valid(name: str) -> None:
    codec = EventCodec()
    record = codec.decode(codec.encode(name, SAMPLES[name]()).value).record
    validator(name).validate(to_jsonable(record))


def test_wrong_types_and_missing_fields_are_refused() -> None:
    check = validator("Certificate")
    good = to_jsonable(certificate())
    for bad in (
        {k: v for k, v in good.items() if k != "cert_id"},  # required
        good | {"issue_date": 20261123},  # a date is ISO text
        good | {"sharing_class": "SOMETIMES"},  # not a symbol of the enum
        good | {"holder": good["holder"] | {"type": "ROBOT"}},  # a named type's enum
    ):
        assert not check.is_valid(bad), bad


def test_every_current_schema_converts_and_names_are_unique() -> None:
    schemas = record_schemas()
    assert {"Certificate", "Material", "CaseEvent", "Notice", "Party", "PartyType"} <= set(schemas)
    assert schemas["PartyType"]["enum"] == ["PERSON", "ORGANIZATION", "UNKNOWN"]
