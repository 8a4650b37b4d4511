"""People (人员) who use the console: accounts, roles, password hashes, sessions, sign-in.

Human accounts are apart from members (成员, the systems that call the API with keys): a
person signs in with a password (argon2id) or through single sign-on, holds one role, and
acts through the console, each action audited under `person:<username>`.
"""

from __future__ import annotations

from gateway.people.accounts import Account, PeopleStore
from gateway.people.errors import (
    AccountDisabled,
    AccountExists,
    AccountLocked,
    InvalidAccount,
    PeopleError,
    SignInRefused,
    UnknownAccount,
)
from gateway.people.person import ROLE_NAMES, ROLES, Person, Role
from gateway.people.sessions import Session, SessionStore
from gateway.people.signin import SignIn

__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "Account",
    "AccountDisabled",
    "AccountExists",
    "AccountLocked",
    "InvalidAccount",
    "PeopleError",
    "PeopleStore",
    "Person",
    "Role",
    "Session",
    "SessionStore",
    "SignIn",
    "SignInRefused",
    "UnknownAccount",
]
