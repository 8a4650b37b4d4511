"""The one error base of govgate, and the error tree of the `schemas` package.

`GovgateError` lives here because `schemas` is the package every other one may import
(`gateway` and `connectors` both build on it; it imports nothing of theirs). Each package
derives its own tree from it, so the stable code and the retry decision read the same
everywhere, as aiokafka marks its errors: `retriable` errors (a database, a broker, a
department system away) are waited out; the others will fail again as they are.
"""

from __future__ import annotations


class GovgateError(Exception):
    """Base of every govgate error: a stable `code`, `retriable`, and a `detail` for people.

    `code` is a class attribute of each kind of error; an error whose code varies per
    instance (a record's validation code) passes it as `code=`.
    """

    code = "GOVGATE_ERROR"
    retriable = False

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(f"{self.code}: {detail}" if detail else self.code)
        self.detail = detail


class InvalidInput(GovgateError):
    """A parameter that is not well formed; the message names the field and the value.

    Packages mix it into their own tree (`class ViewInputError(InvalidInput, SupervisionError)`)
    so a page or a command can say which field was wrong, whichever package refused it.
    """

    code = "INVALID_INPUT"

    def __init__(self, field: str, value: object, why: str) -> None:
        super().__init__(f"{field} {value!r}: {why}")
        self.field = field


class SchemaError(GovgateError):
    """Base of the errors this package raises. None is worth retrying: the input is wrong."""

    code = "SCHEMA_ERROR"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)


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
