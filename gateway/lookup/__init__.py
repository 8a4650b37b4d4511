"""The lookup store: a projection of the log that answers "what does this holder already have".

`Materializer` keeps it current from the log; `LookupStore` queries it; `replay` and `clear`
rebuild it from scratch (`govgate rebuild`).
"""

from __future__ import annotations

from gateway.lookup.errors import InvalidQuery, LookupStoreError, MaterializerError
from gateway.lookup.materializer import DEFAULT_GROUP, MATERIALIZED, Materializer, clear, replay
from gateway.lookup.projector import Projector, StreamStats
from gateway.lookup.store import (
    CaseEventEntry,
    CertificateEntry,
    CreditEntryEntry,
    LookupStore,
    MaterialEntry,
    Page,
)

__all__ = [
    "DEFAULT_GROUP",
    "MATERIALIZED",
    "CaseEventEntry",
    "CertificateEntry",
    "CreditEntryEntry",
    "InvalidQuery",
    "LookupStore",
    "LookupStoreError",
    "MaterialEntry",
    "Materializer",
    "MaterializerError",
    "Page",
    "Projector",
    "StreamStats",
    "clear",
    "replay",
]
