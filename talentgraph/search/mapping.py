"""The search document mapping, derived from the ontology (never listed by hand).

For every property that is ``searchable`` there is an analysed field (space-separated tokens from
``search/analysis.py``) named like the property, plus a ``<name>__bigram`` shadow for names and
free text; every ``facet`` property and every ``DerivedField`` gets a raw keyword field
``<name>__facet`` for filters and counts; ``id`` and ``type`` are keyword fields; ``_src`` stores
the original values (JSON) that highlights, explanations and hit titles are computed from.
Properties marked ``Sensitivity.SENSITIVE`` never reach the index.

Adapters build their engine schema from ``search_fields()`` (Tantivy schema, OpenSearch mapping).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

import orjson

from talentgraph.errors import OntologyError, ValidationError
from talentgraph.graph import claims
from talentgraph.schema.ontology import (
    ONTOLOGY, DerivedField, Flag, NodeType, Ontology, Property, PropType, SearchKind, Sensitivity,
)
from talentgraph.search import analysis
from talentgraph.search.port import SearchDoc
from talentgraph.types import Node

ID_FIELD = "id"
TYPE_FIELD = "type"
SOURCE_FIELD = "_src"
BIGRAM_SUFFIX = "__bigram"
FACET_SUFFIX = "__facet"
ALSO_FIELD = "_also"  # in ``_src``: a cluster's other records' scalar values, per property
RESERVED = frozenset({ID_FIELD, TYPE_FIELD, SOURCE_FIELD, ALSO_FIELD})


class FieldKind(StrEnum):
    ID = "id"  # keyword: the node id (stored, sortable)
    TYPE = "type"  # keyword: the node type
    NAME = "name"  # analysed: analysis.analyze_name tokens
    TEXT = "text"  # analysed: analysis.analyze_text tokens
    KEYWORD = "keyword"  # analysed: analysis.analyze_keyword tokens (vocabulary ids)
    BIGRAM = "bigram"  # analysed: analysis.analyze_bigrams shadow of a NAME or TEXT field
    FACET = "facet"  # raw values, one token each, aggregatable
    SOURCE = "source"  # stored only: JSON of original values


ANALYSED = frozenset({FieldKind.NAME, FieldKind.TEXT, FieldKind.KEYWORD, FieldKind.BIGRAM})
KEYWORDS = frozenset({FieldKind.ID, FieldKind.TYPE, FieldKind.FACET})

ValueKind = Literal["vocabulary", "bool", "node_id", "int", "string"]

_BY_SEARCH_KIND = {SearchKind.NAME: FieldKind.NAME, SearchKind.TEXT: FieldKind.TEXT, SearchKind.KEYWORD: FieldKind.KEYWORD}


@dataclass(frozen=True)
class SearchField:
    name: str  # engine field name
    kind: FieldKind
    source: str  # property name, derived-field source (e.g. "area:building"), or "" for id/type/_src
    property: str = ""  # property or derived-field name the field comes from (what users call it)
    types: tuple[str, ...] = ()  # node types that carry it (empty: all)
    vocabularies: tuple[str, ...] = ()  # vocabularies its values come from
    values: ValueKind = "string"


def bigram_field(name: str) -> str:
    return name + BIGRAM_SUFFIX


def facet_field(name: str) -> str:
    return name + FACET_SUFFIX


def _prop_value_kind(p: Property) -> ValueKind:
    if p.vocabulary:
        return "vocabulary"
    if p.type is PropType.BOOL:
        return "bool"
    if p.type is PropType.INT:
        return "int"
    return "string"


def _merge(fields: dict[str, SearchField], new: SearchField) -> None:
    """One engine field per name: a property shared by several node types (``name``,
    ``description``) is one field, and must be analysed the same way everywhere."""
    old = fields.get(new.name)
    if old is None:
        fields[new.name] = new
        return
    if old.kind != new.kind or old.values != new.values:
        raise OntologyError(
            f"Search field {new.name!r} is {old.kind}/{old.values} on {', '.join(old.types)} "
            f"but {new.kind}/{new.values} on {', '.join(new.types)}.",
            hint="Give properties that share a name the same searchable kind, facet flag and value type, "
            "or rename one of them.",
        )
    fields[new.name] = replace(
        old,
        types=tuple(dict.fromkeys(old.types + new.types)),
        vocabularies=tuple(dict.fromkeys(old.vocabularies + new.vocabularies)),
    )


@lru_cache(maxsize=16)
def _search_fields(ontology: Ontology) -> tuple[SearchField, ...]:
    fields: dict[str, SearchField] = {}
    _merge(fields, SearchField(ID_FIELD, FieldKind.ID, ID_FIELD))
    _merge(fields, SearchField(TYPE_FIELD, FieldKind.TYPE, TYPE_FIELD))
    for nt in ontology.node_types:
        for p in nt.properties:
            if p.sensitivity is Sensitivity.SENSITIVE or not (p.searchable or p.facet):
                continue
            if p.name in RESERVED or p.name.endswith((BIGRAM_SUFFIX, FACET_SUFFIX)):
                raise OntologyError(
                    f"{nt.name}.{p.name}: the name clashes with the search mapping's own fields.",
                    hint=f"Rename the property; {sorted(RESERVED)} and names ending in "
                    f"{BIGRAM_SUFFIX!r}/{FACET_SUFFIX!r} are reserved.",
                )
            vocabs = (p.vocabulary,) if p.vocabulary else ()
            common = dict(property=p.name, types=(nt.name,), vocabularies=vocabs, values=_prop_value_kind(p))
            if p.searchable is not None:
                _merge(fields, SearchField(p.name, _BY_SEARCH_KIND[p.searchable], p.name, **common))  # type: ignore[arg-type]
                if p.searchable in (SearchKind.NAME, SearchKind.TEXT):
                    _merge(fields, SearchField(bigram_field(p.name), FieldKind.BIGRAM, p.name, **common))  # type: ignore[arg-type]
            if p.facet:
                _merge(fields, SearchField(facet_field(p.name), FieldKind.FACET, p.name, **common))  # type: ignore[arg-type]
    for d in ontology.derived:
        if d.sensitivity is Sensitivity.SENSITIVE:
            continue
        # Derived paths yield node ids (Linked, Within) or a flag.
        kind: ValueKind = "bool" if isinstance(d.path, Flag) else "node_id"
        _merge(fields, SearchField(facet_field(d.name), FieldKind.FACET, d.source, property=d.name,
                                   types=(d.node_type,), values=kind))
    _merge(fields, SearchField(SOURCE_FIELD, FieldKind.SOURCE, ""))
    return tuple(fields.values())


def search_fields(ontology: Ontology = ONTOLOGY) -> list[SearchField]:
    """Every engine field, in a stable order: id, type, per-property fields, derived facets, _src."""
    return list(_search_fields(ontology))


def facets(ontology: Ontology = ONTOLOGY) -> dict[str, SearchField]:
    """Facet fields keyed by the name callers use (the property or derived-field name)."""
    return {f.property: f for f in _search_fields(ontology) if f.kind is FieldKind.FACET}


def analysed_fields(ontology: Ontology = ONTOLOGY, kind: FieldKind | None = None) -> list[SearchField]:
    return [f for f in _search_fields(ontology) if f.kind in ANALYSED and (kind is None or f.kind is kind)]


# --- documents ----------------------------------------------------------------------------------


def _values(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, (list, tuple, set, frozenset)):
        if type(v) is list and None not in v and "" not in v:  # as stored: read, never changed, by build_doc
            return v
        return [x for x in v if x is not None and x != ""]
    return [] if v == "" else [v]


def facet_value(v: Any) -> str:
    """How a facet value is spelled in the index: bools as true/false, numbers as digits."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _analyse(p: Property, values: list[Any]) -> tuple[list[str], list[str]]:
    texts = [str(x) for x in values]
    if p.searchable is SearchKind.NAME:
        # Polyphonic-surname readings only make sense for people's names, which the ontology
        # marks personal; an enterprise called 乐购 keeps the dictionary reading.
        surname = p.sensitivity is Sensitivity.NAME
        return [t for x in texts for t in analysis.analyze_name(x, surname=surname)], _bigrams(texts)
    if p.searchable is SearchKind.TEXT:
        return [t for x in texts for t in analysis.analyze_text(x)], _bigrams(texts)
    return analysis.analyze_keyword(p.name, values, p.vocabulary), []


def _bigrams(texts: Iterable[str]) -> list[str]:
    return [t for x in texts for t in analysis.analyze_bigrams(x)]


_ORDER = (Sensitivity.PUBLIC, Sensitivity.NAME, Sensitivity.PERSONAL, Sensitivity.SENSITIVE)


def merged_from_cluster(nt: NodeType, p: Property) -> bool:
    """Whether a cluster's document carries the other records' values of ``p`` (entity resolution).

    Only properties no more sensitive than the type's title: whoever may see the row reads them on
    every record, so the merged document shows nobody a value they could not read on its record. A
    personal value (read in scope only) stays on its own record's terms: the index decides scope
    per document, and a document's scope is its own record's residence.
    """
    return _ORDER.index(p.sensitivity) <= _ORDER.index(nt.prop(nt.title).sensitivity)


def _golden_order(others: list[Node], others_claims: list[claims.Claims], p: Property) -> list[Node]:
    """Members in the API's golden order for ``p`` (``api/golden.py``): source priority, then id."""
    def key(i: int) -> tuple[int, str]:
        winner = claims.shown(others_claims[i].get(p.name) or [])
        return (-int(winner.get("p") or 0) if winner else 0, others[i].id)

    return [others[i] for i in sorted(range(len(others)), key=key)]


@dataclass(frozen=True)
class _Slot:
    """How one property of a node type reaches its document (``build_doc``), worked out once per type: its
    values go to ``_src``, and to an analysed field and a facet when it is searchable and a facet."""

    prop: Property
    name: str
    is_list: bool
    searchable: bool
    facet_name: str | None  # its facet field, when it is a facet
    bigram_name: str
    merged: bool  # a cluster's other records' values join it (``merged_from_cluster``)
    # What its values analysed to (``_analysed``), per distinct list of short texts.
    memo: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class _DocPlan:
    node_type: NodeType
    slots: tuple[_Slot, ...]
    derived: dict[str, DerivedField]
    # The analysis generation the slots' memos were filled under (``analysis.generation``).
    analysed_with: list[tuple[int, int] | None] = field(default_factory=lambda: [None], compare=False, repr=False)


# Distinct value lists a slot remembers the analysis of (then it starts again): a register repeats its occupations,
# languages and countries on every row and a common name hundreds of times; a unique value costs a dict insert.
SLOT_MEMO = 20_000
MEMO_VALUES = 8  # longer lists (a person's many skills) are analysed each time


def _analysed(s: _Slot, values: list[Any]) -> tuple[str, str]:
    """A searchable slot's analysed field and bigram shadow as indexed (space-joined tokens; "" for none).

    Only lists of short texts are remembered: 1 and True are equal keys but analyse differently, and long texts
    (biographies) rarely repeat."""
    key: tuple[str, ...] | None = tuple(values)
    if len(values) == 1:  # most slots: one value, tested without a generator
        one = values[0]
        if type(one) is not str or len(one) > analysis.MEMO_TEXT_CHARS:
            key = None
    elif len(values) > MEMO_VALUES or not all(type(v) is str and len(v) <= analysis.MEMO_TEXT_CHARS for v in values):
        key = None
    if key is not None:
        found = s.memo.get(key)
        if found is not None:
            return found
    tokens, bigrams = _analyse(s.prop, values)
    out = (" ".join(tokens), " ".join(bigrams))
    if key is not None:
        if len(s.memo) >= SLOT_MEMO:
            s.memo.clear()
        s.memo[key] = out
    return out


# By the ontology's identity: hashing an Ontology walks every type and property, more than the plan saves.
_PLANS: dict[tuple[int, str], tuple[Ontology, _DocPlan]] = {}


def _doc_plan(ontology: Ontology, type_name: str) -> _DocPlan:
    found = _PLANS.get((id(ontology), type_name))
    if found is not None and found[0] is ontology:
        return found[1]
    if len(_PLANS) >= 256:  # ontologies built by tests and extensions come and go
        _PLANS.clear()
    plan = _make_plan(ontology, type_name)
    _PLANS[(id(ontology), type_name)] = (ontology, plan)
    return plan


def _make_plan(ontology: Ontology, type_name: str) -> _DocPlan:
    # A property's flags are read once per type, not once per document: with ~30 properties a person,
    # most of them empty, the per-document walk over the ontology was a fifth of building a document.
    nt = ontology.node(type_name)
    slots = tuple(
        _Slot(prop=p, name=p.name, is_list=p.type is PropType.STRING_LIST,
              searchable=p.searchable is not None,
              facet_name=facet_field(p.name) if p.facet else None, bigram_name=bigram_field(p.name),
              merged=bool(p.searchable or p.facet) and merged_from_cluster(nt, p))
        for p in nt.properties
        # What is neither shown, searched nor counted never reaches the document: not even read (see
        # ``document_properties``).
        if p.sensitivity is not Sensitivity.SENSITIVE and (p.searchable or p.facet or p.name == nt.title))
    return _DocPlan(nt, slots, {d.name: d for d in ontology.derived_for(type_name)})


def document_properties(ontology: Ontology, type_name: str) -> tuple[str, ...]:
    """The properties of ``type_name`` its search document is built from: ``build_doc`` reads no others, so a
    projection reads only these from the graph (a person's dates, phone and hashed id stay there)."""
    return tuple(s.name for s in _doc_plan(ontology, type_name).slots)


def build_doc(
    node: Node, derived: dict[str, Any] | None = None, ontology: Ontology = ONTOLOGY, also: Iterable[Node] = (),
) -> SearchDoc:
    """The search document of one node; ``derived`` holds the projection's derived-field values.

    ``also``: the other records of the node's entity-resolution cluster (the node is the canonical
    record). Their values of the properties ``merged_from_cluster`` allows are analysed and counted
    with the node's own, so the one document finds the person by any record's names and counts them
    once (a scalar facet under its golden value only); in ``_src`` list values join the node's list,
    a scalar the node lacks takes the first member's value and the other members' go under ``_also``.
    """
    plan = _doc_plan(ontology, node.type)
    analysed_with = analysis.generation()
    if plan.analysed_with[0] != analysed_with:  # a learned word or a vocabulary edit: analyse afresh
        for slot in plan.slots:
            slot.memo.clear()
        plan.analysed_with[0] = analysed_with
    others = list(also)
    others_claims = [claims.load(o.props, [p.name for p in plan.node_type.properties]) for o in others] \
        if others else []
    props = node.props
    fields: dict[str, Any] = {ID_FIELD: node.id, TYPE_FIELD: node.type}
    src: dict[str, Any] = {}
    extra_src: dict[str, list[Any]] = {}
    for s in plan.slots:
        raw = props.get(s.name)
        if raw is None:
            values: list[Any] = []
        elif type(raw) is str:  # most values: one text
            values = [raw] if raw else []
        else:
            values = _values(raw)
        extra: list[Any] = []
        if others and s.merged:
            for other in _golden_order(others, others_claims, s.prop):
                extra += [v for v in _values(other.props.get(s.name)) if v not in values and v not in extra]
        if not values and not extra:
            continue
        if s.is_list:
            src[s.name] = values + extra if extra else raw
        else:
            src[s.name] = raw if values else extra[0]
            rest = extra if values else extra[1:]
            if rest:
                extra_src[s.name] = rest
        # Any record's value finds the person; a scalar facet counts the golden value only (the
        # node's own, else the first member's), so a person is counted under one value of it.
        if s.searchable:
            tokens, bigrams = _analysed(s, values + extra if extra else values)
            if tokens:
                fields[s.name] = tokens
            if bigrams:
                fields[s.bigram_name] = bigrams
        if s.facet_name is not None:
            counted = values + extra if s.is_list else (values or extra[:1])
            fields[s.facet_name] = [x if type(x) is str else facet_value(x) for x in counted]
    for name, value in (derived or {}).items():
        d = plan.derived.get(name)
        if d is None:
            raise ValidationError(
                f"{node.type} derived field", name, f"one of {sorted(plan.derived) or '(none)'}",
                hint="Declare it in schema.ontology.DERIVED_FIELDS so the mapping, facets and API all know it.",
            )
        if d.sensitivity is Sensitivity.SENSITIVE:
            continue
        values = _values(value)
        if not values:
            continue
        src[name] = value
        fields[facet_field(name)] = [x if type(x) is str else facet_value(x) for x in values]
    if extra_src:
        src[ALSO_FIELD] = extra_src
    # Read back as JSON only (``source_of``), never compared as text: orjson's compact form (dates as
    # ISO text, as str() gives them) at a tenth of json's cost.
    fields[SOURCE_FIELD] = orjson.dumps(src, option=orjson.OPT_SORT_KEYS, default=str).decode("utf-8")
    return SearchDoc(id=node.id, type=node.type, fields=fields)


def source_of(stored: dict[str, Any]) -> dict[str, Any]:
    """The original values of a hit, from the stored ``_src`` JSON (or {} when absent)."""
    raw = stored.get(SOURCE_FIELD)
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if not raw:
        return {}
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else {}


__all__ = [
    "ALSO_FIELD",
    "BIGRAM_SUFFIX",
    "FACET_SUFFIX",
    "FieldKind",
    "ID_FIELD",
    "SOURCE_FIELD",
    "SearchField",
    "TYPE_FIELD",
    "analysed_fields",
    "bigram_field",
    "build_doc",
    "document_properties",
    "facet_field",
    "facet_value",
    "facets",
    "merged_from_cluster",
    "search_fields",
    "source_of",
]
