"""Errors of the lookup store and the materializer."""

from __future__ import annotations

from schemas.errors import GovgateError


class LookupStoreError(GovgateError):
    """Base of the lookup store's errors."""

    code = "LOOKUP_STORE_ERROR"


class InvalidQuery(LookupStoreError):
    """A cursor that is not one this store handed out, or a page size out of range."""

    code = "INVALID_QUERY"


class MaterializerError(LookupStoreError):
    """The materializer cannot go on: the log or the store refused it for good."""

    code = "MATERIALIZER_FAILED"
