"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530), both ways.

- `messages`: members' requests signed and verified, the gateway's responses signed and bound
  to the request, Content-Digest; the policy of which components must be covered, how old a
  signature may be, which key may sign, and that a nonce is used once.
- `algorithms`: the signature algorithms by RFC 9421 name, govgate's `sm2-sm3` among them.
- `digests`: Content-Digest in sha-256, sha-512 or sm3, and which one answers a request.
- `base`: the signature bases of govgate's own message shapes built directly (the hot path),
  held to the `http-message-signatures` package's bytes by property tests.
- `deliveries`: the signatures on webhook deliveries, for the gateway and for receivers.
- `errors`: why a signature was refused, one error per reason with a stable `code`.
"""

from __future__ import annotations

from gateway.signatures.digests import content_digest, response_digest, verify_content_digest
from gateway.signatures.errors import SignatureError
from gateway.signatures.messages import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_AGE,
    KnownKey,
    VerifiedRequest,
    VerifiedResponse,
    encode_url,
    new_nonce,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_MAX_AGE",
    "KnownKey",
    "SignatureError",
    "VerifiedRequest",
    "VerifiedResponse",
    "content_digest",
    "encode_url",
    "new_nonce",
    "response_digest",
    "sign_request",
    "sign_response",
    "verify_content_digest",
    "verify_request",
    "verify_response",
]
