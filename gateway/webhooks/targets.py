"""Webhook target URLs: checked, normalized, and held to the operator's allowed hosts.

A target is an absolute http(s) URL without userinfo or fragment, at most `MAX_URL_CHARS`
long. It is stored normalized — host lower-cased and IDNA-encoded (punycode), path and query
percent-encoded (UTF-8) — so that what the gateway signs as `@target-uri` is ASCII and exactly
what it sends (http-message-signatures refuses non-ASCII signature bases).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable

from gateway.signatures import encode_url
from gateway.webhooks.errors import InvalidTarget, TargetNotAllowed

MAX_URL_CHARS = 2048
FIELD = "target_url"


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


def check_target(value: str, allowed: Iterable[str]) -> str:
    """`normalize_target`, then TARGET_NOT_ALLOWED unless the host is allowed."""
    normalized = normalize_target(value)
    host = urllib.parse.urlsplit(normalized).hostname or ""
    if not host_allowed(host, allowed):
        message = f"host {host!r} is not among the gateway's allowed webhook hosts"
        raise TargetNotAllowed(f"{FIELD}: {message}", errors=[{"field": FIELD, "message": message}])
    return normalized
