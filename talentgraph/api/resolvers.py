"""What the root query fields do, as plain async functions of the context (wired in ``schema.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry

from talentgraph.api.context import ApiContext, run_sync
from talentgraph.api.filters import check_first, compile_sort, compile_where, node_fields
from talentgraph.api.labels import term_labels
from talentgraph.api.objects import (
    FacetCount,
    GraphPath,
    Highlight,
    Neighbourhood,
    PageInfo,
    SearchFacet,
    SearchFacetValue,
    SearchFilter,
    SearchHit,
    SearchResult,
    graph_edge,
)
from talentgraph.errors import BadQueryError, OntologyError, StoreError
from talentgraph.graph import cypher
from talentgraph.graph.port import MAX_PATH_HOPS
from talentgraph.schema.ontology import NodeType
from talentgraph.types import Edge, Node, Page, SortKey

MAX_NEIGHBOURHOOD_DEPTH = 3


# --- roots handed to the generated connection types --------------------------------------------------


@dataclass(frozen=True)
class ItemEdge:
    cursor: str | None
    node: Node


@dataclass(frozen=True)
class ListPage:
    page: Page
    edges: list[ItemEdge]


@dataclass(frozen=True)
class RelPage:
    edges: list[Edge]
    has_more: bool


# --- single nodes --------------------------------------------------------------------------------


async def get_node(ctx: ApiContext, node_id: str, type_name: str | None = None) -> Node | None:
    """The node, or None when no node has this id (or it is of another type).

    A malformed id (no known prefix) is an error rather than a null: it is a client bug, and the
    error lists the valid prefixes.
    """
    node_type = ctx.ontology.type_of_id(node_id)
    if type_name is not None and node_type.name != type_name:
        return None
    node: Node | None = await ctx.loaders.node.load(node_id)
    return node


# --- lists ---------------------------------------------------------------------------------------


async def list_nodes(
    ctx: ApiContext, type_name: str, *, where: Mapping[str, Any] | None,
    order_by: Sequence[Mapping[str, Any]] | None, first: int, after: str | None,
) -> ListPage:
    node_type = ctx.ontology.node(type_name)
    fields = node_fields(node_type)
    owner = f"{type_name}Where"
    flt = compile_where(fields, where, owner=owner)
    sort = compile_sort(fields, order_by, owner=f"{type_name}OrderBy")
    check_first(first, ctx.max_page_size)
    page: Page = await run_sync(ctx.graph.list_nodes, type_name, where=flt, sort=sort, first=first, after=after)
    return ListPage(page, item_edges(node_type, page, sort))


def item_edges(node_type: NodeType, page: Page, sort: Sequence[SortKey]) -> list[ItemEdge]:
    """Relay edges with a cursor per item.

    The port's Page carries only the end cursor. Both graph adapters build their keyset cursors with
    ``graph.cypher`` (sort values + id), so the cursor of item *i* is exactly the end cursor of a
    page ending at *i*; reusing the encoder keeps one cursor format.
    """
    keys = cypher.sort_keys(node_type, sort)
    out = []
    for node in page.items:
        values = [node.id if p.name == "id" else node.props.get(p.name) for p, _ in keys]
        out.append(ItemEdge(cypher.encode_cursor(keys, values), node))
    return out


# --- relationships -------------------------------------------------------------------------------


async def rel_page(
    ctx: ApiContext, node: Node, rel_type: str, direction: Any, *, where: Any, edge_where: Any, first: int,
) -> RelPage:
    check_first(first, ctx.max_page_size)
    # One more than asked tells whether there are more, without a count query.
    loader = ctx.loaders.edges(rel_type, direction, where=where, edge_where=edge_where, limit_per_node=first + 1)
    edges: list[Edge] = await loader.load(node.id)
    return RelPage(edges[:first], len(edges) > first)


# --- graph shape ---------------------------------------------------------------------------------


async def shortest_path(ctx: ApiContext, from_id: str, to_id: str, max_hops: int) -> GraphPath | None:
    if not 1 <= max_hops <= MAX_PATH_HOPS:
        raise BadQueryError(f"path: maxHops {max_hops} is outside 1..{MAX_PATH_HOPS}.",
                            hint=f"Use at most {MAX_PATH_HOPS} hops; longer paths say little about a community.")
    ctx.ontology.type_of_id(from_id), ctx.ontology.type_of_id(to_id)
    path = await run_sync(ctx.graph.shortest_path, from_id, to_id, max_hops)
    if path is None:
        return None
    return GraphPath(nodes=list(path.nodes), edges=[graph_edge(e, ctx.ontology) for e in path.edges])  # type: ignore[arg-type]


async def neighbourhood(ctx: ApiContext, node_id: str, depth: int, limit: int) -> Neighbourhood | None:
    if not 1 <= depth <= MAX_NEIGHBOURHOOD_DEPTH:
        raise BadQueryError(f"neighbourhood: depth {depth} is outside 1..{MAX_NEIGHBOURHOOD_DEPTH}.",
                            hint="Ask for depth 1 or 2 and follow up from the interesting nodes.")
    check_first(limit, ctx.max_page_size, argument="limit")
    if await get_node(ctx, node_id) is None:
        return None
    sub = await run_sync(ctx.graph.neighbourhood, node_id, depth, limit)
    return Neighbourhood(nodes=list(sub.nodes), edges=[graph_edge(e, ctx.ontology) for e in sub.edges],  # type: ignore[arg-type]
                         truncated=sub.truncated)


async def facet_counts(ctx: ApiContext, type_name: str, field: str, where: Any) -> list[FacetCount]:
    node_type = ctx.ontology.node(type_name)
    fields = node_fields(node_type)
    prop = fields.get(field) or next((p for p in fields.values() if p.name == field), None)
    facets = sorted(k for k, p in fields.items() if p.facet)
    if prop is None or not prop.facet:
        raise OntologyError(f"{type_name} has no facet field {field!r}.",
                            hint=f"Facet fields of {type_name}: {', '.join(facets) or '(none)'}.")
    flt = compile_where(fields, where, owner=f"{type_name}Where")
    counts = await run_sync(ctx.graph.facet_counts, type_name, prop.name, flt)
    out = []
    for c in counts:
        zh, en = term_labels(prop.vocabulary, c.value)
        out.append(FacetCount(value=_text(c.value), count=c.count, label=zh, label_en=en))
    return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- search --------------------------------------------------------------------------------------


async def search(
    ctx: ApiContext, text: str, *, types: Sequence[str], filters: Sequence[SearchFilter] | None,
    facets: Sequence[str] | None, first: int, after: str | None,
) -> SearchResult:
    if ctx.search is None:
        raise StoreError("Search is not available on this server (it was started without a search index).",
                         hint="Start it with `talentgraph serve`, which opens the search index beside the graph.")
    check_first(first, ctx.max_page_size)
    by_field: dict[str, list[str]] = {}
    for f in filters or ():
        by_field.setdefault(f.field, []).extend(f.values)
    kwargs: dict[str, Any] = {"types": tuple(types), "filters": by_field or None, "first": first, "after": after}
    if facets is not None:
        kwargs["facets"] = tuple(facets)
    res = await run_sync(ctx.search.search, text, **kwargs)
    return SearchResult(
        total_count=res.total,
        hits=[
            SearchHit(
                id=strawberry.ID(h.id), type=h.type, score=float(h.score), title=h.title,
                highlights=[Highlight(field=k, fragments=list(v)) for k, v in h.highlights.items()],
                explanations=list(h.explanations),
            )
            for h in res.hits
        ],
        facets=[
            SearchFacet(field=name, values=[
                SearchFacetValue(value=_text(v.value), count=v.count, label=v.label_zh or v.label_en or _text(v.value),
                                 label_zh=v.label_zh, label_en=v.label_en)
                for v in values
            ])
            for name, values in res.facets.items()
        ],
        page_info=PageInfo(has_next_page=res.has_next_page, end_cursor=res.end_cursor),
    )
