"""Request inputs, checked before any database work (and before the signature's key lookup).

Each is a dependency declared ahead of the caller in a route's signature, raising
`InvalidInput` itself rather than leaving it to FastAPI's validation, which runs only after
every dependency (including authentication) has.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from gateway.api.exchange import exchange_of
from gateway.api.problems import InvalidInput
from gateway.api.services import services
from schemas.checks import normalize_key
from schemas.validators import FieldValueError, mask, normalize, validate_resident_id, validate_uscc

MAX_HOLDER_ID = 64
MAX_JSON_DEPTH = 32  # canonical records nest 3 deep; the JSON decoder recurses on nesting
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")  # certificate types, catalogs
_RECORD_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # cert_id, case_no
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,512}")  # what the stores hand out: base64url


def holder_type(holder_id: str) -> str:
    """RESIDENT_ID or USCC when the id passes that standard's check, else OTHER."""
    if len(holder_id) == 18:
        for kind, check in (("RESIDENT_ID", validate_resident_id), ("USCC", validate_uscc)):
            try:
                check(holder_id)
                return kind
            except FieldValueError:
                pass
    return "OTHER"


async def holder_query(
    request: Request,
    holder_id: Annotated[
        str | None,
        Query(description="身份证号 (18), 统一社会信用代码 (18) or another id (≤ 64)"),
    ] = None,
) -> str:
    if holder_id is None or not holder_id.strip():
        raise InvalidInput("holder_id is required")
    if len(holder_id) > 4 * MAX_HOLDER_ID:  # before NFKC, which may lengthen a text
        raise InvalidInput(f"holder_id: at most {MAX_HOLDER_ID} printable characters")
    holder_id = normalize(holder_id)  # as ingest stores it (schemas.checks): NFKC, upper-case
    if not holder_id or len(holder_id) > MAX_HOLDER_ID or not holder_id.isprintable():
        raise InvalidInput(f"holder_id: at most {MAX_HOLDER_ID} printable characters")
    exchange = exchange_of(request.scope)
    exchange.holder_id, exchange.holder_type = holder_id, holder_type(holder_id)
    return holder_id


def _code(value: str | None, name: str) -> str | None:
    if value is not None:
        value = normalize_key(value[:256])
    if value is not None and not _CODE.fullmatch(value):
        raise InvalidInput(f"{name}: 1-64 letters, digits, '.', '_' or '-'")
    return value


async def type_code_query(
    type_code: Annotated[str | None, Query(description="证照类型代码")] = None,
) -> str | None:
    return _code(type_code, "type_code")


async def catalog_code_query(
    catalog_code: Annotated[str | None, Query(description="材料目录代码")] = None,
) -> str | None:
    return _code(catalog_code, "catalog_code")


def record_id(value: str, name: str) -> str:
    """A record id as ingest stores it (NFKC, trimmed: schemas.checks), in its ASCII alphabet."""
    value = normalize_key(value[:512])
    if not _RECORD_ID.fullmatch(value):
        raise InvalidInput(f"{name}: 1-128 letters, digits, '.', '_', ':' or '-'")
    return value


async def cert_id_path(cert_id: Annotated[str, Path(description="证照标识")]) -> str:
    return record_id(cert_id, "cert_id")


async def case_no_path(case_no: Annotated[str, Path(description="办件编号")]) -> str:
    return record_id(case_no, "case_no")


async def subject_path(
    request: Request,
    subject_id: Annotated[str, Path(description="统一社会信用代码 or 居民身份证号码 (18)")],
) -> str:
    """A credit subject: a valid USCC or resident id number; noted for the access log."""
    subject_id = normalize(subject_id[: 4 * MAX_HOLDER_ID])  # as ingest stores it
    kind = holder_type(subject_id)
    if kind == "OTHER":
        shown = mask(subject_id) if len(subject_id) <= MAX_HOLDER_ID else "(too long)"
        raise InvalidInput(f"subject_id {shown!r}: not a valid 统一社会信用代码 or 居民身份证号码")
    exchange = exchange_of(request.scope)
    exchange.holder_id, exchange.holder_type = subject_id, kind
    return subject_id


async def item_query(
    item: Annotated[
        str | None, Query(description="事项编码 or item category (e.g. ZFCG); default Gov-Purpose")
    ] = None,
) -> str | None:
    return _code(item, "item")


@dataclass(frozen=True)
class PageArgs:
    limit: int
    after: str | None


async def page_query(
    request: Request,
    limit: Annotated[str | None, Query(description="page size, 1-100")] = None,
    after: Annotated[str | None, Query(description="opaque cursor from next_after")] = None,
) -> PageArgs:
    settings = services(request).settings.gateway
    size = settings.page_size
    if limit is not None:
        if not _small_int(limit) or not 1 <= int(limit) <= settings.max_page_size:
            raise InvalidInput(f"limit: an integer from 1 to {settings.max_page_size}")
        size = int(limit)
    if after is not None and not _CURSOR.fullmatch(after):
        raise InvalidInput("after: not a cursor this gateway handed out")
    return PageArgs(size, after)


def _small_int(text: str) -> bool:
    """ASCII digits that `int` takes and a BIGINT holds ("²" is a digit to `str.isdigit`)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def encode_seq_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_seq_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:
        raise InvalidInput("after: not a cursor this gateway handed out") from exc
    if not text.startswith("seq:") or not _small_int(text[4:]):  # larger overflows the driver
        raise InvalidInput("after: not a cursor this gateway handed out")
    return int(text[4:])


HolderDep = Annotated[str, Depends(holder_query)]
TypeCodeDep = Annotated[str | None, Depends(type_code_query)]
CatalogCodeDep = Annotated[str | None, Depends(catalog_code_query)]
CertIdDep = Annotated[str, Depends(cert_id_path)]
CaseNoDep = Annotated[str, Depends(case_no_path)]
PageDep = Annotated[PageArgs, Depends(page_query)]
SubjectDep = Annotated[str, Depends(subject_path)]
ItemDep = Annotated[str | None, Depends(item_query)]


def json_object(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """The body as one JSON object nested at most `max_depth` deep, else `InvalidInput`.

    JSON nested ~1,000 deep exhausts the decoder's recursion (a `RecursionError`, a 500), and
    shallower but deep values would do the same to whatever walks them next (validation,
    error messages): refused here, before either.
    """
    try:
        found = json.loads(body)
    except RecursionError as exc:
        raise InvalidInput(f"the body is nested more than {max_depth} levels deep") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the body must be one JSON object") from exc
    if not isinstance(found, dict):
        raise InvalidInput("the body must be one JSON object")
    level: list[Any] = [found]
    for _ in range(max_depth):
        texts = [
            text
            for value in level
            for text in ([*value, *value.values()] if isinstance(value, dict) else value)
            if isinstance(text, str)
        ]
        if not all(_encodable(text) for text in texts):
            raise InvalidInput("the body holds a lone surrogate (\\ud800-\\udfff) in a text")
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return found
    raise InvalidInput(f"the body is nested more than {max_depth} levels deep")


def _encodable(text: str) -> bool:
    """A text that UTF-8 can carry: JSON's `\\ud800` escape decodes to a lone surrogate,
    which every later encoding (the log, the answer) would fail on."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
