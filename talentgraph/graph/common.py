"""What both graph adapters share outside query text: hashing, timestamps, row ⇄ value conversion.

Rows come back from the engines as plain maps of properties (Ladybug adds ``_ID``/``_LABEL``/
``_SRC``/``_DST`` and, for nodes reached without a label, nulls for the columns of every other
table); these helpers keep only what the ontology declares for the row's type, so both adapters
return identical ``types.Node``/``types.Edge`` values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from talentgraph.errors import OntologyError
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
from talentgraph.types import Edge, Node, NodeId, Props, Provenance

SYSTEM_NODE_NAMES = frozenset(p.name for p in SYSTEM_NODE_PROPERTIES)
SYSTEM_REL_NAMES = frozenset(p.name for p in SYSTEM_REL_PROPERTIES)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def content_hash(props: Mapping[str, Any]) -> str:
    """Hash of ontology properties: canonical JSON (sorted keys, lists in order, nulls dropped).

    Nulls are dropped so that omitting a property and setting it to null hash the same; list order
    is kept because it can carry meaning (e.g. languages listed by fluency).
    """
    canonical = {k: _jsonable(v) for k, v in props.items() if v is not None}
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_props(props: Mapping[str, Any]) -> tuple[Props, Props]:
    """(ontology properties, system properties) of a stored node's property map."""
    ontology_props = {k: v for k, v in props.items() if k not in SYSTEM_NODE_NAMES}
    system = {k: v for k, v in props.items() if k in SYSTEM_NODE_NAMES}
    return ontology_props, system


def check_props(kind: NodeType | RelType, props: Mapping[str, Any]) -> str | None:
    """Why a record's properties cannot be stored (an unknown name), or None when they can."""
    known = {p.name for p in kind.properties}
    unknown = sorted(set(props) - known)
    if unknown:
        label = kind.name
        return (f"{label} has no propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(known)) or '(none)'}.")
    return None


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


def node_from_props(ontology: Ontology, type_name: str, raw: Mapping[str, Any]) -> Node:
    """A ``types.Node`` from an engine's property map (unknown and null columns dropped)."""
    nt = ontology.node(type_name)
    props: Props = {}
    for p in (*nt.properties, *SYSTEM_NODE_PROPERTIES):
        value = raw.get(p.name)
        if value is not None:
            props[p.name] = _from_db(p.type, value)
    node_id = raw.get("id")
    if not isinstance(node_id, str):
        raise OntologyError(f"A stored {type_name} node has no id (got {node_id!r}).",
                            hint="The graph was written by something other than talentgraph; rebuild it.")
    return Node(id=node_id, type=nt.name, props=props)


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
    "SYSTEM_NODE_NAMES",
    "SYSTEM_REL_NAMES",
    "check_props",
    "content_hash",
    "edge_from_props",
    "node_from_props",
    "node_row",
    "now_iso",
    "parse_rel_key",
    "provenance_props",
    "rel_props",
    "rel_row",
    "split_props",
]
