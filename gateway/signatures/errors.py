"""Why a signature was refused: one error per reason, each with a stable `code`.

Raised by `gateway.signatures`; the gateway answers them as RFC 9457 problems with the same
codes (`gateway.api.problems`), and the client raises them for a response that does not verify.
"""

from __future__ import annotations

from schemas.errors import GovgateError


class SignatureError(GovgateError):
    """Base of signature refusals; `code` is stable and safe to show to the caller. None is
    retriable: the same signed message will be refused again, so sign anew."""

    code = "SIGNATURE_ERROR"


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


class DigestNotAllowed(SignatureError):
    """A Content-Digest in an algorithm the operator does not allow (an SM-only gateway takes
    `sm3` only), or in none govgate knows to produce."""

    code = "DIGEST_NOT_ALLOWED"


class AlgorithmNotAllowed(SignatureError):
    """Signed with a key whose algorithm the operator does not allow (an SM-only gateway
    takes `sm2-sm3` only: `GOVGATE_GATEWAY_ALGORITHMS`)."""

    code = "ALGORITHM_NOT_ALLOWED"


class ComponentMissing(SignatureError):
    """A component or parameter the policy requires is not covered by the signature."""

    code = "COMPONENT_MISSING"


class SigningFailed(SignatureError):
    """This side could not sign the message (e.g. a header value that is not ASCII)."""

    code = "SIGNING_FAILED"
