"""A node's geometry as an RFC 7946 geometry object: its outline where it has one, else its point.

Which types are map features follows from the ontology (a node type with ``lon``/``lat`` or an
``outline`` property, ``schema/ontology.py``); stored values are WGS84 already (validated and, from
GCJ-02 registers, converted on ingest), so nothing here converts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from talentgraph.schema.ontology import GEO_LAT, GEO_LON, GEO_OUTLINE, NodeType

Geometry = dict[str, Any]


def has_point(node_type: NodeType) -> bool:
    return node_type.has(GEO_LON) and node_type.has(GEO_LAT)


def has_outline(node_type: NodeType) -> bool:
    return node_type.has(GEO_OUTLINE)


def is_feature_type(node_type: NodeType) -> bool:
    """Whether nodes of this type can carry a geometry at all."""
    return has_point(node_type) or has_outline(node_type)


def point(props: Mapping[str, Any]) -> Geometry | None:
    lon, lat = props.get(GEO_LON), props.get(GEO_LAT)
    if lon is None or lat is None:
        return None
    return {"type": "Point", "coordinates": [float(lon), float(lat)]}


def outline(props: Mapping[str, Any]) -> Geometry | None:
    text = props.get(GEO_OUTLINE)
    if not text:
        return None
    try:
        geometry = json.loads(text)
    except ValueError:
        return None  # stored values passed the polygon validator; anything else is not shown as a shape
    return geometry if isinstance(geometry, dict) and geometry.get("type") == "Polygon" else None


def geometry_of(props: Mapping[str, Any]) -> Geometry | None:
    """The shape to draw: the outline if there is one, else the point, else None (RFC 7946: null geometry)."""
    return outline(props) or point(props)


def geometry_props() -> tuple[str, ...]:
    """The property names geometry is read from (left out of a feature's ``properties``)."""
    return (GEO_LON, GEO_LAT, GEO_OUTLINE)
