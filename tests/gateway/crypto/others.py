"""The independent implementations the tests check gateway.crypto against (test-only deps).

- Tongsuo (OpenSSL lineage, C) through `tongsuopy`: reads and writes PEM, signs and verifies
  with the default user id only (it exposes no way to set another).
- `gmalg`, pure Python: any user id, and an injectable random source, so it can sign with the
  standard's fixed k.
"""

from __future__ import annotations

import gmalg
from gmalg import ellipticcurve as gmalg_ec
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

from tests.gateway.crypto.vectors import PART2_CURVE

_SM2_SM3 = ec.ECDSA(hashes.SM3())


def gmalg_sign(d: int, xy: bytes, message: bytes, user_id: bytes, k: int | None = None) -> bytes:
    """r || s by gmalg; with `k`, the deterministic signature of the standard's examples."""
    rnd = None if k is None else (lambda bits: k)
    signer = gmalg.SM2(d.to_bytes(32, "big"), user_id, b"\x04" + xy, rnd_fn=rnd)
    r, s = signer.sign(message)
    return r.rjust(32, b"\x00") + s.rjust(32, b"\x00")


def gmalg_verify(xy: bytes, message: bytes, raw: bytes, user_id: bytes) -> bool:
    verifier = gmalg.SM2(uid=user_id, pk=b"\x04" + xy)
    return bool(verifier.verify(message, raw[:32], raw[32:]))


def gmalg_sign_on_part2_curve(
    d: int, xy: bytes, message: bytes, user_id: bytes, k: int
) -> tuple[int, int]:
    """(r, s) by gmalg's SM2 core on the example curve of GB/T 32918.2 Appendix A."""
    c = PART2_CURVE
    ecdlp = gmalg_ec.ECDLP(c["p"], c["a"], c["b"], (c["gx"], c["gy"]), c["n"])
    core = gmalg.sm2.SM2Core(ecdlp, gmalg.SM3(), lambda bits: k)
    point = (int.from_bytes(xy[:32], "big"), int.from_bytes(xy[32:], "big"))
    r, s = core.sign(message, d, user_id, point)
    return int(r), int(s)


def tongsuo_private(pem: bytes) -> ec.EllipticCurvePrivateKey:
    return serialization.load_pem_private_key(pem, None)


def tongsuo_public(pem: bytes) -> ec.EllipticCurvePublicKey:
    return serialization.load_pem_public_key(pem)


def tongsuo_sign(private_pem: bytes, message: bytes) -> bytes:
    """A DER signature by Tongsuo, default user id."""
    return bytes(tongsuo_private(private_pem).sign(message, _SM2_SM3))


def tongsuo_verify(public_pem: bytes, der: bytes, message: bytes) -> bool:
    try:
        tongsuo_public(public_pem).verify(der, message, _SM2_SM3)
    except InvalidSignature:
        return False
    return True


def tongsuo_generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SM2())
