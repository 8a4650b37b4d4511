"""The government information resource catalogue (政务信息资源目录): what each department holds,
how it may be shared (无条件共享 / 有条件共享 / 不予共享, the last two with their legal basis),
and in which versions it was published. The policy reads sharing classes from here, and
sharing applications (gateway.governance) are made against its entries."""

from gateway.catalogue.entries import Entry, FieldSpec, parse_entry
from gateway.catalogue.store import CatalogueStore

__all__ = ["CatalogueStore", "Entry", "FieldSpec", "parse_entry"]
