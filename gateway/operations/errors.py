"""The errors of `gateway.operations`: one base, a stable code each, and whether to retry."""

from __future__ import annotations

from schemas.errors import GovgateError, InvalidInput


class OperationsError(GovgateError):
    code = "OPERATIONS_ERROR"


class OperationsUnavailable(OperationsError):
    """The gateway's database or the log cannot be reached now; try again."""

    code = "OPERATIONS_UNAVAILABLE"
    retriable = True


class InvalidFilter(InvalidInput, OperationsError):
    """A browse parameter that is not well formed; the message names the field and value."""

    code = "INVALID_FILTER"


class DeadLetterNotFound(OperationsError):
    code = "DEAD_LETTER_NOT_FOUND"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"no dead letter {event_id!r} in the index")


class RedriveUnavailable(OperationsError):
    """No re-fetcher is installed in this process (the connectors are not installed here)."""

    code = "REDRIVE_UNAVAILABLE"


class RedriveNotSupported(OperationsError):
    """The dead letter's source cannot hand back one record by its key (a file drop: drop the
    corrected file instead), or the connector is not configured here."""

    code = "REDRIVE_NOT_SUPPORTED"
