"""Errors of the e-supervision subscriber, with the retry decision on the class."""

from __future__ import annotations

from pathlib import Path

from schemas.errors import GovgateError


class SupervisionError(GovgateError):
    """Base of the supervision error tree."""

    code = "SUPERVISION_ERROR"


class NoticeFileError(SupervisionError):
    """An operator's holiday notice file is missing a field or holds a bad value.

    Not retriable: the file must be fixed by hand. The message names the file and the field
    so the operator knows where to look.
    """

    code = "NOTICE_FILE_INVALID"

    def __init__(self, path: Path, field: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        super().__init__(f"{path}: field {field!r}: {reason}")


class ClockError(SupervisionError):
    """A case clock was fed something it cannot place, e.g. a stage earlier than the last."""

    code = "CLOCK_ERROR"


class CaseEventError(SupervisionError):
    """A case event lacks a field the clock needs, or holds a value it cannot use.

    Not retriable: the event is logged with its position and skipped; the message names the
    field and the value.
    """

    code = "CASE_EVENT_INVALID"

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"field {field!r} = {value!r}: {reason}")


class StateUnavailable(SupervisionError):
    """The subscriber's state database cannot be reached now. Wait and try again."""

    retriable = True
    code = "STATE_UNAVAILABLE"


class ReportError(SupervisionError):
    """A report cannot be written as asked (bad month, unwritable path)."""

    code = "REPORT_INVALID"
