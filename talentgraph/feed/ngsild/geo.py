"""Geo-queries (CIM 009 clause 4.10): ``georel``, ``geometry``, ``coordinates`` (and ``geoproperty``).

Supported: ``near;maxDistance==<m>`` and ``near;minDistance==<m>`` around a Point, ``within`` a Polygon,
``intersects`` and ``disjoint`` with a Point or a Polygon. ``equals``, ``overlaps``, ``contains`` and
other geometries are refused by name. The GeoProperty is always ``location`` (the node's outline, or
else its point: ``feed/geometry.py``).

Distances: point to point on the sphere (haversine, R = 6 371 008.8 m); a point to a polygon's edge on
a local equirectangular plane around the query point, which at community scale (a few km) is within
centimetres of the geodesic. Polygons are simple (exterior ring, holes respected for points);
"within" means every vertex inside and no edge crossing the query polygon's boundary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from talentgraph.feed.ngsild.errors import NgsiLdError, bad_request, unsupported

EARTH_RADIUS_M = 6_371_008.8
MAX_COORDINATES_LENGTH = 8192  # characters of the coordinates parameter (a URL parameter: keep it short)
MAX_POSITIONS = 1_000  # a query polygon's vertices: each candidate's edges are checked against them
GEORELS = ("near", "within", "intersects", "disjoint")

Position = tuple[float, float]  # (lon, lat)
Ring = list[Position]


@dataclass(frozen=True)
class GeoQuery:
    georel: str  # near | within | intersects | disjoint
    kind: str  # Point | Polygon
    point: Position | None = None
    rings: tuple[Ring, ...] = ()
    max_distance: float | None = None
    min_distance: float | None = None

    def bbox(self) -> tuple[float, float, float, float] | None:
        """(min lon, min lat, max lon, max lat) every match lies in, to narrow the store read; None: anywhere."""
        if self.georel == "disjoint" or (self.georel == "near" and self.max_distance is None):
            return None
        if self.georel == "near" and self.point is not None and self.max_distance is not None:
            lon, lat = self.point
            dlat = math.degrees(self.max_distance / EARTH_RADIUS_M)
            dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
            return lon - dlon, lat - dlat, lon + dlon, lat + dlat
        positions = [p for ring in self.rings for p in ring] or ([self.point] if self.point else [])
        lons, lats = [p[0] for p in positions], [p[1] for p in positions]
        return min(lons), min(lats), max(lons), max(lats)

    @cached_property
    def _box(self) -> tuple[float, float, float, float]:
        return _box(list(self.rings) if self.rings else [[self.point]] if self.point else [])

    def matches(self, geometry: dict[str, Any] | None) -> bool:
        if geometry is None:
            return False  # no location: no geo relation holds (disjoint included, as in CIM 009)
        shape = _shape(geometry)
        if shape is None:
            return False
        if self.georel == "near":
            assert self.point is not None
            d = _distance(self.point, shape)
            return (self.max_distance is None or d <= self.max_distance) and \
                (self.min_distance is None or d >= self.min_distance)
        if not _boxes_meet(_box(shape[1]), self._box):
            return self.georel == "disjoint"  # boxes apart: nothing to compare edge by edge
        query: _Shape = ("Point", [[self.point]]) if self.kind == "Point" else ("Polygon", list(self.rings))  # type: ignore[list-item]
        if self.georel == "within":
            return _within(shape, query)
        hit = _intersects(shape, query)
        return hit if self.georel == "intersects" else not hit


def parse_geo(georel: str | None, geometry: str | None, coordinates: str | None,
              geoproperty: str | None) -> GeoQuery | None:
    if georel is None:
        if geometry is not None or coordinates is not None:
            raise bad_request("georel", None, "georel together with geometry and coordinates")
        return None
    if geoproperty not in (None, "location"):
        raise unsupported("geoproperty", geoproperty, "a GeoProperty other than location",
                          "leave geoproperty out or set it to location")
    if geometry is None or coordinates is None:
        raise bad_request("geometry/coordinates", f"geometry={geometry}, coordinates={coordinates}",
                          "both, with georel (e.g. geometry=Point&coordinates=[121.5578,31.2235])")
    rel, *mods = georel.split(";")
    if rel not in GEORELS:
        if rel in ("equals", "overlaps", "contains"):
            raise unsupported("georel", georel, f"the relation {rel}", f"use one of {', '.join(GEORELS)}")
        raise bad_request("georel", georel, f"one of {', '.join(GEORELS)} (near with ;maxDistance==m or ;minDistance==m)")
    if geometry not in ("Point", "Polygon"):
        if geometry in ("LineString", "MultiPoint", "MultiLineString", "MultiPolygon"):
            raise unsupported("geometry", geometry, f"the geometry {geometry}", "use Point or Polygon")
        raise bad_request("geometry", geometry, "Point or Polygon")
    if len(coordinates) > MAX_COORDINATES_LENGTH:
        raise bad_request("coordinates", coordinates, f"at most {MAX_COORDINATES_LENGTH} characters")
    try:
        raw = json.loads(coordinates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested past the parser's depth
        raise bad_request("coordinates", coordinates, f"JSON coordinates of a {geometry} ({type(exc).__name__})") from exc
    max_d = min_d = None
    for mod in mods:
        name, sep, value = mod.partition("==")
        if rel != "near" or name not in ("maxDistance", "minDistance") or not sep:
            raise bad_request("georel", georel, "near;maxDistance==<metres> or near;minDistance==<metres> "
                              "(modifiers go with near only)")
        try:
            metres = float(value)
        except ValueError as exc:
            raise bad_request("georel", georel, f"a distance in metres after {name}==") from exc
        if not math.isfinite(metres) or metres < 0:
            raise bad_request("georel", georel, f"a finite, non-negative distance after {name}==")
        if name == "maxDistance":
            max_d = metres
        else:
            min_d = metres
    if rel == "near":
        if geometry != "Point":
            raise bad_request("geometry", geometry, "Point with georel=near")
        if max_d is None and min_d is None:
            raise bad_request("georel", georel, "near;maxDistance==<metres> or near;minDistance==<metres>")
        query = GeoQuery("near", "Point", point=_position(raw, "coordinates"), max_distance=max_d, min_distance=min_d)
        _check_distance_range(query)
        return query
    if geometry == "Point":
        if rel == "within":
            raise bad_request("geometry", geometry, "a Polygon with georel=within (nothing lies within a point)")
        return GeoQuery(rel, "Point", point=_position(raw, "coordinates"))
    return GeoQuery(rel, "Polygon", rings=_rings(raw))


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _position(raw: Any, where: str) -> Position:
    if (not isinstance(raw, list) or len(raw) not in (2, 3)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)):
        raise bad_request(where, raw, "a position [longitude, latitude] in WGS84 degrees")
    lon, lat = float(raw[0]), float(raw[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad_request(where, raw, "longitude in [-180, 180] and latitude in [-90, 90] (GeoJSON order: lon, lat)")
    return lon, lat


def _rings(raw: Any) -> tuple[Ring, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(r, list) for r in raw):
        raise bad_request("coordinates", raw, "a Polygon: a list of linear rings [[[lon, lat], ...]]")
    if sum(len(r) for r in raw) > MAX_POSITIONS:
        raise bad_request("coordinates", raw, f"at most {MAX_POSITIONS} positions")
    rings = tuple([_position(p, "coordinates") for p in ring] for ring in raw)
    for ring in rings:
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise bad_request("coordinates", raw, "closed linear rings of at least 4 positions (first = last)")
    return rings


# --- planar geometry on the small scale of a community --------------------------------------------

_Shape = tuple[str, list[Ring]]  # ("Point", [[p]]) or ("Polygon", rings)


def _shape(geometry: dict[str, Any]) -> _Shape | None:
    try:
        if geometry.get("type") == "Point":
            lon, lat = geometry["coordinates"][:2]
            return "Point", [[(float(lon), float(lat))]]
        if geometry.get("type") == "Polygon":
            return "Polygon", [[(float(p[0]), float(p[1])) for p in ring] for ring in geometry["coordinates"]]
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # stored shapes passed validation; a broken one is no location at all
    return None


def _box(rings: Sequence[Sequence[Position | None]]) -> tuple[float, float, float, float]:
    points = [p for ring in rings for p in ring if p is not None]
    if not points:
        return (math.inf, math.inf, -math.inf, -math.inf)  # meets nothing
    return (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points))


def _boxes_meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def haversine(a: Position, b: Position) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _in_ring(p: Position, ring: Ring) -> bool:
    """Even-odd rule; a point on an edge counts as inside."""
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if _on_segment(p, (x1, y1), (x2, y2)):
            return True
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _in_polygon(p: Position, rings: Sequence[Ring]) -> bool:
    return _in_ring(p, rings[0]) and not any(_in_ring(p, hole) and not _on_boundary(p, hole) for hole in rings[1:])


def _on_boundary(p: Position, ring: Ring) -> bool:
    return any(_on_segment(p, a, b) for a, b in zip(ring, ring[1:]))


def _cross(o: Position, a: Position, b: Position) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Position, a: Position, b: Position, eps: float = 1e-12) -> bool:
    return (abs(_cross(a, b, p)) <= eps and min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
            and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps)


def _segments_cross(a: Position, b: Position, c: Position, d: Position) -> bool:
    """Proper crossing (each segment strictly straddles the other's line)."""
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def _edges(rings: Sequence[Ring]) -> list[tuple[Position, Position]]:
    return [(a, b) for ring in rings for a, b in zip(ring, ring[1:])]


def _intersects(shape: _Shape, query: _Shape) -> bool:
    kind, rings = shape
    qkind, qrings = query
    if kind == "Point" and qkind == "Point":
        return rings[0][0] == qrings[0][0]
    if kind == "Point":
        return _in_polygon(rings[0][0], qrings)
    if qkind == "Point":
        return _in_polygon(qrings[0][0], rings)
    if any(_in_polygon(p, qrings) for p in rings[0]) or any(_in_polygon(p, rings) for p in qrings[0]):
        return True
    return any(_segments_cross(a, b, c, d) for a, b in _edges(rings) for c, d in _edges(qrings))


def _within(shape: _Shape, query: _Shape) -> bool:
    kind, rings = shape
    _, qrings = query
    if kind == "Point":
        return _in_polygon(rings[0][0], qrings)
    if not all(_in_polygon(p, qrings) for p in rings[0]):
        return False
    return not any(_segments_cross(a, b, c, d) for a, b in _edges(rings[:1]) for c, d in _edges(qrings))


def _distance(origin: Position, shape: _Shape) -> float:
    kind, rings = shape
    if kind == "Point":
        return haversine(origin, rings[0][0])
    if _in_polygon(origin, rings):
        return 0.0
    to_plane = _plane(origin)
    o = to_plane(origin)
    return min(_point_segment(o, to_plane(a), to_plane(b)) for a, b in _edges(rings))


def _plane(origin: Position) -> Callable[[Position], tuple[float, float]]:
    k = math.cos(math.radians(origin[1]))

    def project(p: Position) -> tuple[float, float]:
        return (math.radians(p[0] - origin[0]) * k * EARTH_RADIUS_M, math.radians(p[1] - origin[1]) * EARTH_RADIUS_M)
    return project


def _point_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _check_distance_range(query: GeoQuery) -> None:
    if query.max_distance is not None and query.min_distance is not None and query.min_distance > query.max_distance:
        raise NgsiLdError("BadRequestData", f"georel: minDistance {query.min_distance:g} m is more than "
                                            f"maxDistance {query.max_distance:g} m; nothing can match.")
