"""Errors of the e-supervision subscriber, with the retry decision on the class."""

from __future__ import annotations

from pathlib import Path


class SupervisionError(Exception):
    """Base of the supervision error tree."""

    retriable = False


class NoticeFileError(SupervisionError):
    """An operator's holiday notice file is missing a field or holds a bad value.

    Not retriable: the file must be fixed by hand. The message names the file and the field
    so the operator knows where to look.
    """

    def __init__(self, path: Path, field: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        super().__init__(f"{path}: field {field!r}: {reason}")


class ClockError(SupervisionError):
    """A case clock was fed something it cannot place, e.g. a stage earlier than the last."""
