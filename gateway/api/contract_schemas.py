"""The pieces the OpenAPI document adds to what FastAPI sees (gateway.api.contract): the
RFC 9421 and RFC 9530 headers, problem details, the feed's page, the JWK Set, and lookup
answers' models copied with `record` typed as one kind of canonical record."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from gateway.api.problems import KINDS
from schemas.jsonschema import REF_PREFIX


def _string(description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": 8192}
    if pattern is not None:
        schema["pattern"] = pattern
    return {"schema": schema, "description": description}


_CODE_PATTERN = "^[A-Za-z0-9._-]{1,64}$"
REQUEST_HEADERS: dict[str, dict[str, Any]] = {
    "Signature-Input": _string(
        "RFC 9421: one signature labelled `govgate` covering @method, @authority, @path, "
        "@query, gov-purpose and gov-case when sent, content-digest when there is a body; "
        "parameters created, keyid, alg, nonce"
    ),
    "Signature": _string("RFC 9421: the signature, `govgate=:base64:`"),
    "Content-Digest": _string("RFC 9530: the body's digest, sha-256, sha-512 or sm3"),
    "Gov-Purpose": _string("事项编码: the item the request serves", _CODE_PATTERN),
    "Gov-Case": _string("办件编号: the case the request serves", _CODE_PATTERN),
    "Want-Content-Digest": _string("RFC 9530: the response digest wanted, e.g. `sm3=10`"),
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "Signature-Input": _string(
        "the gateway's signature: @status, content-digest, and the request's @method, @path, "
        '@query and signature ("signature";req)'
    ),
    "Signature": _string("the gateway's signature; its keys are at /.well-known/govgate-keys"),
    "Content-Digest": _string("RFC 9530 digest of the body, covered by the signature"),
}
RETRY_AFTER = {"schema": {"type": "string"}, "description": "seconds to wait before retrying"}


JWKS = {
    "type": "object",
    "description": "RFC 7517 JWK Set: the keys the gateway signs responses with, current first",
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"kty": {"type": "string"}, "kid": {"type": "string"}},
                "required": ["kty", "kid"],
            },
        }
    },
    "required": ["keys"],
}


def type_records(responses: dict[str, Any], kind: str, components: dict[str, Any]) -> None:
    """The 200 (or 201) answer's models copied with `record` typed as `kind`."""
    for status in ("200", "201"):
        content = responses.get(status, {}).get("content", {}).get("application/json")
        if content is not None:
            content["schema"] = _retyped(content["schema"], kind, components)


def _retyped(schema: Any, kind: str, components: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_retyped(s, kind, components) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = ref.removeprefix(REF_PREFIX)
        if not _holds_record(name, components, set()):
            return schema
        typed = f"{kind}{name}"
        if typed not in components:
            components[typed] = {}  # reserved: a model that refers to itself stops here
            copied = copy.deepcopy(components[name])
            copied["title"] = typed
            components[typed] = _retype_properties(copied, kind, components)
        return {"$ref": REF_PREFIX + typed}
    return {k: _retyped(v, kind, components) for k, v in schema.items()}


def _retype_properties(schema: dict[str, Any], kind: str, components: dict[str, Any]) -> Any:
    properties = schema.get("properties", {})
    for name, value in properties.items():
        if name == "record":
            properties[name] = {"$ref": REF_PREFIX + kind}
        else:
            properties[name] = _retyped(value, kind, components)
    return schema


def _holds_record(name: str, components: dict[str, Any], seen: set[str]) -> bool:
    if name in seen or name not in components:
        return False
    seen.add(name)
    schema = components[name]
    if "record" in schema.get("properties", {}):
        return True
    return any(_holds_record(ref, components, seen) for ref in _refs(schema))


def _refs(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref.removeprefix(REF_PREFIX)
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _object(
    properties: dict[str, Any], required: Iterable[str], description: str = ""
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(required),
    }
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def problem_schemas() -> dict[str, Any]:
    string: Callable[[], dict[str, Any]] = lambda: {"type": "string"}  # noqa: E731
    field_error = _object({"field": string(), "message": string()}, ["field", "message"])
    return {
        "Problem": _object(
            {
                "type": {"type": "string", "format": "uri"},
                "title": string(),
                "status": {"type": "integer"},
                "detail": string(),
                "code": {"type": "string", "enum": sorted(KINDS)},
                "errors": {"type": "array", "items": {"$ref": REF_PREFIX + "FieldError"}},
            },
            ["type", "title", "status", "detail", "code"],
            "RFC 9457 problem details; `code` is stable, `detail` names the field and value",
        ),
        "FieldError": field_error,
    }


def feed_schemas(kinds: Iterable[str]) -> dict[str, Any]:
    """FeedItem (its `event` one of `kinds`, or null) and FeedPage."""
    event = _nullable({"anyOf": [{"$ref": REF_PREFIX + k} for k in kinds]})
    item = _object(
        {
            "cursor": {"type": "string", "description": "resume after this item"},
            "stream": {"type": "string"},
            "partition": {"type": "integer"},
            "offset": {"type": "integer"},
            "key": _nullable({"type": "string"}),
            "time": {"type": "string", "format": "date-time"},
            "type": _nullable({"type": "string"}),
            "event": {**event, "description": "the record, masked as the grant says"},
            "masked": {"type": "array", "items": {"type": "string"}},
            "tombstone": {"type": "boolean"},
            "type_code": _nullable({"type": "string"}),
            "decode_error": {"type": "string"},
        },
        ["cursor", "stream", "partition", "offset", "key", "time", "type", "event"],
    )
    page = _object(
        {
            "items": {"type": "array", "items": {"$ref": REF_PREFIX + "FeedItem"}},
            "next": {"type": "string", "description": "the cursor to read on from"},
        },
        ["items", "next"],
    )
    return {"FeedItem": item, "FeedPage": page}


def event_schemas() -> dict[str, Any]:
    accepted = _object(
        {
            "event_id": {"type": "string"},
            "stream": {"type": "string"},
            "partition": {"type": "integer"},
            "offset": {"type": "integer"},
        },
        ["event_id", "stream", "partition", "offset"],
        "appended to the log",
    )
    return {"EventAccepted": accepted}
