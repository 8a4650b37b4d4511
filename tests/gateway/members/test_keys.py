"""SM2 member and gateway keys in `gateway.members.keys`: beside Ed25519 and P-256, in the
files other SM2 software writes, with the same key ids, and with the crypto layer's errors
as this package's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tongsuopy.crypto import serialization as ts

from gateway.crypto import der
from gateway.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from gateway.crypto.sm2_asn1 import pkcs8, private_from_der, spki
from gateway.members.errors import KeyFormatError, MembersError
from gateway.members.keys import (
    ALGORITHMS,
    check_allowed,
    generate_private_key,
    jwks,
    key_id,
    keys_from_jwks,
    load_private_key,
    load_public_key,
    parse_algorithm,
    public_jwk,
    public_key_from_jwk,
    read_private_key,
    read_public_key,
    write_key_pair,
)
from tests.gateway.crypto.others import tongsuo_generate, tongsuo_private, tongsuo_public
from tests.gateway.crypto.vectors import PART5

_PKCS8_DER = (
    serialization.Encoding.DER,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)


def test_sm2_is_an_algorithm_by_its_name_and_its_alias() -> None:
    assert "sm2-sm3" in ALGORITHMS
    assert parse_algorithm("sm2") == parse_algorithm("SM2-SM3") == "sm2-sm3"
    assert parse_algorithm("ed25519") == "ed25519"
    with pytest.raises(KeyFormatError, match="use one of ed25519, ecdsa-p256-sha256, sm2-sm3"):
        parse_algorithm("sm9")


def test_an_sm2_pair_is_written_as_tongsuo_reads_it(tmp_path: Path) -> None:
    key = generate_private_key("sm2-sm3")
    assert isinstance(key, SM2PrivateKey)
    files = write_key_pair(tmp_path, key, name="window")
    assert files.alg == "sm2-sm3" and files.keyid == key.public_key().key_id() == key_id(key)
    assert files.private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    theirs = tongsuo_private(files.private_path.read_bytes())
    public_pem = files.public_path.read_bytes()
    assert (
        theirs.public_key().public_bytes(ts.Encoding.PEM, ts.PublicFormat.SubjectPublicKeyInfo)
        == public_pem
    )
    assert tongsuo_public(public_pem).public_numbers() == theirs.public_key().public_numbers()
    assert key_id(read_public_key(files.public_path)) == files.keyid
    assert key_id(read_private_key(files.private_path)) == files.keyid


@pytest.mark.parametrize("fmt", [ts.PrivateFormat.PKCS8, ts.PrivateFormat.TraditionalOpenSSL])
def test_tongsuos_files_are_read_with_the_same_key_id(fmt: ts.PrivateFormat) -> None:
    """PKCS#8 `PRIVATE KEY` and SEC 1 `EC PRIVATE KEY`, as `openssl genpkey -algorithm SM2`
    and `openssl ecparam -genkey -name SM2` write them."""
    theirs = tongsuo_generate()
    private = load_private_key(theirs.private_bytes(ts.Encoding.PEM, fmt, ts.NoEncryption()))
    public = load_public_key(
        theirs.public_key().public_bytes(ts.Encoding.PEM, ts.PublicFormat.SubjectPublicKeyInfo)
    )
    assert isinstance(private, SM2PrivateKey) and isinstance(public, SM2PublicKey)
    assert key_id(private) == key_id(public)


def test_the_key_id_is_the_rfc7638_thumbprint_of_the_sm2_jwk() -> None:
    public = SM2PublicKey(PART5.xy)
    assert public_jwk(public) == public.public_jwk()
    assert public_jwk(public)["crv"] == "SM2" and public_jwk(public)["kty"] == "EC"
    assert key_id(public_key_from_jwk(dict(public_jwk(public)))) == key_id(public)
    document = jwks([public, generate_private_key("ed25519")])
    assert document["keys"][0]["alg"] == "SM2SM3"
    assert list(keys_from_jwks(document))[0] == key_id(public)


def test_the_crypto_layers_errors_become_members_errors() -> None:
    off_curve = bytearray(SM2PublicKey(PART5.xy).point())
    off_curve[-1] ^= 1
    refusals: list[Callable[[], object]] = [
        lambda: load_public_key(der.pem_encode("PUBLIC KEY", spki(bytes(off_curve)))),
        lambda: load_private_key(_with_another_public_point()),
        lambda: public_key_from_jwk({"kty": "EC", "crv": "SM2", "x": "AA", "y": "AA"}),
    ]
    for refusal in refusals:
        with pytest.raises(KeyFormatError) as refused:
            refusal()
        assert isinstance(refused.value, MembersError) and refused.value.code == "KEY_FORMAT"
        assert "SM2" in str(refused.value)


def test_an_algorithm_outside_the_allow_list_is_refused() -> None:
    sm_only = ("sm2-sm3", "sm3")
    assert check_allowed(generate_private_key("sm2-sm3"), sm_only) == "sm2-sm3"
    with pytest.raises(MembersError) as refused:
        check_allowed(generate_private_key("ed25519").public_key(), sm_only)
    assert refused.value.code == "ALGORITHM_NOT_ALLOWED"
    assert "ed25519 keys are not allowed here" in str(refused.value)


def _with_another_public_point() -> bytes:
    """A PKCS#8 SM2 private key file whose stated public point is another key's."""
    one, other = generate_private_key("sm2-sm3"), generate_private_key("sm2-sm3")
    assert isinstance(one, SM2PrivateKey) and isinstance(other, SM2PrivateKey)
    scalar, _ = private_from_der(one.private_bytes(*_PKCS8_DER))
    return der.pem_encode("PRIVATE KEY", pkcs8(scalar, other.public_key().point()))
