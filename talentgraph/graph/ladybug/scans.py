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

from talentgraph.graph.cypher import node_fields_map, q, rel_columns
from talentgraph.schema.ontology import Ontology


def node_window(ontology: Ontology, type_name: str, fields: Sequence[str] | None) -> str:
    """Nodes with $lo <= offset < $hi: offset, id and the asked fields as a map."""
    nt = ontology.node(type_name)
    return (f"MATCH (n:{q(nt.name)}) WHERE offset(ID(n)) >= $lo AND offset(ID(n)) < $hi "
            f"RETURN offset(ID(n)) AS pos, n.{q('id')} AS id, {node_fields_map(nt, fields)} AS props")


def rel_window(ontology: Ontology, rel_type: str, from_type: str) -> str:
    """``rel_type`` relationships of the ``from_type`` nodes with $lo <= offset < $hi: start offset, key, props."""
    rt = ontology.rel(rel_type)
    props = "{" + ", ".join(f"{q(p.name)}: r.{q(p.name)}" for p in rel_columns(rt)) + "}"
    return (f"MATCH (a:{q(ontology.node(from_type).name)}) WHERE offset(ID(a)) >= $lo AND offset(ID(a)) < $hi "
            f"MATCH (a)-[r:{q(rt.name)}]->() RETURN offset(ID(a)) AS pos, r.{q('key')} AS key, {props} AS props")


def last_offset(ontology: Ontology, type_name: str) -> str:
    """The highest offset a node of the type has (null in an empty table)."""
    return f"MATCH (n:{q(ontology.node(type_name).name)}) RETURN max(offset(ID(n))) AS top"


__all__ = ["last_offset", "node_window", "rel_window"]
