"""Build the source a connector file names (`source.kind`)."""

from __future__ import annotations

from pydantic import ValidationError

from connectors.errors import MappingSpecError
from connectors.mapping.deletions import deletion_columns
from connectors.mapping.spec import ConnectorSpec
from connectors.sources.base import Source
from gateway.log import STREAMS

KINDS = ("sql", "http", "files")


def build_source(spec: ConnectorSpec, *, backfill: bool = False) -> Source:
    settings = {k: v for k, v in spec.source.items() if k != "kind"}
    deletes = any(settings.get(k) for k in ("deletes", "deletions_path"))
    if deletes and not STREAMS[spec.target.stream].deletions:
        raise MappingSpecError(
            f"connector {spec.name}: {spec.target.stream} carries no deletes; "
            "remove source.deletes / source.deletions_path"
        )
    try:
        if spec.source_kind == "sql":
            from connectors.sources.sql import SqlSource, SqlSourceConfig

            return SqlSource(
                spec.name,
                SqlSourceConfig(**settings),
                backfill=backfill,
                remember=deletion_columns(spec),
            )
        if spec.source_kind == "http":
            from connectors.sources.http import HttpSource, HttpSourceConfig

            return HttpSource(spec.name, HttpSourceConfig(**settings), backfill=backfill)
        if spec.source_kind == "files":
            from connectors.sources.files import FileDropConfig, FileDropSource

            return FileDropSource(spec.name, FileDropConfig(**settings), backfill=backfill)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MappingSpecError(f"connector {spec.name}: source.{where}: {first['msg']}") from exc
    raise MappingSpecError(
        f"connector {spec.name}: source.kind {spec.source_kind!r} is not one of {', '.join(KINDS)}"
    )
