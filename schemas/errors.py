"""The error tree of the `schemas` package. None of these is worth retrying: the input is wrong."""

from __future__ import annotations


class SchemaError(Exception):
    """Base of the errors this package raises; `code` is stable and documented."""

    retriable = False

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class DecodeError(SchemaError):
    """Bytes that are not a govgate event: wrong magic, unknown fingerprint, truncated, garbage."""


class EncodeError(SchemaError):
    """A record that does not fit its schema; `errors` lists each field that is wrong."""

    def __init__(self, code: str, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(code, detail)
        self.errors = errors or []


class FieldError:
    """One field of a record that does not fit its schema."""

    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.message!r})"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}
