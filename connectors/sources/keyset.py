"""Keyset order, spelled out for every SQL dialect: `(c1, c2, …) > (v1, v2, …)`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement


def after(columns: Sequence[ColumnElement[Any]], values: Sequence[Any]) -> ColumnElement[bool]:
    """`(c1, c2, …) > (v1, v2, …)` compared lexicographically, spelled out for every dialect."""
    return or_(
        *(
            and_(*(c == v for c, v in zip(columns[:i], values[:i], strict=True)), column > value)
            for i, (column, value) in enumerate(zip(columns, values, strict=True))
        )
    )
