"""Bounded cost for anyone on the network: request heads, head read time, connections.

uvicorn's httptools protocol (what `govgate up` runs) reads a request head of any size into
memory — one unsigned request with a 50 MB header cost 94 MB, eight of 100 MB took the process
past 1 GB — and has no timeout for reading a head: its keep-alive timer starts only after a
response and stops at the first byte, so a connection that sends part of a head and then a byte
now and then stays open for ever (300 of them held past 20 s). uvicorn's `limit_concurrency`
answers 503 only once a head is complete, after that memory is spent. So the gateway runs
uvicorn's own protocol classes with a guard on top:

- a request head (request line and header fields) larger than `gateway.max_header_bytes` is
  answered 431 and the connection closed, having held at most that plus one read;
- a head not complete `gateway.header_timeout_s` after the connection opened, or after the
  previous response ended, closes the connection (408 when nothing is in flight); idle
  keep-alive connections close after `gateway.keep_alive_s` (uvicorn's `timeout_keep_alive`);
- beyond `gateway.max_connections` open connections per process, a new one is answered 503
  and closed at once, before any of it is read.

Memory for heads is therefore bounded by about `max_connections × max_header_bytes` per
process. The guard is in the protocol, beneath ASGI: a request it refuses never reaches the app
(and so is neither audited nor counted there). h11, uvicorn's other protocol, limits head size
itself (`h11_max_incomplete_event_size`); the guard adds the head timeout and the connection cap.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is the fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int
    header_timeout_s: float
    max_connections: int


def _answer(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


TOO_LARGE = _answer(b"431 Request Header Fields Too Large")
TIMEOUT = _answer(b"408 Request Timeout")
BUSY = _answer(b"503 Service Unavailable")


class _Guard:
    """Mixed into a uvicorn HTTP protocol class (see `guarded_protocol`)."""

    limits: Limits
    # provided by the uvicorn protocol
    transport: asyncio.Transport
    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def _awaiting_head(self) -> bool:
        raise NotImplementedError

    def connection_made(self, transport: Any) -> None:
        self._refused = False
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)  # type: ignore[misc]
        if len(self.connections) > self.limits.max_connections:
            self._refuse(BUSY)
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)  # type: ignore[misc]
        if self._refused or not self._awaiting_head():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.limits.max_header_bytes:
            self._refuse(TOO_LARGE)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self._refused and not self.transport.is_closing():
            self._arm()  # the next head must come within the timeout too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _in_flight(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self._in_flight():
            self._refuse(TIMEOUT)

    def _refuse(self, answer: bytes) -> None:
        """Answer (unless a response is under way: that would corrupt it) and close."""
        self._refused = True
        self._disarm()
        if not self._in_flight():
            self.transport.write(answer)
        self.transport.close()


class _GuardedHttpTools(_Guard, HttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        self._head_open = True
        super().connection_made(transport)

    def _awaiting_head(self) -> bool:
        return self._head_open

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()


class _GuardedH11(_Guard, H11Protocol):
    def _awaiting_head(self) -> bool:
        return bool(self.conn.their_state is h11.IDLE)


def guarded_protocol(limits: Limits, *, h11: bool = False) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol (or h11's) with the guard, holding `limits`."""
    base: type[_Guard] = _GuardedH11 if h11 or HttpToolsProtocol is None else _GuardedHttpTools
    guarded = type(f"Guarded{base.__name__.lstrip('_')}", (base,), {"limits": limits})
    return guarded
