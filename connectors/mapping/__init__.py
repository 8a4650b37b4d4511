"""Declarative mappings: what a department's fields mean in the canonical records."""

from connectors.mapping.engine import Mapper, map_record
from connectors.mapping.loader import load_connector_spec
from connectors.mapping.spec import ConnectorSpec, FieldRule, MappingSpec

__all__ = [
    "ConnectorSpec",
    "FieldRule",
    "Mapper",
    "MappingSpec",
    "load_connector_spec",
    "map_record",
]
