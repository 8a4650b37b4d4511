"""Content-Digest (RFC 9530) in SHA-256, SHA-512 or SM3, and which one a response uses.

RFC 9530 registers `sha-256` and `sha-512`. govgate also accepts `sm3`: the SM3 hash (GB/T
32905) of the content, as a Structured Field Byte Sequence like the others
(`sm3=:<base64 of 32 bytes>:`), so that a deployment held to the national algorithms (国密)
hashes with SM3 wherever a body is protected. The digests are the package's
(`http_message_signatures.ContentDigest`) with SM3 added, so signing and verifying through the
package and through govgate's fast path see the same digests.

A response's digest is in the algorithm the caller asked for (`response_digest`): the highest
preference of its `Want-Content-Digest` (RFC 9530 §4, e.g. `sm3=10, sha-256=1`) among those the
gateway allows, else the algorithm of the request's own `Content-Digest`, else the first digest
algorithm the operator allows (`GOVGATE_GATEWAY_ALGORITHMS`; SHA-256 by default).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from http_message_signatures import ContentDigest, HTTPMessageSignaturesException
from http_sfv.dictionary import Dictionary
from http_sfv.item import Item

from gateway.crypto.sm3 import SM3
from gateway.signatures.errors import DigestMismatch, DigestNotAllowed

DigestAlgorithm: TypeAlias = Literal["sha-256", "sha-512", "sm3"]
DIGEST_ALGORITHMS: tuple[DigestAlgorithm, ...] = get_args(DigestAlgorithm)
WANT_CONTENT_DIGEST = "want-content-digest"
_MAX_WANT_CHARS = 256  # a preference list longer than this is ignored, not parsed


class ContentDigests(ContentDigest):
    """The package's Content-Digest with SM3 beside SHA-256 and SHA-512."""

    _hashers: ClassVar[dict[str, Callable[..., Any]]] = {
        "sha-256": hashlib.sha256,
        "sha-512": hashlib.sha512,
        "sm3": SM3,
    }


@functools.cache
def digest_class(alg: DigestAlgorithm) -> type[ContentDigests]:
    """`ContentDigests` creating `alg` digests: what a package signer is given."""
    if alg not in DIGEST_ALGORITHMS:
        raise DigestNotAllowed(f"unknown digest algorithm {alg!r}")
    return type(f"ContentDigests_{alg}", (ContentDigests,), {"algorithm": alg})


def content_digest(body: bytes, alg: DigestAlgorithm = "sha-256") -> str:
    """The `Content-Digest` value of `body` in `alg`: `sha-256=:<base64>:`, `sm3=:…:`."""
    return digest_class(alg).create(body)


def digest_names(value: str) -> list[str]:
    """The algorithms of a `Content-Digest` value, in order; `DigestMismatch` if malformed."""
    try:
        return list(ContentDigests._parse(value))
    except HTTPMessageSignaturesException as exc:
        raise DigestMismatch(str(exc)) from exc


def check_digest_allowed(value: str, allowed: Collection[str]) -> None:
    """`DigestNotAllowed` unless every algorithm of a `Content-Digest` value is in `allowed`."""
    refused = [name for name in digest_names(value) if name not in allowed]
    if refused:
        accepted = ", ".join(a for a in DIGEST_ALGORITHMS if a in allowed) or "none"
        raise DigestNotAllowed(
            f"Content-Digest algorithm {', '.join(refused)} is not allowed here; use {accepted}"
        )


def verify_content_digest(
    value: str, body: bytes, *, allowed: Collection[str] | None = None
) -> None:
    """Check every digest of a `Content-Digest` value against `body`.

    With `allowed`, a digest in an algorithm it does not list is refused (`DigestNotAllowed`)
    before anything is hashed: an SM-only gateway takes `sm3` and nothing else.
    """
    if allowed is not None:
        check_digest_allowed(value, allowed)
    try:
        ContentDigests.verify(value, body)
    except HTTPMessageSignaturesException as exc:
        raise DigestMismatch(str(exc)) from exc


def wanted_digests(value: str) -> list[tuple[str, int]]:
    """The (algorithm, preference) pairs of a `Want-Content-Digest` value, preference 1–10
    (0, "not acceptable", is left out); [] for a value that does not parse."""
    if len(value) > _MAX_WANT_CHARS:
        return []
    parsed = Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return []
    found = []
    for name, member in parsed.items():
        weight = member.value if isinstance(member, Item) else None
        if type(weight) is int and 1 <= weight <= 10:
            found.append((name, weight))
    return found


def response_digest(
    request_fields: Mapping[str, str], allowed: Sequence[str] = DIGEST_ALGORITHMS
) -> DigestAlgorithm:
    """The algorithm of the `Content-Digest` answering a request with these (lower-cased)
    header fields: its `Want-Content-Digest` first, then its own `Content-Digest`, then the
    first digest algorithm of `allowed`; only ever one that `allowed` lists."""
    usable = [a for a in allowed if a in DIGEST_ALGORITHMS]
    if not usable:
        raise DigestNotAllowed("no digest algorithm is allowed")
    want = request_fields.get(WANT_CONTENT_DIGEST)
    if want:
        ranked = [(w, -usable.index(n), n) for n, w in wanted_digests(want) if n in usable]
        if ranked:
            return _digest(max(ranked)[2])
    sent = request_fields.get("content-digest")
    if sent:
        try:
            for name in digest_names(sent):
                if name in usable:
                    return _digest(name)
        except DigestMismatch:
            pass  # the request was refused for it; answer in the default
    return _digest(usable[0])


def _digest(name: str) -> DigestAlgorithm:
    for known in DIGEST_ALGORITHMS:
        if name == known:
            return known
    raise DigestNotAllowed(f"unknown digest algorithm {name!r}")
