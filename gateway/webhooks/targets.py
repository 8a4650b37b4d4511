"""Webhook target URLs: checked, normalized, and held to the operator's allowed hosts and
networks.

A target is an absolute http(s) URL without userinfo or fragment, at most `MAX_URL_CHARS`
long. It is stored normalized — host lower-cased and IDNA-encoded (punycode), path and query
percent-encoded (UTF-8) — so that what the gateway signs as `@target-uri` is ASCII and exactly
what it sends (http-message-signatures refuses non-ASCII signature bases).

Its host must be among `webhooks.allowed_hosts`, and every address it resolves to must be a
public one, or inside `webhooks.allowed_networks` (CIDRs the operator names on purpose, e.g. the
政务外网 range its e-supervision receivers sit in): loopback, private (RFC 1918, ULA), link-local
(cloud metadata at 169.254.169.254), shared (CGNAT), reserved and documentation ranges are
refused otherwise, and so are IPv4-mapped IPv6 addresses; an address that embeds an IPv4 one
(6to4, NAT64, Teredo) is judged by it. Unspecified and multicast addresses are never a receiver.
Both checks are made when a subscription is created and again at every delivery, where the
gateway connects to exactly the address it checked (gateway.webhooks.pinning).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable, Sequence

from gateway.signatures import encode_url
from gateway.webhooks.errors import InvalidTarget, TargetNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_CHARS = 2048
FIELD = "target_url"
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


def _invalid(value: str, why: str) -> InvalidTarget:
    shown = value if len(value) <= 100 else value[:100] + "…"
    message = f"{why}: {shown!r}"
    return InvalidTarget(f"{FIELD}: {message}", errors=[{"field": FIELD, "message": message}])


def _ascii_host(host: str, value: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid(value, "the host is not a valid domain name") from exc
    if not all(label and len(label) <= 63 for label in encoded.split(".")):
        raise _invalid(value, "the host is not a valid domain name")
    return encoded.lower()


def normalize_target(value: str) -> str:
    """The target URL as stored and signed, or `InvalidTarget` naming the field and value."""
    if len(value) > MAX_URL_CHARS:
        raise _invalid(value, f"longer than {MAX_URL_CHARS} characters")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise _invalid(value, "contains spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise _invalid(value, "not a URL") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid(value, "the scheme must be http or https")
    if not parts.hostname:
        raise _invalid(value, "no host")
    if "@" in parts.netloc:
        raise _invalid(value, "user information (user:password@) is not allowed")
    if parts.fragment or value.endswith("#"):
        raise _invalid(value, "a fragment (#…) is not allowed")
    host = _ascii_host(parts.hostname, value)
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if port is None else f"{shown_host}:{port}"
    path = encode_url(parts.path or "/")
    query = encode_url(parts.query)
    normalized = urllib.parse.urlunsplit((parts.scheme.lower(), netloc, path, query, ""))
    if len(normalized) > MAX_URL_CHARS:
        raise _invalid(value, f"longer than {MAX_URL_CHARS} characters once percent-encoded")
    return normalized


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether `host` is one of `allowed`: an exact name or IP, `*.suffix`, or `*` (any)."""
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.strip().lower().rstrip(".")
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def _not_allowed(message: str) -> TargetNotAllowed:
    return TargetNotAllowed(f"{FIELD}: {message}", errors=[{"field": FIELD, "message": message}])


def check_target(value: str, allowed: Iterable[str]) -> str:
    """`normalize_target`, then TARGET_NOT_ALLOWED unless the host is allowed."""
    normalized = normalize_target(value)
    host = urllib.parse.urlsplit(normalized).hostname or ""
    if not host_allowed(host, allowed):
        raise _not_allowed(f"host {host!r} is not among the gateway's allowed webhook hosts")
    return normalized


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The operator's allowed networks (CIDRs; a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: IPAddress) -> str:
    for name in ("loopback", "link_local", "private", "reserved", "site_local"):
        if getattr(ip, f"is_{name}", False):
            return name.replace("_", "-")
    return "non-public"


def address_refusal(address: str, allowed: Sequence[IPNetwork]) -> str | None:
    """Why the gateway may not post to `address`, or None if it may (see the module)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scope id changes nothing here
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is an unspecified or multicast address"
    if any(ip in net for net in allowed):
        return None
    judged: IPAddress = ip
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None or (ip in _V4_COMPATIBLE and not ip.is_loopback):
            return f"{ip} is an IPv4-mapped IPv6 address"
        if (embedded := _embedded_v4(ip)) is not None:
            if any(embedded in net for net in allowed):
                return None
            judged = embedded
    if not judged.is_global:
        return (
            f"{ip} is a {_kind(judged)} address; the operator may allow its network in "
            "webhooks.allowed_networks"
        )
    return None


async def resolve_allowed(
    host: str, port: int, allowed: Sequence[IPNetwork], *, timeout: float | None = None
) -> list[str]:
    """The addresses `host` resolves to, each allowed; TARGET_NOT_ALLOWED naming the first that
    is not (one is enough: a name that also resolves to an inside address is not a receiver)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise _not_allowed(f"host {host!r} does not resolve ({type(exc).__name__})") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        if (why := address_refusal(address, allowed)) is not None:
            raise _not_allowed(f"host {host!r} resolves to {why}")
    if not addresses:
        raise _not_allowed(f"host {host!r} resolves to no address")
    return addresses


async def check_target_addresses(url: str, allowed: Sequence[IPNetwork]) -> None:
    """TARGET_NOT_ALLOWED unless every address the normalized `url`'s host resolves to is."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    await resolve_allowed(parts.hostname or "", port, allowed, timeout=10)
