"""Query Entities through the ``GraphStore`` port, under the caller's role.

One ``EntityQuery`` becomes, per entity type, one store filter (``query.py``): the ids asked for,
``q``, ``attrs`` ("has at least one of them") and, for geo-queries on point-only types, a bounding box.
Entities come type by type (in the order asked, else the ontology's), by id within a type, so
``offset``/``limit`` pages neither lose nor repeat an entity while the data stands still (a consumer that
must follow changes uses the change feed, not offsets).

What the store filter cannot say — ``idPattern``, the exact geo relation, "has some relationship of
this kind" — is checked here on the candidates (a *scan*), bounded by ``MAX_SCAN`` candidates per
request so one query cannot read the whole graph.

What a role may read comes only from ``access/records.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from talentgraph.access.policy import RoleView
from talentgraph.access.records import node_props, readable_rel_types, readable_types, rel_props, rel_visible
from talentgraph.feed.geometry import geometry_of, has_outline, is_feature_type
from talentgraph.feed.ngsild.context import LOCATION, rel_attribute
from talentgraph.feed.ngsild.errors import NgsiLdError
from talentgraph.feed.ngsild.geo import GeoQuery
from talentgraph.feed.ngsild.ids import from_urn, to_urn
from talentgraph.feed.ngsild.pattern import IdPattern
from talentgraph.feed.ngsild.query import Compiled, Expr, Readable, _and, attrs_filter, compile_q
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import GEO_LAT, GEO_LON, NodeType, Ontology
from talentgraph.types import Cmp, Edge, Node

MAX_SCAN = 20_000  # candidates one request may check outside the store (idPattern, georel, attrs on relationships)
STORE_PAGE = 500


@dataclass(frozen=True)
class EntityQuery:
    types: tuple[str, ...] | None = None  # type names asked for; None: every type the role reads
    ids: tuple[str, ...] | None = None  # entity ids (URNs) asked for
    id_pattern: IdPattern | None = None
    q: Expr | None = None
    geo: GeoQuery | None = None
    attrs: tuple[str, ...] | None = None
    limit: int = 20
    offset: int = 0
    count: bool = False


@dataclass
class Found:
    """One page of entities (their readable properties) and, when asked, the number of all matches."""

    nodes: list[tuple[NodeType, Node, dict[str, Any]]] = field(default_factory=list)
    total: int | None = None


def readable(view: RoleView, node_type: NodeType) -> Readable:
    """What of ``node_type`` the role reads: asked of ``access/records.py`` with a record holding every property."""
    every = {p.name: True for p in node_type.properties}
    shown = node_props(view, node_type, every) or {}
    rels: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for rel in readable_rel_types(view):
        far = tuple(to for frm, to in rel.endpoints if frm == node_type.name and rel_visible(view, rel, frm, to))
        if far:
            rels[rel_attribute(rel)] = (rel, far)
    location = is_feature_type(node_type) and (
        (GEO_LAT in shown and GEO_LON in shown) or (has_outline(node_type) and "outline" in shown))
    props = {p.name: p for p in node_type.properties if p.name in shown and p.name not in ("lat", "lon", "outline")}
    return Readable(node_type.name, props, rels, location)


class Lookup:
    def __init__(self, graph: GraphStore, ontology: Ontology, view: RoleView) -> None:
        self.graph, self.ontology, self.view = graph, ontology, view
        self.types = {t.name: t for t in readable_types(view)}
        self.scanned = 0
        self._readable: dict[str, Readable] = {}

    def readable(self, node_type: NodeType) -> Readable:
        r = self._readable.get(node_type.name)
        if r is None:
            r = self._readable[node_type.name] = readable(self.view, node_type)
        return r

    # --- the entities endpoints -------------------------------------------------------------------

    def one(self, urn: str) -> tuple[NodeType, Node, dict[str, Any]] | None:
        found = from_urn(self.ontology, urn)
        if found is None or found[0].name not in self.types:
            return None  # not ours, or a type the role may not read: the same answer as a missing id
        node = self.graph.get_nodes([found[1]]).get(found[1])
        if node is None:
            return None
        props = node_props(self.view, found[0], node.props)
        return None if props is None else (found[0], node, props)

    def query(self, eq: EntityQuery) -> Found:
        out = Found(total=0 if eq.count else None)
        skip, want = eq.offset, eq.limit
        for node_type, where in self._plan(eq):
            if where is False:
                continue
            store_where = None if where is True else where
            if self._needs_scan(eq, node_type):
                matches = self._scan(eq, node_type, store_where)
                n: int | None = len(matches)
                page = matches[skip:skip + want]
            else:
                n = self.graph.count_nodes(node_type.name, store_where) if (eq.count or skip) else None
                page = [] if want == 0 or (n is not None and skip >= n) else \
                    list(islice(self._iter(node_type, store_where, min(STORE_PAGE, skip + want)), skip, skip + want))
            for node in page:
                props = node_props(self.view, node_type, node.props)
                if props is not None:
                    out.nodes.append((node_type, node, props))
            want -= len(page)
            skip = max(0, skip - n) if n is not None else 0
            if out.total is not None and n is not None:
                out.total += n
            if want == 0 and not eq.count:
                break
        return out

    def edges(self, page: Sequence[tuple[NodeType, Node, dict[str, Any]]]) -> dict[str, list[tuple[str, Edge, dict[str, Any]]]]:
        """Per node id: (attribute name, edge, readable edge properties) of the relationships the role reads."""
        out: dict[str, list[tuple[str, Edge, dict[str, Any]]]] = {node.id: [] for _, node, _ in page}
        by_type: dict[str, list[str]] = {}
        for node_type, node, _ in page:
            by_type.setdefault(node_type.name, []).append(node.id)
        for type_name, ids in by_type.items():
            for attr, (rel, far) in self.readable(self.types[type_name]).rels.items():
                for node_id, edges in self.graph.edges(ids, rel.name, "out", other_types=list(far), far_props=()).items():
                    for e in edges:
                        shown = rel_props(self.view, rel, type_name, e.node.type, e.props)
                        if shown is not None:
                            out[node_id].append((attr, e, shown))
        return out

    # --- planning ---------------------------------------------------------------------------------

    def _plan(self, eq: EntityQuery) -> Iterator[tuple[NodeType, Compiled]]:
        ids_by_type: dict[str, list[str]] | None = None
        if eq.ids is not None:
            ids_by_type = {}
            for urn in eq.ids:
                found = from_urn(self.ontology, urn)
                if found is not None:
                    ids_by_type.setdefault(found[0].name, []).append(found[1])
        if eq.types is not None:
            order = [t for t in dict.fromkeys(eq.types) if t in self.types]
        elif ids_by_type is not None:
            order = [t for t in self.types if t in ids_by_type]
        else:
            order = list(self.types)
        for type_name in order:
            node_type = self.types[type_name]
            r = self.readable(node_type)
            parts: list[Compiled] = []
            if ids_by_type is not None:
                ids = ids_by_type.get(type_name)
                parts.append(Cmp("id", "in", sorted(set(ids))) if ids else False)
            if eq.q is not None:
                parts.append(compile_q(eq.q, self.ontology, r))
            if eq.attrs is not None:
                has_some = attrs_filter(eq.attrs, self.ontology, r)
                if has_some is not None:
                    parts.append(has_some)
            if eq.geo is not None:
                parts.append(self._geo_prefilter(eq.geo, node_type, r))
            yield node_type, _and(parts)

    def _geo_prefilter(self, geo: GeoQuery, node_type: NodeType, r: Readable) -> Compiled:
        if not r.location:
            return False  # no readable geometry: no geo relation holds
        box = geo.bbox()
        if box is None or has_outline(node_type):
            return True  # outlines are checked whole on the candidates
        lon0, lat0, lon1, lat1 = box
        return _and([Cmp(GEO_LON, "gte", lon0), Cmp(GEO_LON, "lte", lon1),
                     Cmp(GEO_LAT, "gte", lat0), Cmp(GEO_LAT, "lte", lat1)])

    def _needs_scan(self, eq: EntityQuery, node_type: NodeType) -> bool:
        if eq.id_pattern is not None or eq.geo is not None:
            return True
        return eq.attrs is not None and any(a in self.readable(node_type).rels for a in eq.attrs)

    # --- reading ----------------------------------------------------------------------------------

    def _iter(self, node_type: NodeType, where: Any, first: int = STORE_PAGE) -> Iterator[Node]:
        """Every match by id, read a page at a time (the first page only as large as the caller needs)."""
        after: str | None = None
        while True:
            page = self.graph.list_nodes(node_type.name, where=where, first=first, after=after)
            first = STORE_PAGE
            yield from page.items
            if not page.has_next_page or page.end_cursor is None:
                return
            after = page.end_cursor

    def _scan(self, eq: EntityQuery, node_type: NodeType, where: Any) -> list[Node]:
        r = self.readable(node_type)
        rel_attrs = [a for a in (eq.attrs or ()) if a in r.rels]
        matches: list[Node] = []
        batch: list[Node] = []

        def flush() -> None:
            linked: set[str] = set()
            if rel_attrs and batch:
                ids = [n.id for n in batch]
                for a in rel_attrs:
                    rel, far = r.rels[a]
                    for node_id, edges in self.graph.edges(ids, rel.name, "out", other_types=list(far),
                                                           far_props=(), limit_per_node=1).items():
                        if edges:
                            linked.add(node_id)
            for n in batch:
                if not rel_attrs or n.id in linked or self._has_plain_attr(n, node_type, eq.attrs or (), r):
                    matches.append(n)
            batch.clear()

        for node in self._iter(node_type, where):
            self.scanned += 1
            if self.scanned > MAX_SCAN:
                raise NgsiLdError("TooComplexQuery", f"The query needs more than {MAX_SCAN} entities checked one by one "
                                  "(idPattern, georel or attrs naming a relationship); narrow it with type, id, q "
                                  "or a smaller area.")
            props = node_props(self.view, node_type, node.props)
            if props is None:
                continue
            if eq.id_pattern is not None and not eq.id_pattern.search(to_urn(self.ontology, node.id)):
                continue
            if eq.geo is not None and not eq.geo.matches(geometry_of(props)):
                continue
            batch.append(node)
            if len(batch) >= STORE_PAGE:
                flush()
        flush()
        return matches

    def _has_plain_attr(self, node: Node, node_type: NodeType, attrs: Sequence[str], r: Readable) -> bool:
        props = node_props(self.view, node_type, node.props) or {}
        return any((a == LOCATION and r.location and geometry_of(props) is not None)
                   or (a in r.props and props.get(a) is not None) for a in attrs)


def type_attributes(view: RoleView, node_type: NodeType) -> dict[str, str]:
    """Attribute name → NGSI-LD attribute type, for EntityTypeInfo."""
    r = readable(view, node_type)
    out = {name: "Property" for name in r.props}
    out.update({attr: "Relationship" for attr in r.rels})
    if r.location:
        out[LOCATION] = "GeoProperty"
    return out
