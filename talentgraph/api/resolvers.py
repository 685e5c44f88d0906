"""What the root query fields do, as plain async functions of the context (wired in ``schema.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from talentgraph.api import golden, selection
from talentgraph.api.context import ApiContext, run_sync
from talentgraph.access.policy import FacetRule, Grant
from talentgraph.api.filters import (
    check_first,
    compile_sort,
    compile_where,
    node_fields,
    scoped_fields,
    sortable_fields,
)
from talentgraph.api.labels import term_labels
from talentgraph.api.loaders import loaded
from talentgraph.api.naming import camel
from talentgraph.api.objects import (
    AuditRecord,
    ChangeEvent,
    ChangePage,
    FacetCount,
    GraphPath,
    Highlight,
    Neighbourhood,
    PageInfo,
    SameAsLink,
    SearchFacet,
    SearchFacetValue,
    SearchFilter,
    SearchHit,
    SearchResult,
    graph_edge,
)
from talentgraph.errors import BadQueryError, ForbiddenError, OntologyError, StoreError
from talentgraph.graph import cypher
from talentgraph.graph.port import MAX_PATH_HOPS
from talentgraph.graph.walk import PageRoot, WalkResult
from talentgraph.schema.ontology import NodeType, Property
from talentgraph.types import And, Direction, Edge, Filter, Node, Page, SortKey

MAX_NEIGHBOURHOOD_DEPTH = 3

# A page read together with the relationship fields selected under it; None: there are none.
PageWalk = Callable[[PageRoot], Awaitable[Page | None]]


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


async def get_node(ctx: ApiContext, node_id: str, type_name: str | None = None,
                   walked: WalkResult | None = None) -> Node | None:
    """The node, or None when no node has this id (or it is of another type).

    A malformed id (no known prefix) is an error rather than a null: it is a client bug, and the
    error lists the valid prefixes. ``walked``: the node as the root field's walk read it
    (``prefetch.node_walk``), with the columns its selection reads.
    """
    node_type = ctx.ontology.type_of_id(node_id)
    if type_name is not None and node_type.name != type_name:
        return None
    require_rows(ctx, node_type.name)
    node: Node | None = walked.node if walked is not None else await ctx.loaders.node.load(node_id)
    ctx.access.returned([node])
    return node


async def whole_golden(ctx: ApiContext, nodes: Sequence[Node]) -> dict[str, Node]:
    """The golden records among ``nodes`` read with only some columns, read whole (by id).

    A canonical record's values are merged from its cluster in the order of each record's claims
    (``golden.py``), which read every column; the other records show their own columns as read.
    """
    ids = list(dict.fromkeys(n.id for n in nodes if golden.is_canonical(n)))
    if not ids:
        return {}
    found: list[Node | None] = await ctx.loaders.node.load_many(ids)
    return {i: n for i, n in zip(ids, found) if n is not None}


def require_rows(ctx: ApiContext, type_name: str) -> None:
    if not ctx.view.rows(type_name):
        raise ForbiddenError(f"The {ctx.principal.role} role may not read {type_name} rows.",
                             hint=f"Ask for aggregates instead (facetCounts(type: {type_name}, …)), or use a key "
                             "with a role that reads them.")


# --- lists ---------------------------------------------------------------------------------------


async def list_nodes(
    ctx: ApiContext, type_name: str, *, where: Mapping[str, Any] | None,
    order_by: Sequence[Mapping[str, Any]] | None, first: int, after: str | None, all_records: bool = False,
    count: bool = True, walk: PageWalk | None = None,
) -> ListPage:
    """One page; ``count``: also count every match for ``totalCount`` (in the page's statement where the
    engine counts there: ``GraphCapabilities.count_in_page``).

    ``walk``: reads the page together with the relationship fields selected under it
    (``prefetch.py``); it returns None when there are none, and the page is read alone.
    """
    node_type = ctx.ontology.node(type_name)
    require_rows(ctx, type_name)
    fields = node_fields(node_type, ctx.view)
    owner = f"{type_name}Where"
    flt = await ctx.access.guard(compile_where(fields, where, owner=owner), scoped_fields(fields, ctx.view), type_name)
    if not all_records:
        flt = await one_per_cluster(ctx, node_type, flt)
    sort = compile_sort(sortable_fields(node_type, ctx.view), order_by, owner=f"{type_name}OrderBy")
    check_first(first, ctx.max_page_size)
    in_page = count and ctx.graph.capabilities.count_in_page
    walked = None if walk is None else await walk(PageRoot(type_name, flt, tuple(sort), first, after, in_page))
    if walked is None:
        page: Page = await run_sync(ctx.graph.list_nodes, type_name, where=flt, sort=sort, first=first, after=after,
                                    count=count)
    elif count and walked.total_count is None:  # a page past the end: no row carried the count
        page = replace(walked, total_count=await run_sync(ctx.graph.count_nodes, type_name, flt))
    else:
        page = walked
    ctx.access.returned(page.items)
    return ListPage(page, item_edges(node_type, page, sort))


async def one_per_cluster(ctx: ApiContext, node_type: NodeType, flt: Filter | None) -> Filter | None:
    """``flt`` restricted to one record per entity-resolution cluster (``golden.py``)."""
    if not golden.clustered(node_type):
        return flt
    shown = golden.shown_filter()
    return shown if flt is None else And((flt, shown))


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


@dataclass(frozen=True)
class RelField:
    """One relationship field of one object type as a role sees it: how its arguments become the store
    query's. The field's resolver (``schema.py``) and the walk that reads it ahead (``prefetch.py``)
    both go through it, so the DataLoader keys they make are the same."""

    rel_type: str
    direction: Direction
    where_fields: Mapping[str, Property]
    where_owner: str
    guarded: frozenset[str]  # filter fields read in scope only (``RequestAccess.guard``)
    far_type: str | None  # the one far-end type, if there is one
    edge_fields: Mapping[str, Property]
    edge_owner: str
    scoped: bool  # the relationship is read in scope only: per parent (``parent_in_scope``)
    visible_ends: tuple[str, ...]  # far-end types the role sees
    node_names: frozenset[str]
    other_types: tuple[str, ...] | None  # the far-end types the store query keeps (None: all of them)

    async def where_filter(self, ctx: ApiContext, where: Mapping[str, Any] | None) -> Filter | None:
        flt = compile_where(self.where_fields, where, owner=self.where_owner)
        return await ctx.access.guard(flt, self.guarded, self.far_type)

    def edge_filter(self, edge_where: Mapping[str, Any] | None) -> Filter | None:
        return compile_where(self.edge_fields, edge_where, owner=self.edge_owner)

    def far_types(self, selected: Sequence[Any]) -> tuple[str, ...] | None:
        """The far-end types asked for: narrowed to the selection's fragments (``selection.far_types``)."""
        return selection.far_types(selected, self.visible_ends, self.node_names) or self.other_types

    def far_props(self, ctx: ApiContext, selected: Sequence[Any]) -> tuple[str, ...] | None:
        """The far nodes' properties the selection reads (``selection.far_columns``); None: every one."""
        return selection.far_columns(selected, ctx.ontology, self.visible_ends)


async def rel_page(
    ctx: ApiContext, node: Node, rel_type: str, direction: Any, *, where: Any, edge_where: Any, first: int,
    other_types: tuple[str, ...] | None = None, far_props: tuple[str, ...] | None = None,
) -> RelPage:
    ready = rel_page_ready(ctx, node, rel_type, direction, where=where, edge_where=edge_where, first=first,
                           other_types=other_types, far_props=far_props)
    if ready is not None:
        return ready
    loader = _edges_loader(ctx, rel_type, direction, where, edge_where, first, other_types, far_props)
    edges: list[Edge] = await loader.load(node.id)
    if far_props is not None:
        whole = await whole_golden(ctx, [e.node for e in edges[:first]])
        edges = [replace(e, node=whole.get(e.node.id, e.node)) for e in edges]
    return _page_of(ctx, edges, first)


def rel_page_ready(
    ctx: ApiContext, node: Node, rel_type: str, direction: Any, *, where: Any, edge_where: Any, first: int,
    other_types: tuple[str, ...] | None = None, far_props: tuple[str, ...] | None = None,
) -> RelPage | None:
    """``rel_page``'s answer without awaiting, when there is nothing to wait for: the loader already holds
    the edges (a root field's walk primed it) and no golden record among them is to be read whole.
    None otherwise. A resolver answering this way costs graphql-core no awaitable, and no task per item."""
    check_first(first, ctx.max_page_size)
    edges = loaded(_edges_loader(ctx, rel_type, direction, where, edge_where, first, other_types, far_props), node.id)
    if edges is None or (far_props is not None and any(golden.is_canonical(e.node) for e in edges[:first])):
        return None
    return _page_of(ctx, edges, first)


def _edges_loader(
    ctx: ApiContext, rel_type: str, direction: Any, where: Any, edge_where: Any, first: int,
    other_types: tuple[str, ...] | None, far_props: tuple[str, ...] | None,
) -> DataLoader[str, list[Edge]]:
    # One more than asked tells whether there are more, without a count query.
    return ctx.loaders.edges(rel_type, direction, where=where, edge_where=edge_where, limit_per_node=first + 1,
                             other_types=other_types, far_props=far_props)


def _page_of(ctx: ApiContext, edges: list[Edge], first: int) -> RelPage:
    ctx.access.returned(e.node for e in edges[:first])
    return RelPage(edges[:first], len(edges) > first)


# --- entity resolution ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterMember:
    node: Node
    canonical: bool
    links: list[SameAsLink]


async def cluster_members(ctx: ApiContext, node: Node, *, scoped: bool) -> list[ClusterMember]:
    """The other records of ``node``'s cluster, canonical first then by id, with their SAME_AS pairs.

    ``scoped`` (SAME_AS read in scope only, e.g. staff): listed only from a record inside the caller's
    areas, and only members and pairs whose records are all inside them.
    """
    c = golden.canonical_of(node)
    if c is None or (scoped and not await ctx.access.in_scope(node)):
        return []
    records: list[Node] = await ctx.loaders.members(node.type).load(c)
    if c not in {r.id for r in records}:  # the canonical record lost its own mark: still the cluster's head
        head: Node | None = await ctx.loaders.node.load(c)
        records = [head, *records] if head is not None else records
    records = sorted(records, key=lambda r: (r.id != c, r.id))
    if scoped:
        inside = await golden.readable(ctx, records, Grant.IN_SCOPE)
        records = [r for r, ok in zip(records, inside) if ok]
    ids = {r.id for r in records} | {node.id}
    out_edges = ctx.loaders.edges(golden.SAME_AS, "out")
    in_edges = ctx.loaders.edges(golden.SAME_AS, "in")
    others = [r for r in records if r.id != node.id]
    found = await asyncio.gather(out_edges.load_many([r.id for r in others]), in_edges.load_many([r.id for r in others]))
    out: list[ClusterMember] = []
    for r, outgoing, incoming in zip(others, *found):
        links: dict[tuple[str, str], SameAsLink] = {}
        for e in [*outgoing, *incoming]:
            if e.props.get("status") not in golden.IN_CLUSTER or e.props.get("cluster") != c:
                continue
            if e.from_id not in ids or e.to_id not in ids:
                continue  # the other end is outside what the caller may see of the cluster
            links[(e.from_id, e.to_id)] = SameAsLink(
                from_id=strawberry.ID(e.from_id), to_id=strawberry.ID(e.to_id),
                probability=_float(e.props.get("probability")), status=e.props.get("status"),
                cluster=e.props.get("cluster"), weights=golden.weights(e))
        out.append(ClusterMember(r, r.id == c, [links[k] for k in sorted(links)]))
    ctx.access.returned(m.node for m in out)
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- graph shape ---------------------------------------------------------------------------------


async def shortest_path(ctx: ApiContext, from_id: str, to_id: str, max_hops: int) -> GraphPath | None:
    if not 1 <= max_hops <= MAX_PATH_HOPS:
        raise BadQueryError(f"path: maxHops {max_hops} is outside 1..{MAX_PATH_HOPS}.",
                            hint=f"Use at most {MAX_PATH_HOPS} hops; longer paths say little about a community.")
    require_rows(ctx, ctx.ontology.type_of_id(from_id).name)
    require_rows(ctx, ctx.ontology.type_of_id(to_id).name)
    # Only what the role may traverse, inside the store query: a path never runs through a hidden row.
    path = await run_sync(ctx.graph.shortest_path, from_id, to_id, max_hops, rel_types=ctx.view.path_rels(),
                          node_types=[t.name for t in ctx.view.types()])
    if path is None:
        return None
    ctx.access.returned(path.nodes)
    return GraphPath(nodes=list(path.nodes), edges=[graph_edge(e, ctx.view) for e in path.edges])  # type: ignore[arg-type]


async def neighbourhood(ctx: ApiContext, node_id: str, depth: int, limit: int) -> Neighbourhood | None:
    if not 1 <= depth <= MAX_NEIGHBOURHOOD_DEPTH:
        raise BadQueryError(f"neighbourhood: depth {depth} is outside 1..{MAX_NEIGHBOURHOOD_DEPTH}.",
                            hint="Ask for depth 1 or 2 and follow up from the interesting nodes.")
    check_first(limit, ctx.max_page_size, argument="limit")
    if await get_node(ctx, node_id) is None:
        return None
    sub = await run_sync(ctx.graph.neighbourhood, node_id, depth, limit, rel_types=ctx.view.path_rels(),
                         node_types=[t.name for t in ctx.view.types()])
    ctx.access.returned(sub.nodes)
    return Neighbourhood(nodes=list(sub.nodes), edges=[graph_edge(e, ctx.view) for e in sub.edges],  # type: ignore[arg-type]
                         truncated=sub.truncated)


async def facet_counts(ctx: ApiContext, type_name: str, field: str, where: Any,
                       all_records: bool = False) -> list[FacetCount]:
    """Counts per value. A role that may only see aggregates of a field (or of a type's rows) gets
    counts below k suppressed; ``where`` may use only fields the role reads on every row."""
    node_type = ctx.ontology.node(type_name)
    countable = {p.name: p for p in node_type.properties
                 if p.facet and ctx.view.facet_rule(type_name, p.sensitivity) is not FacetRule.FORBIDDEN}
    prop = countable.get(field) or next((p for p in countable.values() if camel(p.name) == field), None)
    if prop is None:
        raise OntologyError(f"{type_name} has no facet field {field!r} you may count.",
                            hint=f"Facet fields of {type_name} for the {ctx.principal.role} role: "
                            f"{', '.join(sorted(camel(p) for p in countable)) or '(none)'}.")
    rows = ctx.view.rows(type_name)
    filterable = {k: p for k, p in node_fields(node_type, ctx.view).items()
                  if rows and ctx.view.grant(p) is Grant.ALWAYS}
    flt = compile_where(filterable, where, owner=f"{type_name}Where")
    if not all_records:
        flt = await one_per_cluster(ctx, node_type, flt)
    rule = ctx.view.facet_rule(type_name, prop.sensitivity) if rows else FacetRule.SUPPRESSED
    counts = await run_sync(ctx.graph.facet_counts, type_name, prop.name, flt)
    ctx.access.aggregates += len(counts)
    out = []
    for c in counts:
        zh, en = term_labels(prop.vocabulary, c.value)
        shown = c.count if rule is FacetRule.EXACT else ctx.view.policy.suppress(c.count)
        out.append(FacetCount(value=_text(c.value), count=shown, display=_display(shown, ctx), label=zh, label_en=en))
    return out


def _display(count: int | None, ctx: ApiContext) -> str:
    return str(count) if count is not None else f"<{ctx.view.policy.k_anonymity}"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- search --------------------------------------------------------------------------------------


def search_selects(selected: Sequence[Any], *path: str) -> bool:
    """Whether the GraphQL selection (strawberry's ``info.selected_fields`` of ``search``) reads
    ``path`` below it, e.g. ``("hits", "highlights")``, through fragments too. A field under a
    directive counts as read (``@include`` may keep it)."""

    def walk(selections: Sequence[Any], rest: tuple[str, ...]) -> bool:
        for sel in selections:
            if isinstance(sel, (FragmentSpread, InlineFragment)):
                if walk(sel.selections, rest):
                    return True
            elif isinstance(sel, SelectedField) and sel.name == rest[0]:
                if len(rest) == 1 or walk(sel.selections, rest[1:]):
                    return True
        return False

    return any(walk(top.selections, path) for top in selected if isinstance(top, SelectedField))


def search_reads(selected: Sequence[Any]) -> tuple[bool, bool]:
    """Whether a ``search`` selection reads the hits' (highlights, explanations)."""
    return search_selects(selected, "hits", "highlights"), search_selects(selected, "hits", "explanations")


async def search(
    ctx: ApiContext, text: str, *, types: Sequence[str], filters: Sequence[SearchFilter] | None,
    facets: Sequence[str] | None, first: int, after: str | None, selected: Sequence[Any] | None = None,
    reads: tuple[bool, bool] | None = None,
) -> SearchResult:
    """``selected``: ``info.selected_fields``, or ``reads``: what ``search_reads`` says of them; highlights and
    explanations are computed only when the selection reads them (neither given: always)."""
    if ctx.search is None:
        raise StoreError("Search is not available on this server (it was started without a search index).",
                         hint="Start it with `talentgraph serve`, which opens the search index beside the graph.")
    check_first(first, ctx.max_page_size)
    by_field: dict[str, list[str]] = {}
    for f in filters or ():
        by_field.setdefault(f.field, []).extend(f.values)
    kwargs: dict[str, Any] = {"types": tuple(types), "filters": by_field or None, "first": first, "after": after,
                              "visibility": await ctx.access.search_visibility()}
    if reads is None and selected is not None:
        reads = search_reads(selected)
    if reads is not None:
        kwargs["highlights"], kwargs["explanations"] = reads
    if facets is not None:
        kwargs["facets"] = tuple(facets)
    res = await run_sync(ctx.search.search, text, **kwargs)
    ctx.access.returned_ids((h.id, h.type) for h in res.hits)
    ctx.access.aggregates += sum(len(v) for v in res.facets.values())
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
                SearchFacetValue(value=_text(v.value), count=v.count, display=_display(v.count, ctx),
                                 label=v.label_zh or v.label_en or _text(v.value),
                                 label_zh=v.label_zh, label_en=v.label_en)
                for v in values
            ])
            for name, values in res.facets.items()
        ],
        page_info=PageInfo(has_next_page=res.has_next_page, end_cursor=res.end_cursor),
    )


# --- the access record (admin only: the field exists only in roles that may read the audit) --------

MAX_AUDIT_ENTRIES = 1000


async def audit_log(ctx: ApiContext, *, person: str | None, principal: str | None, since: str | None,
                    until: str | None, last: int) -> list[AuditRecord]:
    ctx.view.policy.require(ctx.principal, "audit")
    if ctx.audit is None:
        raise StoreError("This server keeps no audit log.", hint="Start it with `talentgraph serve`.")
    if not 1 <= last <= MAX_AUDIT_ENTRIES:
        raise BadQueryError(f"last: {last} is outside 1..{MAX_AUDIT_ENTRIES}.",
                            hint="Narrow with person, principal, since or until, or use `talentgraph audit --json`.")
    entries = await run_sync(ctx.audit.read, person=person, principal=principal, since=since, until=until, limit=last)
    return [AuditRecord(seq=e.seq, at=e.at, principal=e.principal, role=e.role, via=e.via, operation=e.operation,
                        document_hash=e.document_hash, person_ids=[strawberry.ID(i) for i in e.person_ids],
                        count=e.count, outcome=e.outcome, status=e.status, duration_ms=e.duration_ms, path=e.path,
                        hash=e.hash) for e in entries]


async def changes(ctx: ApiContext, *, after: str | None, types: list[str] | None, first: int) -> ChangePage:
    """A page of the change feed for the caller's role (``feed/changes.py``)."""
    from talentgraph.feed.changes import ChangeFeed, Cursor, returned_ids

    cursor = Cursor.decode(after) if after is not None else None
    feed = ChangeFeed(ctx.graph, ctx.ontology, ctx.settings.feed_retention)
    page = await run_sync(feed.page, ctx.view, cursor, types=types, first=first)
    ctx.access.returned_ids(returned_ids(page.events, ctx.ontology))
    return ChangePage(
        events=[ChangeEvent(seq=e.seq, op=e.op, kind=e.kind, type=e.type, id=strawberry.ID(e.id), at=e.at,
                            version=e.version, from_=strawberry.ID(e.from_id) if e.from_id else None,
                            to=strawberry.ID(e.to_id) if e.to_id else None, data=cast(JSON, e.data), cursor=e.cursor)
                for e in page.events],
        cursor=page.cursor.encode(), seq=page.seq, head_seq=page.head_seq, has_more=page.has_more,
        snapshot=page.snapshot)
