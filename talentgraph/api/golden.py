"""Entity resolution in the API: one person per cluster, shown as its golden record.

Resolution writes ``canonical`` on every record of a cluster of two or more records: the id of the
record that stands for the cluster (itself on that record). The API reads that property and nothing
else of the resolver:

- lists (and facet counts) leave out a record whose ``canonical`` names another record, unless the
  caller asks for ``allRecords``; such a record stays reachable by id and names its stand-in;
- the canonical record shows the *golden record*. Per property, each record of the cluster is
  masked first, as the caller may read that record (staff: a member outside their areas gives only
  what staff read outside their areas), then the values are merged in *golden order*: the
  canonical record, then the other members by the priority of the source their value of this
  property comes from (highest first), then by id. A scalar takes the first non-empty value, a list
  the union of all values in that order;
- provenance and conflicts list every record's sources of a property (each entry names its
  ``record``); the entries whose values the golden record shows are ``shown``.

Filters and sort keys still apply to each record's own stored values (the store knows no golden
record); members are fetched with one store call per query level (``Loaders.members``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from talentgraph.access.policy import Grant
from talentgraph.graph import claims
from talentgraph.schema.ontology import NodeType, Property, PropType
from talentgraph.types import Cmp, Edge, Filter, Node, Or

if TYPE_CHECKING:
    from talentgraph.api.context import ApiContext

CANONICAL = "canonical"
SAME_AS = "SAME_AS"
IN_CLUSTER = frozenset({"matched", "accepted"})  # SAME_AS statuses that make a pair part of a cluster


# --- which records a list shows ---------------------------------------------------------------------


def clustered(node_type: NodeType) -> bool:
    """Whether entity resolution may cluster records of this type (it carries ``canonical``)."""
    return node_type.has(CANONICAL)


def canonical_of(node: Node) -> str | None:
    value = node.props.get(CANONICAL)
    return str(value) if value else None


def is_canonical(node: Node) -> bool:
    return canonical_of(node) == node.id


def is_hidden(node: Node) -> bool:
    """A record resolved to another record: lists show that other record instead."""
    c = canonical_of(node)
    return c is not None and c != node.id


def shown_filter() -> Filter:
    """Store filter keeping one record per cluster: unresolved records and the canonical ones."""
    return Or((Cmp(CANONICAL, "is_null", True), Cmp(CANONICAL, "eq", ""), Cmp(CANONICAL, "is_own_id", True)))


# --- golden values ----------------------------------------------------------------------------------


def empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


async def cluster(ctx: ApiContext, node: Node) -> list[Node]:
    """The records a node's values come from: itself, and on a canonical record its members too."""
    if not is_canonical(node):
        return [node]
    members: list[Node] = await ctx.loaders.members(node.type).load(node.id)
    return [node, *(m for m in members if m.id != node.id)]


def golden_order(ctx: ApiContext, records: Sequence[Node], node_type: NodeType, prop: Property) -> list[Node]:
    """The canonical record (first in ``records``), then the others by source priority of ``prop``, then id."""
    if len(records) < 2:
        return list(records)

    def priority(n: Node) -> int:
        winner = claims.shown(ctx.loaders.claims_of(n, node_type).get(prop.name) or [])
        return int(winner.get("p") or 0) if winner else 0

    return [records[0], *sorted(records[1:], key=lambda n: (-priority(n), n.id))]


async def readable(ctx: ApiContext, records: Sequence[Node], grant: Grant) -> list[bool]:
    """Per record, whether the caller reads a value with ``grant`` on it (one batched scope check)."""
    if grant is Grant.ALWAYS:
        return [True] * len(records)
    if grant is Grant.NEVER:
        return [False] * len(records)
    return list(await asyncio.gather(*(ctx.access.sees(r, grant) for r in records)))


async def contributions(ctx: ApiContext, node: Node, node_type: NodeType, prop: Property,
                        grant: Grant) -> tuple[list[Node], list[Node]]:
    """(records whose value of ``prop`` the caller reads, in golden order; those the value shows)."""
    records = golden_order(ctx, await cluster(ctx, node), node_type, prop)
    seen = [r for r, ok in zip(records, await readable(ctx, records, grant)) if ok]
    given = [r for r in seen if not empty(r.props.get(prop.name))]
    if prop.type is not PropType.STRING_LIST:
        given = given[:1]
    ctx.access.returned(given)  # the access record names every person whose values are shown
    return seen, given


def merge(prop: Property, records: Sequence[Node]) -> Any:
    """The golden value of ``prop`` from the records that give it (golden order)."""
    if prop.type is not PropType.STRING_LIST:
        return records[0].props.get(prop.name) if records else None
    out: list[Any] = []
    for r in records:
        for v in r.props.get(prop.name) or ():
            if v not in out:
                out.append(v)
    return out or None


async def value(ctx: ApiContext, node: Node, node_type: NodeType, prop: Property, grant: Grant) -> Any:
    """What the caller sees of ``prop`` on ``node``: its own masked value, or the golden one."""
    if not is_canonical(node):
        ok = grant is Grant.ALWAYS or await ctx.access.sees(node, grant)
        return node.props.get(prop.name) if ok else None
    _, given = await contributions(ctx, node, node_type, prop, grant)
    return merge(prop, given)


# --- SAME_AS evidence -------------------------------------------------------------------------------


def weights(edge: Edge) -> Any:
    """The per-comparison match weights of a SAME_AS pair, parsed (the text when it is not JSON)."""
    text = edge.props.get("weights")
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


__all__ = ["CANONICAL", "IN_CLUSTER", "SAME_AS", "canonical_of", "clustered", "cluster", "contributions",
           "empty", "golden_order", "is_canonical", "is_hidden", "merge", "readable", "shown_filter", "value",
           "weights"]
