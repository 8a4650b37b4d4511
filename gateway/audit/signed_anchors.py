"""Signed anchors: what an anchor's signature covers, signing one, and checking a set of them.

An anchor's signature (the gateway's response key: Ed25519, ECDSA P-256 or SM2, with the
signature bytes of their RFC 9421 algorithms, `sm2-sm3` included: gateway.signatures.algorithms)
covers `anchor_message`: `b"govgate-audit-anchor-v1\x00"` followed by the encoding of
gateway.audit.hashing over (gateway_id, seq, head_hash, rows, anchored_at in UTC milliseconds,
keyed_from), so any language can check it.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from http_message_signatures import HTTPMessageSignaturesException

from gateway.audit.chain import Problem
from gateway.audit.hashing import encode
from gateway.members.keys import PrivateKey, PublicKey, algorithm_of, key_id
from gateway.signatures.algorithms import ALGORITHMS

MESSAGE_LABEL = b"govgate-audit-anchor-v1\x00"


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchored head: the row at `seq` had hash `head_hash` at `anchored_at`.

    `signed` is set by `check_signatures` once the signature verified with a known key;
    anchors written before issue #12 have no signature and never vouch for rows."""

    gateway_id: str
    seq: int
    head_hash: str
    rows: int
    anchored_at: datetime
    event_id: str
    keyed_from: int | None = None
    keyid: str | None = None
    signature: str | None = None  # base64
    signed: bool = False


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def anchor_message(found: Anchor) -> bytes:
    """The bytes an anchor's signature covers."""
    fields = (
        found.gateway_id,
        found.seq,
        found.head_hash,
        found.rows,
        _millis(found.anchored_at),
        found.keyed_from,
    )
    return MESSAGE_LABEL + encode(fields)


def sign_anchor(found: Anchor, private_key: PrivateKey) -> Anchor:
    signer = ALGORITHMS[algorithm_of(private_key)](private_key=private_key)
    signature = base64.b64encode(signer.sign(anchor_message(found))).decode("ascii")
    return dataclasses.replace(found, keyid=key_id(private_key), signature=signature)


def check_signatures(
    anchors: list[Anchor], keys: dict[str, PublicKey]
) -> tuple[list[Anchor], list[Problem]]:
    """The anchors with `signed` set where the signature verified with one of `keys` (by key
    id), and a finding (ANCHOR_FORGED) for each signed anchor that does not verify: a gateway
    never writes one, so it was forged or altered. Unsigned (legacy) anchors pass unsigned."""
    checked: list[Anchor] = []
    problems: list[Problem] = []
    for found in anchors:
        if found.signature is None and found.keyid is None:
            checked.append(found)
            continue
        why = _signature_problem(found, keys)
        if why is None:
            checked.append(dataclasses.replace(found, signed=True))
        else:
            problems.append(Problem(found.seq, "ANCHOR_FORGED", f"anchor {found.event_id}: {why}"))
    return checked, problems


def _signature_problem(found: Anchor, keys: dict[str, PublicKey]) -> str | None:
    public = keys.get(found.keyid or "")
    if public is None:
        return (
            f"signed by key {found.keyid!r}, not one of the gateway's keys (add it to "
            "gateway.previous_keys, or pass --public-key)"
        )
    try:
        signature = base64.b64decode(found.signature or "", validate=True)
        ALGORITHMS[algorithm_of(public)](public_key=public).verify(signature, anchor_message(found))
    except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as exc:
        return f"its signature does not verify ({type(exc).__name__}): forged or altered"
    return None
