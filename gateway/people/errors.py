"""Errors of the people package: each names what is wrong, with a stable code."""

from __future__ import annotations

from schemas.errors import GovgateError


class PeopleError(GovgateError):
    """Base of people errors. None is retriable: the request is wrong."""

    code = "PEOPLE_ERROR"


class InvalidAccount(PeopleError):
    """A field of an account is wrong (`field` names it)."""

    code = "INVALID_ACCOUNT"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class AccountExists(PeopleError):
    code = "ACCOUNT_EXISTS"


class UnknownAccount(PeopleError):
    code = "UNKNOWN_ACCOUNT"


class SignInRefused(PeopleError):
    """Wrong user name or password: the same answer for both, so names cannot be probed."""

    code = "SIGNIN_REFUSED"

    def __init__(self, username: str, *, known: bool, locked_until_ms: int | None = None) -> None:
        super().__init__("wrong user name or password")
        self.username = username
        self.known = known  # for the caller to audit (an account's) or tally (no account)
        self.locked_until_ms = locked_until_ms  # set when this failure locked the account


class AccountLocked(PeopleError):
    """Too many wrong passwords in a row; `until_ms` says when it unlocks."""

    code = "ACCOUNT_LOCKED"

    def __init__(self, detail: str, until_ms: int) -> None:
        super().__init__(detail)
        self.until_ms = until_ms


class AccountDisabled(PeopleError):
    code = "ACCOUNT_DISABLED"
