"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) for the gateway.

Requests are signed by members and verified here; responses are signed by the gateway and
bound to the request they answer (RFC 9421 §2.4), so a window system can keep proof of what it
was told. Signature bases are built by the `http-message-signatures` package, not by hand;
this module decides the policy: which components must be covered, how old a signature may be,
which key may sign, and that a nonce is used once. Keys are found through callbacks, so the
module knows nothing of the database.

Signature bases must be ASCII: URLs are percent-encoded (UTF-8) before signing and verifying,
so a path or query holding Chinese (`holder_id=张三`) signs as `holder_id=%E5%BC%A0%E4%B8%89`.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    VerifyResult,
    algorithms,
)
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from gateway.members.keys import Algorithm, PrivateKey, PublicKey, algorithm_of, check_algorithm

LABEL = "govgate"
DEFAULT_MAX_AGE = 300.0  # seconds a request signature stays acceptable
DEFAULT_CLOCK_SKEW = 30.0  # seconds of disagreement tolerated between clocks
REQUEST_COMPONENTS = ("@method", "@path", "@query")
SIGNED_FIELDS = ("gov-purpose", "gov-case")  # covered whenever the request carries them
RESPONSE_COMPONENTS = ("@status", "content-digest", '"@method";req', '"@path";req', '"@query";req')
_MAX_FIELD_CHARS = 8192  # a Signature or Signature-Input larger than this is not ours
_MAX_NONCE_CHARS = 128
_ALGORITHMS: dict[str, Any] = {
    "ed25519": algorithms.ED25519,
    "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
}


class SignatureError(Exception):
    """Base of signature refusals; `code` is stable and safe to show to the caller."""

    retriable = False  # the same signed message will be refused again: sign anew
    code = "SIGNATURE_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


class SignatureMissing(SignatureError):
    code = "SIGNATURE_MISSING"


class SignatureInvalid(SignatureError):
    """Malformed signature fields, a wrong algorithm, or a signature that does not verify."""

    code = "SIGNATURE_INVALID"


class KeyUnknown(SignatureError):
    code = "KEY_UNKNOWN"


class KeyRevoked(SignatureError):
    """The key (or its member) is revoked, or outside its validity period."""

    code = "KEY_REVOKED"


class SignatureExpired(SignatureError):
    """`created` older than the maximum age, too far in the future, or `expires` passed."""

    code = "SIGNATURE_EXPIRED"


class NonceReplayed(SignatureError):
    code = "NONCE_REPLAYED"


class DigestMismatch(SignatureError):
    """The body does not match its signed Content-Digest (or the digest is malformed)."""

    code = "DIGEST_MISMATCH"


class ComponentMissing(SignatureError):
    """A component or parameter the policy requires is not covered by the signature."""

    code = "COMPONENT_MISSING"


class SigningFailed(SignatureError):
    """This side could not sign the message (e.g. a header value that is not ASCII)."""

    code = "SIGNING_FAILED"


@dataclass(frozen=True)
class KnownKey:
    """A verification key as the key lookup knows it; `inactive` says why it may not sign."""

    keyid: str
    alg: str
    public_key: PublicKey
    owner: str | None = None  # the member the key belongs to
    inactive: str | None = None  # "revoked", "expired", "member revoked", …; None: usable


KeyLookup = Callable[[str], Awaitable[KnownKey | None]]
NonceCheck = Callable[[str, str, float], Awaitable[bool]]  # (keyid, nonce, expires_at) → fresh


@dataclass(frozen=True)
class VerifiedRequest:
    """Who signed a request, when, and what the signature covers."""

    keyid: str
    owner: str | None
    alg: str
    created: int
    nonce: str | None
    covered: tuple[str, ...]


@dataclass(frozen=True)
class VerifiedResponse:
    keyid: str
    created: int
    covered: tuple[str, ...]


@dataclass
class _Request:  # the message shape http-message-signatures resolves components from
    method: str
    url: str
    headers: Any


@dataclass
class _Response:
    status_code: int
    headers: Any
    request: _Request


class _Verifier(HTTPMessageVerifier):
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        """Done by this module, with an injectable clock and its own error codes."""


def encode_url(url: str) -> str:
    """`url` with non-ASCII (UTF-8), spaces and other unsafe characters percent-encoded.

    Existing escapes are kept, so encoding twice changes nothing.
    """
    return urllib.parse.quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value of `body`: `sha-256=:<base64>:`."""
    return str(ContentDigest.create(body))


def verify_content_digest(value: str, body: bytes) -> None:
    """Check every digest in a `Content-Digest` value (sha-256, sha-512) against `body`."""
    try:
        ContentDigest.verify(value, body)
    except HTTPMessageSignaturesException as exc:
        raise DigestMismatch(str(exc)) from exc


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    return fields


def _sign(
    message: _Request | _Response,
    components: list[str],
    body: bytes | None,
    *,
    keyid: str,
    private_key: PrivateKey,
    alg: Algorithm | None,
    nonce: str | None,
    created: int | None,
) -> None:
    alg = alg or algorithm_of(private_key)
    if alg != algorithm_of(private_key):
        raise SigningFailed(f"alg {alg} does not match the {algorithm_of(private_key)} key")
    when = datetime.fromtimestamp(time.time() if created is None else created, tz=UTC)
    has_digest = "content-digest" in _fields(message.headers)
    if has_digest and not any("content-digest" in c for c in components):
        components.append("content-digest")
    signer = HTTPMessageSigner(
        signature_algorithm=_ALGORITHMS[check_algorithm(alg)],
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={keyid: private_key}),
    )
    try:
        signer.sign(
            message,
            key_id=keyid,
            created=when,
            nonce=nonce,
            label=LABEL,
            covered_component_ids=components,
            body=body,
            use_existing_digest=has_digest,
        )
    except HTTPMessageSignaturesException as exc:
        raise SigningFailed(str(exc)) from exc


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    keyid: str,
    private_key: PrivateKey,
    alg: Algorithm | None = None,
    nonce: str | None = None,
    created: int | None = None,
) -> dict[str, str]:
    """The request's headers plus `Signature-Input`, `Signature` (and `Content-Digest`).

    Covers `@method`, `@path`, `@query`, `gov-purpose` and `gov-case` when present, and
    `content-digest` when there is a body; parameters `created`, `keyid`, `alg`, `nonce` (a
    random one unless given). Send the request to `encode_url(url)`.
    """
    out = dict(headers)
    present = _fields(out)
    components = [*REQUEST_COMPONENTS, *(name for name in SIGNED_FIELDS if name in present)]
    _sign(
        _Request(method.upper(), encode_url(url), out),
        components,
        body or None,
        keyid=keyid,
        private_key=private_key,
        alg=alg,
        nonce=nonce or new_nonce(),
        created=created,
    )
    return out


@dataclass(frozen=True)
class _Parsed:
    identities: frozenset[tuple[object, frozenset[tuple[str, object]]]]  # covered components
    params: dict[str, object]


def _identity(item: Item) -> tuple[object, frozenset[tuple[str, object]]]:
    return item.value, frozenset(item.params.items())  # parameter order does not matter


def _component(spec: str) -> Item:
    item = Item()
    item.parse((spec if spec.startswith('"') else f'"{spec}"').encode("ascii"))
    return item


def _dictionary(value: str, name: str) -> Dictionary:
    if len(value) > _MAX_FIELD_CHARS:
        raise SignatureInvalid(f"{name} is longer than {_MAX_FIELD_CHARS} characters")
    parsed = Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureInvalid(f"malformed {name} field") from exc
    return parsed


def _parse_signature(headers: Mapping[str, str]) -> _Parsed:
    fields = _fields(headers)
    sig_input, signature = fields.get("signature-input"), fields.get("signature")
    if sig_input is None and signature is None:
        raise SignatureMissing("the message carries no Signature and Signature-Input fields")
    if sig_input is None or signature is None:
        raise SignatureInvalid("Signature and Signature-Input must both be present")
    inputs = _dictionary(sig_input, "Signature-Input")
    signatures = _dictionary(signature, "Signature")
    if len(inputs) != 1 or set(inputs) != set(signatures):
        raise SignatureInvalid("expected exactly one signature, with the same label in both fields")
    members = next(iter(inputs.values()))
    if not isinstance(members, InnerList):
        raise SignatureInvalid("Signature-Input member must be an inner list")
    return _Parsed(frozenset(_identity(item) for item in members), dict(members.params))


def _check_covered(parsed: _Parsed, required: Iterable[str]) -> None:
    missing = [spec for spec in required if _identity(_component(spec)) not in parsed.identities]
    if missing:
        raise ComponentMissing(f"the signature does not cover {', '.join(missing)}")


def _check_times(
    params: Mapping[str, object], now: float, max_age: float | None, skew: float
) -> int:
    created = params.get("created")
    if type(created) is not int:
        raise ComponentMissing("the signature has no integer created parameter")
    if created > now + skew:
        raise SignatureExpired(f"created {created} is more than {skew:g} s in the future")
    if max_age is not None and created + max_age + skew < now:
        raise SignatureExpired(f"created {created} is older than {max_age:g} s")
    expires = params.get("expires")
    if expires is not None and (type(expires) is not int or expires + skew < now):
        raise SignatureExpired(f"expires {expires} has passed")
    return created


def _check_key(keyid: str, key: KnownKey | None) -> KnownKey:
    if key is None:
        raise KeyUnknown(f"no key {keyid!r}")
    if key.inactive:
        raise KeyRevoked(f"key {keyid!r} may not sign: {key.inactive}")
    return key


def _verify_crypto(message: _Request | _Response, key: KnownKey) -> VerifyResult:
    verifier = _Verifier(
        signature_algorithm=_ALGORITHMS[check_algorithm(key.alg)],
        key_resolver=MappingKeyResolver(public_keys={key.keyid: key.public_key}, private_keys={}),
    )
    try:
        return verifier.verify(message, max_age=None)[0]
    except HTTPMessageSignaturesException as exc:
        raise SignatureInvalid(str(exc)) from exc


def _keyid(params: Mapping[str, object]) -> str:
    keyid = params.get("keyid")
    if not isinstance(keyid, str) or not keyid:
        raise ComponentMissing("the signature has no keyid parameter")
    return keyid


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    lookup: KeyLookup,
    nonces: NonceCheck | None = None,
    max_age: float = DEFAULT_MAX_AGE,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    require: Sequence[str] = REQUEST_COMPONENTS,
    require_nonce: bool = True,
    require_digest: bool = True,
    now: float | None = None,
) -> VerifiedRequest:
    """Verify a member's request signature, or raise the `SignatureError` saying why not.

    `url` is the absolute URL as received (raw path and query). Besides `require`, the
    signature must cover `gov-purpose`/`gov-case` when present and `content-digest` when there
    is a body or a digest; the digest must match the body. The nonce is checked last, so a
    forged request cannot use up a genuine caller's nonce.
    """
    now = time.time() if now is None else now
    parsed = _parse_signature(headers)
    fields = _fields(headers)
    has_digest = bool(body) or "content-digest" in fields
    required = [*require, *(name for name in SIGNED_FIELDS if name in fields)]
    if require_digest and has_digest:
        required.append("content-digest")
    _check_covered(parsed, required)
    keyid = _keyid(parsed.params)
    nonce = parsed.params.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or len(nonce) > _MAX_NONCE_CHARS):
        raise SignatureInvalid(f"nonce must be a string of at most {_MAX_NONCE_CHARS} characters")
    if require_nonce and not nonce:
        raise ComponentMissing("the signature has no nonce parameter")
    created = _check_times(parsed.params, now, max_age, clock_skew)
    key = _check_key(keyid, await lookup(keyid))
    message = _Request(method.upper(), encode_url(url), headers)
    result = _verify_crypto(message, key)
    if require_digest and has_digest:
        verify_content_digest(fields.get("content-digest", ""), body)
    if nonce and nonces is not None:
        if not await nonces(keyid, nonce, created + max_age + clock_skew):
            raise NonceReplayed(f"nonce {nonce!r} of key {keyid!r} was already used")
    return VerifiedRequest(
        keyid=keyid,
        owner=key.owner,
        alg=key.alg,
        created=created,
        nonce=nonce,
        covered=tuple(c for c in result.covered_components if c != '"@signature-params"'),
    )


def _request_signature_labels(request_headers: Mapping[str, str]) -> list[str]:
    value = _fields(request_headers).get("signature")
    if value is None:
        return []
    try:
        return list(_dictionary(value, "Signature"))
    except SignatureInvalid:
        return []  # nothing to bind to; the request was refused for it anyway


def _bound_components(request_headers: Mapping[str, str]) -> list[str]:
    labels = _request_signature_labels(request_headers)
    return [*RESPONSE_COMPONENTS, *(f'"signature";req;key="{label}"' for label in labels)]


def sign_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_method: str,
    request_url: str,
    request_headers: Mapping[str, str],
    keyid: str,
    private_key: PrivateKey,
    created: int | None = None,
) -> dict[str, str]:
    """The response's headers plus `Content-Digest`, `Signature-Input` and `Signature`.

    Covers `@status`, `content-digest`, and the request's `@method`, `@path`, `@query` and
    signature (`"signature";req;key=…`, when the request was signed): the response cannot be
    replayed as the answer to another request.
    """
    out = dict(headers)
    request = _Request(request_method.upper(), encode_url(request_url), request_headers)
    _sign(
        _Response(status, out, request),
        _bound_components(request_headers),
        body,
        keyid=keyid,
        private_key=private_key,
        alg=None,
        nonce=None,
        created=created,
    )
    return out


def verify_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_method: str,
    request_url: str,
    request_headers: Mapping[str, str],
    keys: Mapping[str, PublicKey],
    max_age: float | None = DEFAULT_MAX_AGE,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    now: float | None = None,
) -> VerifiedResponse:
    """Check the gateway's signature on a response to the request the caller sent.

    `keys` are the gateway's public keys by key id (`gateway.members.keys.keys_from_jwks`).
    `max_age=None` checks an archived response, kept as proof, whatever its age.
    """
    now = time.time() if now is None else now
    parsed = _parse_signature(headers)
    _check_covered(parsed, _bound_components(request_headers))
    keyid = _keyid(parsed.params)
    created = _check_times(parsed.params, now, max_age, clock_skew)
    public = keys.get(keyid)
    key = _check_key(
        keyid, None if public is None else KnownKey(keyid, algorithm_of(public), public)
    )
    request = _Request(request_method.upper(), encode_url(request_url), request_headers)
    result = _verify_crypto(_Response(status, headers, request), key)
    verify_content_digest(_fields(headers).get("content-digest", ""), body)
    covered = tuple(c for c in result.covered_components if c != '"@signature-params"')
    return VerifiedResponse(keyid=keyid, created=created, covered=covered)
