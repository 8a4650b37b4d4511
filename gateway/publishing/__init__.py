"""What a publisher member may put on the log: its registered scopes (record kind, type or
catalog or item code, source system), and the event ids it has published (so one id never
stands for two different records)."""

from gateway.publishing.scopes import PUBLISH_KINDS, PublishKind, PublishScope, check_scope
from gateway.publishing.store import PublishingStore

__all__ = ["PUBLISH_KINDS", "PublishKind", "PublishScope", "PublishingStore", "check_scope"]
