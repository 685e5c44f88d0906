"""The plain-data fast path completes selections exactly as graphql-core does, errors included."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from talentgraph.api import execution
from talentgraph.api.execution import PlainDataExecutor
from talentgraph.api.objects import Highlight, PageInfo, SearchFacet, SearchFacetValue, SearchHit, SearchResult


def _result(count: Any = 3, title: Any = "张伟", type_name: Any = "Person") -> SearchResult:
    hit = SearchHit(id=strawberry.ID("per:1"), type=type_name, score=1.5, title=title, explanations=["张 ← name"],
                    highlights=[Highlight(field="name", fragments=["<mark>张</mark>伟"])])
    value = SearchFacetValue(value="ru", count=count, display="3", label="俄语", label_zh="俄语",
                             label_en="Russian")
    return SearchResult(total_count=1, hits=[hit], facets=[SearchFacet(field="languages", values=[value])],
                        page_info=PageInfo(has_next_page=False, end_cursor=None))


ROOT: dict[str, SearchResult] = {}


@strawberry.type
class Query:
    @strawberry.field
    def search(self) -> SearchResult:
        return ROOT["result"]

    @strawberry.field
    async def later(self) -> SearchResult:
        return ROOT["result"]


DOCUMENT = """query($withTitle: Boolean!) { search { total: totalCount
  hits { id type score title @include(if: $withTitle) highlights { field fragments } explanations }
  facets { ...F } pageInfo { hasNextPage endCursor } }
  later { hits { __typename id } } }
fragment F on SearchFacet { field values { value n: count label labelEn } }"""


def _run(schema: strawberry.Schema, **variables: Any) -> Any:
    return asyncio.run(schema.execute(DOCUMENT, variable_values={"withTitle": True, **variables}))


def test_same_data_and_errors_as_graphql_core() -> None:
    plain = strawberry.Schema(query=Query, execution_context_class=PlainDataExecutor)
    default = strawberry.Schema(query=Query)
    for result in (_result(), _result(count=None), _result(count="not a number"), _result(title=None),
                   _result(type_name=None)):  # null in a non-null field: propagates up to `search`
        ROOT["result"] = result
        for with_title in (True, False):
            a, b = _run(default, withTitle=with_title), _run(plain, withTitle=with_title)
            assert a.data == b.data
            assert [(e.message, e.path) for e in a.errors or ()] == [(e.message, e.path) for e in b.errors or ()]
    ROOT["result"] = _result(count="not a number")
    assert _run(plain).errors  # the refused value still errs, at its path, through graphql-core


def test_fields_with_resolvers_take_graphql_cores_path() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=PlainDataExecutor)
    graphql_schema = schema._schema
    node = graphql_schema.type_map["SearchHit"].fields["node"]  # type: ignore[attr-defined]
    assert execution._plan(node) is None
    label = graphql_schema.type_map["SearchFacetValue"].fields["label"]  # type: ignore[attr-defined]
    assert execution._plan(label) is not None
