"""The error shape every client can rely on: message + extensions.code, internals never echoed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    world: World = make_world()
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-err") / "graph", world)
    yield g
    g.close()


@pytest.fixture(scope="module")
def app(graph: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(graph, None, Settings(data_dir=tmp_path_factory.mktemp("d"), max_page_size=25), gate=OPEN_ADMIN)


async def error_of(app: Any, query: str, **variables: Any) -> dict[str, Any]:
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert len(body["errors"]) == 1, body
    err: dict[str, Any] = body["errors"][0]
    assert set(err) <= {"message", "locations", "path", "extensions"}
    return err


@pytest.mark.parametrize(
    ("query", "code", "needle"),
    [
        ("{ persons(where: {shoeSize: {eq: 3}}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED", "shoeSize"),
        ("{ persons(where: {birthYear: {contains: 3}}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED", "contains"),
        ("{ persons { nodes { name } ", "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ("{ persons(first: 26) { totalCount } }", "BAD_QUERY", "0..25"),
        ('{ person(id: "per:001") { memberOf(first: 500) { hasMore } } }', "BAD_QUERY", "0..25"),
        ('{ persons(after: "not-a-cursor") { totalCount } }', "BAD_QUERY", "not-a-cursor"),
        ('{ node(id: "no-prefix") { id } }', "UNKNOWN_SCHEMA_NAME", "no-prefix"),
        ('{ path(from: "per:001", to: "per:002", maxHops: 9) { hops } }', "BAD_QUERY", "maxHops"),
        ('{ facetCounts(type: Person, field: "shoeSize") { value } }', "UNKNOWN_SCHEMA_NAME", "shoeSize"),
        ('{ facetCounts(type: Person, field: "languages", where: {idHash: {eq: "x"}}) { value } }',
         "UNKNOWN_SCHEMA_NAME", "idHash"),
        ('{ facetCounts(type: Person, field: "languages", where: {birthYear: {gt: "old"}}) { value } }',
         "INVALID_VALUE", "old"),
        ('{ search(query: "x") { totalCount } }', "STORE_ERROR", "Search is not available"),
    ],
)
async def test_error_codes_and_messages(app: Any, query: str, code: str, needle: str) -> None:
    err = await error_of(app, query)
    assert err["extensions"]["code"] == code
    assert needle in err["message"]


async def test_our_errors_carry_the_hint(app: Any) -> None:
    err = await error_of(app, "{ persons(first: 1000) { totalCount } }")
    assert err == {
        "message": "first: 1000 is outside 0..25.",
        "locations": [{"line": 1, "column": 3}],
        "path": ["persons"],
        "extensions": {
            "code": "BAD_QUERY",
            "hint": "Ask for at most 25 items and page on with `after`; the limit is the max_page_size setting "
                    "(TALENTGRAPH_MAX_PAGE_SIZE).",
        },
    }


async def test_depth_and_alias_limits_are_refused_before_execution(app: Any) -> None:
    inner = "memberOfIn { nodes { name } }"
    for _ in range(3):  # 15 nested fields; the CLI example walk (10) must still pass
        inner = f"partOf {{ nodes {{ {inner} }} }}"
    deep = f"{{ persons {{ nodes {{ memberOf {{ nodes {{ ... on PartyOrganization {{ {inner} }} }} }} }} }} }}"
    err = await error_of(app, deep)
    async with client(app) as c:
        ok = await gql(c, """{ persons(first: 2) { nodes { memberOf { edges { node { ... on PartyOrganization {
            coBuildsWith { edges { node { ... on Enterprise { name } } } } } } } } } } }""")
    assert "errors" not in ok
    assert err["extensions"]["code"] == "QUERY_TOO_COMPLEX" and "depth" in err["message"]
    many = "{ " + " ".join(f'a{i}: node(id: "per:001") {{ id }}' for i in range(40)) + " }"
    err = await error_of(app, many)
    assert err["extensions"]["code"] == "QUERY_TOO_COMPLEX" and "alias" in err["message"].lower()


class BrokenStore:
    """The real store, except that one read fails the way a bug would."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_nodes(self, ids: Any) -> Any:
        raise RuntimeError("secret connection string bolt://admin:hunter2@db")


async def test_unexpected_errors_are_masked_and_logged(graph: Any, tmp_path: Any,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(BrokenStore(graph), None, Settings(data_dir=tmp_path), gate=OPEN_ADMIN)
    with caplog.at_level(logging.ERROR, logger="talentgraph.api"):
        async with client(app) as c:
            r = await c.post("/graphql", json={"query": '{ node(id: "per:001") { id } }'})
    assert r.status_code == 200
    body = r.json()
    assert body == {"data": {"node": None}, "errors": [{
        "message": "Internal server error", "locations": [{"line": 1, "column": 3}], "path": ["node"],
        "extensions": {"code": "INTERNAL"}}]}
    assert "hunter2" not in r.text
    logged = [rec for rec in caplog.records if rec.exc_info]
    assert logged and "hunter2" in str(logged[0].exc_info[1])


async def test_partial_data_survives_a_failing_field(app: Any) -> None:
    async with client(app) as c:
        body = await gql(c, '{ ok: person(id: "per:001") { id } bad: persons(first: 99) { totalCount } }')
    assert body["data"] == {"ok": {"id": "per:001"}, "bad": None} or body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_QUERY"]
