"""The audit log (审计日志): every gateway request, allowed or refused, in a hash chain.

- `gateway.audit.log`: `AuditLog`, the group-committing writer, and `access_log`, the data
  subject's view (who looked at my data, when, for which item).
- `gateway.audit.chain`: the row hash and `verify`, which names altered, inserted and deleted rows.
- `gateway.audit.anchors`: chain heads put on the `audit-anchors` stream, and read back.

This module holds only the package's error tree, so that every submodule can import it without
import cycles; the API is imported from the submodules.
"""

from __future__ import annotations

__all__ = ["AuditCorrupted", "AuditError", "AuditUnavailable", "InvalidAuditEntry"]


class AuditError(Exception):
    """Base of audit errors; `code` is stable, `retriable` says whether waiting can help."""

    retriable = False
    code = "AUDIT_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


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


class InvalidAuditEntry(AuditError, ValueError):
    """An entry the gateway should never build (unknown decision, impossible status)."""

    code = "INVALID_AUDIT_ENTRY"
