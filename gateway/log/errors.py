"""Errors of the event log, marked as aiokafka marks its own: retry or not."""

from __future__ import annotations

from schemas.errors import GovgateError


class LogError(GovgateError):
    """Base of log errors."""

    code = "LOG_ERROR"


class LogUnavailable(LogError):
    """The log cannot be reached now (broker down, database gone). Wait and try again."""

    retriable = True
    code = "LOG_UNAVAILABLE"


class UnknownStream(LogError):
    code = "UNKNOWN_STREAM"


class RecordRejected(LogError):
    """The log refused a record for what it is (too large, bad header); retrying will not help."""

    code = "RECORD_REJECTED"
