"""Content-Digest in sha-256, sha-512 and sm3; the allow-list; which digest answers a request."""

from __future__ import annotations

import base64

import pytest

from gateway.signatures.digests import (
    DIGEST_ALGORITHMS,
    content_digest,
    response_digest,
    verify_content_digest,
    wanted_digests,
)
from gateway.signatures.errors import SignatureError
from tests.gateway.crypto.vectors import SM3_ABC, SM3_ABCD16

SHA256_ABC = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="  # RFC 6234's "abc"


def code_of(value: str, body: bytes, **kw: object) -> str:
    try:
        verify_content_digest(value, body, **kw)  # type: ignore[arg-type]
    except SignatureError as exc:
        return exc.code
    return "verified"


def test_sm3_digests_are_the_standards_examples() -> None:
    """GB/T 32905 Appendix A: SM3("abc") and SM3("abcd" × 16), as RFC 9530 byte sequences."""
    assert content_digest(b"abc", "sm3") == f"sm3=:{base64.b64encode(SM3_ABC).decode()}:"
    abcd = content_digest(b"abcd" * 16, "sm3")
    assert abcd == f"sm3=:{base64.b64encode(SM3_ABCD16).decode()}:"
    assert content_digest(b"abc") == f"sha-256=:{SHA256_ABC}:"
    for alg in DIGEST_ALGORITHMS:
        assert code_of(content_digest(b"abc", alg), b"abc") == "verified"
        assert code_of(content_digest(b"abc", alg), b"abd") == "DIGEST_MISMATCH"


def test_every_member_is_checked_and_malformed_ones_refused() -> None:
    both = f"{content_digest(b'abc', 'sm3')}, {content_digest(b'abc')}"
    assert code_of(both, b"abc") == "verified"
    one_wrong = f"{content_digest(b'abc', 'sm3')}, {content_digest(b'abd')}"
    assert code_of(one_wrong, b"abc") == "DIGEST_MISMATCH"
    short = "sm3=:" + base64.b64encode(SM3_ABC[:31]).decode() + ":"  # 31 bytes
    assert code_of(short, b"abc") == "DIGEST_MISMATCH"
    assert code_of("md5=:kAFQmDzST7DWlj99KOF/cg==:", b"abc") == "DIGEST_MISMATCH"
    assert code_of("sm3=abc", b"abc") == "DIGEST_MISMATCH"


def test_the_allow_list_refuses_other_algorithms_before_hashing() -> None:
    sm_only = ("sm2-sm3", "sm3")
    assert code_of(content_digest(b"abc", "sm3"), b"abc", allowed=sm_only) == "verified"
    assert code_of(content_digest(b"abc"), b"abc", allowed=sm_only) == "DIGEST_NOT_ALLOWED"
    both = f"{content_digest(b'abc', 'sm3')}, {content_digest(b'abc')}"
    assert code_of(both, b"abc", allowed=sm_only) == "DIGEST_NOT_ALLOWED"
    with pytest.raises(SignatureError, match="sha-256 is not allowed here; use sm3"):
        verify_content_digest(content_digest(b"abc"), b"abc", allowed=sm_only)


def test_want_content_digest_is_read_as_rfc9530_says() -> None:
    assert wanted_digests("sm3=10, sha-256=1") == [("sm3", 10), ("sha-256", 1)]
    assert wanted_digests("sha-512=3, sm3=0") == [("sha-512", 3)]  # 0: not acceptable
    assert wanted_digests("sm3") == []  # a preference is an integer
    assert wanted_digests("sm3=11, sha-256=-1") == []  # outside 0-10
    assert wanted_digests("((") == []
    assert wanted_digests("摘要=1") == []


@pytest.mark.parametrize(
    ("fields", "allowed", "expected"),
    [
        ({}, DIGEST_ALGORITHMS, "sha-256"),  # nothing said: the operator's first
        ({}, ("sm2-sm3", "sm3"), "sm3"),  # an SM-only gateway
        ({}, ("sm3", "sha-256"), "sm3"),
        ({"want-content-digest": "sm3=10"}, DIGEST_ALGORITHMS, "sm3"),
        ({"want-content-digest": "sha-512=5, sm3=3"}, DIGEST_ALGORITHMS, "sha-512"),
        ({"want-content-digest": "sm3=5, sha-512=5"}, DIGEST_ALGORITHMS, "sha-512"),  # tie: order
        ({"want-content-digest": "sha-256=10"}, ("sm2-sm3", "sm3"), "sm3"),  # not allowed here
        ({"want-content-digest": "md5=10"}, DIGEST_ALGORITHMS, "sha-256"),
        ({"content-digest": content_digest(b"x", "sm3")}, DIGEST_ALGORITHMS, "sm3"),
        ({"content-digest": content_digest(b"x", "sha-512")}, DIGEST_ALGORITHMS, "sha-512"),
        ({"content-digest": "garbage"}, DIGEST_ALGORITHMS, "sha-256"),
        (  # Want-Content-Digest wins over the request's own digest
            {"content-digest": content_digest(b"x", "sm3"), "want-content-digest": "sha-256=1"},
            DIGEST_ALGORITHMS,
            "sha-256",
        ),
    ],
)
def test_a_response_answers_in_the_digest_asked_for(
    fields: dict[str, str], allowed: tuple[str, ...], expected: str
) -> None:
    assert response_digest(fields, allowed) == expected
