"""Ingest validation of node and relationship properties, derived entirely from the ontology.

For every property the ontology declares: drop blanks, cast to its ``PropType``, map vocabulary
values to term ids, run its named validator. Adding a property to ``ontology.py`` is enough for it
to be validated here; nothing in this module names a property.

Two entry points per kind: ``validate_*`` raises the first error (simple callers, the API), and
``check_*`` returns the cleaned values plus *all* errors, so a quarantine file can list every
problem in a row at once.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from talentgraph.errors import OntologyError, ValidationError
from talentgraph.schema.ontology import NodeType, Property, PropType, RelType
from talentgraph.schema.validators import VALIDATORS, date
from talentgraph.schema.vocabularies import vocabulary

_TRUE = {"是", "yes", "y", "true", "t", "1", "对", "有"}
_FALSE = {"否", "no", "n", "false", "f", "0", "不是", "无"}
# Separators registers use inside one cell for several values: 俄语、英语 / ru, en / ru;en.
_LIST_SPLIT = re.compile(r"[、,，;；|\n]+")
_INT_TEXT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$|^[+-]?\d+$")


def validate_node_props(node_type: NodeType, props: dict[str, Any]) -> dict[str, Any]:
    return _first(check_node_props(node_type, props))


def validate_rel_props(rel_type: RelType, props: dict[str, Any]) -> dict[str, Any]:
    return _first(check_rel_props(rel_type, props))


def check_node_props(node_type: NodeType, props: dict[str, Any]) -> tuple[dict[str, Any], list[ValidationError]]:
    return check_props(node_type.name, node_type.properties, props)


def check_rel_props(rel_type: RelType, props: dict[str, Any]) -> tuple[dict[str, Any], list[ValidationError]]:
    return check_props(rel_type.name, rel_type.properties, props)


def _first(result: tuple[dict[str, Any], list[ValidationError]]) -> dict[str, Any]:
    cleaned, errors = result
    if errors:
        raise errors[0]
    return cleaned


def check_props(
    owner: str, properties: Iterable[Property], props: dict[str, Any]
) -> tuple[dict[str, Any], list[ValidationError]]:
    """(cleaned values in ontology order, errors). Blank values (None, "", []) count as absent."""
    declared = {p.name: p for p in properties}
    errors: list[ValidationError] = []
    for name in props:
        if name not in declared:
            errors.append(_unknown(owner, name, props[name], list(declared)))
    cleaned: dict[str, Any] = {}
    for name, prop in declared.items():
        field = f"{owner}.{name}"
        raw = props.get(name)
        try:
            value = clean_value(prop, raw, field)
        except ValidationError as e:
            errors.append(e)
            continue
        if value is None:
            if prop.required:
                errors.append(ValidationError(
                    field, raw, f"a value ({prop.description.rstrip('.')}); it is required",
                    hint=f"Map a source column to {name!r} or give it a default in the mapping.",
                ))
            continue
        cleaned[name] = value
    return cleaned, errors


def _unknown(owner: str, name: str, value: Any, known: list[str]) -> ValidationError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = (f"Did you mean {close[0]!r}? " if close else "") + f"Known properties: {', '.join(known) or '(none)'}."
    return ValidationError(f"{owner}.{name}", value, f"a property that {owner} declares", hint=hint)


def clean_value(prop: Property, raw: Any, field: str) -> Any:
    """One property value cast, mapped and validated; None when blank."""
    if _blank(raw):
        return None
    if prop.type is PropType.STRING_LIST:
        items = [_cast_scalar(PropType.STRING, v, field) for v in _as_list(raw, field)]
        items = [v for v in items if v is not None]
        out = [_finish(prop, v, field) for v in items]
        return list(dict.fromkeys(out)) or None  # 俄语 and Russian both become ru: keep it once
    value = _cast_scalar(prop.type, raw, field)
    return None if value is None else _finish(prop, value, field)


def _finish(prop: Property, value: Any, field: str) -> Any:
    if prop.vocabulary is not None:
        value = vocabulary(prop.vocabulary).require(value, field).id
    if prop.validator is not None:
        try:
            check = VALIDATORS[prop.validator]
        except KeyError:
            raise OntologyError(
                f"Property {field} names validator {prop.validator!r}, which does not exist.",
                hint=f"Known validators: {', '.join(sorted(VALIDATORS))}.",
            ) from None
        value = check(value, field)
    return value


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True  # pandas/pyarrow missing cells
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_blank(v) for v in value)
    return False


def _as_list(raw: Any, field: str) -> list[Any]:
    if isinstance(raw, str):
        return [part for part in _LIST_SPLIT.split(raw) if part.strip()]
    if isinstance(raw, (list, tuple)):
        return [v for v in raw if not _blank(v)]
    if isinstance(raw, (set, frozenset)):
        return sorted((v for v in raw if not _blank(v)), key=str)
    raise ValidationError(field, raw, "a list of strings or one string",
                          hint=f"Got a {type(raw).__name__}.")


def _cast_scalar(kind: PropType, raw: Any, field: str) -> Any:
    text = unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else None
    if text == "":
        return None
    if kind in (PropType.STRING, PropType.STRING_LIST):
        if isinstance(raw, str):
            return raw.strip()
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValidationError(field, raw, "text", hint=f"Got a {type(raw).__name__}.")
        # Spreadsheets turn a numeric-looking cell (a room number, a code) into 101.0.
        return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
    if kind is PropType.INT:
        return _int(raw, text, field)
    if kind is PropType.FLOAT:
        return _float(raw, text, field)
    if kind is PropType.BOOL:
        return _bool(raw, text, field)
    if kind is PropType.DATE:
        return date(raw, field)
    raise OntologyError(f"{field} has type {kind!r}, which validation does not know.")


def _int(raw: Any, text: str | None, field: str) -> int:
    expected = "a whole number"
    if isinstance(raw, bool):
        raise ValidationError(field, raw, expected, hint="Got a yes/no value.")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if text is not None:
        if _INT_TEXT.match(text):
            return int(text.replace(",", ""))
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if number.is_integer():
            return int(number)
    raise ValidationError(field, raw, expected, hint="Remove units or text around the number (e.g. 1984, not 1984年).")


def _float(raw: Any, text: str | None, field: str) -> float:
    expected = "a number"
    if isinstance(raw, bool):
        raise ValidationError(field, raw, expected, hint="Got a yes/no value.")
    try:
        number = float(text) if text is not None else float(raw)
    except (TypeError, ValueError):
        raise ValidationError(field, raw, expected, hint="Use a dot for decimals and no units.") from None
    if not math.isfinite(number):
        raise ValidationError(field, raw, expected)
    return number


def _bool(raw: Any, text: str | None, field: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    if text is not None:
        key = text.casefold()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise ValidationError(field, raw, "yes or no", hint="Write 是/否, yes/no, true/false, Y/N or 1/0.")
