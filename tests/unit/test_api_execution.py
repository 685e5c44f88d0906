"""The plain-data fast path completes selections exactly as graphql-core does, errors included."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import strawberry

from talentgraph.api import execution
from talentgraph.api.execution import SLOW, PlainDataExecutor
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


def _many(bad: str | None) -> SearchResult:
    """Three hits and three facet values (a list's items share one plan), ``bad`` spoiling the second's."""
    one = _result()
    hits = [SearchHit(id=strawberry.ID(f"per:{i}"), type="Person", score=1.0 + i,
                      title=None if bad == "title" and i == 1 else f"人{i}", explanations=[f"{i} ← name"],
                      highlights=[Highlight(field="name", fragments=[f"<mark>{i}</mark>", "x"])] * (i + 1))
            for i in range(3)]
    values = [SearchFacetValue(value=f"v{i}", count="no" if bad == "count" and i == 1 else i, display=str(i),
                               label=f"值{i}", label_zh=f"值{i}", label_en=f"v{i}") for i in range(3)]
    return SearchResult(total_count=3, hits=hits, facets=[SearchFacet(field="languages", values=values)] * 2,
                        page_info=one.page_info)


def test_lists_of_objects_complete_as_graphql_core_completes_them() -> None:
    plain = strawberry.Schema(query=Query, execution_context_class=PlainDataExecutor)
    default = strawberry.Schema(query=Query)
    for bad in (None, "title", "count"):
        ROOT["result"] = _many(bad)
        a, b = _run(default), _run(plain)
        assert a.data == b.data and bool(b.errors) == (bad == "count")  # a title may be null, a count not text
        assert [(e.message, e.path) for e in a.errors or ()] == [(e.message, e.path) for e in b.errors or ()]
        if bad is None:
            assert [h["id"] for h in b.data["search"]["hits"]] == ["per:0", "per:1", "per:2"]
            assert len(b.data["search"]["hits"][2]["highlights"]) == 3


def test_fields_with_resolvers_take_graphql_cores_path() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=PlainDataExecutor)
    graphql_schema = schema._schema
    node = graphql_schema.type_map["SearchHit"].fields["node"]  # type: ignore[attr-defined]
    assert execution._plan(node) is None
    label = graphql_schema.type_map["SearchFacetValue"].fields["label"]  # type: ignore[attr-defined]
    assert execution._plan(label) is not None


# --- plain getters: fields with resolvers read off their parent ---------------------------------------

CALLS: list[str] = []


@dataclass
class Item:
    id: str
    kind: str
    label: Any = "x"
    masked: bool = False


def _label(root: Item) -> Any:
    return SLOW if root.masked else root.label


@execution.info_free
def _kind_of(obj: Any, info: Any, abstract_type: Any) -> str:
    return "Thing" if obj.kind == "thing" else "Gadget" if obj.kind == "gadget" else obj.kind


@execution.plain_getter(_label)
def _label_resolver(root: Item, info: strawberry.Info) -> Any:
    CALLS.append(root.id)
    return "hidden" if root.masked else root.label


@strawberry.interface
class Entity:
    id: str
    label: str = strawberry.field(resolver=_label_resolver)

    resolve_type = staticmethod(_kind_of)

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:  # the object types' check (inherited)
        return isinstance(obj, Item) and obj.kind == cls.__name__.lower()


def _echo_fast(root: Item, info: Any, args: dict[str, Any]) -> Any:
    # graphql-core's argument values by GraphQL name; anything but `times` up to 3 is the resolver's.
    assert info.field_nodes[0].name.value == "echo" and info.context is not None
    times = args["times"]
    if args.get("loudly") is not None or times > 3:
        return SLOW
    if times < 0:
        raise ValueError(f"times is {times}")
    return f"{root.id}:" + "~" * times


@execution.fast_resolver(_echo_fast)
def _echo(root: Item, info: strawberry.Info, times: int = 1, loudly: str | None = None) -> str:
    CALLS.append(f"echo {root.id}")
    if times < 0:
        raise ValueError(f"times is {times}")
    return f"{root.id}:" + ("~" * times if loudly is None else loudly.upper() * times)


@strawberry.type
class Thing(Entity):
    @strawberry.field
    def shout(self, times: int = 1) -> str:  # arguments: never plain
        return "!" * times

    echo: str = strawberry.field(resolver=_echo)  # arguments, read by a fast answer


@strawberry.type
class Gadget(Entity):
    pass


ITEMS: list[Item] = []


@strawberry.type
class ItemQuery:
    @strawberry.field
    def items(self) -> list[Entity]:
        return ITEMS  # type: ignore[return-value]


ITEM_DOCUMENT = "{ items { id ... on Thing { label } ... on Gadget { gadget: label } } }"


def _item_schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    fast = strawberry.Schema(query=ItemQuery, types=[Thing, Gadget], execution_context_class=PlainDataExecutor)
    assert execution.direct_resolvers(fast._schema) == 3  # Thing.label, Gadget.label and Thing.echo; not `shout`
    return fast, strawberry.Schema(query=ItemQuery, types=[Thing, Gadget])


def _both(document: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    fast, default = _item_schemas()
    return (asyncio.run(fast.execute(document, variable_values=variables, context_value={})),
            asyncio.run(default.execute(document, variable_values=variables, context_value={})))


def test_marked_resolvers_read_off_the_parent_with_graphql_cores_answers() -> None:
    cases = [
        [Item("1", "thing"), Item("2", "gadget", "g")],
        [Item("1", "thing", masked=True), Item("2", "gadget")],  # SLOW: the resolver answers for that row
        [Item("1", "thing", label=None)],  # null in a non-null field
        [Item("1", "widget")],  # resolve_type names a type the schema lacks
        [Item("1", "Entity")],  # ... or one that is not an object type
        [Item("1", "thing", label=7)],  # a value String coerces
        [Item("1", "thing", label=["no"])],  # ... and one it refuses
    ]
    for items in cases:
        ITEMS[:] = items
        fast, default = _both(ITEM_DOCUMENT)
        assert fast.data == default.data, items
        assert [(e.message, e.path) for e in fast.errors or ()] == \
            [(e.message, e.path) for e in default.errors or ()], items


def test_a_getter_skips_the_resolver_unless_it_answers_slow() -> None:
    fast, _default = _item_schemas()
    ITEMS[:] = [Item("1", "thing"), Item("2", "thing", masked=True), Item("3", "gadget")]
    CALLS.clear()
    result = asyncio.run(fast.execute(ITEM_DOCUMENT))
    assert result.errors is None
    assert result.data == {"items": [{"id": "1", "label": "x"}, {"id": "2", "label": "hidden"},
                                     {"id": "3", "gadget": "x"}]}
    assert CALLS == ["2"]  # only the masked row asked its resolver


def test_a_field_set_with_arguments_is_tried_once_per_request() -> None:
    fast, default = _item_schemas()
    ITEMS[:] = [Item(str(i), "thing") for i in range(5)]
    tried: list[str] = []
    plain = execution._plain

    def counting(parent_type: Any, name: str) -> Any:
        tried.append(parent_type.name)
        return plain(parent_type, name)

    document = "{ items { id ... on Thing { label shout(times: 2) } } }"
    execution._plain = counting
    try:
        result = asyncio.run(fast.execute(document))
    finally:
        execution._plain = plain
    assert result.data == asyncio.run(default.execute(document)).data
    # The items' fields are looked at once, under the root's attempt, up to the one with arguments; not again
    # for each of the five (without the memo: 3 + 5 × 3).
    assert tried == ["ItemQuery", "Thing", "Thing", "Thing"]


def test_a_field_set_whose_id_a_freed_one_had_is_still_completed_plainly() -> None:
    """The root's field set is not plain (``later`` awaits) and graphql-core lets it go once the root's
    fields are awaited; the result's field set, collected afterwards, may get its id. Memoised by id alone,
    it was then never tried: 262 of 300 requests completed the hits and facets through graphql-core."""
    import graphql.execution.executor as graphql_executor

    schema = strawberry.Schema(query=Query, execution_context_class=PlainDataExecutor)
    ROOT["result"] = _result()
    by_graphql_core = [0]
    complete_item = graphql_executor.Executor.complete_list_item_value

    def counting(self: Any, *a: Any, **k: Any) -> Any:
        by_graphql_core[0] += 1
        return complete_item(self, *a, **k)

    document = "{ later { total: totalCount hits { id title highlights { field fragments } } facets { field } } }"
    graphql_executor.Executor.complete_list_item_value = counting  # type: ignore[method-assign]
    try:
        for _ in range(300):
            result = asyncio.run(schema.execute(document))
            assert not result.errors and result.data["later"]["total"] == 1
    finally:
        graphql_executor.Executor.complete_list_item_value = complete_item  # type: ignore[method-assign]
    assert by_graphql_core[0] == 0


# --- fast resolvers: fields with arguments answered from graphql-core's own values -------------------------

ECHO_DOCUMENT = """query($t: Int!, $l: String) { items { id ... on Thing { label a: echo b: echo(times: $t)
  c: echo(times: 2, loudly: $l) } } }"""


def test_a_fast_resolver_answers_as_its_resolver_does_errors_included() -> None:
    for times, loudly in ((2, None), (5, None), (2, "hey"), (-1, None)):  # fast, SLOW, SLOW, an error
        ITEMS[:] = [Item("1", "thing"), Item("2", "gadget"), Item("3", "thing", masked=True)]
        fast, default = _both(ECHO_DOCUMENT, {"t": times, "l": loudly})
        assert fast.data == default.data, (times, loudly)
        assert [(e.message, e.path) for e in fast.errors or ()] == \
            [(e.message, e.path) for e in default.errors or ()], (times, loudly)


def test_a_fast_answer_skips_the_resolver_and_completes_in_the_plain_pass() -> None:
    fast, _default = _item_schemas()
    ITEMS[:] = [Item(str(i), "thing") for i in range(4)]
    CALLS.clear()
    fallbacks: list[str] = []
    execute_fields = execution.StrawberryGraphQLCoreExecutionContext.execute_fields

    def counting(self: Any, parent_type: Any, *args: Any) -> Any:
        fallbacks.append(parent_type.name)
        return execute_fields(self, parent_type, *args)

    execution.StrawberryGraphQLCoreExecutionContext.execute_fields = counting  # type: ignore[method-assign]
    try:
        result = asyncio.run(fast.execute(ECHO_DOCUMENT, variable_values={"t": 3}, context_value={}))
    finally:
        execution.StrawberryGraphQLCoreExecutionContext.execute_fields = execute_fields  # type: ignore[method-assign]
    assert result.errors is None
    assert result.data["items"][1] == {"id": "1", "label": "x", "a": "1:~", "b": "1:~~~", "c": "1:~~"}
    assert CALLS == []  # no resolver ran
    assert fallbacks == ["ItemQuery"]  # only the root: every item completed in the one plain pass
    result = asyncio.run(fast.execute(ECHO_DOCUMENT, variable_values={"t": 4}, context_value={}))
    assert result.data["items"][0]["b"] == "0:~~~~"
    assert CALLS == [f"echo {i}" for i in range(4)]  # SLOW: the resolver, once per item
