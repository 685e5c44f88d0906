"""Bounding boxes for the map routes: parsing a ``bbox`` parameter, and whether a geometry meets one.

A bbox is WGS84 ``minLon,minLat,maxLon,maxLat`` (RFC 7946 §5, OGC API Features ``bbox``); a
geometry meets it when they share any point (boundary included), computed exactly for points and
polygons with holes, not from the geometry's own bounding box. Boxes crossing the antimeridian are
refused: nothing this service holds is near it (every coordinate is validated inside Shanghai).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from talentgraph.errors import BadQueryError
from talentgraph.schema.geo import BBox

Position = Sequence[float]
_EXPECTED = "four numbers minLon,minLat,maxLon,maxLat (WGS84 degrees, min < max), e.g. 121.54,31.21,121.58,31.24"


def parse_bbox(text: str, name: str = "bbox") -> BBox:
    parts = text.split(",")
    if len(parts) != 4:
        raise BadQueryError(f"Parameter {name}={text[:80]!r} has {len(parts)} values.", hint=f"Give {_EXPECTED}.")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadQueryError(f"Parameter {name}={text[:80]!r} is not a list of numbers.", hint=f"Give {_EXPECTED}.") \
            from None
    if not all(math.isfinite(v) for v in values):
        raise BadQueryError(f"Parameter {name}={text[:80]!r} holds a value that is not a finite number.",
                            hint=f"Give {_EXPECTED}.")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise BadQueryError(f"Parameter {name}={text[:80]!r} lies outside longitude ±180 / latitude ±90.",
                            hint=f"Give {_EXPECTED}; longitude comes first.")
    if not (min_lon < max_lon and min_lat < max_lat):
        raise BadQueryError(f"Parameter {name}={text[:80]!r}: each minimum must be below its maximum.",
                            hint=f"Give {_EXPECTED} (boxes across the antimeridian are not supported).")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def positions(geometry: dict[str, Any]) -> Iterable[Position]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        yield coords  # type: ignore[misc]
    elif kind == "Polygon":
        for ring in coords or ():
            yield from ring


def bounds(geometries: Iterable[dict[str, Any] | None]) -> list[float] | None:
    """[minLon, minLat, maxLon, maxLat] over every position, None when there is none (RFC 7946 §5)."""
    lons: list[float] = []
    lats: list[float] = []
    for g in geometries:
        if g is None:
            continue
        for p in positions(g):
            lons.append(float(p[0]))
            lats.append(float(p[1]))
    return [min(lons), min(lats), max(lons), max(lats)] if lons else None


def intersects(geometry: dict[str, Any] | None, box: BBox) -> bool:
    """Whether the geometry and the box share a point (touching counts)."""
    if geometry is None:
        return False
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return box.contains(lon, lat)
    if geometry.get("type") != "Polygon":
        return False
    rings: list[list[Position]] = geometry["coordinates"]
    b = bounds([geometry])
    if b is None or b[0] > box.max_lon or b[2] < box.min_lon or b[1] > box.max_lat or b[3] < box.min_lat:
        return False
    outer = rings[0]
    # 1. A vertex of the outline inside the box (a hole's vertex lies inside the polygon's outline too,
    #    but on the hole's edge, which belongs to the polygon).
    if any(box.contains(p[0], p[1]) for ring in rings for p in ring):
        return True
    # 2. The box inside the polygon: its corner is in the outline and in no hole.
    corner = (box.min_lon, box.min_lat)
    if _inside(corner, outer) and not any(_inside(corner, hole) for hole in rings[1:]):
        return True
    # 3. An edge of the polygon crossing an edge of the box.
    box_edges = _edges([(box.min_lon, box.min_lat), (box.max_lon, box.min_lat), (box.max_lon, box.max_lat),
                        (box.min_lon, box.max_lat), (box.min_lon, box.min_lat)])
    return any(_crosses(a, b_, c, d) for ring in rings for a, b_ in _edges(ring) for c, d in box_edges)


def _edges(ring: Sequence[Position]) -> list[tuple[Position, Position]]:
    return list(zip(ring, ring[1:]))


def _inside(p: Position, ring: Sequence[Position]) -> bool:
    """Even-odd rule (ray to +longitude)."""
    x, y = p[0], p[1]
    inside = False
    for a, b in _edges(ring):
        if (a[1] > y) != (b[1] > y):
            cross = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < cross:
                inside = not inside
    return inside


def _orient(a: Position, b: Position, c: Position) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Position, b: Position, p: Position) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _crosses(a: Position, b: Position, c: Position, d: Position) -> bool:
    """Whether segments ab and cd share a point."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0) != (o2 > 0)) and ((o3 > 0) != (o4 > 0)) and o1 and o2 and o3 and o4:
        return True
    return ((o1 == 0 and _on_segment(a, b, c)) or (o2 == 0 and _on_segment(a, b, d))
            or (o3 == 0 and _on_segment(c, d, a)) or (o4 == 0 and _on_segment(c, d, b)))
