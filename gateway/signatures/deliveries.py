"""Signatures on webhook deliveries (RFC 9421) with Content-Digest (RFC 9530): both sides.

The gateway signs each delivery with its response key (published at
`/.well-known/govgate-keys`; Ed25519, P-256 or SM2), covering `@method`, `@target-uri`,
`content-type`, `content-digest` (sha-256, or sm3 on an SM-only gateway),
`govgate-subscription` and `govgate-delivery`, with parameters `created`, `keyid`, `alg`,
`nonce` and `tag="govgate-webhook"` (the tag keeps a delivery signature from passing for any
other govgate signature). A receiver checks a delivery with `verify_delivery`, giving the
target URL it registered (not the Host it was reached at: a proxy may change it).

Signature bases must be ASCII, so target URLs are stored percent-encoded
(`gateway.webhooks.targets`) and encoded again here, harmlessly, before signing and verifying.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
)
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList

from gateway.members.keys import PrivateKey, PublicKey, algorithm_of
from gateway.signatures.algorithms import ALGORITHMS, one_key
from gateway.signatures.base import field_lines
from gateway.signatures.digests import (
    ContentDigests,
    DigestAlgorithm,
    content_digest,
    verify_content_digest,
)
from gateway.signatures.errors import (
    ComponentMissing,
    KeyUnknown,
    NonceReplayed,
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
    SigningFailed,
)
from gateway.signatures.messages import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_AGE,
    PackageVerifier,
    RequestMessage,
    encode_url,
    new_nonce,
)

TAG = "govgate-webhook"
LABEL = "govgate"
CONTENT_TYPE = "application/cloudevents-batch+json"
SUBSCRIPTION_HEADER = "govgate-subscription"
DELIVERY_HEADER = "govgate-delivery"
COMPONENTS = (
    "@method",
    "@target-uri",
    "content-type",
    "content-digest",
    SUBSCRIPTION_HEADER,
    DELIVERY_HEADER,
)

NonceCheck = Callable[[str, str, float], Awaitable[bool]]  # (keyid, nonce, expires_at) → fresh


def sign_delivery(
    url: str,
    body: bytes,
    *,
    subscription_id: str,
    delivery_id: str,
    keyid: str,
    private_key: PrivateKey,
    created: int | None = None,
    digest: DigestAlgorithm = "sha-256",
) -> dict[str, str]:
    """The headers of a POST of `body` to `url`: Content-Type, Content-Digest (in `digest`:
    `sm3` on an SM-only gateway), the govgate delivery headers, Signature-Input and Signature."""
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": content_digest(body, digest),
        "Govgate-Subscription": subscription_id,
        "Govgate-Delivery": delivery_id,
    }
    alg = algorithm_of(private_key)
    signer = HTTPMessageSigner(
        signature_algorithm=ALGORITHMS[alg],
        key_resolver=one_key(keyid, private_key=private_key),
    )
    signer.content_digest_class = ContentDigests
    when = datetime.fromtimestamp(time.time() if created is None else created, tz=UTC)
    try:
        signer.sign(
            RequestMessage("POST", encode_url(url), headers),
            key_id=keyid,
            created=when,
            nonce=new_nonce(),
            label=LABEL,
            tag=TAG,
            covered_component_ids=COMPONENTS,
            body=body,
            use_existing_digest=True,
        )
    except HTTPMessageSignaturesException as exc:
        raise SigningFailed(str(exc)) from exc
    return headers


@dataclass(frozen=True)
class VerifiedDelivery:
    """A delivery whose signature and digest verified, with its events parsed."""

    keyid: str
    created: int
    nonce: str
    subscription_id: str
    delivery_id: str
    events: list[dict[str, Any]]  # CloudEvents (JSON format), in log order


async def verify_delivery(
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: Mapping[str, PublicKey],
    method: str = "POST",
    nonces: NonceCheck | None = None,
    max_age: float = DEFAULT_MAX_AGE,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    now: float | None = None,
) -> VerifiedDelivery:
    """Check a webhook delivery the gateway signed, or raise the `SignatureError` saying why.

    `url` is the target URL the subscription names; `keys` the gateway's published keys by key
    id (`gateway.members.keys.keys_from_jwks`); `nonces`, when given, refuses a replayed
    nonce (a retried delivery is signed anew, so its nonce is fresh).
    """
    now = time.time() if now is None else now
    fields = field_lines(headers)
    if "signature" not in fields and "signature-input" not in fields:
        raise SignatureMissing("the delivery carries no Signature and Signature-Input fields")
    keyid, params = _signature_params(fields)
    public = keys.get(keyid)
    if public is None:
        raise KeyUnknown(f"no gateway key {keyid!r}")
    created = params.get("created")
    if type(created) is not int:
        raise ComponentMissing("the signature has no integer created parameter")
    if created > now + clock_skew or created + max_age + clock_skew < now:
        raise SignatureExpired(f"created {created} is outside the allowed window")
    nonce = params.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ComponentMissing("the signature has no nonce parameter")
    verifier = PackageVerifier(
        signature_algorithm=ALGORITHMS[algorithm_of(public)],
        key_resolver=one_key(keyid, public_key=public),
    )
    try:
        verifier.verify(
            RequestMessage(method.upper(), encode_url(url), headers),
            max_age=None,
            expect_tag=TAG,
            require_components=COMPONENTS,
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureInvalid(str(exc)) from exc
    verify_content_digest(fields.get("content-digest", ""), body)
    if nonces is not None and not await nonces(keyid, nonce, created + max_age + clock_skew):
        raise NonceReplayed(f"nonce {nonce!r} of key {keyid!r} was already used")
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureInvalid("the signed body is not JSON") from exc
    if not isinstance(events, list):
        raise SignatureInvalid("the signed body is not a CloudEvents batch")
    return VerifiedDelivery(
        keyid=keyid,
        created=created,
        nonce=nonce,
        subscription_id=fields[SUBSCRIPTION_HEADER],
        delivery_id=fields[DELIVERY_HEADER],
        events=events,
    )


def _signature_params(fields: Mapping[str, str]) -> tuple[str, dict[str, object]]:
    """The keyid and parameters of the delivery's one signature (tag govgate-webhook)."""
    value = fields.get("signature-input", "")
    parsed = Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureInvalid("malformed Signature-Input field") from exc
    for member in parsed.values():
        if isinstance(member, InnerList) and member.params.get("tag") == TAG:
            keyid = member.params.get("keyid")
            if not isinstance(keyid, str) or not keyid:
                raise ComponentMissing("the signature has no keyid parameter")
            return keyid, dict(member.params)
    raise SignatureInvalid(f"no signature with tag {TAG!r}")
