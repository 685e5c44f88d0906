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

from talentgraph.graph.common import node_from_props
from talentgraph.graph.cypher import node_columns, q, rel_columns
from talentgraph.schema.ontology import SYSTEM_NODE_PROPERTIES, NodeType, Ontology, PropType
from talentgraph.types import Node, Props


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


def nodes_from_arrow(ontology: Ontology, node_type: NodeType, names: Sequence[str],
                     table: pa.Table) -> list[tuple[str, Node]]:
    """(position, node) per row of a ``node_window`` table, column by column rather than value by value: the
    same props ``common.node_converter`` makes of a map (nulls dropped, dates as ISO strings, in the order of
    ``names``) at a fraction of the cost (a bulk snapshot's hot path)."""
    n = table.num_rows
    ids = table.column(1)
    if ids.null_count or not pa.types.is_string(ids.type):
        bad = next(i for i, v in enumerate(ids.to_pylist()) if not isinstance(v, str))
        node_from_props(ontology, node_type.name, {"id": ids[bad].as_py()})  # raises, naming the row
    dates = {p.name for p in node_type.properties if p.type is PropType.DATE}
    kept: list[str] = []
    values: list[list[object]] = []
    sparse: list[tuple[str, pa.ChunkedArray]] = []
    for i, name in enumerate(names):
        col = table.column(i + 2)
        if col.null_count == n:
            continue  # no row has it: nothing to drop row by row
        if name in dates and pa.types.is_date(col.type):
            col = pc.cast(col, pa.string())  # YYYY-MM-DD, as date.isoformat()
        kept.append(name)
        values.append(col.to_pylist())
        if col.null_count:
            sparse.append((name, col))
    props: list[Props] = [dict(zip(kept, row)) for row in zip(*values)] if kept else [{} for _ in range(n)]
    for name, col in sparse:  # then each null dropped where it is (deleting keeps the others' order)
        for i in pc.indices_nonzero(col.is_null()).to_pylist():
            del props[i][name]
    positions = pc.cast(table.column(0), pa.string()).to_pylist()
    type_name = node_type.name
    return [(pos, Node(node_id, type_name, p)) for pos, node_id, p in zip(positions, ids.to_pylist(), props)]


def rel_window(ontology: Ontology, rel_type: str, from_type: str) -> str:
    """``rel_type`` relationships of the ``from_type`` nodes with $lo <= offset < $hi: start offset, key, props."""
    rt = ontology.rel(rel_type)
    props = "{" + ", ".join(f"{q(p.name)}: r.{q(p.name)}" for p in rel_columns(rt)) + "}"
    return (f"MATCH (a:{q(ontology.node(from_type).name)}) WHERE offset(ID(a)) >= $lo AND offset(ID(a)) < $hi "
            f"MATCH (a)-[r:{q(rt.name)}]->() RETURN offset(ID(a)) AS pos, r.{q('key')} AS key, {props} AS props")


def last_offset(ontology: Ontology, type_name: str) -> str:
    """The highest offset a node of the type has (null in an empty table)."""
    return f"MATCH (n:{q(ontology.node(type_name).name)}) RETURN max(offset(ID(n))) AS top"


__all__ = ["last_offset", "node_fields", "node_window", "nodes_from_arrow", "rel_window"]
