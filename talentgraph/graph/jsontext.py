"""Compact JSON text as ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes it,
byte for byte, at orjson's speed.

What the graph stores and hashes (content hashes, claims) is compared as text across versions and
processes, so the text must not change with the encoder: orjson writes the same text for strings
(escapes included), ints, bools, nulls, lists and dicts, and differs only for floats in exponent form
(``1e-07`` against ``1e-7``) and values it refuses (ints past 64 bits, NaN it writes as null). Values
holding a float, and whatever orjson refuses, take ``json``'s path. Ingest writes two of these texts
per node (its hash and its claims): with ``json`` they were ~7 s of CPU in a 50k-resident ingest.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any, *, sort_keys: bool = False, float_free: bool = False) -> str:
    """``float_free``: the caller has checked (``has_float``) the values it wraps in ``value``."""
    if float_free or not has_float(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError: big ints, lone surrogates, types json may handle
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


_SCALARS = frozenset((str, int, bool, type(None)))


def has_float(value: Any) -> bool:
    """Whether a float is anywhere in ``value`` (dicts, lists, tuples)."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif isinstance(value, dict):  # subclasses: looked at as the plain containers they encode as
        return has_float(dict(value))
    elif isinstance(value, (list, tuple)):
        return has_float(list(value))
    else:
        return isinstance(value, float)
    for v in items:
        if type(v) not in _SCALARS and has_float(v):  # text, ints and bools (nearly every value) need no look
            return True
    return False


__all__ = ["dumps", "has_float"]
