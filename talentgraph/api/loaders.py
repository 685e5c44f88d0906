"""DataLoaders: every node lookup and relationship traversal of one query level becomes one store call.

Strawberry resolves the items of a list concurrently, so all ``load`` calls of one level are queued
before the loader dispatches; the batch functions below then call the port once for all parents.
Relationship loaders are keyed by everything that changes the store query (relationship,
direction, filters, per-node limit), so two fields with different arguments never share a batch
whose results would be wrong for one of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from talentgraph.graph import claims
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import NodeType
from talentgraph.types import Cmp, Direction, Edge, Filter, Node, SortKey

CANONICAL = "canonical"  # entity resolution's cluster property (api/golden.py)
MEMBER_PAGE = 1000

Runner = Callable[..., Awaitable[Any]]
K = TypeVar("K")
V = TypeVar("V")
EdgeKey = tuple[str, Direction, Filter | None, Filter | None, int | None, tuple[str, ...] | None,
                tuple[str, ...] | None]


def loaded(loader: DataLoader[K, V], key: K) -> V | None:
    """What ``loader`` already holds for ``key`` (primed, or loaded earlier in the request); None when
    a ``load`` would have to wait (not asked yet, still loading, or failed: ``load`` raises it)."""
    future = loader.cache_map.get(key) if loader.cache else None
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return None
    return future.result()


class Loaders:
    def __init__(self, graph: GraphStore, run: Runner) -> None:
        self._graph = graph
        self._run = run
        self.node: DataLoader[str, Node | None] = DataLoader(load_fn=self._load_nodes)
        self._edges: dict[EdgeKey, DataLoader[str, list[Edge]]] = {}
        self._members: dict[str, DataLoader[str, list[Node]]] = {}
        self._claims: dict[tuple[str, object], claims.Claims] = {}

    async def _load_nodes(self, ids: Sequence[str]) -> list[Node | None]:
        found: dict[str, Node] = await self._run(self._graph.get_nodes, list(ids))
        return [found.get(i) for i in ids]

    def edges(
        self,
        rel_type: str,
        direction: Direction,
        *,
        where: Filter | None = None,
        edge_where: Filter | None = None,
        limit_per_node: int | None = None,
        other_types: tuple[str, ...] | None = None,
        far_props: tuple[str, ...] | None = None,
    ) -> DataLoader[str, list[Edge]]:
        """``far_props``: the far nodes carry their id and only these properties (None: every one);
        part of the key, so a loader of whole nodes never hands out partial ones."""
        key: EdgeKey = (rel_type, direction, where, edge_where, limit_per_node, other_types, far_props)
        loader = self._edges.get(key)
        if loader is None:

            async def load(ids: Sequence[str]) -> list[list[Edge]]:
                found: dict[str, list[Edge]] = await self._run(
                    self._graph.edges, list(ids), rel_type, direction,
                    where=where, edge_where=edge_where, limit_per_node=limit_per_node, other_types=other_types,
                    far_props=far_props,
                )
                return [found.get(i, []) for i in ids]

            loader = self._edges[key] = DataLoader(load_fn=load)
        return loader

    def members(self, type_name: str) -> DataLoader[str, list[Node]]:
        """Per canonical id, every record whose ``canonical`` names it (itself included), by id:
        one store query (paged) for all the canonical records of a query level."""
        loader = self._members.get(type_name)
        if loader is None:

            async def load(ids: Sequence[str]) -> list[list[Node]]:
                found: dict[str, list[Node]] = {i: [] for i in ids}
                where = Cmp(CANONICAL, "in", tuple(sorted(set(ids))))
                after: str | None = None
                while True:
                    page = await self._run(self._graph.list_nodes, type_name, where=where, sort=[SortKey("id")],
                                           first=MEMBER_PAGE, after=after)
                    for n in page.items:
                        found.setdefault(str(n.props.get(CANONICAL)), []).append(n)
                    if not page.has_next_page:
                        break
                    after = page.end_cursor
                return [found[i] for i in ids]

            loader = self._members[type_name] = DataLoader(load_fn=load)
        return loader

    def claims_of(self, node: Node, node_type: NodeType) -> claims.Claims:
        """A node's parsed per-property claims, parsed once per request."""
        key = (node.id, node.props.get("version"))
        found = self._claims.get(key)
        if found is None:
            found = self._claims[key] = claims.load(node.props, [p.name for p in node_type.properties])
        return found
