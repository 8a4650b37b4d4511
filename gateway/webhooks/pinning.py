"""Connect to the address that was checked: the webhook deliverer's HTTP transport.

A target's host is resolved when the deliverer connects, each address checked against the
allowed networks (gateway.webhooks.targets), and the connection made to one of exactly those
addresses — not to whatever a second lookup returns. A name whose records change between a
check and a connect (DNS rebinding) therefore cannot lead a delivery inside. The URL, and so the
Host header, TLS SNI and certificate check, keep the host name: only the resolution is pinned.

This is an httpcore network backend under httpx's own transport, so redirects (never followed),
pooling and timeouts stay httpx's. Environment proxies are not used (`trust_env=False`): a proxy
would connect to the target itself, past these checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from gateway.webhooks.targets import IPNetwork, resolve_allowed


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, and connects to a checked address; else TargetNotAllowed."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        self.allowed = tuple(allowed)
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_allowed(host, port, self.allowed, timeout=timeout)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve_allowed returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, on `PinnedBackend`."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(allowed),
        )
