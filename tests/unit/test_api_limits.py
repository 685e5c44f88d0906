"""limits.py on its own (what it measures, in linear time, with bounded recursion) and view.negotiate."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSchema, get_introspection_query, parse

from talentgraph.api.errors import shape_error
from talentgraph.api.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    ArgumentTooLargeError,
    InvalidTextError,
    QueryLimits,
    QueryTooComplexError,
    check_request,
    document_errors,
)
from talentgraph.api.schema import build_schema
from talentgraph.api.view import negotiate


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def errors(schema: GraphQLSchema, query: str, **limits: Any) -> list[str]:
    return [e.message for e in document_errors(schema, parse(query), QueryLimits(**limits))]


def check(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None, **limits: Any) -> None:
    check_request(schema, parse(query), None, variables, QueryLimits(**limits))


def fan_out(n: int) -> str:
    fragments = ["fragment F0 on Person { name }"]
    fragments += [f"fragment F{i} on Person {{ ...F{i - 1} ... on Person {{ ...F{i - 1} }} }}" for i in range(1, n + 1)]
    return f"{{ persons {{ nodes {{ ...F{n} }} }} }}\n" + "\n".join(fragments)


def walk(pairs: int, leaf: str = "id") -> str:
    """persons.nodes.memberOf.nodes, then ``pairs`` × partOf.nodes, then ``leaf``: 5 + 2·pairs fields deep
    when the leaf is a scalar (``partOf { hasMore }`` adds one more)."""
    inner = leaf
    for _ in range(pairs):
        inner = f"partOf {{ nodes {{ {inner} }} }}"
    return f"{{ persons {{ nodes {{ memberOf {{ nodes {{ ... on PartyOrganization {{ {inner} }} }} }} }} }} }}"


# --- the document ------------------------------------------------------------------------------------------


def test_cost_is_the_product_of_page_sizes_summed_over_object_fields(schema: GraphQLSchema) -> None:
    q = "{ persons(first: 100) { totalCount nodes { name memberOf(first: 20) { edges { node { id } } } } } }"
    assert errors(schema, q) == []
    [message] = errors(schema, q, max_cost=4200)
    assert "4,201 objects" in message and "4,200" in message and "`persons`" in message  # the docstring's example
    defaults = "{ persons { nodes { memberOf { nodes { id } } } } }"  # first defaults to 20 on both levels
    [message] = errors(schema, defaults, max_cost=400)
    assert "441 objects" in message  # 1 + 20·(1 + 1 + 20·1)


def test_aliases_multiply_the_cost_and_count_at_every_spread(schema: GraphQLSchema) -> None:
    four = "fragment A on Person { a: name b: name c: name d: name }"
    q = "{ persons { nodes { " + " ".join(f"x{i}: memberOf {{ nodes {{ id }} }} ...A" for i in range(8)) + " } } }"
    [message] = errors(schema, q + four)
    assert f"40 aliases (fragments expanded); the alias limit is {MAX_ALIASES}" in message  # 8 + 8·4


def test_depth_counts_fields_on_the_longest_path_not_fragments(schema: GraphQLSchema) -> None:
    assert MAX_DEPTH == 10
    assert errors(schema, walk(2, "partOf { hasMore }"), max_cost=10**9) == []  # 10
    [message] = errors(schema, walk(3), max_cost=10**9)  # 11
    assert "nests 11 fields deep (persons.nodes.memberOf.nodes.partOf.nodes.partOf.nodes.partOf.nodes.id)" in message


def test_fragment_fan_out_is_measured_in_linear_time(schema: GraphQLSchema) -> None:
    started = time.perf_counter()
    [message] = errors(schema, fan_out(180))
    assert "expands about 2^180 fragment spreads" in message  # 2^181 - 1, the root spread too
    assert time.perf_counter() - started < 5  # strawberry's limiters: 17 s at n=20, doubling per step


def test_fragment_chains_and_cycles_end(schema: GraphQLSchema) -> None:
    chain = "{ persons { nodes { ...F0 } } } " + " ".join(
        f"fragment F{i} on Person {{ ...F{i + 1} }}" for i in range(2000)) + " fragment F2000 on Person { id }"
    [message] = errors(schema, chain)  # no RecursionError
    assert "nest more than 200 levels" in message
    cycle = "{ persons { nodes { ...A } } } fragment A on Person { ...B } fragment B on Person { id ...A }"
    assert errors(schema, cycle) == []  # NoFragmentCyclesRule reports it; this rule just ends
    assert errors(schema, "{ persons { nodes { ...Missing } } }") == []  # KnownFragmentNamesRule's


def test_introspection_is_not_limited_here(schema: GraphQLSchema) -> None:
    query = get_introspection_query(descriptions=True)
    assert errors(schema, query) == []
    check(schema, query)


def test_a_page_size_from_a_variable_is_checked_with_the_request(schema: GraphQLSchema) -> None:
    q = "query($n: Int = 20) { persons(first: $n) { nodes { memberOf(first: $n) { nodes { id } } } } }"
    assert errors(schema, q, max_cost=100) == []  # depends on the variables: left to check_request
    check(schema, q, {"n": 5}, max_cost=100)  # 1 + 5 + 5 + 25
    with pytest.raises(QueryTooComplexError, match="441 objects") as e:
        check(schema, q, {}, max_cost=100)  # the variable's default
    assert e.value.details == {"cost": 441, "budget": 100}
    with pytest.raises(QueryTooComplexError):
        check(schema, q, {"n": 10**30}, max_cost=100)


def test_a_remembered_pass_is_for_that_document_and_those_variables_only(
        schema: GraphQLSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    from talentgraph.api import limits

    q = parse("query($n: Int = 20) { persons(first: $n) { nodes { memberOf(first: $n) { nodes { id } } } } }")
    budget = QueryLimits(max_cost=100)
    walked: list[Any] = []
    monkeypatch.setattr(limits, "check_request", lambda *a: walked.append(a[3]) or check_request(*a))
    for _ in range(3):
        limits.check_request_once(schema, q, None, {"n": 5}, budget)
    assert walked == [{"n": 5}]  # worked out once
    for _ in range(2):  # a refusal is never remembered: refused (and measured) every time
        with pytest.raises(QueryTooComplexError):
            limits.check_request_once(schema, q, None, {"n": 10}, budget)
        with pytest.raises(QueryTooComplexError):
            limits.check_request_once(schema, q, None, {}, budget)
    with pytest.raises(QueryTooComplexError):  # the same variables under a smaller budget
        limits.check_request_once(schema, q, None, {"n": 5}, QueryLimits(max_cost=10))
    with pytest.raises(QueryTooComplexError):  # the same text parsed again: another document, checked again
        limits.check_request_once(schema, parse(q.loc.source.body), None, {"n": 5}, QueryLimits(max_cost=10))
    assert walked.count({"n": 10}) == 2 and len(walked) == 7


def test_a_remembered_pass_holds_for_any_valid_text_in_the_same_place(
        schema: GraphQLSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    """A string value is read only for whether it is valid text: one person after another is checked once,
    while invalid text, other numbers and other shapes are checked (and refused) as before."""
    from talentgraph.api import limits

    q = parse("query($id: ID!, $n: Int, $w: PersonWhere) { person(id: $id) { memberOf(first: $n) { nodes { id } } } "
              "persons(where: $w) { totalCount } }")
    budget = QueryLimits(max_cost=20, max_list_items=2)
    walked: list[Any] = []
    monkeypatch.setattr(limits, "check_request", lambda *a: walked.append(a[3]) or check_request(*a))
    for i in range(5):
        limits.check_request_once(schema, q, None, {"id": f"per:{i}", "n": 5, "w": {"name": {"eq": f"王{i}"}}},
                                  budget)
    assert len(walked) == 1
    for _ in range(2):  # the same places with invalid text: refused every time
        with pytest.raises(InvalidTextError):
            limits.check_request_once(schema, q, None, {"id": "per:\x00", "n": 5, "w": {"name": {"eq": "王"}}},
                                      budget)
        with pytest.raises(InvalidTextError):
            limits.check_request_once(schema, q, None, {"id": "per:1", "n": 5, "w": {"name": {"eq": "\ud83d"}}},
                                      budget)
    with pytest.raises(QueryTooComplexError):  # a page size is a number: read as it is
        limits.check_request_once(schema, q, None, {"id": "per:1", "n": 50, "w": None}, budget)
    with pytest.raises(ArgumentTooLargeError):  # a list of three texts is not a list of one
        limits.check_request_once(schema, q, None, {"id": "per:1", "n": 5, "w": {"name": {"in": ["a", "b", "c"]}}},
                                  budget)
    assert len(walked) == 7


# --- argument values -----------------------------------------------------------------------------------------


def test_argument_limits_name_the_argument(schema: GraphQLSchema) -> None:
    q = "query($w: PersonWhere) { p: persons(where: $w) { totalCount } }"
    with pytest.raises(ArgumentTooLargeError, match=r"p\(where\)=\$w\.OR: OR has 3 alternatives") as e:
        check(schema, q, {"w": {"OR": [{}, {}, {}]}}, max_alternatives=2)
    assert e.value.details == {"argument": "p(where)=$w.OR", "limit": 2}
    with pytest.raises(ArgumentTooLargeError, match=r"p\(where\)\.name\.in: the list has 3 items"):
        check(schema, '{ p: persons(where: {name: {in: ["a", "b", "c"]}}) { totalCount } }', max_list_items=2)


def test_an_in_list_counts_as_one_condition(schema: GraphQLSchema) -> None:
    q = "query($w: PersonWhere) { persons(where: $w) { totalCount } }"
    many = {"name": {"in": [str(i) for i in range(999)]}}
    check(schema, q, {"w": {"AND": [many, *({"name": {"eq": str(i)}} for i in range(99))]}})
    with pytest.raises(ArgumentTooLargeError, match=r"persons\(where\): the value holds more than 5 conditions"):
        check(schema, q, {"w": {"AND": [many, *({"name": {"eq": str(i)}} for i in range(5))]}}, max_conditions=5)


def test_text_must_be_valid_unicode_without_nul(schema: GraphQLSchema) -> None:
    q = "query($q: String!) { search(query: $q) { totalCount } }"
    check(schema, q, {"q": "律师 😀"})
    with pytest.raises(InvalidTextError, match=r"search\(query\)=\$q: the text contains a lone surrogate \(U\+D83D\)"):
        check(schema, q, {"q": "律师 \ud83d"})
    with pytest.raises(InvalidTextError, match="NUL"):
        check(schema, '{ node(id: "per:\\u0000") { id } }')


# --- error shape and media types ----------------------------------------------------------------------------------


def test_limit_errors_carry_their_numbers_and_shaping_twice_changes_nothing() -> None:
    error = QueryTooComplexError("Too costly.", hint="Ask for less.", details={"cost": 9, "budget": 1})
    shaped = shape_error(GraphQLError(error.message, original_error=error))
    assert shaped.extensions == {"code": "QUERY_TOO_COMPLEX", "hint": "Ask for less.", "cost": 9, "budget": 1}
    assert shape_error(shaped).formatted == shaped.formatted


@pytest.mark.parametrize(("accept", "media"), [
    (None, "application/json"),
    ("*/*", "application/json"),
    ("application/*", "application/json"),
    ("application/json", "application/json"),
    ("application/json, */*;q=0.8", "application/json"),
    ("application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
     "application/graphql-response+json"),
    ("application/json, application/graphql-response+json;q=0.9", "application/json"),
    ("application/graphql-response+json;q=0, */*", "application/json"),
    ("text/html", None),
    ("application/json;q=0", None),
])
def test_negotiate_follows_rfc_7231_and_gives_the_new_type_to_clients_that_name_it(accept: str | None, media: str | None) -> None:
    assert negotiate(accept) == media
