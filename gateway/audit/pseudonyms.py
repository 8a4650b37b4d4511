"""Holder ids in audit rows: never in clear, always the same keyed pseudonym.

The holder column keeps HMAC-SHA256(audit secret, normalised id), which `access_log` recomputes
to find a holder's rows. Ids can also ride along in the text of a request: the path
(`/v1/certificates/330802198904173748`, a certificate id embedding a credit code), a Gov-Case
or Gov-Purpose header. There every token shaped like a resident id number (居民身份证号码, 18 or
15 digits) or a unified social credit code (统一社会信用代码), and the request's holder id
itself, becomes `{id:<first 16 hex digits of its holder hash>}`: an auditor still sees that the
same id was asked for again, and who holds the secret can tell whose it is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

PSEUDONYM_HEX = 16
_RESIDENT = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}")
_USCC = re.compile(
    r"[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{10}"
)


def normalize_id(holder_id: str) -> str:
    """NFKC (full-width to ASCII), trimmed, upper-case: as ingest stores ids (schemas.checks)."""
    return unicodedata.normalize("NFKC", holder_id).strip().upper()


def holder_hash(secret: bytes, holder_id: str) -> str:
    """HMAC-SHA256 (hex) of the normalised id, so `330802…x` and a full-width or lower-case
    spelling of the same id find the same rows."""
    data = normalize_id(holder_id).encode("utf-8", "surrogatepass")  # any text, never a 500
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


def pseudonym(secret: bytes, holder_id: str) -> str:
    return "{id:" + holder_hash(secret, holder_id)[:PSEUDONYM_HEX] + "}"


def _id_shaped(token: str) -> bool:
    return _RESIDENT.fullmatch(token) is not None or _USCC.fullmatch(token) is not None


def _may_hold(text: str, known: str) -> bool:
    """False only when `text` certainly does not hold `known` (an upper-case id) in any case:
    ASCII both, and absent from the upper-cased text. Spares compiling a pattern per holder
    for the many texts (a purpose, most paths) that do not name the holder."""
    return not (known.isascii() and text.isascii()) or known in text.upper()


def pseudonymise(secret: bytes, text: str, holder_id: str | None = None) -> str:
    """`text` (NFKC) with `holder_id` and every id-shaped token replaced by its pseudonym.

    A token is a maximal run of ASCII letters and digits; item codes (事项编码, 31 characters)
    and case numbers around an id are left alone, the id inside a certificate id is not.
    """
    text = unicodedata.normalize("NFKC", text) if not text.isascii() else text
    if holder_id is not None and (known := normalize_id(holder_id)) and _may_hold(text, known):
        text = re.sub(re.escape(known), pseudonym(secret, known), text, flags=re.IGNORECASE)
    if len(text) < 15:
        return text
    return re.sub(
        r"(?<![0-9A-Za-z])[0-9A-Za-z]{15,18}(?![0-9A-Za-z])",
        lambda m: pseudonym(secret, m.group()) if _id_shaped(m.group()) else m.group(),
        text,
    )
