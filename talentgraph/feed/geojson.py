"""``GET /geo/{Type}``: RFC 7946 FeatureCollections of the map's entities, as the caller's role sees them.

Types: those that can carry a geometry (``feed/geometry.is_feature_type``: venues, enterprises, party
organisations, areas) and whose rows the role reads (``access/records.py``); the platform role
never gets a person. A feature's ``id`` is the node id, its ``geometry`` the outline where there is
one, else the point, else null; ``properties`` are the role-masked properties without the geometry
ones, plus ``type``.

Parameters (anything else is refused, naming the ones there are):
- ``bbox=minLon,minLat,maxLon,maxLat`` (WGS84): features whose geometry meets the box. Points are
  filtered in the store (``lat``/``lon`` ranges). Outlines are tested exactly against the box
  (``feed/bbox.py``) for types that have them (areas), so a residential area whose outline crosses
  the box is included even when its centre lies outside; those types are read in id order and
  filtered here — areas number in the hundreds, not millions;
- ``has_geometry=true``: leave out features with a null geometry;
- ``level=<area level>`` (areas only): ``residential_area``, ``building``, …;
- ``stats=true`` (areas only): each residential area's and building's statistics as the
  ``stats`` property (``feed/areas.py``: small counts suppressed);
- ``limit`` (default 100, at most 1000) and ``after`` (the cursor in the ``next`` link): keyset
  pages in id order, so a feature written between two pages is never returned twice and none is
  skipped. The collection carries ``numberReturned``, ``links`` (``self``, and ``next`` while
  there is more) and ``bbox`` (of the features returned).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from talentgraph.access import records
from talentgraph.access.policy import RoleView
from talentgraph.admin import error_body, error_response
from talentgraph.api.context import run_sync
from talentgraph.errors import BadQueryError, ForbiddenError, NotFoundError, TalentgraphError
from talentgraph.feed import areas as area_stats
from talentgraph.feed import bbox as boxes
from talentgraph.feed import geometry
from talentgraph.feed.routes import Platform, caller
from talentgraph.graph import cypher
from talentgraph.schema.geo import BBox
from talentgraph.schema.ontology import GEO_LAT, GEO_LON, GEO_OUTLINE, NodeType
from talentgraph.schema.vocabularies import vocabulary
from talentgraph.types import And, Cmp, Filter, Node, Not, Or

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/geo+json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PARAMS = ("bbox", "limit", "after", "has_geometry", "level", "stats")
_AREA = "Area"
_LEVEL = "level"


class GeoJSONResponse(JSONResponse):
    media_type = MEDIA_TYPE


def feature_type(view: RoleView, name: str) -> NodeType:
    """The node type ``name`` if it is a map feature type the role may read; 404 / 403 otherwise."""
    known = {t.name: t for t in view.ontology.node_types}
    features = [t.name for t in view.ontology.node_types if geometry.is_feature_type(t) and view.rows(t.name)]
    t = known.get(name)
    if t is None:
        raise NotFoundError(f"There is no node type {name!r}.", hint=f"Map feature types: {', '.join(features)}.")
    if t not in records.readable_types(view):
        raise ForbiddenError(f"The {view.role} role may not read {name} records.",
                             hint=f"Map feature types for this role: {', '.join(features)}.")
    if not geometry.is_feature_type(t):
        raise NotFoundError(f"{name} records carry no geometry, so they are not map features.",
                            hint=f"Map feature types: {', '.join(features)}.")
    return t


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadQueryError(f"Parameter {name}={value[:40]!r} is not true or false.", hint=f"Write {name}=true.")


def _limit(params: Mapping[str, str]) -> int:
    text = params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise BadQueryError(f"Parameter limit={text[:40]!r} is not a whole number.",
                            hint=f"Give 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).") from None
    if limit > MAX_LIMIT:
        raise BadQueryError(f"Parameter limit={limit} is above the largest page, {MAX_LIMIT}.",
                            hint=f"Ask for at most {MAX_LIMIT} and follow the `next` link for more.")
    if limit < 1:
        raise BadQueryError(f"Parameter limit={limit} asks for no features.", hint=f"Give 1 to {MAX_LIMIT}.")
    return limit


def _store_filter(t: NodeType, box: BBox | None, has_geometry: bool, level: str | None) -> Filter | None:
    parts: list[Filter] = []
    if level is not None:
        parts.append(Cmp(_LEVEL, "eq", level))
    point_only = not geometry.has_outline(t)
    if box is not None and point_only:
        # Exact for points, and the store's index does the work.
        parts += [Cmp(GEO_LON, "gte", box.min_lon), Cmp(GEO_LON, "lte", box.max_lon),
                  Cmp(GEO_LAT, "gte", box.min_lat), Cmp(GEO_LAT, "lte", box.max_lat)]
    elif has_geometry:
        point = And((Not(Cmp(GEO_LON, "is_null")), Not(Cmp(GEO_LAT, "is_null"))))
        parts.append(Or((Not(Cmp(GEO_OUTLINE, "is_null")), point)) if geometry.has_outline(t) else point)
    return And(tuple(parts)) if len(parts) > 1 else parts[0] if parts else None


def _feature(view: RoleView, t: NodeType, node: Node, shape: dict[str, Any] | None) -> dict[str, Any]:
    props = records.node_props(view, t, node.props) or {}
    for name in geometry.geometry_props():
        props.pop(name, None)
    props["type"] = t.name
    return {"type": "Feature", "id": node.id, "geometry": shape, "properties": props}


def read_features(platform: Platform, view: RoleView, t: NodeType, *, box: BBox | None, has_geometry: bool,
                  level: str | None, limit: int, after: str | None) -> tuple[list[tuple[Node, dict[str, Any] | None]],
                                                                             str | None]:
    """One page of (node, geometry) and the cursor after it (None on the last page). Blocking."""
    where = _store_filter(t, box, has_geometry, level)
    keys = cypher.sort_keys(t, ())
    exact_here = box is not None and geometry.has_outline(t)
    out: list[tuple[Node, dict[str, Any] | None]] = []
    cursor = after
    while True:
        # Where features are filtered here, read a little more than asked so a sparse box takes few reads.
        page = platform.graph.list_nodes(t.name, where=where, first=limit + 1 if not exact_here else max(limit, 200),
                                         after=cursor)
        for node in page.items:
            shape = geometry.geometry_of(node.props)
            if exact_here and not boxes.intersects(shape, box):  # type: ignore[arg-type]
                continue
            if len(out) == limit:
                # One more matching feature exists: the page ends at the last one returned.
                last = out[-1][0]
                return out, cypher.encode_cursor(keys, [last.id])
            out.append((node, shape))
        if not page.has_next_page:
            return out, None
        cursor = page.end_cursor


def routes(platform: Platform) -> list[BaseRoute]:
    async def collection(request: Request) -> Response:
        name = request.path_params["type"]
        if request.method not in ("GET", "HEAD"):
            return error_body(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on /geo/{name[:40]}.",
                              "Read map features with GET.", headers={"Allow": "GET, HEAD"})
        try:
            _, view = caller(request, f"geo.{name}")
            t = feature_type(view, name)
            params = request.query_params
            unknown = sorted(set(params) - set(PARAMS))
            if unknown:
                raise BadQueryError(f"Unknown parameter {unknown[0]!r}.", hint=f"Parameters: {', '.join(PARAMS)}.")
            box = boxes.parse_bbox(params["bbox"]) if "bbox" in params else None
            limit = _limit(params)
            has_geometry, with_stats = _flag(params, "has_geometry"), _flag(params, "stats")
            level = params.get("level")
            if (level is not None or with_stats) and t.name != _AREA:
                raise BadQueryError(f"Parameters level and stats apply to {_AREA} only, not {t.name}.",
                                    hint=f"Ask /geo/{_AREA}?level=building&stats=true.")
            if level is not None:
                levels = vocabulary(t.prop(_LEVEL).vocabulary or "").ids
                if level not in levels:
                    raise BadQueryError(f"Parameter level={level[:40]!r} is not an area level.",
                                        hint=f"Levels: {', '.join(levels)}.")
            after = params.get("after")
            if after is not None:
                cypher.decode_cursor(after, cypher.sort_keys(t, ()))  # a cursor this server made, or 400
            items, next_cursor = await run_sync(read_features, platform, view, t, box=box, has_geometry=has_geometry,
                                                level=level, limit=limit, after=after)
            stats = await run_sync(area_stats.cache_for(platform.graph, platform.ontology).stats, view) \
                if with_stats else {}
        except TalentgraphError as exc:
            return error_response(exc)
        except Exception:
            log.exception("GeoJSON request %s failed", request.url.path)
            return error_body(500, "INTERNAL", "Internal server error", "See the server log.")
        features = []
        for node, shape in items:
            f = _feature(view, t, node, shape)
            if with_stats:
                s = stats.get(node.id)
                f["properties"]["stats"] = s.as_properties() if s is not None else None
            features.append(f)
        body: dict[str, Any] = {"type": "FeatureCollection", "features": features,
                                "numberReturned": len(features)}
        extent = boxes.bounds(f["geometry"] for f in features)
        if extent is not None:
            body["bbox"] = extent
        base = str(request.url.replace(query=""))
        links = [{"href": str(request.url), "rel": "self", "type": MEDIA_TYPE}]
        if next_cursor is not None:
            query = [(k, v) for k, v in params.multi_items() if k != "after"] + [("after", next_cursor)]
            links.append({"href": f"{base}?{urlencode(query)}", "rel": "next", "type": MEDIA_TYPE})
        body["links"] = links
        return GeoJSONResponse(body)

    # Every method reaches the endpoint, so a wrong one is answered in the one error shape too.
    return [Route("/geo/{type}", collection, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])]
