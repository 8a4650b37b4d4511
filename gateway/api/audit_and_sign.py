"""Every response leaves audited and signed: the gateway's outermost middleware.

For each HTTP request this middleware reads the body (refusing more than
`gateway.max_body_bytes` before anything else runs), lets the app answer into a buffer, writes
the audit row for `/v1/` requests and waits until it is committed (a request whose row is not
durable is answered 503, never with its data) — or, for a refusal of a caller that could not be
identified (no valid signature), counts it into the interval's tally row (gateway.audit.refusals),
so an unsigned flood costs no row per request — signs the response with the gateway's key,
bound to the request (RFC 9421 §2.4), its Content-Digest in the algorithm the request asked for
(`gateway.signatures.digests.response_digest`), observes the metrics, and only then sends it.

A Server-Sent Events answer (`text/event-stream`, the feed) cannot wait for its end: its
audit row is committed and its head signed (status and the request binding, no
Content-Digest) when the app starts it, then its events pass through as they come. A file
(a material's content, `exchange.streamed`) passes the same way, unbuffered: its audit row
(naming the file's SHA-256) is committed before the first byte, and its head signature covers
the `Content-Digest` the route set from the record, known before the body is read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.auth import request_url
from gateway.api.exchange import exchange_of
from gateway.api.problems import PROBLEM_JSON, problem_body
from gateway.api.services import Services
from gateway.audit.errors import AuditError
from gateway.audit.log import AuditEntry
from gateway.signatures import sign_response
from gateway.signatures.digests import WANT_CONTENT_DIGEST, DigestAlgorithm, response_digest
from gateway.signatures.errors import SignatureError

logger = logging.getLogger(__name__)

AUDITED_PREFIX = "/v1/"
EVENT_STREAM = b"text/event-stream"
_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class _StreamRefused(Exception):
    """The audit row of a stream could not be written: the refusal was sent instead."""


def _is_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(EVENT_STREAM) for k, v in headers)


def _problem(scope: Scope, code: str) -> _Answer:
    exchange_of(scope).code = code
    status, body = problem_body(code)
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    return status, headers, payload


def _declared_too_large(declared: str, limit: int) -> bool:
    """A Content-Length that is not ASCII digits, or says more than `limit` bytes. ("²" is a
    digit to `str.isdigit`, and `int` refuses texts of more than 4,300 digits: a 500 either
    way, were they handed to `int` unchecked.)"""
    digits = declared.strip().lstrip("0") or "0"
    return not (digits.isascii() and digits.isdigit()) or len(digits) > 19 or int(digits) > limit


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class AuditedSignedResponses:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would copy every body twice)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        svc: Services = scope["app"].state.services
        streamed: list[int] = []  # the status sent, once a stream's head (or refusal) is out

        async def open_stream(answer: _Answer) -> None:
            audited = await self._audited(scope, svc, answer)
            if audited is not answer:  # no audit row, no stream: the refusal goes instead
                status, headers, body = self._sign(scope, svc, audited, audited[2])
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                streamed.append(status)
                raise _StreamRefused()
            status, headers, _ = self._sign(scope, svc, answer, None)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            streamed.append(status)

        answer = await self._answer(scope, receive, svc, open_stream, send)
        if streamed:
            self._observe(scope, svc, streamed[0], started)
            return
        answer = await self._audited(scope, svc, answer)
        status, headers, body = self._sign(scope, svc, answer, answer[2])
        self._observe(scope, svc, status, started)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _audited(self, scope: Scope, svc: Services, answer: _Answer) -> _Answer:
        """`answer` once its audit row is committed (for /v1/ requests), else a 503 problem."""
        if not scope["path"].startswith(AUDITED_PREFIX):
            return answer
        return await self._audit(scope, svc, answer, _template(scope))

    def _observe(self, scope: Scope, svc: Services, status: int, started: float) -> None:
        svc.metrics.observe(
            _template(scope),
            scope["method"],
            status,
            exchange_of(scope).code,
            time.perf_counter() - started,
        )

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        svc: Services,
        open_stream: Callable[[_Answer], Awaitable[None]],
        send: Send,
    ) -> _Answer:
        """The app's answer, buffered; or, for an event stream, passed through as it comes
        (`open_stream` audits and sends its head first) and then only its head returned."""
        limit = svc.settings.gateway.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and _declared_too_large(declared, limit):
            return _problem(scope, "BODY_TOO_LARGE")
        body = await _read_body(receive, limit)
        if body is None:
            return _problem(scope, "BODY_TOO_LARGE")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only a disconnect can come now
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        streaming = False

        async def capture(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                start.update(message)
                headers = list(message.get("headers", []))
                if _is_event_stream(headers) or exchange_of(scope).streamed:
                    await open_stream((int(message["status"]), headers, b""))
                    streaming = True
            elif streaming:
                await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay, capture)
        except _StreamRefused:  # the refusal is sent
            return int(start["status"]), [], b""
        except Exception:  # answered as a signed, audited 500 instead of a bare one
            logger.exception("%s %s failed", scope["method"], scope["path"])
            if streaming:  # too late for a problem: end the stream
                if not exchange_of(scope).streamed:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                # a file is cut short instead: the server closes the connection before the
                # declared length, so no client takes the truncated bytes for the whole file
                return int(start["status"]), [], b""
            return _problem(scope, "INTERNAL_ERROR")
        if not start:
            return _problem(scope, "INTERNAL_ERROR")
        return int(start["status"]), list(start.get("headers", [])), b"".join(chunks)

    async def _audit(self, scope: Scope, svc: Services, answer: _Answer, route: str) -> _Answer:
        status = answer[0]
        exchange = exchange_of(scope)
        if exchange.member_id is None and status >= 400:  # no member to hold to account:
            svc.refusals.count(exchange.code, status)  # tallied, not one row each (#12, 9)
            svc.metrics.unidentified_refusals.labels(exchange.code or "").inc()
            return answer
        entry = AuditEntry(
            method=scope["method"],
            path=scope["path"],
            decision="allow" if status < 400 else "deny",
            status=status,
            member_id=exchange.member_id,
            keyid=exchange.keyid,
            route=route,
            holder_id=exchange.holder_id,
            holder_type=exchange.holder_type,
            purpose=exchange.purpose,
            case_no=exchange.case_no,
            code=exchange.code,
            content_sha256=exchange.content_sha256 if status < 400 else None,
        )
        try:
            await svc.audit.record(entry)
        except AuditError as exc:
            logger.error("audit row not written, answering 503: %s", exc)
            return _problem(scope, "AUDIT_UNAVAILABLE")
        return answer

    def _sign(self, scope: Scope, svc: Services, answer: _Answer, body: bytes | None) -> _Answer:
        status, raw, _ = answer
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
        request_headers = Headers(scope=scope)
        try:
            signed = sign_response(
                status,
                headers,
                body,
                request_method=scope["method"],
                request_url=request_url(scope, svc.settings.gateway.public_url),
                request_headers=request_headers,
                keyid=svc.keys.keyid,
                private_key=svc.keys.private_key,
                digest=_digest(request_headers, svc.settings.gateway.digest_algorithms),
            )
        except SignatureError as exc:  # e.g. a request header that cannot be signed over
            logger.warning("response to %s left unsigned: %s", scope["path"], exc)
            return answer
        added = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in signed.items()
            if k not in headers
        ]
        return status, [*raw, *added], answer[2]


def _digest(request: Headers, allowed: tuple[str, ...]) -> DigestAlgorithm:
    """The Content-Digest algorithm the request asked for (Want-Content-Digest, else its own
    Content-Digest's), among `allowed`; else the first of `allowed`."""
    asked = {
        name: ", ".join(request.getlist(name))
        for name in (WANT_CONTENT_DIGEST, "content-digest")
        if name in request
    }
    return response_digest(asked, allowed)


def _template(scope: Scope) -> str:
    return getattr(scope.get("route"), "path", None) or "unmatched"
