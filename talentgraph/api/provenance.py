"""A node's per-property provenance and conflicts as GraphQL values, from its stored claims.

The claims (``graph/claims.py``) hold every source's value of every property, identity documents
included; what a role may see of them is decided by the caller, who passes only the properties
whose values that role sees on this node (``api/schema.py``). Nothing else leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from strawberry.scalars import JSON

from talentgraph.api.naming import camel
from talentgraph.api.objects import Conflict, Provenance
from talentgraph.graph import claims
from talentgraph.schema.ontology import NodeType, Property
from talentgraph.types import Node


def _ordered(node: Node, node_type: NodeType, props: Sequence[Property]) -> list[tuple[Property, list[Provenance]]]:
    """Per property (ontology order), its sources: the shown one first, then by priority and recency."""
    stored = claims.load(node.props, [p.name for p in node_type.properties])
    out: list[tuple[Property, list[Provenance]]] = []
    for p in props:
        items = stored.get(p.name) or []
        winner = claims.shown(items)
        ranked = sorted(items, key=lambda c: (c is not winner, -(c.get("p") or 0), _desc(c.get("t") or "")))
        out.append((p, [_entry(p, c, c is winner) for c in ranked]))
    return out


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in text)


def _entry(prop: Property, claim: dict[str, Any], shown: bool) -> Provenance:
    return Provenance(property=camel(prop.name), value=cast(JSON, claim.get("v")), job=claim.get("job"),
                      source=claim.get("file"), row=claim.get("row"), ingested_at=claim.get("at"),
                      priority=int(claim.get("p") or 0), shown=shown)


def provenance(node: Node, node_type: NodeType, props: Sequence[Property]) -> list[Provenance]:
    """Every source's value of each of ``props`` (the properties the caller may see on this node)."""
    return [entry for _, entries in _ordered(node, node_type, props) for entry in entries]


def conflicts(node: Node, node_type: NodeType, props: Sequence[Property]) -> list[Conflict]:
    """The properties among ``props`` whose sources give different values."""
    out: list[Conflict] = []
    for p, entries in _ordered(node, node_type, props):
        if len({repr(e.value) for e in entries}) > 1:
            out.append(Conflict(property=camel(p.name), value=entries[0].value, values=entries))
    return out


__all__ = ["conflicts", "provenance"]
