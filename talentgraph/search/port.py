"""The ``SearchIndex`` port: a rebuildable projection of the graph for full-text talent search.

Adapters: ``search/tantivy/`` (embedded default) and ``search/opensearch/`` (OpenSearch and
Elasticsearch 8). Language analysis happens once, in Python (``search/analysis.py``): adapters
receive documents whose text fields are already space-separated tokens and queries that are
already an engine-neutral tree (``search/query.py``), and only compile and execute.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from talentgraph.search.query import Query


@dataclass(frozen=True)
class SearchCapabilities:
    name: str  # "tantivy" | "opensearch" | "elasticsearch"
    point_in_time: bool = False
    combined_fields: bool = False
    max_result_window: int | None = None  # deepest hit (offset + limit) a search may reach; None: no limit


@dataclass(frozen=True)
class SearchDoc:
    """One indexed document: ``fields`` maps mapping field names (search/mapping.py) to values."""

    id: str
    type: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class EncodedDoc:
    """A document in one engine's own wire form (``body``), made by that index's ``encoder()``.

    Encoding is pure: the search sync's document worker encodes what it builds, so the process that
    writes the index hands bodies to the engine instead of converting documents field by field (and a
    string crosses processes ~20x cheaper than a pickled ``SearchDoc``). ``form`` names the encoding
    (engine, mapping): an index refuses a body encoded for another."""

    id: str
    body: str
    form: str


class DocEncoder(Protocol):
    """``SearchIndex.encoder()``: picklable, touches no engine, so it runs in any process."""

    form: str

    def __call__(self, doc: SearchDoc) -> EncodedDoc: ...


@dataclass(frozen=True)
class RawHit:
    id: str
    score: float
    stored: dict[str, Any]  # stored fields: type + original text used for highlights/explanations


@dataclass(frozen=True)
class RawResult:
    hits: list[RawHit]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class SearchIndex(Protocol):
    capabilities: SearchCapabilities

    def index(self, docs: Iterable[SearchDoc | EncodedDoc], *, new: bool = False) -> int:
        """Add or replace documents by id; returns the number written. ``new``: none of them is in the index, committed
        or not (a first sync into an empty index, after ``discard_uncommitted``), so none is looked for to replace."""
    def discard_uncommitted(self) -> None:
        """Drop what was written since the last commit (what a failed sync left)."""
    def encoder(self) -> DocEncoder:
        """How this index encodes documents (``EncodedDoc``), for encoding them elsewhere first."""
    def delete(self, ids: Sequence[str]) -> int: ...
    def commit(self) -> None:
        """Make writes visible to searches."""
    def search(
        self,
        query: Query,
        *,
        filters: Query | None,
        facets: Sequence[str],
        limit: int,
        offset: int,
        facet_size: int = 20,
    ) -> RawResult: ...
    def count(self) -> int: ...
    def get_cursor(self) -> int:
        """Graph change-log sequence this index has applied up to."""
    def set_cursor(self, seq: int) -> None: ...
    def mapping_stale(self) -> bool:
        """The live index was built for another search mapping (an upgrade changed the ontology's searchable
        fields): it still answers queries, but takes no writes until ``rebuild``."""
    def rebuild_encoder(self) -> DocEncoder:
        """How ``rebuild`` encodes documents (the index it makes has the current mapping, in the engine's newest
        form, which the live index may not have); picklable, for the document worker."""
    def rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int:
        """Build a fresh index from ``docs`` (documents, or bodies from ``rebuild_encoder``) beside the live one,
        then swap atomically."""
    def close(self) -> None: ...
