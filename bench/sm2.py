"""SM2 sign and verify per operation, beside Ed25519 and ECDSA P-256, in the same run.

Usage: python bench/sm2.py [--seconds S]   (default 0.3 s per batch, 7 rounds)

Every operation signs or verifies the same 327-byte RFC 9421 signature base, the size of a
govgate lookup's. SM2 goes through `gateway.crypto.sm2` (SM3 Z_A pre-hash, then GmSSL), in DER
and in raw r || s; `gmssl_*` are GmSSL's bare digest calls, to show what the layer adds; Ed25519
and P-256 are `cryptography`'s, as `gateway.signatures` uses them today. SM3 and SHA-256
throughput over 1 MiB buffers is for content addressing (`files.hash`), and one audit row's
keyed hash, HMAC-SHA256 against HMAC-SM3 (`gateway.audit_hash`), for the chain. Each figure is the
best of 7 interleaved rounds (µs/op). Prints human-readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gmssl_pyx  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from gateway.audit.hashing import V2_FIELDS, RowHasher, chain_key  # noqa: E402
from gateway.crypto.sm2 import SM2PrivateKey  # noqa: E402
from gateway.crypto.sm3 import sm3  # noqa: E402

BASE = (
    b'"@method": GET\n"@path": /v1/certificates\n"@query": ?holder_id=%E5%BC%A0%E4%B8%89'
    b'&type_code=11100000000000000X\n"gov-purpose": 11330802000000000000\n'
    b'"@signature-params": ("@method" "@path" "@query" "gov-purpose");created=1732345678'
    b';keyid="HWg5m8EO1EdgsCimw0lUdpON9268dUamfblMR-OKT1k";alg="sm2-sm3"'
    b';nonce="Vh3mJ0b0QX2s1nq9yq3d2Wf1"'
)
ROUNDS = 7
MIB = bytes(range(256)) * 4096
ROW = dict.fromkeys(V2_FIELDS) | {  # a typical audit row: a member's certificate lookup
    "seq": 123_456,
    "at_ms": 1_795_000_000_000,
    "member_id": "kecheng-window",
    "keyid": "HWg5m8EO1EdgsCimw0lUdpON9268dUamfblMR-OKT1k",
    "method": "GET",
    "path": "/v1/certificates",
    "route": "/v1/certificates",
    "holder": "ab" * 32,
    "holder_type": "PERSON",
    "purpose": "11330802002493025K3330111703000",
    "case_no": "ZJ330802202612010001",
    "decision": "allow",
    "status": 200,
    "requests": 1,
    "prev_hash": "cd" * 32,
}


def measure(operations: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """µs per call of each operation: the best of ROUNDS rounds, the operations interleaved
    round by round, so that a busy neighbour on the machine slows all of them alike."""
    batches: dict[str, int] = {}
    for name, operation in operations.items():  # calibrate: a batch lasts about `seconds`
        operation()
        started, calls = time.perf_counter(), 0
        while time.perf_counter() - started < seconds / 5:
            operation()
            calls += 1
        batches[name] = max(1, calls * 5)
    best = {name: float("inf") for name in operations}
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            started = time.perf_counter()
            for _ in range(batches[name]):
                operation()
            elapsed = (time.perf_counter() - started) / batches[name] * 1e6
            best[name] = min(best[name], elapsed)
    return best


def main(seconds: float) -> dict[str, float]:
    sm2 = SM2PrivateKey.generate()
    sm2_public = sm2.public_key()
    sm2_der, sm2_raw = sm2.sign(BASE), sm2.sign(BASE, encoding="raw")
    pkcs8 = sm2.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    scalar = pkcs8[36:68]  # the private scalar's place in canonical PKCS#8 DER
    xy = sm2_public.point()[1:]
    e = sm2_public.digest(BASE)
    edk = ed25519.Ed25519PrivateKey.generate()
    ed_sig = edk.sign(BASE)
    p256 = ec.generate_private_key(ec.SECP256R1())
    ecdsa = ec.ECDSA(hashes.SHA256())
    p256_sig = p256.sign(BASE, ecdsa)
    secret = b"bench-audit-secret-0123456789"
    row_sha256 = RowHasher(chain_key(secret, "sha-256"), "sha-256")
    row_sm3 = RowHasher(chain_key(secret, "sm3"), "sm3")

    f = measure(
        {
            "sm2_sign_us": lambda: sm2.sign(BASE),
            "sm2_verify_us": lambda: sm2_public.verify(sm2_der, BASE),
            "sm2_sign_raw_us": lambda: sm2.sign(BASE, encoding="raw"),
            "sm2_verify_raw_us": lambda: sm2_public.verify(sm2_raw, BASE, encoding="raw"),
            "sm2_za_e_us": lambda: sm2_public.digest(BASE),
            "gmssl_sign_digest_us": lambda: gmssl_pyx.sm2_sign_sm3_digest(scalar, e),
            "gmssl_verify_digest_us": lambda: gmssl_pyx.sm2_verify_sm3_digest(xy, e, sm2_der),
            "ed25519_sign_us": lambda: edk.sign(BASE),
            "ed25519_verify_us": lambda: edk.public_key().verify(ed_sig, BASE),
            "p256_sign_us": lambda: p256.sign(BASE, ecdsa),
            "p256_verify_us": lambda: p256.public_key().verify(p256_sig, BASE, ecdsa),
            "sm3_1mib_us": lambda: sm3(MIB),
            "sha256_1mib_us": lambda: hashlib.sha256(MIB).digest(),
            "audit_row_hmac_sha256_us": lambda: row_sha256(ROW),
            "audit_row_hmac_sm3_us": lambda: row_sm3(ROW),
        },
        seconds,
    )
    f["sm3_mb_s"] = len(MIB) / f.pop("sm3_1mib_us")
    f["sha256_mb_s"] = len(MIB) / f.pop("sha256_1mib_us")
    f = {name: round(value, 1) for name, value in f.items()}
    f["sm2_sign_vs_ed25519"] = round(f["sm2_sign_us"] / f["ed25519_sign_us"], 2)
    f["sm2_verify_vs_ed25519"] = round(f["sm2_verify_us"] / f["ed25519_verify_us"], 2)
    f["sm3_vs_sha256"] = round(f["sm3_mb_s"] / f["sha256_mb_s"], 2)
    f["audit_row_sm3_vs_sha256"] = round(
        f["audit_row_hmac_sm3_us"] / f["audit_row_hmac_sha256_us"], 2
    )

    print(f"SM2 sign (SM3 Z_A + GmSSL, DER)     {f['sm2_sign_us']:9.1f} µs/op")
    print(f"SM2 verify (DER)                    {f['sm2_verify_us']:9.1f} µs/op")
    print(
        f"SM2 sign / verify (raw r||s)        {f['sm2_sign_raw_us']:9.1f} / "
        f"{f['sm2_verify_raw_us']:.1f} µs/op"
    )
    print(f"  of which Z_A + e (two SM3)        {f['sm2_za_e_us']:9.1f} µs/op")
    print(
        f"  GmSSL bare sign / verify digest   {f['gmssl_sign_digest_us']:9.1f} / "
        f"{f['gmssl_verify_digest_us']:.1f} µs/op"
    )
    print(
        f"Ed25519 sign / verify               {f['ed25519_sign_us']:9.1f} / "
        f"{f['ed25519_verify_us']:.1f} µs/op"
    )
    print(
        f"ECDSA P-256 sign / verify           {f['p256_sign_us']:9.1f} / "
        f"{f['p256_verify_us']:.1f} µs/op"
    )
    print(f"SM2 ÷ Ed25519: sign {f['sm2_sign_vs_ed25519']}×, verify {f['sm2_verify_vs_ed25519']}×")
    print(
        f"SM3 {f['sm3_mb_s']:.0f} MB/s, SHA-256 {f['sha256_mb_s']:.0f} MB/s "
        f"(SM3 ÷ SHA-256 = {f['sm3_vs_sha256']})"
    )
    print(
        f"audit row hash HMAC-SHA256 / HMAC-SM3 {f['audit_row_hmac_sha256_us']:7.1f} / "
        f"{f['audit_row_hmac_sm3_us']:.1f} µs/row"
    )
    return f


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="per batch (7 rounds)")
    print(json.dumps(main(parser.parse_args().seconds)))
