"""Errors of 双告知 (notices): routing rules, routing, claims."""

from __future__ import annotations

from schemas.errors import GovgateError


class NoticesError(GovgateError):
    """Base of the notices error tree."""

    code = "NOTICES_ERROR"


class RoutingRulesError(NoticesError):
    """The routing rules file is wrong; the message names the file and the rule or field.

    Not retriable: the file must be fixed.
    """

    code = "ROUTING_RULES_INVALID"


class NoticeNotClaimable(NoticesError):
    """A claim (认领) of a notice that is already claimed; the detail says by whom and when."""

    code = "ALREADY_CLAIMED"


class NoticeStateUnavailable(NoticesError):
    """The notices process's state database cannot be reached now. Wait and try again."""

    retriable = True
    code = "STATE_UNAVAILABLE"
