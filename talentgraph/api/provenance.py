"""A node's per-property provenance and conflicts as GraphQL values, from its stored claims.

The claims (``graph/claims.py``) hold every source's value of every property, identity documents
included; what a role may see of them is decided by the caller, who passes only the properties
whose values that role sees on this node (``api/schema.py``). Nothing else leaves. A golden record
(``api/golden.py``) lists its members' sources too, each entry naming the record it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from talentgraph.api.naming import camel
from talentgraph.api.objects import Conflict, Provenance
from talentgraph.graph import claims
from talentgraph.schema.ontology import NodeType, Property
from talentgraph.types import Node


Plan = Sequence[tuple[Property, Sequence[tuple[Node, bool]]]]
"""Per property: the records whose sources the caller may see (golden order) and whether the
shown value comes from that record (a golden record takes values from its cluster's members)."""


def _ordered(node_type: NodeType, plan: Plan) -> list[tuple[Property, list[Provenance]]]:
    """Per property (ontology order), its sources: the shown ones first, then record by record (golden
    order), each record's by priority and recency."""
    names = [p.name for p in node_type.properties]
    loaded: dict[str, claims.Claims] = {}
    out: list[tuple[Property, list[Provenance]]] = []
    for p, records in plan:
        entries: list[Provenance] = []
        for record, chosen in records:
            stored = loaded.get(record.id)
            if stored is None:
                stored = loaded[record.id] = claims.load(record.props, names)
            items = stored.get(p.name) or []
            winner = claims.shown(items)
            ranked = sorted(items, key=lambda c: (c is not winner, -(c.get("p") or 0), _desc(c.get("t") or "")))
            entries += [_entry(p, c, chosen and c is winner, record.id) for c in ranked]
        entries.sort(key=lambda e: not e.shown)  # stable: the order above is kept otherwise
        out.append((p, entries))
    return out


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in text)


def _entry(prop: Property, claim: dict[str, Any], shown: bool, record: str) -> Provenance:
    return Provenance(property=camel(prop.name), value=cast(JSON, claim.get("v")), job=claim.get("job"),
                      source=claim.get("file"), row=claim.get("row"), ingested_at=claim.get("at"),
                      priority=int(claim.get("p") or 0), shown=shown, record=strawberry.ID(record))


def single(node: Node, props: Sequence[Property]) -> Plan:
    """The plan of one record on its own: every property's sources are its own."""
    return [(p, [(node, True)]) for p in props]


def provenance(node_type: NodeType, plan: Plan) -> list[Provenance]:
    """Every source's value of each property of ``plan`` (what the caller may see on each record)."""
    return [entry for _, entries in _ordered(node_type, plan) for entry in entries]


def conflicts(node_type: NodeType, plan: Plan, shown: Mapping[str, Any] | None = None) -> list[Conflict]:
    """The properties whose sources give different values; ``shown``: the value the node shows per
    property when it is not the first source's (a golden record's merged list)."""
    out: list[Conflict] = []
    for p, entries in _ordered(node_type, plan):
        if len({repr(e.value) for e in entries}) > 1:
            value = shown[p.name] if shown is not None and p.name in shown else entries[0].value
            out.append(Conflict(property=camel(p.name), value=cast(JSON, value), values=entries))
    return out


__all__ = ["Plan", "conflicts", "provenance", "single"]
