"""What every ``SearchIndex`` adapter shares (``search/port.py``), so that each engine fills in only
what differs.

The public methods of ``BaseSearchIndex`` check their arguments and the index's state once — closed,
built for an older mapping, paging window, facet names and sizes, cursor values — and then call one
``_``-prefixed hook that the engine implements (``_search``, ``_index``, ``_rebuild`` …). The hooks
can trust their arguments; the error messages live here, once.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

import orjson

from talentgraph.errors import BadQueryError, StoreError
from talentgraph.schema.ontology import Ontology
from talentgraph.search.compiler import ranks
from talentgraph.search.mapping import FieldKind, SearchField, search_fields
from talentgraph.search.port import DocEncoder, EncodedDoc, RawResult, SearchCapabilities, SearchDoc
from talentgraph.search.query import Query


def fields_signature(fields: Iterable[SearchField]) -> list[list[str]]:
    """What an index was built with, saved beside it to detect an index built for an older mapping."""
    return [[f.name, str(f.kind)] for f in fields]


def wire_form(engine: str, fields: Iterable[SearchField], *variant: str) -> str:
    """The name of an engine's document encoding for a mapping (``EncodedDoc.form``): a body encoded for
    another engine, mapping or variant is refused."""
    digest = hashlib.sha256(json.dumps(fields_signature(fields)).encode()).hexdigest()[:16]
    return ":".join([engine, *variant, digest])


def json_body(doc_id: str, value: Any) -> str:
    """``value`` as compact JSON text, for an ``EncodedDoc`` body."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except (orjson.JSONEncodeError, UnicodeError) as exc:
        raise StoreError(f"Search document {doc_id!r} cannot be written: {exc}.",
                         hint="Its text holds characters that are not valid Unicode; correct the record.") from exc


def kinds_of(signature: Iterable[Sequence[str]]) -> dict[str, FieldKind]:
    """Field name → kind, read back from a saved ``fields_signature``."""
    return {name: FieldKind(kind) for name, kind in signature}


def check_cursor(seq: object) -> int:
    # bool is an int to Python, but True is not a change-log sequence.
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise BadQueryError(f"Search cursor {seq!r} is not a change-log sequence.", hint="Use a non-negative integer.")
    return seq


def stale_mapping_error(where: str) -> StoreError:
    """Writes refused on an index built for an older mapping; ``where`` names the index."""
    return StoreError(
        f"The search index {where} was built for an older search mapping.",
        hint="Run `talentgraph reindex` (it rebuilds the index from the graph); ingest and serve do so by themselves.",
    )


@dataclass(frozen=True)
class SearchRequest:
    """One checked ``search()`` call: every name in ``facets`` is a facet field of the mapping."""

    query: Query
    filters: Query | None
    facets: Sequence[str]
    limit: int
    offset: int
    facet_size: int
    ranked: bool  # order by score, then id; otherwise by id alone (browsing)


class BaseSearchIndex(ABC):
    """A ``SearchIndex`` whose public methods validate, then call the engine's hooks."""

    capabilities: SearchCapabilities  # incl. max_result_window: how deep a search may page

    def __init__(self, ontology: Ontology) -> None:
        self.fields = search_fields(ontology)
        self._kinds = {f.name: f.kind for f in self.fields}
        self._closed = False

    # --- the port -------------------------------------------------------------------------------

    def index(self, docs: Iterable[SearchDoc | EncodedDoc], *, new: bool = False) -> int:
        """Add or replace documents by id; returns the number written (``new``: see the port)."""
        self._check_writable()
        return self._index(docs, new)

    def discard_uncommitted(self) -> None:
        self._check_writable()
        self._discard_uncommitted()

    def encoder(self) -> DocEncoder:
        """How this index encodes documents now (``EncodedDoc``); picklable, for the document worker."""
        self._check_open()
        return self._encoder()

    def _checked(self, docs: Iterable[SearchDoc | EncodedDoc], form: str) -> Iterator[SearchDoc | EncodedDoc]:
        """``docs`` as they come, bodies encoded in another form than ``form`` (the adapter's current one)
        refused before anything is written of them."""
        for doc in docs:
            if isinstance(doc, EncodedDoc) and doc.form != form:
                raise StoreError(
                    f"Search document {doc.id!r} was encoded as {doc.form!r}; the index {self._where()} writes "
                    f"{form!r}.",
                    hint="Encode documents with this index's encoder() (a rebuild or an upgrade changed it), "
                         "or hand it the documents themselves.")
            yield doc

    def _encoded(self, docs: Iterable[SearchDoc | EncodedDoc], encode: DocEncoder) -> Iterator[EncodedDoc]:
        """``docs`` in the wire form of ``encode``: documents encoded, bodies checked (``_checked``)."""
        for doc in self._checked(docs, encode.form):
            yield encode(doc) if isinstance(doc, SearchDoc) else doc

    def delete(self, ids: Sequence[str]) -> int:
        """Remove documents by id; returns how many of them were there."""
        self._check_writable()
        unique = list(dict.fromkeys(ids))
        return self._delete(unique) if unique else 0

    def commit(self) -> None:
        """Make writes visible to searches, then persist the cursor they reach."""
        self._check_open()
        self._commit()

    def count(self) -> int:
        self._check_open()
        return self._count()

    def get_cursor(self) -> int:
        """Graph change-log sequence this index has applied up to."""
        self._check_open()
        return self._get_cursor()

    def mapping_stale(self) -> bool:
        self._check_open()
        return self._stale() is not None

    def set_cursor(self, seq: int) -> None:
        """Takes effect with the next ``commit``."""
        self._check_open()
        self._set_cursor(check_cursor(seq))

    def search(
        self,
        query: Query,
        *,
        filters: Query | None,
        facets: Sequence[str],
        limit: int,
        offset: int,
        facet_size: int = 20,
    ) -> RawResult:
        """Hits ordered by score (descending), ties by id (ascending); ``facets`` are engine field
        names and come back under the same names, counted over all matches. Adapters settle ties
        inside the engine, in at most two engine searches and no loop (the OpenSearch sort has the
        id as second key; Tantivy re-orders the tie groups at the page's edges by id-key fast fields,
        completing a tie that runs past its over-fetch only up to the largest id the page can need)."""
        if limit < 0 or offset < 0:
            raise BadQueryError(f"Search window offset={offset}, limit={limit}.", hint="Use non-negative values.")
        window = self.capabilities.max_result_window
        if window is not None and offset + limit > window:
            raise BadQueryError(f"Search window offset={offset}, limit={limit} reaches past hit {window}.",
                                hint="Narrow the search with filters instead of paging further.")
        if facets and facet_size < 1:
            raise BadQueryError(f"facet_size={facet_size}.", hint="Ask for at least one value per facet.")
        unknown = [f for f in facets if self._kinds.get(f) is not FieldKind.FACET]
        if unknown:
            raise BadQueryError(
                f"Cannot count facets {unknown}.",
                hint="Facet fields: " + ", ".join(n for n, k in self._kinds.items() if k is FieldKind.FACET) + ".",
            )
        self._check_open()
        return self._search(SearchRequest(query, filters, facets, limit, offset, facet_size, ranks(query)))

    def rebuild_encoder(self) -> DocEncoder:
        """How ``rebuild`` encodes documents; picklable, for the document worker."""
        self._check_open()
        return self._rebuild_encoder()

    def rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int:
        """Build a fresh index from ``docs`` beside the live one, then swap atomically."""
        self._check_open()
        return self._rebuild(docs, check_cursor(cursor))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- checks ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"The search index {self._where()} is closed.", hint=f"Open a new {type(self).__name__}.")

    def _check_writable(self) -> None:
        self._check_open()
        stale = self._stale()
        if stale is not None:
            raise stale_mapping_error(stale)

    # --- what each engine implements ------------------------------------------------------------

    @abstractmethod
    def _where(self) -> str:
        """The index as error messages name it ("at /data/search", "'tg' at http://…")."""

    @abstractmethod
    def _stale(self) -> str | None:
        """None when the live index has this mapping; else the live index, named as in ``_where``."""

    @abstractmethod
    def _index(self, docs: Iterable[SearchDoc | EncodedDoc], new: bool) -> int:
        """Write ``self._encoded(docs, <the live encoder>)``; ``new``: nothing of them to replace."""

    @abstractmethod
    def _discard_uncommitted(self) -> None: ...

    @abstractmethod
    def _encoder(self) -> DocEncoder: ...

    @abstractmethod
    def _delete(self, ids: list[str]) -> int:
        """``ids`` are unique and not empty."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _count(self) -> int: ...

    @abstractmethod
    def _get_cursor(self) -> int: ...

    @abstractmethod
    def _set_cursor(self, seq: int) -> None: ...

    @abstractmethod
    def _search(self, req: SearchRequest) -> RawResult: ...

    @abstractmethod
    def _rebuild_encoder(self) -> DocEncoder: ...

    @abstractmethod
    def _rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int: ...

    @abstractmethod
    def _close(self) -> None:
        """Called once, by the first ``close``."""


__all__ = [
    "BaseSearchIndex",
    "SearchRequest",
    "check_cursor",
    "fields_signature",
    "json_body",
    "kinds_of",
    "stale_mapping_error",
    "wire_form",
]
