"""Query tree → tantivy.Query: typed constructors only, field checks, ranking detection; and the walk
both engines share (search/compiler.py), checked to refuse and empty the same queries on each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import tantivy

from talentgraph.errors import BadQueryError
from talentgraph.search.compiler import QueryCompiler, Unknown
from talentgraph.search.mapping import search_fields
from talentgraph.search.opensearch import dsl
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Range, Term, Terms
from talentgraph.search.tantivy.compile import Compiler, ranks
from talentgraph.search.tantivy.index import build_schema


@pytest.fixture(scope="module")
def compiler() -> Compiler:
    fields = search_fields()
    return Compiler(build_schema(fields), {f.name: f.kind for f in fields})


def test_compiles_every_node_kind(compiler: Compiler) -> None:
    q = Bool(
        must=(Term("name", "张", 3.0),),
        should=(Fuzzy("bio", "gardening", 1, 1, 0.5), Terms("languages__facet", ("ru", "en"))),
        must_not=(Term("type", "Area"),),
        filter=(Terms("type", ("Person",)), MatchAll()),
        minimum_should_match=1,
        boost=2.0,
    )
    assert isinstance(compiler(q), tantivy.Query)


def test_query_syntax_in_values_is_inert(compiler: Compiler) -> None:
    # A value that would be syntax to a query parser is just a term here.
    text = repr(compiler(Term("name", 'name:* OR "x" AND -y')))
    assert 'name:* OR \\"x\\" AND -y' in text or "name:* OR" in text


def test_unknown_field_names_the_field_and_lists_known(compiler: Compiler) -> None:
    with pytest.raises(BadQueryError, match="'hobby'") as e:
        compiler(Term("hobby", "x"))
    assert "languages__facet" in str(e.value.hint)
    with pytest.raises(BadQueryError, match="_src"):
        compiler(Term("_src", "x"))


def test_unknown_field_matches_nothing_for_stale_indexes() -> None:
    fields = search_fields()
    c = Compiler(build_schema(fields), {f.name: f.kind for f in fields}, unknown="empty")
    assert "Empty" in repr(c(Term("hobby", "x")))


def test_range_needs_a_numeric_field(compiler: Compiler) -> None:
    with pytest.raises(BadQueryError, match="year__facet"):
        compiler(Range("year__facet", gte=2020))


def test_fuzzy_distance_bounds(compiler: Compiler) -> None:
    with pytest.raises(BadQueryError, match="distance 3"):
        compiler(Fuzzy("bio", "gardening", 3))


def test_ranks_only_with_scoring_clauses() -> None:
    assert not ranks(MatchAll())
    assert not ranks(Bool(must=(MatchAll(),), filter=(Term("type", "Person"),)))
    assert not ranks(Terms("languages__facet", ("ru",)))
    assert ranks(Bool(must=(Bool(should=(Term("name", "张"),)),)))
    assert ranks(Fuzzy("bio", "gardening"))


# --- the walk shared with OpenSearch (search/compiler.py) ---------------------------------------


Make = Callable[[Unknown], QueryCompiler[Any]]


@pytest.fixture(scope="module", params=["tantivy", "opensearch"])
def make(request: pytest.FixtureRequest) -> Make:
    fields = search_fields()
    kinds = {f.name: f.kind for f in fields}
    if request.param == "tantivy":
        schema = build_schema(fields)
        return lambda unknown: Compiler(schema, kinds, unknown)
    return lambda unknown: dsl.Compiler(kinds, unknown)


@pytest.fixture(scope="module")
def either(make: Make) -> QueryCompiler[Any]:
    return make("raise")


def is_nothing(compiled: object) -> bool:
    return compiled == {"match_none": {}} or "Empty" in repr(compiled)


@pytest.mark.parametrize(("query", "message"), [
    (Term("hobby", "x"), "Search field 'hobby' is not searchable"),
    (Fuzzy("bio", "x", 3), "Fuzzy query on 'bio' has distance 3"),
    (Range("year__facet", gte=1), "Range query on 'year__facet'"),
    ("name:x", "Query node 'name:x' is not part of the search query language"),
    # Children are checked even when minimum_should_match can never be met.
    (Bool(should=(Term("hobby", "x"),), minimum_should_match=2), "'hobby'"),
])
def test_both_engines_refuse_the_same_queries_with_the_same_message(either: QueryCompiler[Any], query: Any,
                                                                     message: str) -> None:
    with pytest.raises(BadQueryError, match=message):
        either(query)


def test_both_engines_match_nothing_in_the_same_cases(make: Make) -> None:
    either = make("raise")
    assert is_nothing(either(Terms("languages__facet", ())))
    assert is_nothing(either(Bool(should=(Term("name", "a"),), minimum_should_match=2)))
    assert not is_nothing(either(Bool(should=(Term("name", "a"),), minimum_should_match=1)))
    stale = make("empty")
    assert is_nothing(stale(Term("hobby", "x"))) and is_nothing(stale(Range("hobby", lte=3)))
    with pytest.raises(BadQueryError, match="_src"):
        stale(Term("_src", "x"))  # a field the index has but cannot search is still an error


def test_terms_are_deduplicated_before_the_engine_sees_them() -> None:
    kinds = {f.name: f.kind for f in search_fields()}
    assert dsl.Compiler(kinds)(Terms("type", ("Person", "Area", "Person"))) == {"terms": {"type": ["Person", "Area"]}}


def test_small_and_large_term_sets_match_alike_with_constant_score(tmp_path: Any) -> None:
    from talentgraph.search.mapping import build_doc
    from talentgraph.search.tantivy import TantivyIndex
    from talentgraph.search.tantivy.compile import MAX_TERMS_AS_UNION
    from talentgraph.types import Node

    idx = TantivyIndex(tmp_path / "idx")
    idx.index([build_doc(Node(f"per:000{i}", "Person", {"name": f"测试{i}", "languages": [["ru", "en", "fr"][i % 3]]}))
               for i in range(6)])
    idx.commit()
    gen = idx._s.gen
    searcher = gen.index.searcher()

    def found(values: tuple[str, ...]) -> list[tuple[float, str]]:
        hits = searcher.search(gen.compiler(Terms("languages__facet", values)), limit=10).hits
        return sorted((score, str(searcher.doc(addr).get_first("id"))) for score, addr in hits)

    few = ("ru", "fr", "absent")  # a lazy union of term queries
    many = few + tuple(f"x{i}" for i in range(MAX_TERMS_AS_UNION))  # a term set
    try:
        assert found(few) == found(many) == [(1.0, f"per:000{i}") for i in (0, 2, 3, 5)]
    finally:
        idx.close()
