"""The national (国密) algorithms: SM2 signatures (GB/T 32918) and SM3 hashes (GB/T 32905).

`sm3` hashes (one-shot and incremental, for the audit chain and content addressing); `sm2`
holds SM2 keys — generation, PEM/DER in the standard encodings, the public JWK and its key id —
and signs and verifies with the SM3 Z_A pre-hash; `der` and `jwk` are the small encodings they
share. No curve arithmetic is written here: it is GmSSL's (the `gmssl-pyx` extension), SM3 is
OpenSSL's (through `cryptography`), and the tests check both against the standards' own
examples and against independent implementations.

This module holds only the package's error tree and imports nothing, like the other domain
packages: callers catch `CryptoError` and read `code`, `retriable` and `detail`.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of the package's errors; `code` is stable. None is retriable: the input is wrong."""

    retriable = False
    code = "CRYPTO_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


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
