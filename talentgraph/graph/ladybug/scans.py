"""LadybugDB's snapshot scans: node and relationship tables read in windows of internal offsets.

A keyset page by id (``WHERE n.id > $after ORDER BY n.id LIMIT``) costs LadybugDB a scan and a sort of
the whole table per page, as its primary-key index is a hash: 0.3 s per 5,000 of 225k residents. A
node's internal offset (``offset(ID(n))``) is as stable as its id — LadybugDB keeps a deleted node's
offset (its hash index cannot drop entries) and appends new nodes after the last — and a window of
offsets is read without a sort: 10,000 residents in ~35 ms. Relationships are read by the offsets of
their start nodes (one window: every relationship of those nodes), so a page never splits a start
node between reads it cannot order.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from talentgraph.errors import OntologyError
from talentgraph.graph.common import node_from_props, parse_rel_key
from talentgraph.graph.cypher import node_columns, q, rel_columns
from talentgraph.schema.ontology import SYSTEM_NODE_PROPERTIES, NodeType, Ontology, PropType, RelType
from talentgraph.types import Node, Props, Relationship


def node_fields(node_type: NodeType, fields: Sequence[str] | None) -> list[str]:
    """The columns a node scan returns besides the id, in the order asked (None: every stored column)."""
    system = {p.name for p in SYSTEM_NODE_PROPERTIES}
    if fields is None:
        return [p.name for p in node_columns(node_type) if p.name != "id"]
    return [f for f in dict.fromkeys(fields) if f != "id" and (node_type.has(f) or f in system)]


def node_window(ontology: Ontology, type_name: str, fields: Sequence[str] | None) -> str:
    """Nodes with $lo <= offset < $hi: offset, id and then ``node_fields`` as plain columns (read by place;
    columns rather than one map: the engine builds no struct and Arrow hands each column over whole)."""
    nt = ontology.node(type_name)
    cols = "".join(f", n.{q(name)} AS c{i}" for i, name in enumerate(node_fields(nt, fields)))
    return (f"MATCH (n:{q(nt.name)}) WHERE offset(ID(n)) >= $lo AND offset(ID(n)) < $hi "
            f"RETURN offset(ID(n)) AS pos, n.{q('id')} AS id{cols}")


def offsets_of(ontology: Ontology, type_name: str) -> str:
    """``pos``: the offset of each node of the type whose id is in $ids (those that exist)."""
    return (f"UNWIND $ids AS i MATCH (n:{q(ontology.node(type_name).name)} {{{q('id')}: i}}) "
            f"RETURN offset(ID(n)) AS pos")


def _props_of(names: Sequence[str], dates: set[str], table: pa.Table, first: int) -> list[Props]:
    """Per row, the props of the columns ``first``… (one per name in ``names``), column by column rather than
    value by value: nulls dropped, dates as ISO strings, in the order of ``names`` — what ``common`` makes of
    a map, at a fraction of the cost (a bulk snapshot's hot path)."""
    n = table.num_rows
    kept: list[str] = []
    values: list[list[object]] = []
    sparse: list[tuple[str, pa.ChunkedArray]] = []
    for i, name in enumerate(names):
        col = table.column(i + first)
        if col.null_count == n:
            continue  # no row has it: nothing to drop row by row
        if name in dates and pa.types.is_date(col.type):
            col = pc.cast(col, pa.string())  # YYYY-MM-DD, as date.isoformat()
        kept.append(name)
        values.append(col.to_pylist())
        if col.null_count:
            sparse.append((name, col))
    if not kept:
        return [{} for _ in range(n)]
    props: list[Props] = [dict(zip(kept, row)) for row in zip(*values)]
    for name, col in sparse:  # then each null dropped where it is (deleting keeps the others' order)
        for i in pc.indices_nonzero(col.is_null()).to_pylist():
            del props[i][name]
    return props


def nodes_from_arrow(ontology: Ontology, node_type: NodeType, names: Sequence[str],
                     table: pa.Table) -> list[tuple[str, Node]]:
    """(position, node) per row of a ``node_window`` table: the props ``common.node_converter`` makes of a map
    (``_props_of``)."""
    ids = table.column(1)
    if ids.null_count or not pa.types.is_string(ids.type):
        bad = next(i for i, v in enumerate(ids.to_pylist()) if not isinstance(v, str))
        node_from_props(ontology, node_type.name, {"id": ids[bad].as_py()})  # raises, naming the row
    dates = {p.name for p in node_type.properties if p.type is PropType.DATE}
    props = _props_of(names, dates, table, 2)
    positions = pc.cast(table.column(0), pa.string()).to_pylist()
    type_name = node_type.name
    return [(pos, Node(node_id, type_name, p)) for pos, node_id, p in zip(positions, ids.to_pylist(), props)]


def rel_fields(rel_type: RelType, fields: Sequence[str] | None) -> list[str]:
    """The props a relationship scan returns, in the order asked (None: every stored column, the key too, as
    the map of ``cypher.get_rels`` holds them)."""
    if fields is None:
        return [p.name for p in rel_columns(rel_type)]
    known = {p.name for p in rel_columns(rel_type)}
    return [f for f in dict.fromkeys(fields) if f in known]


def rel_window(ontology: Ontology, rel_type: str, from_type: str, fields: Sequence[str] | None = None) -> str:
    """``rel_type`` relationships of the ``from_type`` nodes with $lo <= offset < $hi: start offset, key and then
    ``rel_fields`` as plain columns (as ``node_window``)."""
    rt = ontology.rel(rel_type)
    cols = "".join(f", r.{q(name)} AS c{i}" for i, name in enumerate(rel_fields(rt, fields)))
    return (f"MATCH (a:{q(ontology.node(from_type).name)}) WHERE offset(ID(a)) >= $lo AND offset(ID(a)) < $hi "
            f"MATCH (a)-[r:{q(rt.name)}]->() RETURN offset(ID(a)) AS pos, r.{q('key')} AS key{cols}")


def rels_from_arrow(rel_type: RelType, names: Sequence[str], table: pa.Table) -> list[tuple[str, Relationship]]:
    """(start position, relationship) per row of a ``rel_window`` table, in the table's order: its ends from
    the key (as ``common.parse_rel_key``), its props what ``common.rel_props_converter`` makes of a map, in the
    order of ``names`` (``_props_of``)."""
    keys = table.column(1)
    if keys.null_count or not pa.types.is_string(keys.type):
        bad = next(v for v in keys.to_pylist() if not isinstance(v, str))
        raise OntologyError(f"A stored {rel_type.name} relationship has no key (got {bad!r}).",
                            hint="The graph was written by something other than talentgraph; rebuild it.")
    parts = pc.split_pattern(keys, "|")
    lengths = pc.list_value_length(parts)
    if table.num_rows and (pc.min(lengths).as_py() != 3 or pc.max(lengths).as_py() != 3
                           or pc.min(pc.utf8_length(pc.list_flatten(parts))).as_py() == 0):
        for key in keys.to_pylist():
            parse_rel_key(key)  # raises, naming the first key that is not 'from|TYPE|to'
    dates = {p.name for p in rel_columns(rel_type) if p.type is PropType.DATE}
    props = _props_of(names, dates, table, 2)
    positions = pc.cast(table.column(0), pa.string()).to_pylist()
    from_ids = pc.list_element(parts, 0).to_pylist()
    to_ids = pc.list_element(parts, 2).to_pylist()
    type_name = rel_type.name
    return [(pos, Relationship(type_name, key, from_id, to_id, p))
            for pos, key, from_id, to_id, p in zip(positions, keys.to_pylist(), from_ids, to_ids, props)]


def last_offset(ontology: Ontology, type_name: str) -> str:
    """The highest offset a node of the type has (null in an empty table)."""
    return f"MATCH (n:{q(ontology.node(type_name).name)}) RETURN max(offset(ID(n))) AS top"


__all__ = ["last_offset", "node_fields", "node_window", "nodes_from_arrow", "offsets_of", "rel_fields", "rel_window",
           "rels_from_arrow"]
