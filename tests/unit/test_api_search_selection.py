"""Which parts of a search hit the GraphQL selection reads (resolvers.search_selects)."""

from __future__ import annotations

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from talentgraph.api.resolvers import search_selects


def _f(name: str, *children: object) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments={}, selections=list(children))  # type: ignore[arg-type]


def test_reads_fields_directly_and_through_fragments() -> None:
    plain = [_f("search", _f("totalCount"), _f("hits", _f("id"), _f("title")))]
    assert not search_selects(plain, "hits", "highlights") and not search_selects(plain, "hits", "explanations")
    inline = [_f("search", _f("hits", InlineFragment(type_condition="SearchHit", directives={},
                                                       selections=[_f("highlights", _f("field"))])))]
    assert search_selects(inline, "hits", "highlights") and not search_selects(inline, "hits", "explanations")
    spread = [_f("search", FragmentSpread(name="f", type_condition="SearchResult", directives={},
                                          selections=[_f("hits", _f("explanations"))]))]
    assert search_selects(spread, "hits", "explanations")
    # "highlights" elsewhere than under hits does not count.
    assert not search_selects([_f("search", _f("highlights"))], "hits", "highlights")
