"""What the gateway learns about one request while answering it, for its audit row.

The authentication dependency notes the caller, the inputs note whose data and which purpose,
the problem handlers note the refusal code; the response middleware then writes one audit row
from it before the response leaves (`gateway.api.audit_and_sign`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_KEY = "govgate.exchange"


@dataclass
class Exchange:
    member_id: str | None = None
    keyid: str | None = None
    holder_id: str | None = None
    holder_type: str | None = None
    purpose: str | None = None
    case_no: str | None = None
    code: str | None = None
    content_sha256: str | None = None  # the file a response streams (its audit row names it)
    streamed: bool = False  # the route streams its body: audit and sign the head, then pass


def exchange_of(scope: dict[str, Any] | Any) -> Exchange:
    """The request's exchange, created on first use (the ASGI scope is per request)."""
    found = scope.get(_KEY)
    if found is None:
        found = scope[_KEY] = Exchange()
    assert isinstance(found, Exchange)
    return found
