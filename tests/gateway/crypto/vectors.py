"""The standards' own examples, copied from the documents (and checked against the test
suites of OpenSSL, GmSSL and the Go `emmansun/gmsm`, which print the same numbers).

- GB/T 32905-2016 (SM3) Appendix A: "abc" and "abcd" × 16.
- GB/T 32918.5-2017 / GM/T 0003.5-2012 Appendix A: an SM2 signature on the recommended curve
  sm2p256v1, with the default user id and a fixed random k.
- GB/T 32918.2-2016 Appendix A: the signature example on the 256-bit *example* curve of the
  standard (not sm2p256v1), user ALICE123@YAHOO.COM.
"""

from __future__ import annotations

from dataclasses import dataclass

SM3_ABC = bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
SM3_ABCD16 = bytes.fromhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")


@dataclass(frozen=True)
class SignatureExample:
    user_id: bytes
    message: bytes
    d: int
    x: int
    y: int
    z_a: bytes
    e: bytes
    k: int
    r: int
    s: int

    @property
    def xy(self) -> bytes:
        return self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")


# GB/T 32918.5-2017 Appendix A (GM/T 0003.5-2012 Appendix A), curve sm2p256v1
PART5 = SignatureExample(
    user_id=b"1234567812345678",
    message=b"message digest",
    d=0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8,
    x=0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
    y=0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
    z_a=bytes.fromhex("B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"),
    e=bytes.fromhex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"),
    k=0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21,
    r=0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
    s=0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
)

# GB/T 32918.2-2016 Appendix A, on the example curve below
PART2 = SignatureExample(
    user_id=b"ALICE123@YAHOO.COM",
    message=b"message digest",
    d=0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263,
    x=0x0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A,
    y=0x7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857,
    z_a=bytes.fromhex("F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"),
    e=bytes.fromhex("B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76"),
    k=0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F,
    r=0x40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1,
    s=0x6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7,
)
PART2_CURVE = {  # GB/T 32918.2-2016 Appendix A.2: p, a, b, G, n of the example curve
    "p": 0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    "a": 0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    "b": 0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    "gx": 0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    "gy": 0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    "n": 0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
}

# Signature bases of the shape govgate signs (RFC 9421 §2.5): request, response, Chinese
# query percent-encoded as gateway.signatures.encode_url does, and body digests (SM3 of "abc",
# SHA-256 of RFC 9421's test body); then the empty message and a 10 KiB binary one.
SIGNATURE_BASES = [
    b'"@method": GET\n"@path": /v1/certificates\n"@query": ?holder_id=%E5%BC%A0%E4%B8%89'
    b'&type_code=11100000000000000X\n"gov-purpose": 11330802000000000000\n'
    b'"@signature-params": ("@method" "@path" "@query" "gov-purpose");created=1732345678'
    b';keyid="HWg5m8EO1EdgsCimw0lUdpON9268dUamfblMR-OKT1k";alg="sm2-sm3";nonce="n0nc3"',
    b'"@method": POST\n"@path": /v1/events/case\n"@query": ?\n'
    b'"content-digest": sm3=:Zsfw9GLu7dnR8tRr3BDk4kFnxIdc8veiKX2gK49LqOA=:\n'
    b'"@signature-params": ("@method" "@path" "@query" "content-digest");created=1732345678'
    b';keyid="k";alg="sm2-sm3";nonce="n"',
    b'"@status": 200\n"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:\n'
    b'"@method";req: GET\n"@path";req: /v1/certificates/SL330802\n"@query";req: ?\n'
    b'"signature";req;key="govgate": :AAAA:\n'
    b'"@signature-params": ("@status" "content-digest" "@method";req "@path";req "@query";req'
    b' "signature";req;key="govgate");created=1732345679;keyid="gw";alg="sm2-sm3"',
    b"",
    bytes(range(256)) * 40,
]
