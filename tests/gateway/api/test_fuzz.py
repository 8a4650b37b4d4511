"""Fuzzing the whole OpenAPI surface with schemathesis: every answer is one the document
describes (status, content type, body schema, headers), and none is a failure (5xx).

The app runs in-process (schemathesis's ASGI transport, which also runs its lifespan) on SQLite
in a temporary folder, with one member holding every role and grants for the samples' types.
Every generated request is signed with that member's key and names a purpose, by a `requests`
auth hook applied after the body is serialized, so the fuzz reaches past authentication into
input checks, policy and lookups. A second run sends the same kind of requests unsigned (their
Signature and Signature-Input taken off): each must be refused with a 4xx problem the document
lists (or served, for the unaudited operations endpoints).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api.app import create_app
from gateway.api.services import open_services
from gateway.lookup import replay
from gateway.members.keys import PrivateKey, generate_private_key, key_id
from gateway.members.store import Grant
from gateway.signatures import sign_request
from tests.gateway.api.conftest import PURPOSE, STREAM_OF, codec, gateway_settings
from tests.samples import case_event, certificate, material

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SSE = "text/event-stream"
SIGNATURE_CODES = {"SIGNATURE_MISSING", "SIGNATURE_INVALID", "COMPONENT_MISSING", "KEY_UNKNOWN"}
EXAMPLES = 30  # per operation: the whole run stays well under 30 s
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same examples every run
)


class Unsigned(requests.auth.AuthBase):
    """Takes off the signature headers schemathesis generated: the request goes unsigned."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        for name in ("Signature", "Signature-Input"):
            request.headers.pop(name, None)
        return request


class SignAs(requests.auth.AuthBase):
    """Signs each prepared request (RFC 9421) as one member key, with a purpose."""

    def __init__(self, key: PrivateKey) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        raw = request.body or b""
        body = raw.encode("utf-8") if isinstance(raw, str) else raw
        assert isinstance(body, bytes), "schemathesis sends whole bodies, never streams"
        for name in ("Signature", "Signature-Input", "Content-Digest"):
            request.headers.pop(name, None)  # what schemathesis made up for required headers
        request.headers["Gov-Purpose"] = PURPOSE
        headers = {k: v for k, v in request.headers.items() if isinstance(v, str)}
        signed = sign_request(
            request.method or "GET",
            request.url or "/",
            headers,
            body,
            keyid=key_id(self.key),
            private_key=self.key,
        )
        request.headers.update(signed)
        return request


async def _prepare(data_dir: Path, key: PrivateKey) -> None:
    grants = (Grant("certificate", "YYZZ"), Grant("material", "CL-0001"), Grant("case", "*"))
    roles = ("consumer", "publisher", "auditor", "subscriber")
    async with open_services(gateway_settings(data_dir)) as svc:
        await svc.members.add_member("fuzzer", roles, keys=[key.public_key()], grants=grants)
        for name, record in (
            ("Certificate", certificate()),
            ("Material", material()),
            ("CaseEvent", case_event()),
        ):
            await svc.log.append(STREAM_OF[name], [codec.encode(name, record)])
        await replay(svc.log, svc.engine)


@pytest.fixture(scope="module")
def member_key() -> PrivateKey:
    return generate_private_key("ed25519")


@pytest.fixture(scope="module")
def fuzz_schema(tmp_path_factory: pytest.TempPathFactory, member_key: PrivateKey) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    asyncio.run(_prepare(data_dir, member_key))
    app = create_app(gateway_settings(data_dir))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    shutdown_lifespans()  # schemathesis ran the app's lifespan; close its store and log


def header(response: Any, name: str) -> str:
    """One header of a schemathesis response (its headers map names to lists of values)."""
    values = {k.lower(): v for k, v in response.headers.items()}.get(name, [""])
    return str(values[0])


def call(case: Any, session: requests.Session) -> Any:
    """The case's answer; a feed long-poll asked to wait gives up at once instead."""
    if isinstance(case.query, dict) and "wait" in case.query:
        case.query["wait"] = "0"
    return case.call(session=session)


def fuzz(schema: Any, check: Callable[[Any], None], examples: int) -> int:
    """Run `check` on `examples` generated cases of every operation; how many operations ran.

    Hypothesis is driven directly: schemathesis's pytest plugin does not load under pytest 9.
    """
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(FUZZ, max_examples=examples)
        def run(case: Any) -> None:
            check(case)

        run()
    return len(operations)


def test_signed_requests_never_fail_the_gateway(fuzz_schema: Any, member_key: PrivateKey) -> None:
    session = requests.Session()
    session.auth = SignAs(member_key)
    seen: Counter[tuple[str, int]] = Counter()

    def check(case: Any) -> None:
        response = call(case, session)
        seen[(case.operation.label, response.status_code)] += 1
        case.validate_response(response, checks=CONFORMANCE)
        assert header(response, "signature") and header(response, "signature-input")
        if response.status_code >= 400:
            assert header(response, "content-type") == "application/problem+json"
            assert response.json()["code"] not in SIGNATURE_CODES, "our own signature refused"

    operations = fuzz(fuzz_schema, check, EXAMPLES)
    assert operations == sum(len(p) for p in fuzz_schema.raw_schema["paths"].values())
    looked_up = {label for label, status in seen if label.startswith("GET /v1/") and status < 500}
    past_the_gate = {label for label, status in seen if status in (200, 404)}
    assert looked_up and past_the_gate & looked_up, seen  # signed requests reach the lookups


def test_unsigned_requests_are_refused_not_failed(fuzz_schema: Any) -> None:
    session = requests.Session()
    session.auth = Unsigned()

    def check(case: Any) -> None:
        response = call(case, session)
        case.validate_response(response, checks=CONFORMANCE)
        assert header(response, "signature")
        if case.path.startswith("/v1/"):
            assert 400 <= response.status_code < 500
            assert header(response, "content-type") == "application/problem+json"

    fuzz(fuzz_schema, check, 10)


HOLDER = certificate()["holder"]["id_number"]
CASE = {"Gov-Case": "SL-UNSEEN-0001"}  # 有条件共享 records are served for a case
KNOWN: list[tuple[str, str, dict[str, str], dict[str, str], dict[str, str]]] = [
    # method, path, path parameters, query, headers: requests whose answer holds data
    ("GET", "/v1/certificates/{cert_id}", {"cert_id": certificate()["cert_id"]}, {}, CASE),
    ("GET", "/v1/certificates", {}, {"holder_id": HOLDER}, CASE),
    ("GET", "/v1/materials", {}, {"holder_id": material()["holder"]["id_number"]}, {}),
    ("GET", "/v1/cases/{case_no}", {"case_no": case_event()["case_no"]}, {}, {}),
    ("GET", "/v1/access-log", {}, {"holder_id": HOLDER}, {}),
    ("GET", "/v1/feeds/{stream}", {"stream": "case-events"}, {}, {}),
    ("GET", "/v1/feeds/{stream}", {"stream": "certificates"}, {"wait": "0"}, {}),
    ("GET", "/v1/feeds/{stream}", {"stream": "case-events"}, {"limit": "1"}, {"Accept": SSE}),
]


@pytest.mark.parametrize("known", KNOWN, ids=lambda k: f"{k[0]} {k[1]} {k[4]}")
def test_answers_with_data_conform(
    fuzz_schema: Any,
    member_key: PrivateKey,
    known: tuple[str, str, dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    """The answers random inputs rarely reach (records found, feeds read) match the document
    too: typed records, the feed's page and its event stream, the signature headers."""
    method, path, parameters, query, headers = known
    session = requests.Session()
    session.auth = SignAs(member_key)
    case = fuzz_schema[path][method].Case(path_parameters=parameters, query=query, headers=headers)
    response = case.call(session=session)
    assert response.status_code == 200, response.text[:500]
    case.validate_response(response, checks=CONFORMANCE)
    assert header(response, "signature") and header(response, "signature-input")
