"""Strawberry input objects → plain dicts keyed by GraphQL names (what ``filters.py`` compiles)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from strawberry.types.base import has_object_definition
from strawberry.types.unset import UNSET


def to_plain(value: Any) -> Any:
    if value is None or value is UNSET:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if has_object_definition(value):
        out: dict[str, Any] = {}
        for f in value.__strawberry_definition__.fields:
            item = getattr(value, f.python_name, None)
            if item is None or item is UNSET:
                continue
            out[f.graphql_name or f.python_name] = to_plain(item)
        return out
    return value
