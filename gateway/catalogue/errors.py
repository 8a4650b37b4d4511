"""Errors of the catalogue: each names the field and the value that is wrong."""

from __future__ import annotations

from schemas.errors import GovgateError


class CatalogueError(GovgateError):
    code = "CATALOGUE_ERROR"


class InvalidEntry(CatalogueError):
    """A catalogue entry that does not hold together (a missing legal basis, a bad code …)."""

    code = "INVALID_ENTRY"


class UnknownResource(CatalogueError):
    """No catalogue entry has this resource code (or it has been withdrawn)."""

    code = "UNKNOWN_RESOURCE"


class NotYourResource(CatalogueError):
    """A department publishing or withdrawing an entry of another department."""

    code = "NOT_YOUR_RESOURCE"
