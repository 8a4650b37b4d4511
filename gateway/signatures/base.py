"""Signature bases (RFC 9421 §2.5) for the one message shape govgate itself produces.

`gateway.signatures` hands every message to the `http-message-signatures` package, the
reference. That package parses and re-serialises every structured field through `http_sfv`,
which costs more than the Ed25519 arithmetic and, in a lookup that is verified and then signed
back, a large share of the request (README, Figures). This module is the fast path for the
messages govgate's own signers produce — one signature, canonically serialised, covering only
`@method`, `@authority`, `@path`, `@query`, `@status`, header fields, their `;req` variants and
`"signature";req;key=…` — and builds their bases with string operations.

Anything outside that shape (other derived components, parameters in another order, escapes
in strings, non-ASCII or control characters in a value, a missing field) makes these
functions return None, and the caller uses the package instead, which then also produces the
error. tests/gateway/test_signature_base.py checks, over generated messages, that both paths
give the same base, the same `Signature-Input` and (Ed25519 being deterministic) the same
`Signature`; the RFC's own vectors run through both.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_TOKEN = r"[a-z*][a-z0-9_.*-]*"
_STRING = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'  # an sf-string without escapes
_PARAM = re.compile(rf";({_TOKEN})=(?:(0|-?[1-9][0-9]{{0,14}})|({_STRING}))")
_COMPONENT = re.compile(r'"(@?[a-z0-9][a-z0-9_.-]*)"(;req)?(?:;key="([A-Za-z0-9_.*-]+)")?')
_INPUT = re.compile(rf"({_TOKEN})=\(([^()]*)\)(.*)")
_SIGNATURE = re.compile(rf"({_TOKEN})=(:[A-Za-z0-9+/]+={{0,2}}:)")
# RFC 3986 as the package's strict URL parser reads it; no userinfo, IP literal or fragment here
_CHARS = r"A-Za-z0-9._~\-!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_URL = re.compile(
    rf"(https?)://((?:[{_CHARS}]|{_PCT})+(?::[0-9]*)?)"
    rf"(/(?:[{_CHARS}:@/]|{_PCT})*)?(?:\?((?:[{_CHARS}:@/?]|{_PCT})*))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_DERIVED = frozenset({"@method", "@authority", "@path", "@query", "@status"})
_INT_PARAMS = frozenset({"created", "expires"})
_STR_PARAMS = frozenset({"keyid", "alg", "nonce", "tag"})


@dataclass(frozen=True, slots=True)
class Component:
    """One covered component: `name`, whether it is the request's (`;req`), and `key=`."""

    name: str
    req: bool = False
    key: str | None = None  # only for "signature";req;key="label"

    def __str__(self) -> str:
        return _spelling(self)


@functools.lru_cache(maxsize=512)
def _spelling(component: Component) -> str:
    """A component as serialised (`"@path";req`): the same few, spelt for every base."""
    return (
        f'"{component.name}"'
        + (";req" if component.req else "")
        + (f';key="{component.key}"' if component.key is not None else "")
    )


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """One parsed `Signature-Input` member and its signature, as they appeared on the wire."""

    label: str
    components: tuple[Component, ...]
    params: dict[str, int | str]
    serialized: str  # the inner list with its parameters: the @signature-params value
    signature: str  # the Signature member, `:base64:`


@dataclass(frozen=True, slots=True)
class Message:
    """What a signature base is built from: a request, or a response with its request."""

    method: str
    url: str
    fields: Mapping[str, str]  # lower-cased names, repeated lines joined with ", "
    status: int | None = None
    request: Message | None = None


def field_lines(headers: Mapping[str, str]) -> dict[str, str]:
    """Header fields by lower-cased name, values trimmed, repeated names joined with ", "."""
    fields: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    return fields


def parse_signature(fields: Mapping[str, str]) -> SignatureInput | None:
    """The message's one signature, if it is in the canonical shape; else None."""
    sig_input, signature = fields.get("signature-input"), fields.get("signature")
    if sig_input is None or signature is None:
        return None
    return _parse_signature(sig_input, signature)


@functools.lru_cache(maxsize=256)
def _parse_signature(sig_input: str, signature: str) -> SignatureInput | None:
    """Remembered for a moment: a request's signature is parsed when it is verified and again
    when the response is bound to it (`"signature";req`). The result is immutable."""
    found = _INPUT.fullmatch(sig_input)
    signed = _SIGNATURE.fullmatch(signature)
    if found is None or signed is None or found.group(1) != signed.group(1):
        return None
    if not _canonical_base64(signed.group(2)[1:-1]):
        return None
    listed = found.group(2)
    components = []
    for item in listed.split(" ") if listed else ():
        m = _COMPONENT.fullmatch(item)
        if m is None:  # parameters this module does not handle, or not canonical
            return None
        components.append(Component(m.group(1), m.group(2) is not None, m.group(3)))
    params = _params(found.group(3))
    if params is None or len(set(components)) != len(components):
        return None
    serialized = f"({listed}){found.group(3)}"
    frozen = _FrozenParams(params)
    return SignatureInput(found.group(1), tuple(components), frozen, serialized, signed.group(2))


class _FrozenParams(dict[str, int | str]):
    """The parameters of a remembered signature: shared between callers, so not to be changed."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a parsed signature's parameters are read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]


def _canonical_base64(text: str) -> bool:
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode() == text
    except binascii.Error:
        return False


def _params(text: str) -> dict[str, int | str] | None:
    params: dict[str, int | str] = {}
    position = 0
    while position < len(text):
        m = _PARAM.match(text, position)
        if m is None or m.group(1) in params:
            return None
        name = m.group(1)
        if m.group(2) is not None:
            if name not in _INT_PARAMS:
                return None
            params[name] = int(m.group(2))
        else:
            if name not in _STR_PARAMS:
                return None
            params[name] = m.group(3)[1:-1]
        position = m.end()
    return params


def serialize_input(components: Sequence[Component], params: Mapping[str, int | str]) -> str:
    """The @signature-params value: `("c1" "c2");created=…;keyid="…"…` (strings must be
    plain printable ASCII without quotes or backslashes)."""
    parts = [f";{k}={v}" if isinstance(v, int) else f';{k}="{v}"' for k, v in params.items()]
    return f"({' '.join(str(c) for c in components)}){''.join(parts)}"


def _value(message: Message, component: Component) -> str | None:
    if component.req:
        if message.request is None:
            return None
        if component.key is not None:
            if component.name != "signature":
                return None
            found = parse_signature(message.request.fields)
            if found is None or found.label != component.key:
                return None
            return found.signature
        return _value(message.request, Component(component.name))
    if component.key is not None:
        return None
    name = component.name
    if not name.startswith("@"):
        value = message.fields.get(name)
        return value if value is not None and _printable(value) else None
    if name not in _DERIVED:
        return None
    if name == "@status":
        return str(message.status) if message.status is not None else None
    if message.request is not None:  # a response's own @method, @path, @query: not ours
        return None
    if name == "@method":
        return message.method
    parts = _url_parts(message.url)
    if parts is None:
        return None
    return parts[name]


@functools.lru_cache(maxsize=256)
def _url_parts(url: str) -> dict[str, str] | None:
    """@authority, @path and @query of `url`, or None; each URL is parsed once, not once per
    component (a request's, then its response's `;req` components)."""
    found = _URL.fullmatch(url)
    if found is None or not _printable(url):
        return None
    host, _, port = found.group(2).lower().partition(":")
    default = _DEFAULT_PORTS[found.group(1)]
    return {
        "@authority": host if not port or port.lstrip("0") == default else f"{host}:{port}",
        "@path": found.group(3) or "/",
        "@query": "?" + (found.group(4) or ""),
    }


def _printable(value: str) -> bool:
    return value.isascii() and value.replace("\t", " ").isprintable()


def signature_base(
    message: Message, components: Sequence[Component], serialized_params: str
) -> bytes | None:
    """The base to sign or verify, or None when the package must build it."""
    lines = []
    for component in components:
        value = _value(message, component)
        if value is None:
            return None
        lines.append(f"{component}: {value}")
    lines.append(f'"@signature-params": {serialized_params}')
    return "\n".join(lines).encode("ascii")


@functools.lru_cache(maxsize=256)
def component(spec: str) -> Component | None:
    """A component as `gateway.signatures` spells it (`@method`, `"@path";req`, …), if handled."""
    m = _COMPONENT.fullmatch(spec if spec.startswith('"') else f'"{spec}"')
    return None if m is None else Component(m.group(1), m.group(2) is not None, m.group(3))


def identity(found: Component) -> tuple[object, frozenset[tuple[str, object]]]:
    """The component's identity as http_sfv gives it: (name, {parameters})."""
    params: list[tuple[str, object]] = [("req", True)] if found.req else []
    if found.key is not None:
        params.append(("key", found.key))
    return found.name, frozenset(params)


def signature_labels(value: str) -> list[str] | None:
    """The label of a canonical one-member `Signature` field value; None if not that."""
    found = _SIGNATURE.fullmatch(value)
    return None if found is None else [found.group(1)]


def plain(value: str) -> bool:
    """True if `value` may be written as an sf-string without escapes."""
    return re.fullmatch(_STRING, f'"{value}"') is not None


def sign(
    message: Message,
    specs: Sequence[str],
    digest: str | None,
    label: str,
    params: Mapping[str, int | str],
    signer: Callable[[bytes], bytes],
) -> dict[str, str] | None:
    """The headers that sign `message` (`Content-Digest` when `digest` is given,
    `Signature-Input`, `Signature`), or None when the package must sign it."""
    covered = [component(spec) for spec in specs]
    chosen = [c for c in covered if c is not None]
    if len(chosen) != len(covered) or not all(plain(str(v)) for v in params.values()):
        return None
    serialized = serialize_input(chosen, params)
    if digest is not None:
        message = dataclasses.replace(message, fields={**message.fields, "content-digest": digest})
    base = signature_base(message, chosen, serialized)
    if base is None:
        return None
    added = {"Content-Digest": digest} if digest is not None else {}
    added["Signature-Input"] = f"{label}={serialized}"
    added["Signature"] = f"{label}=:{base64.b64encode(signer(base)).decode()}:"
    return added
