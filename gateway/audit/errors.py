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
