"""Members (成员单位): the systems that call the gateway, their roles, keys and grants.

`keys` generates and reads key pairs and derives key ids; `tables` and `store` keep members,
keys, grants and used nonces in the gateway's database. This module holds only the package's
error tree and imports nothing, so `gateway.members.keys` (used by the client and by
`gateway.signatures`) does not pull in the database layer.
"""

from __future__ import annotations


class MembersError(Exception):
    """Base of members errors; `code` is stable. None is retriable: the request is wrong."""

    retriable = False
    code = "MEMBERS_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


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
