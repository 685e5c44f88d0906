"""Per-request context: the ports, settings, ontology and one fresh set of DataLoaders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from talentgraph.api.loaders import Loaders
from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology

if TYPE_CHECKING:
    from talentgraph.search.service import SearchService

T = TypeVar("T")


async def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking port call in a worker thread so one slow query never stalls the event loop.

    The stores serialise their own access (LadybugDB adapter holds a lock), so no limiter here.
    """
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


@dataclass
class ApiContext:
    graph: GraphStore
    search: "SearchService | None"
    settings: Settings
    ontology: Ontology = ONTOLOGY
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        # A new loader set per request: caching across requests would serve stale nodes after an ingest.
        self.loaders = Loaders(self.graph, run_sync)

    @property
    def max_page_size(self) -> int:
        return self.settings.max_page_size
