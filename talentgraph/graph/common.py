"""What both graph adapters share outside query text: hashing, timestamps, row ⇄ value conversion.

Rows come back from the engines as plain maps of properties (Ladybug adds ``_ID``/``_LABEL``/
``_SRC``/``_DST`` and, for nodes reached without a label, nulls for the columns of every other
table); these helpers keep only what the ontology declares for the row's type, so both adapters
return identical ``types.Node``/``types.Edge`` values.

Writes: every value a record gives is checked against its property's type before any engine sees
it (``check_storable``). Neo4j properties are untyped and would store a text value in an INT property
as given; LadybugDB's typed columns refuse it only with a cast error deep in a statement. Checking
here gives both engines one answer, worded for the caller whose record it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from talentgraph.errors import OntologyError, StoreError
from talentgraph.graph import jsontext
from talentgraph.graph.claims import fresh_claims, jsonable
from talentgraph.graph.cypher import rel_columns, to_db_value
from talentgraph.schema.ontology import (
    SYSTEM_NODE_PROPERTIES,
    SYSTEM_REL_PROPERTIES,
    NodeType,
    Ontology,
    Property,
    PropType,
    RelType,
)
from talentgraph.types import Edge, Node, NodeId, NodeRecord, Props, Provenance

SYSTEM_NODE_NAMES = frozenset(p.name for p in SYSTEM_NODE_PROPERTIES)
SYSTEM_REL_NAMES = frozenset(p.name for p in SYSTEM_REL_PROPERTIES)
# Key naming a node's label / a relationship's type in an entity's property map (LadybugDB returns
# it for path entities; the Neo4j adapter adds it when it turns driver entities into maps).
LABEL_KEY = "_LABEL"


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(props: Mapping[str, Any]) -> str:
    """Hash of ontology properties: canonical JSON (sorted keys, lists in order, nulls dropped).

    Nulls are dropped so that omitting a property and setting it to null hash the same; list order
    is kept because it can carry meaning (e.g. languages listed by fluency).
    """
    return _canonical_hash({k: jsonable(v) for k, v in props.items() if v is not None})


def _canonical_hash(canonical: Mapping[str, Any], *, float_free: bool = False) -> str:
    """``content_hash`` of values already as JSON stores them, nulls dropped."""
    text = jsontext.dumps(canonical, sort_keys=True, float_free=float_free)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PreparedNode(NodeRecord):
    """A node record with what its first write stores worked out where it was built (a row-building
    worker, in parallel): the content hash and the claims part of ``prov`` of its values as a new
    node. A store uses them only when the node does not exist yet and the values went in unwidened
    (``check_storable`` returned them as they are); any other write merges as usual."""

    fresh_hash: str = ""
    fresh_claims: str = ""

    @classmethod
    def of(cls, rec: NodeRecord) -> PreparedNode:
        # The values as JSON stores them (the claims text keeps hardly any of them: claims.fresh_claims).
        fresh = {name: jsonable(value) for name, value in rec.props.items() if value is not None}
        return cls(rec.type, rec.id, rec.props, rec.provenance, rec.names,
                   fresh_hash=_canonical_hash(fresh, float_free=not jsontext.has_float(fresh)),
                   fresh_claims=fresh_claims(fresh) if fresh else "")


def split_props(props: Mapping[str, Any]) -> tuple[Props, Props]:
    """(ontology properties, system properties) of a stored node's property map."""
    ontology_props = {k: v for k, v in props.items() if k not in SYSTEM_NODE_NAMES}
    system = {k: v for k, v in props.items() if k in SYSTEM_NODE_NAMES}
    return ontology_props, system


_KNOWN: dict[int, tuple[NodeType | RelType, frozenset[str]]] = {}


def _known_names(kind: NodeType | RelType) -> frozenset[str]:
    # One set per type, not per record (a bulk load checks every record); keyed by identity, with
    # the type kept so the id cannot be reused by another object while the entry lives.
    hit = _KNOWN.get(id(kind))
    if hit is None or hit[0] is not kind:
        if len(_KNOWN) > 1024:
            _KNOWN.clear()
        hit = _KNOWN[id(kind)] = (kind, frozenset(p.name for p in kind.properties))
    return hit[1]


def check_props(kind: NodeType | RelType, props: Mapping[str, Any]) -> str | None:
    """Why a record's properties cannot be stored (an unknown name), or None when they can."""
    known = _known_names(kind)
    if known.issuperset(props):
        return None
    unknown = sorted(set(props) - known)
    if unknown:
        label = kind.name
        return (f"{label} has no propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(known)) or '(none)'}.")
    return None


class UnstorableValueError(StoreError):
    """A record's value does not have its property's type; the whole write call was refused.

    A ``StoreError`` (the write failed, nothing of it is stored) whose code says the caller's value
    is at fault, not the engine.
    """

    code = "INVALID_VALUE"

    def __init__(self, owner: str, ident: str, prop: Property, value: object) -> None:
        self.owner = owner
        self.ident = ident
        self.field = prop.name
        self.value = value
        self.expected = prop.type.value
        super().__init__(
            f"{owner} {ident}: {prop.name} is {value!r} ({type(value).__name__}), but {owner}.{prop.name} "
            f"holds {prop.type.value} values; nothing in this batch was written.",
            hint="Validate records with talentgraph.schema.validation before upserting them.",
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))


def _is_string_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


_ACCEPTS: dict[PropType, Callable[[Any], bool]] = {
    PropType.STRING: lambda v: isinstance(v, str),
    PropType.INT: _is_int,
    PropType.FLOAT: _is_number,
    PropType.BOOL: lambda v: isinstance(v, bool),
    PropType.DATE: _is_date,
    PropType.STRING_LIST: _is_string_list,
}


# The type each kind's values usually arrive as: one ``type(v) is`` test passes them.
_EXACT: dict[PropType, type] = {PropType.STRING: str, PropType.INT: int, PropType.FLOAT: float, PropType.BOOL: bool}


def check_storable(owner: str, ident: str, declared: Mapping[str, Property], values: Props) -> Props:
    """A record's ontology ``values``, each checked against its declared property's type.

    Returns ``values`` itself, or a copy when a value needs widening (an int in a float property,
    a tuple in a list property). DATE values may be ISO strings: ``node_row`` parses those. Names
    not in ``declared`` are skipped (``check_props`` reports them). Raises ``UnstorableValueError``
    naming the record, the property, the value and the type the property holds.
    """
    # Hot path of bulk loads (one call per record), so only the values a record gives are looked at.
    widened: Props | None = None
    for name, value in values.items():
        if value is None:
            continue
        prop = declared.get(name)
        if prop is None:
            continue
        kind = prop.type
        if type(value) is _EXACT.get(kind):
            continue
        if not _ACCEPTS[kind](value):
            raise UnstorableValueError(owner, ident, prop, value)
        if kind is PropType.FLOAT and type(value) is not float:
            widened = widened if widened is not None else dict(values)
            widened[name] = float(value)  # an int would stay an int in Neo4j; a DOUBLE column reads back a float
        elif kind is PropType.STRING_LIST and type(value) is not list:
            widened = widened if widened is not None else dict(values)
            widened[name] = list(value)
    return values if widened is None else widened


def change_row(op: str, kind: str, type_name: str, ident: str, version: int, ts: str,
               from_id: str | None = None, to_id: str | None = None) -> Props:
    """A change-log row; ``seq`` is filled in when the entries are written (``CypherGraphStore._log``)."""
    return {"seq": 0, "op": op, "kind": kind, "type": type_name, "id": ident, "version": int(version), "ts": ts,
            "from_id": from_id, "to_id": to_id}


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def short_query(text: str) -> str:
    """Query text short enough for an error message."""
    return text if len(text) < 160 else text[:157] + "..."


def plain_value(value: Any) -> Any:
    """A facet value as JSON-friendly Python (dates as ISO strings)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def provenance_props(p: Provenance | None) -> Props:
    if p is None:
        return {"src_job": None, "src_file": None, "src_row": None}
    return {"src_job": p.job, "src_file": p.source, "src_row": p.row}


def _write_row(props_decl: Sequence[Property], props: Mapping[str, Any], system_decl: Sequence[Property],
               system: Mapping[str, Any]) -> Props:
    # Hot path of bulk loads (one call per record): only dates need converting.
    row: Props = {}
    for p in props_decl:
        value = props.get(p.name)
        row[p.name] = to_db_value(p, value) if p.type is PropType.DATE and value is not None else value
    for p in system_decl:
        row[p.name] = system.get(p.name)
    return row


def node_row(node_type: NodeType, node_id: NodeId, props: Mapping[str, Any], system: Mapping[str, Any]) -> Props:
    """A full write row for a node: every column (nulls included), values in engine types."""
    return {"id": node_id, **_write_row(node_type.properties, props, SYSTEM_NODE_PROPERTIES, system)}


def rel_row(rel_type: RelType, props: Mapping[str, Any], system: Mapping[str, Any]) -> Props:
    """A full write row for a relationship (``key`` among the system properties)."""
    return _write_row(rel_type.properties, props, SYSTEM_REL_PROPERTIES, system)


def _from_db(ptype: PropType, value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)) and ptype is PropType.DATE:
        return value.isoformat()[:10]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_Columns = tuple[tuple[str, PropType], ...]
_COLUMNS: dict[int, tuple[NodeType, _Columns]] = {}


def _columns(nt: NodeType) -> _Columns:
    """A node type's columns and their types, worked out once per type (a read converts thousands of nodes:
    148k in a 50k search sync)."""
    found = _COLUMNS.get(id(nt))
    if found is None or found[0] is not nt:
        found = _COLUMNS[id(nt)] = (nt, tuple((p.name, p.type) for p in (*nt.properties, *SYSTEM_NODE_PROPERTIES)))
    return found[1]


def node_from_props(ontology: Ontology, type_name: str, raw: Mapping[str, Any]) -> Node:
    """A ``types.Node`` from an engine's property map (unknown and null columns dropped)."""
    nt = ontology.node(type_name)
    props: Props = {}
    for name, ptype in _columns(nt):
        value = raw.get(name)
        if value is not None:
            props[name] = _from_db(ptype, value) if isinstance(value, dt.date) else value  # most are not dates
    node_id = raw.get("id")
    if not isinstance(node_id, str):
        raise OntologyError(f"A stored {type_name} node has no id (got {node_id!r}).",
                            hint="The graph was written by something other than talentgraph; rebuild it.")
    return Node(id=node_id, type=nt.name, props=props)


def node_converter(ontology: Ontology, type_name: str,
                   fields: Sequence[str] | None = None) -> Callable[[Mapping[str, Any]], Node]:
    """``node_from_props`` for many rows of named columns of one type (snapshot scans): a row holds the id
    and only columns of the type, so only its nulls are dropped and its dates converted. With ``fields``
    the props follow their order (the order a reader asked in, whatever order the engine's map has)."""
    nt = ontology.node(type_name)
    known = {p.name for p in (*nt.properties, *SYSTEM_NODE_PROPERTIES)}
    dates = tuple(p.name for p in nt.properties if p.type is PropType.DATE)
    ordered = None if fields is None else tuple(f for f in dict.fromkeys(fields) if f in known)

    def convert(raw: Mapping[str, Any]) -> Node:
        node_id = raw.get("id")
        if not isinstance(node_id, str):
            return node_from_props(ontology, nt.name, raw)  # let the full conversion explain
        if ordered is None:
            props: Props = {k: v for k, v in raw.items() if v is not None and k in known}
        else:
            props = {k: v for k in ordered if (v := raw.get(k)) is not None}
        for name in dates:
            if name in props:
                props[name] = _from_db(PropType.DATE, props[name])
        return Node(id=node_id, type=nt.name, props=props)

    return convert


def rel_props_converter(rel_type: RelType) -> Callable[[Mapping[str, Any]], Props]:
    """``rel_props`` for many maps holding only the relationship type's columns (snapshot scans)."""
    known = {p.name for p in rel_columns(rel_type)}
    dates = tuple(p.name for p in rel_columns(rel_type) if p.type is PropType.DATE)

    def convert(raw: Mapping[str, Any]) -> Props:
        props: Props = {k: v for k, v in raw.items() if v is not None and k in known}
        for name in dates:
            if name in props:
                props[name] = _from_db(PropType.DATE, props[name])
        return props

    return convert


def parse_rel_key(key: str) -> tuple[str, str, str]:
    """(type, from_id, to_id) from a key made by ``types.rel_key``."""
    parts = key.split("|")
    if len(parts) != 3 or not all(parts):
        raise OntologyError(f"Relationship key {key!r} is not 'from|TYPE|to'.",
                            hint="Use RelRecord.key or types.rel_key() to build keys.")
    from_id, rel_type, to_id = parts
    return rel_type, from_id, to_id


def rel_props(rel_type: RelType, raw: Mapping[str, Any]) -> Props:
    props: Props = {}
    for p in rel_columns(rel_type):
        value = raw.get(p.name)
        if value is not None:
            props[p.name] = _from_db(p.type, value)
    return props


def edge_from_props(ontology: Ontology, rel_type_name: str, raw: Mapping[str, Any], node: Node) -> Edge:
    """A ``types.Edge``; its ends come from the stored key, so no extra lookup is needed."""
    rt = ontology.rel(rel_type_name)
    key = raw.get("key")
    if not isinstance(key, str):
        raise OntologyError(f"A stored {rel_type_name} relationship has no key (got {key!r}).",
                            hint="The graph was written by something other than talentgraph; rebuild it.")
    _, from_id, to_id = parse_rel_key(key)
    return Edge(type=rt.name, from_id=from_id, to_id=to_id, props=rel_props(rt, raw), node=node)


__all__ = [
    "LABEL_KEY",
    "SYSTEM_NODE_NAMES",
    "SYSTEM_REL_NAMES",
    "UnstorableValueError",
    "change_row",
    "check_props",
    "check_storable",
    "chunks",
    "content_hash",
    "edge_from_props",
    "node_converter",
    "rel_props_converter",
    "node_from_props",
    "node_row",
    "now_iso",
    "parse_rel_key",
    "plain_value",
    "provenance_props",
    "rel_props",
    "rel_row",
    "short_query",
    "split_props",
]
