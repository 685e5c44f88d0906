"""Values crossing the Neo4j driver: driver types in, storable types out.

Reads: the driver returns ``neo4j.time`` values and ``neo4j.graph`` entities; ``to_native`` turns
them into the plain values ``graph.common`` expects (graph entities become property maps with a
``_LABEL`` key, the shape LadybugDB returns, so both adapters read paths the same way).

Writes: Neo4j properties are untyped, so a text value in an INT property would be stored as given
and surface later as a wrong type in GraphQL or the search projection. LadybugDB refuses such a
value because its columns are typed; ``check_storable`` makes the Neo4j adapter refuse the same
values, so a batch behaves the same on both engines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from neo4j.graph import Node as DriverNode
from neo4j.graph import Path as DriverPath
from neo4j.graph import Relationship as DriverRelationship
from neo4j.time import Date, DateTime, Time

from talentgraph.errors import StoreError
from talentgraph.schema.ontology import Property, PropType

LABEL_KEY = "_LABEL"


def to_native(value: Any) -> Any:
    """A driver value as plain Python: dates, lists, maps, and graph entities as property maps."""
    if isinstance(value, (str, int, float, bool)) or value is None:
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


def _storable(prop: Property, value: Any) -> Any:
    """``value`` in the engine type of ``prop``; raises ValueError when it is not one."""
    kind = prop.type
    if kind is PropType.STRING and isinstance(value, str):
        return value
    if kind is PropType.INT and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is PropType.FLOAT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)  # an int stays an int in Neo4j; LadybugDB's DOUBLE column reads back a float
    if kind is PropType.BOOL and isinstance(value, bool):
        return value
    if kind is PropType.DATE and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if kind is PropType.STRING_LIST and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(kind.value)


def check_storable(owner: str, ident: str, declared: Sequence[Property], row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with every declared value in its engine type; StoreError naming the first bad one.

    ``row`` is a write row from ``graph.common`` (dates already converted); undeclared keys (id,
    from_id, to_id) pass through untouched. Null values are left out: ``r.x`` of a missing key is
    null in Cypher, so ``SET n.x = r.x`` still removes the property, and the driver packs every
    value it sends in Python (most ontology properties of a typical record are null).
    """
    out = {k: v for k, v in row.items() if v is not None}
    for prop in declared:
        value = out.get(prop.name)
        if value is None:
            continue
        try:
            out[prop.name] = _storable(prop, value)
        except ValueError:
            raise StoreError(
                f"{owner} {ident}: {prop.name} is {value!r} ({type(value).__name__}), but {owner}.{prop.name} "
                f"holds {prop.type.value} values; nothing in this batch was written.",
                hint="Validate records with talentgraph.schema.validation before upserting them.",
            ) from None
    return out


__all__ = ["LABEL_KEY", "check_storable", "to_native"]
