"""Entities in NGSI-LD form: normalized (CIM 009 clause 4.5.1) and simplified (``keyValues``, 4.5.4).

- ``id``: the URN of the node (``ids.py``); ``type``: the ontology type name (an IRI by ``context.py``).
- Each readable property is a Property ``{"type": "Property", "value": …, "observedAt": …}``; dates are
  typed values ``{"@type": "Date", "@value": "YYYY-MM-DD"}``. ``observedAt`` is the node's
  ``updated_at`` (when this record last changed, ISO 8601 UTC): the graph keeps no time per property.
- The geometry (``feed/geometry.py``: outline, else point) is the GeoProperty ``location``.
- Each outgoing relationship the role reads is a Relationship ``{"object": <URN>}`` with its readable
  properties as sub-properties. Several of one kind (an enterprise sponsoring three projects) form a
  multi-attribute: an array whose instances are told apart by ``datasetId``
  (``urn:ngsi-ld:Dataset:<Type>:<key>`` of the far end, stable across reads).
- ``keyValues``: each attribute is just its value (dates as ISO strings), a relationship its target's URN
  (a list of URNs for several), ``location`` the GeoJSON geometry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from talentgraph.feed.geometry import geometry_of, geometry_props
from talentgraph.feed.ngsild.context import LOCATION
from talentgraph.feed.ngsild.ids import to_urn
from talentgraph.schema.ontology import NodeType, Ontology, PropType
from talentgraph.types import Edge, Node

_SYSTEM = ("updated_at", "version")


def observed_at(value: Any) -> str | None:
    """``updated_at`` as ISO 8601 UTC with a ``Z`` (stored values already are; anything else is normalised)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None  # a timestamp we cannot read is left out rather than sent malformed
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _property_value(node_type: NodeType, name: str, value: Any, key_values: bool) -> Any:
    plain = _json_value(value)
    if not key_values and node_type.prop(name).type is PropType.DATE:
        return {"@type": "Date", "@value": plain}
    return plain


def render(
    ontology: Ontology,
    node_type: NodeType,
    node: Node,
    props: dict[str, Any],
    edges: Sequence[tuple[str, Edge, dict[str, Any]]],
    *,
    attrs: Iterable[str] | None = None,
    key_values: bool = False,
) -> dict[str, Any]:
    """One entity. ``props``: what ``access/records.node_props`` returned; ``edges``: the readable relationships."""
    wanted = None if attrs is None else set(attrs)
    stamp = observed_at(props.get("updated_at"))
    out: dict[str, Any] = {"id": to_urn(ontology, node.id), "type": node_type.name}
    hidden = set(geometry_props()) | set(_SYSTEM)
    for p in node_type.properties:
        if p.name in hidden or p.name not in props or (wanted is not None and p.name not in wanted):
            continue
        value = _property_value(node_type, p.name, props[p.name], key_values)
        out[p.name] = value if key_values else _with_time({"type": "Property", "value": value}, stamp)
    geometry = geometry_of(props)
    if geometry is not None and (wanted is None or LOCATION in wanted):
        out[LOCATION] = geometry if key_values else _with_time({"type": "GeoProperty", "value": geometry}, stamp)
    grouped: dict[str, list[tuple[Edge, dict[str, Any]]]] = {}
    for attr, edge, shown in edges:
        if wanted is None or attr in wanted:
            grouped.setdefault(attr, []).append((edge, shown))
    for attr, items in grouped.items():
        items.sort(key=lambda item: item[0].to_id)  # a stable order for stable datasetIds and diffs
        if key_values:
            objects = [to_urn(ontology, e.to_id) for e, _ in items]
            out[attr] = objects[0] if len(objects) == 1 else objects
            continue
        instances = [_relationship(ontology, e, shown, many=len(items) > 1) for e, shown in items]
        out[attr] = instances[0] if len(instances) == 1 else instances
    return out


def _relationship(ontology: Ontology, edge: Edge, shown: dict[str, Any], *, many: bool) -> dict[str, Any]:
    target = to_urn(ontology, edge.to_id)
    rel: dict[str, Any] = {"type": "Relationship", "object": target}
    if many:
        rel["datasetId"] = "urn:ngsi-ld:Dataset:" + target[len("urn:ngsi-ld:"):]
    stamp = observed_at(edge.props.get("updated_at"))
    for name, value in shown.items():
        rel[name] = _with_time({"type": "Property", "value": _json_value(value)}, stamp)
    return _with_time(rel, stamp)


def _with_time(attr: dict[str, Any], stamp: str | None) -> dict[str, Any]:
    if stamp is not None:
        attr["observedAt"] = stamp
    return attr
