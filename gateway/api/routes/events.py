"""Events pushed by publisher members (a department system without a connector).

The body is a canonical record as JSON (times RFC 3339, dates ISO 8601). It is checked
against its schema and its identifiers (schemas.checks) before anything is appended: a record
with errors is refused as a whole, 422 with every field error, and the log is untouched. Then
the publisher is held to its registration (`gateway.api.policy.may_publish`): only the kinds,
codes and source systems it is registered for (403 PUBLISH_NOT_REGISTERED), no provenance time
in the future (400 FUTURE_TIME), never over a record another source system owns (409
SOURCE_MISMATCH), and an event id stands for one content only (409 EVENT_ID_CONFLICT; the
same record again is accepted, a retry).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from fastavro.schema import expand_schema

from gateway.api import policy
from gateway.api.auth import PublisherDep
from gateway.api.exchange import exchange_of
from gateway.api.inputs import holder_type, json_object
from gateway.api.problems import InvalidEvent, NotFound
from gateway.api.services import Services, services
from schemas.checks import check_record
from schemas.codec import to_jsonable

router = APIRouter(prefix="/v1", tags=["events"])

KINDS = {"certificates": "Certificate", "materials": "Material", "case-events": "CaseEvent"}
_PARTY = {"Certificate": "holder", "Material": "holder", "CaseEvent": "applicant"}
_KEY = {"Certificate": "cert_id", "Material": "material_id", "CaseEvent": "case_no"}


async def kind_path(kind: Annotated[str, Path(description=", ".join(KINDS))]) -> str:
    if kind not in KINDS:
        raise NotFound()
    return kind


def from_json(schema: Any, value: Any, path: str, errors: list[dict[str, str]]) -> Any:
    """`value` (decoded JSON) with ISO texts turned into the dates and times Avro wants.

    A text that does not parse is noted in `errors` and replaced by None (fastavro's own
    validation raises, rather than reports, on an unparseable date text).
    """
    if isinstance(schema, list):
        for branch in schema:
            converted = from_json(branch, value, path, errors)
            if converted is not value:
                return converted
        return value
    if not isinstance(schema, dict):
        return value
    logical = schema.get("logicalType")
    if isinstance(value, str) and logical in _PARSERS:
        try:
            return _PARSERS[logical](value)
        except ValueError:
            errors.append({"field": path, "message": f"not an ISO 8601 {logical}: {value[:40]!r}"})
            return None
    kind = schema.get("type")
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        return {
            k: from_json(fields[k], v, _join(path, k), errors) if k in fields else v
            for k, v in value.items()
        }
    if kind == "map" and isinstance(value, dict):
        return {k: from_json(schema["values"], v, _join(path, k), errors) for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [from_json(schema["items"], v, path, errors) for v in value]
    if isinstance(kind, dict | list):
        return from_json(kind, value, path, errors)
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_PARSERS: dict[str, Callable[[str], Any]] = {
    "timestamp-millis": datetime.fromisoformat,
    "timestamp-micros": datetime.fromisoformat,
    "date": date.fromisoformat,
}


def field_errors(
    svc: Services, name: str, body: dict[str, Any]
) -> tuple[Any, list[dict[str, str]]]:
    """The record as Avro wants it, and every field error: parsing, schema, identifiers."""
    errors: list[dict[str, str]] = []
    record = from_json(expand_schema(svc.codec.registry.current[name].raw), body, "", errors)
    unparsed = {e["field"] for e in errors}
    errors += [e.as_dict() for e in svc.codec.check(name, record) if e.field not in unparsed]
    errors += [{"field": e.field, "message": str(e)} for e in check_record(name, record)]
    return record, errors


@router.post("/events/{kind}", status_code=202, response_model=None)
async def publish_event(
    request: Request, kind: Annotated[str, Depends(kind_path)], caller: PublisherDep
) -> JSONResponse:
    """Validate one canonical record and append it to its stream; 202 with its event id."""
    svc = services(request)
    name = KINDS[kind]
    body = json_object(await request.body())
    record, errors = field_errors(svc, name, body)
    party = record.get(_PARTY[name])
    if isinstance(party, dict) and isinstance(number := party.get("id_number"), str):
        exchange = exchange_of(request.scope)
        exchange.holder_id, exchange.holder_type = number, holder_type(number)
    if errors:
        raise InvalidEvent(f"{len(errors)} field errors; nothing was appended", errors=errors)
    policy.may_publish(
        await svc.publishing.scopes_of(caller.member_id),
        kind,
        record,
        now_ms=int(time.time() * 1000),
        skew_s=svc.settings.gateway.clock_skew_s,
        owner=await svc.lookup.source_system_of(kind, str(record[_KEY[name]])),
    )
    content = json.dumps(to_jsonable(record), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    await svc.publishing.claim_event(str(record["event_id"]), kind, digest, caller.member_id)
    appended = (await svc.log.append(kind, [svc.codec.encode(name, record)]))[0]
    return JSONResponse(
        {
            "event_id": str(record["event_id"]),
            "stream": kind,
            "partition": appended.partition,
            "offset": appended.offset,
        },
        status_code=202,
    )
