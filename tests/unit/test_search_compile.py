"""Query tree → tantivy.Query: typed constructors only, field checks, ranking detection."""

from __future__ import annotations

import pytest
import tantivy

from talentgraph.errors import BadQueryError
from talentgraph.search.mapping import search_fields
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
