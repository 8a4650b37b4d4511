"""The signature algorithms govgate signs HTTP messages with, by their RFC 9421 names.

`ed25519` and `ecdsa-p256-sha256` are registered by RFC 9421 and implemented by the
`http-message-signatures` package. `sm2-sm3` is govgate's own (RFC 9421 registers no SM2
algorithm; §3.3.7 lets applications define one):

- the signature base M is built exactly as for any RFC 9421 algorithm (§2.5), and `alg="sm2-sm3"`
  travels in the signature parameters;
- sign (GB/T 32918.2-2016 §6.1, curve sm2p256v1 of GB/T 32918.5): with the signer's key pair
  (d_A, P_A = (x_A, y_A)) and the user id ID_A = the 16 ASCII bytes `1234567812345678` (the
  default of GM/T 0009-2012; govgate fixes it for HTTP messages, so nothing more has to be
  agreed), Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) with ENTL_A = 0x0080,
  e = SM3(Z_A || M), and (r, s) the SM2 signature of e with a fresh random k;
- the signature is r || s, each 32 bytes big-endian (64 bytes, as `ecdsa-p256-sha256` carries
  ECDSA); to verify, anything but exactly 64 bytes, or r or s outside [1, n-1], is refused.

Interoperability vector (GB/T 32918.5-2017 Appendix A): the key there, M = "message digest",
the default id, verifies r || s = F5A03B06…EEE720B3 || B1B6AA29…85BBC1AA (README, and
tests/gateway/signatures/test_sm2.py). The arithmetic is `gateway.crypto.sm2`'s (GmSSL).
"""

from __future__ import annotations

from typing import Any

from http_message_signatures import (
    HTTPMessageSignaturesException,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import InvalidSignature

from gateway.crypto.errors import BadSignature, CryptoError
from gateway.crypto.sm2 import DEFAULT_USER_ID, SM2PrivateKey, SM2PublicKey
from gateway.crypto.sm2_asn1 import RAW_SIGNATURE_SIZE

HTTP_USER_ID = DEFAULT_USER_ID  # ID_A of every sm2-sm3 HTTP message signature


class SM2_SM3(algorithms.HTTPSignatureAlgorithm):  # noqa: N801 (the package's naming)
    """`sm2-sm3` for the `http-message-signatures` package and govgate's fast path: keys are
    `gateway.crypto.sm2`'s (not PEM bytes: read them with `gateway.members.keys`)."""

    algorithm_id = "sm2-sm3"

    def __init__(self, public_key: Any = None, private_key: Any = None) -> None:
        if public_key is not None and not isinstance(public_key, SM2PublicKey):
            raise HTTPMessageSignaturesException("Unexpected public key type")
        if private_key is not None and not isinstance(private_key, SM2PrivateKey):
            raise HTTPMessageSignaturesException("Unexpected private key type")
        self.public_key: SM2PublicKey | None = public_key
        self.private_key: SM2PrivateKey | None = private_key

    def sign(self, message: bytes) -> bytes:
        """r || s (64 bytes) over `message`, the signature base."""
        if self.private_key is None:
            raise HTTPMessageSignaturesException("No private key to sign with")
        try:
            return self.private_key.sign(message, user_id=HTTP_USER_ID, encoding="raw")
        except CryptoError as exc:
            raise HTTPMessageSignaturesException(f"SM2 signing failed: {exc}") from exc

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if `signature` (r || s) is the key's over `message`; else `InvalidSignature`."""
        if self.public_key is None:
            raise HTTPMessageSignaturesException("No public key to verify with")
        if len(signature) != RAW_SIGNATURE_SIZE:
            raise InvalidSignature("Unexpected signature length")
        try:
            self.public_key.verify(signature, message, user_id=HTTP_USER_ID, encoding="raw")
        except BadSignature as exc:  # MalformedSignature too: r or s out of range
            raise InvalidSignature(f"{exc.code}: {exc.detail}") from exc
        except CryptoError as exc:
            raise HTTPMessageSignaturesException(f"SM2 verification failed: {exc}") from exc


ALGORITHMS: dict[str, type[algorithms.HTTPSignatureAlgorithm]] = {
    "ed25519": algorithms.ED25519,
    "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
    "sm2-sm3": SM2_SM3,
}


def one_key(keyid: str, *, public_key: object = None, private_key: object = None) -> Any:
    """The package's key resolver holding one key of any algorithm in `ALGORITHMS` (its
    `MappingKeyResolver` is typed for its own algorithms' keys only)."""
    public: dict[str, Any] = {} if public_key is None else {keyid: public_key}
    private: dict[str, Any] = {} if private_key is None else {keyid: private_key}
    return MappingKeyResolver(public_keys=public, private_keys=private)
