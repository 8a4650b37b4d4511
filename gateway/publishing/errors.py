"""Errors of publishing: what a publisher sent that it may not, each with its own code."""

from __future__ import annotations

from schemas.errors import GovgateError


class PublishingError(GovgateError):
    """Base of publishing errors; none is retriable: the record or the request is wrong."""

    code = "PUBLISHING_ERROR"


class InvalidScope(PublishingError):
    """A scope that cannot be registered (bad kind, code or source system)."""

    code = "INVALID_SCOPE"


class NotRegistered(PublishingError):
    """The member is not registered to publish this kind, code and source system."""

    code = "PUBLISH_NOT_REGISTERED"


class FutureTime(PublishingError):
    """A provenance time later than now (beyond the allowed clock skew)."""

    code = "FUTURE_TIME"


class SourceMismatch(PublishingError):
    """The record exists, owned by another source system: it may not be replaced from this one."""

    code = "SOURCE_MISMATCH"


class EventIdConflict(PublishingError):
    """The event id was published before with other content."""

    code = "EVENT_ID_CONFLICT"
