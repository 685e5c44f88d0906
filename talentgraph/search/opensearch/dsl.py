"""Pure functions between talentgraph's search model and OpenSearch/Elasticsearch request bodies.

* ``index_body`` — settings and mappings derived from ``search.mapping.search_fields()``;
* ``Compiler`` — the engine-neutral query tree (``search/query.py``) → query DSL (the walk and its
  checks are shared with Tantivy in ``search/compiler.py``; this module builds the leaves);
* ``search_body`` / ``read_result`` — one search request and its response → ``RawResult``.

Nothing here talks to a server, so every body can be checked as a plain dict. The DSL uses only
``bool``/``term``/``terms``/``fuzzy``/``match_all``/``match_none``: user text has been analysed into
tokens in Python and never reaches a query parser (no ``query_string``/``match``), so the engine
scores exactly the tokens Tantivy scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from talentgraph.errors import StoreError
from talentgraph.search.base import fields_signature, json_body, kinds_of, wire_form
from talentgraph.search.compiler import MAX_FUZZY_DISTANCE, QueryCompiler, ranks
from talentgraph.search.mapping import ANALYSED, ID_FIELD, SOURCE_FIELD, TYPE_FIELD, FieldKind, SearchField
from talentgraph.search.port import EncodedDoc, RawHit, RawResult, SearchDoc
from talentgraph.search.query import Bool, Fuzzy, Term

# Tokens were produced in Python (search/analysis.py); the engine must only split on spaces, and
# must not lowercase or stem, or it would index other tokens than Tantivy does.
ANALYZER = "whitespace"
# Engine-side CJK bigrams on each bigram shadow field, so that plain `match` queries typed into
# OpenSearch Dashboards or curl find Chinese text without talentgraph's analysis. talentgraph's own
# queries use the whitespace-analysed parent field (the same pairs, scored like Tantivy).
CJK_SUBFIELD = "cjk"
CJK_ANALYZER = "cjk"
META_KEY = "talentgraph"
# The service pages with offsets; this lets a client page through a 50k-person community without
# point-in-time bookkeeping (the engine's default is 10,000).
MAX_RESULT_WINDOW = 200_000
STORED_FIELDS = (ID_FIELD, TYPE_FIELD, SOURCE_FIELD)

Body = dict[str, Any]


# --- index settings and mappings ----------------------------------------------------------------


def field_mapping(f: SearchField) -> Body:
    if f.kind in ANALYSED:
        # Frequencies for BM25 but no positions: queries are terms, never phrases.
        out: Body = {"type": "text", "analyzer": ANALYZER, "index_options": "freqs"}
        if f.kind is FieldKind.BIGRAM:
            out["fields"] = {CJK_SUBFIELD: {"type": "text", "analyzer": CJK_ANALYZER}}
        return out
    if f.kind in (FieldKind.ID, FieldKind.TYPE, FieldKind.FACET):
        return {"type": "keyword"}
    if f.kind is FieldKind.SOURCE:
        # Kept in _source only: read back for highlights, never searched.
        return {"type": "keyword", "index": False, "doc_values": False}
    raise StoreError(f"Search field {f.name!r} has kind {f.kind!r}, which the OpenSearch mapping does not know.",
                     hint="Add the kind to talentgraph.search.opensearch.dsl.field_mapping.")


def mappings(fields: Sequence[SearchField], meta: Mapping[str, Any] | None = None) -> Body:
    return {
        "dynamic": "strict",
        # The token fields are large and only ever searched; keep the stored copy small.
        "_source": {"includes": list(STORED_FIELDS)},
        # What the index was built with, to detect an index built for an older mapping.
        "_meta": {META_KEY: {"fields": fields_signature(fields), **(meta or {})}},
        "properties": {f.name: field_mapping(f) for f in fields},
    }


def index_body(fields: Sequence[SearchField], meta: Mapping[str, Any] | None = None) -> Body:
    return {
        # One shard: facet counts are exact and BM25 statistics are index-wide, as in Tantivy, so
        # rankings do not depend on which shard a document landed in.
        "settings": {"index": {"number_of_shards": 1, "max_result_window": MAX_RESULT_WINDOW}},
        "mappings": mappings(fields, meta),
    }


def document(doc: SearchDoc) -> Body:
    """The ``_source`` sent for one document (the mapping decides what is kept)."""
    out = {k: v for k, v in doc.fields.items() if v is not None}
    out[ID_FIELD] = doc.id
    out[TYPE_FIELD] = doc.type
    return out


class SourceEncoder:
    """Documents as their ``_source`` JSON (``EncodedDoc``), encoded where they are built (the search
    sync's document worker) so that they cross to the writing process as strings."""

    def __init__(self, fields: Sequence[SearchField]) -> None:
        self.form = wire_form("opensearch", fields)

    def __call__(self, doc: SearchDoc) -> EncodedDoc:
        return EncodedDoc(doc.id, json_body(doc.id, document(doc)), self.form)


def source_of(doc: SearchDoc | EncodedDoc) -> Body | str:
    """The ``_source`` of a document for the bulk request: built from a document, or the body a worker
    encoded, as the JSON text it is (sent on without decoding)."""
    if isinstance(doc, SearchDoc):
        return document(doc)
    return doc.body


# --- queries ------------------------------------------------------------------------------------


MATCH_NONE: Body = {"match_none": {}}


class Compiler(QueryCompiler[Body]):
    """Compiles queries against one mapping; ``kinds`` maps engine field names to their kind."""

    def term(self, q: Term) -> Body:
        return {"term": {q.field: _boosted({"value": q.value}, q.boost)}}

    def terms(self, field: str, values: list[str]) -> Body:
        return {"terms": {field: values}}

    def fuzzy(self, q: Fuzzy) -> Body:
        # constant_score: every expansion scores the boost, as Tantivy's fuzzy query does, and
        # every term within the distance counts (no max_expansions cut-off).
        body = {"value": q.value, "fuzziness": q.distance, "prefix_length": q.prefix_length,
                "transpositions": True, "rewrite": "constant_score"}
        return {"fuzzy": {q.field: _boosted(body, q.boost)}}

    def match_all(self) -> Body:
        return {"match_all": {}}

    def match_none(self) -> Body:
        return dict(MATCH_NONE)

    def boolean(self, q: Bool, *, must: list[Body], filter: list[Body], should: list[Body],
                must_not: list[Body]) -> Body:
        body: Body = {}
        for occur, parts in (("must", must), ("filter", filter), ("should", should), ("must_not", must_not)):
            if parts:
                body[occur] = parts
        # 0 keeps the engine default, which is the tree's meaning: shoulds optional beside a
        # must/filter, else at least one.
        if q.minimum_should_match > 0:
            body["minimum_should_match"] = q.minimum_should_match
        return {"bool": _boosted(body, q.boost)}


def _boosted(body: Body, boost: float) -> Body:
    if boost != 1.0:
        body["boost"] = float(boost)
    return body


# --- search requests and responses --------------------------------------------------------------


def combine(query: Body, filters: Body | None) -> Body:
    """The query with filters that narrow the matches without changing scores."""
    if filters is None:
        return query
    return {"bool": {"must": [query], "filter": [filters]}}


def sort_clause(ranked: bool) -> list[Body]:
    # Equal scores are common (same tokens, same field lengths): the id tie-break keeps pages from
    # overlapping or skipping and makes the order the same on every run.
    by_id: Body = {ID_FIELD: {"order": "asc"}}
    return [{"_score": {"order": "desc"}}, by_id] if ranked else [by_id]


def facet_aggs(facets: Sequence[str], size: int) -> Body:
    return {
        name: {"terms": {"field": name, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        for name in facets
    }


def search_body(
    query: Body,
    *,
    facets: Sequence[str] = (),
    limit: int,
    offset: int,
    facet_size: int = 20,
    ranked: bool = True,
) -> Body:
    body: Body = {
        "query": query,
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "sort": sort_clause(ranked),
        "_source": [TYPE_FIELD, SOURCE_FIELD, ID_FIELD],
    }
    if facets:
        body["aggs"] = facet_aggs(facets, facet_size)
    return body


def read_result(response: Mapping[str, Any], facets: Sequence[str] = (), *, ranked: bool = True) -> RawResult:
    hits_part = response.get("hits", {})
    hits: list[RawHit] = []
    for h in hits_part.get("hits", []):
        src = h.get("_source") or {}
        stored = {TYPE_FIELD: src.get(TYPE_FIELD)}
        if src.get(SOURCE_FIELD) is not None:
            stored[SOURCE_FIELD] = src[SOURCE_FIELD]
        score = h.get("_score") if ranked else None
        hits.append(RawHit(id=str(src.get(ID_FIELD) or h.get("_id")), score=float(score or 0.0), stored=stored))
    total = hits_part.get("total", 0)
    if isinstance(total, Mapping):
        total = total.get("value", 0)
    aggs = response.get("aggregations") or {}
    out_facets: dict[str, list[tuple[str, int]]] = {}
    for name in facets:
        buckets = (aggs.get(name) or {}).get("buckets", [])
        pairs = [(str(b.get("key_as_string", b["key"])), int(b["doc_count"])) for b in buckets]
        out_facets[name] = sorted(pairs, key=lambda kv: (-kv[1], kv[0]))
    return RawResult(hits=hits, total=int(total), facets=out_facets)


__all__ = [
    "ANALYZER",
    "CJK_SUBFIELD",
    "Compiler",
    "MAX_FUZZY_DISTANCE",
    "MAX_RESULT_WINDOW",
    "META_KEY",
    "SourceEncoder",
    "combine",
    "document",
    "facet_aggs",
    "field_mapping",
    "fields_signature",
    "index_body",
    "source_of",
    "kinds_of",
    "mappings",
    "ranks",
    "read_result",
    "search_body",
    "sort_clause",
]
