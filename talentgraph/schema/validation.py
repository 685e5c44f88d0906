"""Ingest validation of node and relationship properties, derived entirely from the ontology.

For every property the ontology declares: drop blanks, cast to its ``PropType``, map vocabulary
values to term ids, run its named validator. Adding a property to ``ontology.py`` is enough for it
to be validated here; nothing in this module names a property.

Two entry points per kind: ``validate_*`` raises the first error (simple callers, the API), and
``check_*`` returns the cleaned values plus *all* errors, so a quarantine file can list every
problem in a row at once.

Open vocabularies: a property with an ``unreviewed`` companion keeps a value its vocabulary lacks
as written (NFKC, spaces collapsed, trimmed) in the companion instead of rejecting the row; the
names in ``strict`` get the old behaviour back (a mapping's ``strict: true``). A language written
with a level (``汉语(HSK4)``) becomes the term plus a ``levels_into`` entry (``schema/qualifiers.py``).
"""


from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from talentgraph.errors import OntologyError, ValidationError
from talentgraph.schema.ontology import NodeType, Property, PropType, RelType
from talentgraph.schema.qualifiers import split_level
from talentgraph.schema.validators import VALIDATORS, date
from talentgraph.schema.vocabularies import generation, vocabulary

_TRUE = {"是", "yes", "y", "true", "t", "1", "对", "有"}
_FALSE = {"否", "no", "n", "false", "f", "0", "不是", "无"}
# Separators registers use inside one cell for several values: 俄语、英语 / ru, en / ru;en.
_LIST_SPLIT = re.compile(r"[、,，;；|\n]+")
_INT_TEXT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$|^[+-]?\d+$")


def validate_node_props(node_type: NodeType, props: dict[str, Any]) -> dict[str, Any]:
    return _first(check_node_props(node_type, props))


def validate_rel_props(rel_type: RelType, props: dict[str, Any]) -> dict[str, Any]:
    return _first(check_rel_props(rel_type, props))


def check_node_props(
    node_type: NodeType, props: dict[str, Any], *, strict: Collection[str] = ()
) -> tuple[dict[str, Any], list[ValidationError]]:
    return check_props(node_type.name, node_type.properties, props, strict=strict)


def check_rel_props(rel_type: RelType, props: dict[str, Any]) -> tuple[dict[str, Any], list[ValidationError]]:
    return check_props(rel_type.name, rel_type.properties, props)


def _first(result: tuple[dict[str, Any], list[ValidationError]]) -> dict[str, Any]:
    cleaned, errors = result
    if errors:
        raise errors[0]
    return cleaned


# Distinct inputs remembered per property for vocabulary and validator results (a register repeats
# 性别 and 文化程度 tens of thousands of times); past this many the memo starts over, so memory
# stays bounded on columns of unique values such as phone numbers.
MEMO_SIZE = 20_000

Cleaner = Callable[[Any, str], Any]


def check_props(
    owner: str, properties: Iterable[Property], props: dict[str, Any], *, strict: Collection[str] = ()
) -> tuple[dict[str, Any], list[ValidationError]]:
    """(cleaned values in ontology order, errors). Blank values (None, "", []) count as absent.

    ``strict``: vocabulary properties whose unknown values are errors even if the ontology keeps
    them as unreviewed terms.
    """
    plan = _plan(owner, properties)
    errors: list[ValidationError] = []
    for name in props:
        if name not in plan.names:
            errors.append(_unknown(owner, name, props[name], list(plan.names)))
    cleaned: dict[str, Any] = {}
    spill: dict[str, list[str]] = {}  # companion / levels property → values routed there
    for name, prop, field, clean in plan.slots:
        raw = props.get(name)
        try:
            value = None if raw is None else clean(raw, field)
            if value is not None and prop.vocabulary is not None:
                value = _settle(prop, value, field, name in strict, spill)
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
    if spill or plan.years:
        cleaned = _merged(plan, cleaned, spill, errors)
    return cleaned, errors


@dataclass(frozen=True)
class Unreviewed:
    """A value the vocabulary does not have, as written (normalised): kept for review."""

    text: str


@dataclass(frozen=True)
class Levelled:
    """A term read from a value with a level qualifier: ``汉语(HSK4)`` → ('zh', 'B2')."""

    term_id: str
    level: str


# Longer than this, a cell is a sentence rather than a term, and is refused even in an open
# vocabulary: the review queue is for words a worker can add.
MAX_TERM_CHARS = 60
_SPACES = re.compile(r"\s+")


def unreviewed_text(value: str) -> str:
    """How an unreviewed value is kept: NFKC, runs of spaces collapsed, trimmed (case kept)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def _settle(prop: Property, value: Any, field: str, strict: bool, spill: dict[str, list[str]]) -> Any:
    """Term ids stay; Unreviewed texts go to the companion (or fail when strict); levels to levels_into."""
    items = value if isinstance(value, list) else [value]
    if all(type(v) is str for v in items):
        return value
    ids: list[str] = []
    for v in items:
        if isinstance(v, Unreviewed):
            if strict or prop.unreviewed is None:
                vocabulary(prop.vocabulary or "").require(v.text, field)  # raises, with close terms
            spill.setdefault(prop.unreviewed or "", []).append(v.text)
        elif isinstance(v, Levelled):
            ids.append(v.term_id)
            if prop.levels_into is not None:
                spill.setdefault(prop.levels_into, []).append(f"{v.term_id}:{v.level}")
        else:
            ids.append(v)
    if isinstance(value, list):
        return list(dict.fromkeys(ids)) or None
    return ids[0] if ids else None


def _merged(plan: "_Plan", cleaned: dict[str, Any], spill: dict[str, list[str]],
            errors: list[ValidationError]) -> dict[str, Any]:
    """``cleaned`` with spilled values added (levels given explicitly win) and years derived from dates."""
    out = dict(cleaned)
    for name, values in spill.items():
        given = list(out.get(name) or [])
        if name in plan.level_props:
            have = {v.partition(":")[0] for v in given}
            values = [v for v in values if v.partition(":")[0] not in have]
        out[name] = list(dict.fromkeys([*given, *values]))
    for name, source in plan.years:
        day = out.get(source)
        if not isinstance(day, str):
            continue
        year = int(day[:4])
        if name not in out:
            out[name] = year
        elif out[name] != year:
            errors.append(ValidationError(f"{plan.owner}.{name}", out[name], f"{year}, the year of {source} {day}",
                                          hint=f"Correct {name} or {source}, or map only {source}."))
    return {n: out[n] for n in plan.names if n in out}


class _Plan:
    """What ``check_props`` needs per owner, worked out once: names, fields and compiled cleaners."""

    __slots__ = ("owner", "properties", "names", "slots", "years", "level_props")

    def __init__(self, owner: str, properties: tuple[Property, ...]) -> None:
        self.owner = owner
        self.properties = properties
        self.names: dict[str, None] = dict.fromkeys(p.name for p in properties)  # ordered, for hints
        self.slots = tuple((p.name, p, f"{owner}.{p.name}", cleaner(p)) for p in properties)
        self.years = tuple((p.name, p.year_of) for p in properties if p.year_of is not None)
        self.level_props = frozenset(p.levels_into for p in properties if p.levels_into is not None)


_PLANS: dict[tuple[str, int], _Plan] = {}


def _plan(owner: str, properties: Iterable[Property]) -> _Plan:
    # Keyed by the identity of the ontology's tuple: hashing a tuple of Property dataclasses per
    # row costs more than validating some of its values. The stored tuple guards against id reuse.
    if not isinstance(properties, tuple):
        return _Plan(owner, tuple(properties))
    key = (owner, id(properties))
    plan = _PLANS.get(key)
    if plan is None or plan.properties is not properties:
        plan = _PLANS[key] = _Plan(owner, properties)
    return plan


def validation_plan(owner: str, properties: Iterable[Property]) -> _Plan:
    """What ``check_props`` works through for an owner: ``slots`` of (name, property, field, cleaner)."""
    return _plan(owner, properties)


def settle_value(prop: Property, value: Any, field: str, spill: dict[str, list[str]]) -> Any:
    """A cleaned vocabulary value as ``check_props`` settles it (unreviewed and level parts go to ``spill``)."""
    return _settle(prop, value, field, False, spill)


def merge_spill(plan: _Plan, cleaned: dict[str, Any], spill: dict[str, list[str]],
                errors: list[ValidationError]) -> dict[str, Any]:
    """``cleaned`` with ``spill`` added and years derived, as ``check_props`` finishes (errors appended)."""
    return _merged(plan, cleaned, spill, errors)


def _unknown(owner: str, name: str, value: Any, known: list[str]) -> ValidationError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = (f"Did you mean {close[0]!r}? " if close else "") + f"Known properties: {', '.join(known) or '(none)'}."
    return ValidationError(f"{owner}.{name}", value, f"a property that {owner} declares", hint=hint)


def clean_value(prop: Property, raw: Any, field: str) -> Any:
    """One property value cast, mapped and validated; None when blank."""
    return cleaner(prop)(raw, field)


@cache
def cleaner(prop: Property) -> Cleaner:
    """``(raw, field) -> value or None`` for one property, with its cast, vocabulary and validator
    chosen once instead of per value. Remembered vocabulary lookups are forgotten when the
    vocabularies change (an overlay edit: ``vocabularies.generation()``).

    A vocabulary property's values come back as term ids, ``Levelled`` or ``Unreviewed``;
    ``check_props`` settles those (``_settle``)."""
    finish = _finisher(prop)
    if prop.type is PropType.STRING_LIST:
        def clean_list(raw: Any, field: str) -> Any:
            if _blank(raw):
                return None
            out = []
            for v in _as_list(raw, field):
                item = _cast_text(v, field)
                if item is not None:
                    out.append(finish(item, field))
            return list(dict.fromkeys(out)) or None  # 俄语 and Russian both become ru: keep it once
        return clean_list

    cast = _CASTS.get(prop.type)
    if cast is None:
        kind = prop.type

        def unknown_type(raw: Any, field: str) -> Any:
            if _blank(raw):
                return None
            raise OntologyError(f"{field} has type {kind!r}, which validation does not know.")
        return unknown_type

    def clean_scalar(raw: Any, field: str) -> Any:
        if _blank(raw):
            return None
        value = cast(raw, field)
        return None if value is None else finish(value, field)
    return clean_scalar


def _finisher(prop: Property) -> Cleaner:
    """Vocabulary mapping then the named validator, remembered per distinct text value."""
    steps: list[Cleaner] = []
    if prop.vocabulary is not None:
        vocab_name = prop.vocabulary
        is_open, levels = prop.unreviewed is not None, prop.levels_into is not None

        def to_term(value: Any, field: str) -> Any:
            return to_vocabulary_value(vocab_name, value, field, open_=is_open, levels=levels)
        steps.append(to_term)
    if prop.validator is not None:
        check = VALIDATORS.get(prop.validator)
        if check is None:
            validator_name = prop.validator

            def missing(value: Any, field: str) -> Any:
                raise OntologyError(
                    f"Property {field} names validator {validator_name!r}, which does not exist.",
                    hint=f"Known validators: {', '.join(sorted(VALIDATORS))}.",
                )
            steps.append(missing)
        else:
            steps.append(check)
    if not steps:
        return _same
    memo: dict[str, Any] = {}
    seen = [generation()] if prop.vocabulary is not None else None

    def finish(value: Any, field: str) -> Any:
        if seen is not None and seen[0] != (now := generation()):
            memo.clear()
            seen[0] = now
        # Only text is remembered: 1 and True are equal dict keys but not the same input.
        if type(value) is str:
            hit = memo.get(value, _MISS)
            if hit is not _MISS:
                return hit
        out = value
        for step in steps:
            if not isinstance(out, (Unreviewed, Levelled)):
                out = step(out, field)
        if type(value) is str:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[value] = out
        return out
    return finish


_MISS = object()


def to_vocabulary_value(vocab_name: str, value: Any, field: str, *, open_: bool, levels: bool = False) -> Any:
    """A term id; ``Levelled`` for a term with a level qualifier (``levels``: the property has
    somewhere to put it); ``Unreviewed`` (open) or ValidationError (strict) for anything else."""
    vocab = vocabulary(vocab_name)
    term = vocab.lookup(value) if isinstance(value, str) else None
    if term is not None:
        return term.id
    if isinstance(value, str) and levels:
        parts = split_level(value)
        base = vocab.lookup(parts[0]) if parts is not None else None
        if parts is not None and base is not None:
            return Levelled(base.id, parts[1])
    if not open_ or not isinstance(value, str):
        return vocab.require(value, field).id
    text = unreviewed_text(value)
    if len(text) > MAX_TERM_CHARS:
        raise ValidationError(field, value, f"a term of at most {MAX_TERM_CHARS} characters from the "
                              f"{vocab_name!r} vocabulary, or a new one", hint="Split the cell into terms.")
    return Unreviewed(text)


def _same(value: Any, field: str) -> Any:
    return value


def _cast_text(raw: Any, field: str) -> str | None:
    if isinstance(raw, str):
        text = raw.strip()
        # NFKC leaves ASCII alone, so only other text needs normalising to see if it is blank.
        if not text or (not text.isascii() and not unicodedata.normalize("NFKC", raw).strip()):
            return None
        return text
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValidationError(field, raw, "text", hint=f"Got a {type(raw).__name__}.")
    # Spreadsheets turn a numeric-looking cell (a room number, a code) into 101.0.
    return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)


def _normalised(raw: Any) -> str | None:
    return unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else None


def _cast_int(raw: Any, field: str) -> Any:
    text = _normalised(raw)
    return None if text == "" else _int(raw, text, field)


def _cast_float(raw: Any, field: str) -> Any:
    text = _normalised(raw)
    return None if text == "" else _float(raw, text, field)


def _cast_bool(raw: Any, field: str) -> Any:
    text = _normalised(raw)
    return None if text == "" else _bool(raw, text, field)


def _cast_date(raw: Any, field: str) -> Any:
    return None if _normalised(raw) == "" else date(raw, field)


_CASTS: dict[PropType, Cleaner] = {
    PropType.STRING: _cast_text,
    PropType.INT: _cast_int,
    PropType.FLOAT: _cast_float,
    PropType.BOOL: _cast_bool,
    PropType.DATE: _cast_date,
}


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
