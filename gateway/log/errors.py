"""Errors of the event log, marked as aiokafka marks its own: retry or not."""

from __future__ import annotations


class LogError(Exception):
    """Base of log errors; `code` is stable."""

    retriable = False
    code = "LOG_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


class LogUnavailable(LogError):
    """The log cannot be reached now (broker down, database gone). Wait and try again."""

    retriable = True
    code = "LOG_UNAVAILABLE"


class UnknownStream(LogError):
    code = "UNKNOWN_STREAM"


class RecordRejected(LogError):
    """The log refused a record for what it is (too large, bad header); retrying will not help."""

    code = "RECORD_REJECTED"
