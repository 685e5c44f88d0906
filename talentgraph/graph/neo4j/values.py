"""Values crossing the Neo4j driver on the way out: driver types in, plain Python out.

The driver returns ``neo4j.time`` values and ``neo4j.graph`` entities; ``to_native`` turns them into
the plain values ``graph.common`` expects (graph entities become property maps with a ``_LABEL``
key, the shape LadybugDB returns, so both adapters read paths the same way).

Values on the way in are checked for both engines by ``graph.common.check_storable``.
"""

from __future__ import annotations

from typing import Any

from neo4j.graph import Node as DriverNode
from neo4j.graph import Path as DriverPath
from neo4j.graph import Relationship as DriverRelationship
from neo4j.time import Date, DateTime, Time

from talentgraph.graph.common import LABEL_KEY


# Exact types that come out as they are (bool is a subclass of int, so it is named too): a set lookup per value,
# before the isinstance checks the rest need (a sync reads every record of the graph through here).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_native(value: Any) -> Any:
    """A driver value as plain Python: dates, lists, maps, and graph entities as property maps."""
    if type(value) in _PLAIN or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (Date, DateTime, Time)):
        return value.to_native()
    if isinstance(value, list):
        return [to_native(v) for v in value]
    if isinstance(value, dict):
        return {k: to_native(v) for k, v in value.items()}
    if isinstance(value, DriverNode):
        # talentgraph gives every node one label; sorting makes a foreign extra label deterministic.
        labels = sorted(value.labels)
        return {**{k: to_native(v) for k, v in value.items()}, LABEL_KEY: labels[0] if labels else None}
    if isinstance(value, DriverRelationship):
        return {**{k: to_native(v) for k, v in value.items()}, LABEL_KEY: value.type}
    if isinstance(value, DriverPath):
        return {"nodes": [to_native(n) for n in value.nodes],
                "rels": [to_native(r) for r in value.relationships]}
    return value


__all__ = ["to_native"]
