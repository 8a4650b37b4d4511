"""Errors of the national-algorithm layer. None is retriable: the input is wrong."""

from __future__ import annotations

from schemas.errors import GovgateError


class CryptoError(GovgateError):
    """Base of the package's errors."""

    code = "CRYPTO_ERROR"


class KeyFormatError(CryptoError):
    """Key material that is unreadable, of another kind (RSA, another curve), or inconsistent
    (a private key whose stated public key is not its own, a point not on the curve)."""

    code = "KEY_FORMAT"


class InvalidUserId(CryptoError):
    """An SM2 user id (ID_A) that is empty or longer than the 2-byte ENTL allows (8191 bytes)."""

    code = "INVALID_USER_ID"


class BadSignature(CryptoError):
    """The signature does not verify under this key, message and user id."""

    code = "BAD_SIGNATURE"


class MalformedSignature(BadSignature):
    """Not a signature at all: wrong length, not strict DER, r or s outside [1, n-1]."""

    code = "MALFORMED_SIGNATURE"


class BackendError(CryptoError):
    """The underlying library failed or lacks the algorithm (e.g. an OpenSSL without SM3)."""

    code = "CRYPTO_BACKEND"
