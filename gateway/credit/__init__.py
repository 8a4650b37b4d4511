"""Credit checks at the window (失信联合惩戒): is a subject restricted for the item in hand?

Entries of the joint-punishment lists arrive on `credit-entries` (connector `xy-sxmd`) and are
projected into the lookup store; `check` decides, for one subject, one item and one day, which
entries are in force and which of their measures bar the item. Who may ask, about which lists,
is `gateway.api.policy`'s decision (grants of kind `credit`, one per list).
"""

from gateway.credit.check import CreditCheck, EntryStatus, check, entry_status, measures_for

__all__ = ["CreditCheck", "EntryStatus", "check", "entry_status", "measures_for"]
