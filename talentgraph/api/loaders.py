"""DataLoaders: every node lookup and relationship traversal of one query level becomes one store call.

Strawberry resolves the items of a list concurrently, so all ``load`` calls of one level are queued
before the loader dispatches; the batch functions below then call the port once for all parents.
Relationship loaders are keyed by everything that changes the store query (relationship,
direction, filters, per-node limit), so two fields with different arguments never share a batch
whose results would be wrong for one of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from talentgraph.graph.port import GraphStore
from talentgraph.types import Direction, Edge, Filter, Node

Runner = Callable[..., Awaitable[Any]]
EdgeKey = tuple[str, Direction, Filter | None, Filter | None, int | None, tuple[str, ...] | None]


class Loaders:
    def __init__(self, graph: GraphStore, run: Runner) -> None:
        self._graph = graph
        self._run = run
        self.node: DataLoader[str, Node | None] = DataLoader(load_fn=self._load_nodes)
        self._edges: dict[EdgeKey, DataLoader[str, list[Edge]]] = {}

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
    ) -> DataLoader[str, list[Edge]]:
        key: EdgeKey = (rel_type, direction, where, edge_where, limit_per_node, other_types)
        loader = self._edges.get(key)
        if loader is None:

            async def load(ids: Sequence[str]) -> list[list[Edge]]:
                found: dict[str, list[Edge]] = await self._run(
                    self._graph.edges, list(ids), rel_type, direction,
                    where=where, edge_where=edge_where, limit_per_node=limit_per_node, other_types=other_types,
                )
                return [found.get(i, []) for i in ids]

            loader = self._edges[key] = DataLoader(load_fn=load)
        return loader
