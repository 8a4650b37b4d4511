"""Errors of the audit log."""

from __future__ import annotations

from schemas.errors import GovgateError


class AuditError(GovgateError):
    """Base of audit errors."""

    code = "AUDIT_ERROR"


class AuditUnavailable(AuditError):
    """The audit table cannot be written or read now (database gone, writer closed).

    A request whose audit row is not durable must not be answered: the gateway answers 503.
    """

    retriable = True
    code = "AUDIT_UNAVAILABLE"


class AuditCorrupted(AuditError):
    """The audit tables contradict themselves (head row missing, seq taken): an operator must
    run `govgate audit verify`; retrying will not help."""

    code = "AUDIT_CORRUPTED"


class AuditHashConflict(AuditError):
    """The chain is hashed with another algorithm than `gateway.audit_hash` names (an SHA-256
    chain and the setting switched to sm3, or the reverse): rows are not appended, since one
    chain never mixes algorithms. Set the setting back, or start a new deployment."""

    code = "AUDIT_HASH_CONFLICT"


class InvalidAuditEntry(AuditError, ValueError):
    """An entry the gateway should never build (unknown decision, impossible status)."""

    code = "INVALID_AUDIT_ENTRY"


class AuditFilterInvalid(AuditError, ValueError):
    """A search filter that is not valid: `field` names the form field, `value` what was given
    (masked when it is a holder's id, which is never echoed in clear)."""

    code = "AUDIT_FILTER_INVALID"

    def __init__(self, field: str, value: str, why: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {value!r} {why}")


class AuditExportTooLarge(AuditError):
    """An export of more rows than one file may hold: narrow the search first."""

    code = "AUDIT_EXPORT_TOO_LARGE"
