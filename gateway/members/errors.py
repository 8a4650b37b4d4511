"""Errors of the members package: each names what is wrong with the request."""

from __future__ import annotations

from schemas.errors import GovgateError


class MembersError(GovgateError):
    """Base of members errors. None is retriable: the request is wrong."""

    code = "MEMBERS_ERROR"


class InvalidMemberId(MembersError):
    code = "INVALID_MEMBER_ID"


class InvalidName(MembersError):
    code = "INVALID_NAME"


class MemberExists(MembersError):
    code = "MEMBER_EXISTS"


class UnknownMember(MembersError):
    code = "UNKNOWN_MEMBER"


class MemberRevoked(MembersError):
    code = "MEMBER_REVOKED"


class UnknownRole(MembersError):
    code = "UNKNOWN_ROLE"


class RoleRequired(MembersError):
    code = "ROLE_REQUIRED"


class KeyExists(MembersError):
    code = "KEY_EXISTS"


class UnknownKey(MembersError):
    code = "UNKNOWN_KEY"


class InvalidGrant(MembersError):
    code = "INVALID_GRANT"


class KeyFormatError(MembersError):
    """Not a PEM key, or a key of a kind the gateway does not accept (RSA, another curve)."""

    code = "KEY_FORMAT"


class KeyFileExists(MembersError):
    """Generating would overwrite a key file; an existing private key is never replaced."""

    code = "KEY_FILE_EXISTS"


class AlgorithmNotAllowed(MembersError):
    """A key of an algorithm the operator does not allow (`GOVGATE_GATEWAY_ALGORITHMS`)."""

    code = "ALGORITHM_NOT_ALLOWED"
