"""Errors of the webhooks package; `retriable` says whether the same step may succeed later."""

from __future__ import annotations


class WebhookError(Exception):
    retriable = False
    code = "INTERNAL_ERROR"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WebhookStoreUnavailable(WebhookError):
    """The gateway's database did not answer: try again shortly."""

    retriable = True
    code = "STORE_UNAVAILABLE"


class DeliveryFailed(WebhookError):
    """The receiver did not acknowledge a delivery (no answer, or not 2xx); `reason` is safe
    to store and show: it holds no URL, header or body."""

    retriable = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
