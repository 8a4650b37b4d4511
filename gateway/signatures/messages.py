"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) for the gateway.

Requests are signed by members and verified here; responses are signed by the gateway and
bound to the request they answer (RFC 9421 §2.4), so a window system can keep proof of what it
was told. Signature bases are built by the `http-message-signatures` package, not by hand;
this module decides the policy: which components must be covered, how old a signature may be,
which key may sign, and that a nonce is used once. Keys are found through callbacks, so the
module knows nothing of the database.

Algorithms: `ed25519`, `ecdsa-p256-sha256` and govgate's `sm2-sm3` (`gateway.signatures.
algorithms`); Content-Digest in `sha-256`, `sha-512` or `sm3` (`gateway.signatures.digests`).
With `algorithms`, verification refuses any other (an SM-only gateway: `sm2-sm3`, `sm3`).

Signature bases must be ASCII: URLs are percent-encoded (UTF-8) before signing and verifying,
so a path or query holding Chinese (`holder_id=张三`) signs as `holder_id=%E5%BC%A0%E4%B8%89`.
"""

from __future__ import annotations

import base64
import functools
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    VerifyResult,
)
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from gateway.members.keys import Algorithm, PrivateKey, PublicKey, algorithm_of, check_algorithm
from gateway.signatures import base as fast
from gateway.signatures.algorithms import ALGORITHMS, one_key
from gateway.signatures.base import field_lines as _fields
from gateway.signatures.digests import (
    ContentDigests,
    DigestAlgorithm,
    check_digest_allowed,
    content_digest,
    digest_class,
    digest_names,
    verify_content_digest,
)
from gateway.signatures.errors import (
    AlgorithmNotAllowed,
    ComponentMissing,
    DigestNotAllowed,
    KeyRevoked,
    KeyUnknown,
    NonceReplayed,
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
    SigningFailed,
)

LABEL = "govgate"
DEFAULT_MAX_AGE = 300.0  # seconds a request signature stays acceptable
DEFAULT_CLOCK_SKEW = 30.0  # seconds of disagreement tolerated between clocks
REQUEST_COMPONENTS = ("@method", "@authority", "@path", "@query")  # @authority: the gateway meant
SIGNED_FIELDS = ("gov-purpose", "gov-case")  # covered whenever the request carries them
RESPONSE_COMPONENTS = ("@status", "content-digest", '"@method";req', '"@path";req', '"@query";req')
_MAX_FIELD_CHARS = 8192  # a Signature or Signature-Input larger than this is not ours
_MAX_NONCE_CHARS = 128


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
class RequestMessage:
    """A request as http-message-signatures resolves components from it."""

    method: str
    url: str
    headers: Any

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        """Header fields by lower-cased name, repeated lines joined (computed once)."""
        return _fields(self.headers)


@dataclass
class ResponseMessage:
    """A response, with the request it answers."""

    status_code: int
    headers: Any
    request: RequestMessage

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        return _fields(self.headers)


class PackageVerifier(HTTPMessageVerifier):
    """The package's verifier without its own time checks (callers make them, with an
    injectable clock and their own error codes), and with SM3 digests."""

    content_digest_class = ContentDigests

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        """Done by this module, with an injectable clock and its own error codes."""


def encode_url(url: str) -> str:
    """`url` with non-ASCII (UTF-8), spaces and other unsafe characters percent-encoded.

    Existing escapes are kept, so encoding twice changes nothing.
    """
    return urllib.parse.quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def _sign(
    message: RequestMessage | ResponseMessage,
    components: list[str],
    body: bytes | None,
    *,
    keyid: str,
    private_key: PrivateKey,
    alg: Algorithm | None,
    nonce: str | None,
    created: int | None,
    digest: DigestAlgorithm,
) -> None:
    alg = alg or algorithm_of(private_key)
    if alg != algorithm_of(private_key):
        raise SigningFailed(f"alg {alg} does not match the {algorithm_of(private_key)} key")
    when = int(time.time()) if created is None else int(created)
    has_digest = "content-digest" in message.fields
    if has_digest and not any("content-digest" in c for c in components):
        components.append("content-digest")
    if _sign_fast(
        message, components, body, has_digest, keyid, private_key, alg, nonce, when, digest
    ):
        return
    signer = HTTPMessageSigner(
        signature_algorithm=ALGORITHMS[check_algorithm(alg)],
        key_resolver=one_key(keyid, private_key=private_key),
    )
    signer.content_digest_class = digest_class(digest)
    try:
        signer.sign(
            message,
            key_id=keyid,
            created=datetime.fromtimestamp(when, tz=UTC),
            nonce=nonce,
            label=LABEL,
            covered_component_ids=components,
            body=body,
            use_existing_digest=has_digest,
        )
    except HTTPMessageSignaturesException as exc:
        raise SigningFailed(str(exc)) from exc


def _fast_message(message: RequestMessage | ResponseMessage) -> fast.Message:
    if isinstance(message, ResponseMessage):
        request = _fast_message(message.request)
        return fast.Message("", "", message.fields, message.status_code, request)
    return fast.Message(message.method, message.url, message.fields)


def _sign_fast(
    message: RequestMessage | ResponseMessage,
    components: list[str],
    body: bytes | None,
    has_digest: bool,
    keyid: str,
    private_key: PrivateKey,
    alg: str,
    nonce: str | None,
    created: int,
    digest_alg: DigestAlgorithm,
) -> bool:
    """Sign as the package would (same headers, same bytes) when the shape allows; else False."""
    headers = message.headers
    if any(name.lower() in ("signature", "signature-input") for name in headers):
        return False
    digest = None if has_digest or body is None else content_digest(body, digest_alg)
    if digest is not None and "content-digest" not in components:
        components = [*components, "content-digest"]
    params: dict[str, int | str] = {"created": created, "keyid": keyid, "alg": alg}
    if nonce is not None:
        params["nonce"] = nonce
    try:
        signer = ALGORITHMS[alg](private_key=private_key)
        added = fast.sign(_fast_message(message), components, digest, LABEL, params, signer.sign)
    except HTTPMessageSignaturesException as exc:
        raise SigningFailed(str(exc)) from exc
    if added is None:
        return False
    headers.update(added)
    return True


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
    digest: DigestAlgorithm = "sha-256",
) -> dict[str, str]:
    """The request's headers plus `Signature-Input`, `Signature` (and `Content-Digest`, in
    `digest`, unless the headers carry one).

    Covers `@method`, `@authority` (the host and port of `url`: sign the gateway's public URL),
    `@path`, `@query`, `gov-purpose` and `gov-case` when present, and
    `content-digest` when there is a body; parameters `created`, `keyid`, `alg`, `nonce` (a
    random one unless given). Send the request to `encode_url(url)`.
    """
    out = dict(headers)
    present = _fields(out)
    components = [*REQUEST_COMPONENTS, *(name for name in SIGNED_FIELDS if name in present)]
    _sign(
        RequestMessage(method.upper(), encode_url(url), out),
        components,
        body or None,
        keyid=keyid,
        private_key=private_key,
        alg=alg,
        nonce=nonce or new_nonce(),
        created=created,
        digest=digest,
    )
    return out


@dataclass(frozen=True)
class _Parsed:
    identities: frozenset[tuple[object, frozenset[tuple[str, object]]]]  # covered components
    params: Mapping[str, object]
    canonical: fast.SignatureInput | None = None  # set when the fast path can verify it


def _identity(item: Item) -> tuple[object, frozenset[tuple[str, object]]]:
    return item.value, frozenset(item.params.items())  # parameter order does not matter


@functools.lru_cache(maxsize=256)
def _required(spec: str) -> tuple[object, frozenset[tuple[str, object]]]:
    item = Item()
    item.parse((spec if spec.startswith('"') else f'"{spec}"').encode("ascii"))
    return _identity(item)


def _dictionary(value: str, name: str) -> Dictionary:
    if len(value) > _MAX_FIELD_CHARS:
        raise SignatureInvalid(f"{name} is longer than {_MAX_FIELD_CHARS} characters")
    parsed = Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureInvalid(f"malformed {name} field") from exc
    return parsed


def _parse_signature(fields: Mapping[str, str]) -> _Parsed:
    """The one signature of a message's (joined, lower-cased) header `fields`."""
    sig_input, signature = fields.get("signature-input"), fields.get("signature")
    if sig_input is None and signature is None:
        raise SignatureMissing("the message carries no Signature and Signature-Input fields")
    if sig_input is None or signature is None:
        raise SignatureInvalid("Signature and Signature-Input must both be present")
    if max(len(sig_input), len(signature)) <= _MAX_FIELD_CHARS:
        found = fast.parse_signature(fields)
        if found is not None:
            identities = frozenset(fast.identity(c) for c in found.components)
            return _Parsed(identities, found.params, found)
    inputs = _dictionary(sig_input, "Signature-Input")
    signatures = _dictionary(signature, "Signature")
    if len(inputs) != 1 or set(inputs) != set(signatures):
        raise SignatureInvalid("expected exactly one signature, with the same label in both fields")
    members = next(iter(inputs.values()))
    if not isinstance(members, InnerList):
        raise SignatureInvalid("Signature-Input member must be an inner list")
    return _Parsed(frozenset(_identity(item) for item in members), dict(members.params))


def _check_covered(parsed: _Parsed, required: Iterable[str]) -> None:
    missing = [spec for spec in required if _required(spec) not in parsed.identities]
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


def _verify_crypto(
    message: RequestMessage | ResponseMessage, key: KnownKey, parsed: _Parsed
) -> tuple[str, ...]:
    """Check the signature; the covered components, as serialised, if it verifies."""
    found = parsed.canonical
    base = (
        None
        if found is None
        else fast.signature_base(_fast_message(message), found.components, found.serialized)
    )
    if found is None or base is None:
        result = _verify_with_package(message, key)
        return tuple(c for c in result.covered_components if c != '"@signature-params"')
    if found.params.get("alg", key.alg) != key.alg:
        raise SignatureInvalid("Unexpected algorithm specified in the signature")
    try:
        algorithm = ALGORITHMS[check_algorithm(key.alg)](public_key=key.public_key)
        algorithm.verify(base64.b64decode(found.signature[1:-1]), base)
    except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as exc:
        raise SignatureInvalid(f"the signature does not verify: {exc!r}") from exc
    return tuple(str(c) for c in found.components)


def _verify_with_package(message: RequestMessage | ResponseMessage, key: KnownKey) -> VerifyResult:
    verifier = PackageVerifier(
        signature_algorithm=ALGORITHMS[check_algorithm(key.alg)],
        key_resolver=one_key(key.keyid, public_key=key.public_key),
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
    algorithms: Collection[str] | None = None,
    now: float | None = None,
) -> VerifiedRequest:
    """Verify a member's request signature, or raise the `SignatureError` saying why not.

    `url` is the absolute URL as received (raw path and query). Besides `require`, the
    signature must cover `gov-purpose`/`gov-case` when present and `content-digest` when there
    is a body or a digest; the digest must match the body. `algorithms`, when given, lists the
    signature and digest algorithms accepted (others: `AlgorithmNotAllowed`,
    `DigestNotAllowed`). The nonce is checked last, so a forged request cannot use up a
    genuine caller's nonce.
    """
    now = time.time() if now is None else now
    message = RequestMessage(method.upper(), encode_url(url), headers)
    fields = message.fields
    parsed = _parse_signature(fields)
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
    if algorithms is not None and key.alg not in algorithms:
        raise AlgorithmNotAllowed(f"key {keyid!r} is {key.alg}, which this gateway does not accept")
    digest = fields.get("content-digest", "")
    if require_digest and has_digest and algorithms is not None:
        check_digest_allowed(digest, algorithms)  # before any hashing or verifying
    covered = _verify_crypto(message, key, parsed)
    if require_digest and has_digest:
        verify_content_digest(digest, body)
    if nonce and nonces is not None:
        if not await nonces(keyid, nonce, created + max_age + clock_skew):
            raise NonceReplayed(f"nonce {nonce!r} of key {keyid!r} was already used")
    return VerifiedRequest(
        keyid=keyid,
        owner=key.owner,
        alg=key.alg,
        created=created,
        nonce=nonce,
        covered=covered,
    )


def _request_signature_labels(request_fields: Mapping[str, str]) -> list[str]:
    value = request_fields.get("signature")
    if value is None:
        return []
    labels = fast.signature_labels(value)
    if labels is not None:
        return labels
    try:
        return list(_dictionary(value, "Signature"))
    except SignatureInvalid:
        return []  # nothing to bind to; the request was refused for it anyway


def _bound_components(request_fields: Mapping[str, str], *, digest: bool = True) -> list[str]:
    labels = _request_signature_labels(request_fields)
    own = [c for c in RESPONSE_COMPONENTS if digest or c != "content-digest"]
    return [*own, *(f'"signature";req;key="{label}"' for label in labels)]


def sign_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    request_method: str,
    request_url: str,
    request_headers: Mapping[str, str],
    keyid: str,
    private_key: PrivateKey,
    created: int | None = None,
    digest: DigestAlgorithm = "sha-256",
) -> dict[str, str]:
    """The response's headers plus `Content-Digest` (in `digest`), `Signature-Input` and
    `Signature`.

    Covers `@status`, `content-digest`, and the request's `@method`, `@path`, `@query` and
    signature (`"signature";req;key=…`, when the request was signed): the response cannot be
    replayed as the answer to another request. `gateway.signatures.digests.response_digest`
    says which `digest` the request asked for.

    `body=None` signs the head of a streamed response (Server-Sent Events), whose body is
    not known yet: everything above but `content-digest`, and no `Content-Digest` is added.
    """
    out = dict(headers)
    request = RequestMessage(request_method.upper(), encode_url(request_url), request_headers)
    _sign(
        ResponseMessage(status, out, request),
        _bound_components(request.fields, digest=body is not None),
        body,
        keyid=keyid,
        private_key=private_key,
        alg=None,
        nonce=None,
        created=created,
        digest=digest,
    )
    return out


def verify_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    request_method: str,
    request_url: str,
    request_headers: Mapping[str, str],
    keys: Mapping[str, PublicKey],
    max_age: float | None = DEFAULT_MAX_AGE,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    digest: DigestAlgorithm | None = None,
    now: float | None = None,
) -> VerifiedResponse:
    """Check the gateway's signature on a response to the request the caller sent.

    `keys` are the gateway's public keys by key id (`gateway.members.keys.keys_from_jwks`).
    `max_age=None` checks an archived response, kept as proof, whatever its age.
    `body=None` checks the head of a streamed (SSE) response, signed without a digest.
    `digest`, when given, must be the algorithm of the response's Content-Digest (a caller
    that asked for `sm3` takes no other: `DigestNotAllowed`).
    """
    now = time.time() if now is None else now
    request = RequestMessage(request_method.upper(), encode_url(request_url), request_headers)
    response = ResponseMessage(status, headers, request)
    parsed = _parse_signature(response.fields)
    _check_covered(parsed, _bound_components(request.fields, digest=body is not None))
    keyid = _keyid(parsed.params)
    created = _check_times(parsed.params, now, max_age, clock_skew)
    public = keys.get(keyid)
    key = _check_key(
        keyid, None if public is None else KnownKey(keyid, algorithm_of(public), public)
    )
    covered = _verify_crypto(response, key, parsed)
    if body is not None:
        value = response.fields.get("content-digest", "")
        if digest is not None and digest_names(value) != [digest]:
            raise DigestNotAllowed(f"the response's Content-Digest is not in {digest} alone")
        verify_content_digest(value, body)
    return VerifiedResponse(keyid=keyid, created=created, covered=covered)
