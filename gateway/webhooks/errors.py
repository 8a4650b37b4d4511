"""Errors of the webhooks package; `retriable` says whether the same step may succeed later."""

from __future__ import annotations

from schemas.errors import GovgateError


class WebhookError(GovgateError):
    code = "WEBHOOK_ERROR"


class InvalidTarget(WebhookError):
    """A target URL that is not an absolute http(s) URL the gateway can sign and post to;
    `errors` names the field and the value."""

    code = "INVALID_INPUT"

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.errors = errors


class TargetNotAllowed(InvalidTarget):
    """A target whose host is not among the operator's allowed webhook hosts."""

    code = "TARGET_NOT_ALLOWED"


class DeliveryFailed(WebhookError):
    """The receiver did not acknowledge a delivery (no answer, or not 2xx); `reason` is safe
    to store and show: it holds no URL, header or body."""

    retriable = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetRefused(WebhookError):
    """At delivery, the target no longer passes the allowed hosts or networks: the
    subscription is paused (`not_allowed`) with `reason`, not retried."""

    code = "TARGET_NOT_ALLOWED"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
