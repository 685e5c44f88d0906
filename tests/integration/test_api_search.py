"""search over a real index (Tantivy, OpenSearch), projected from a real graph (LadybugDB, Neo4j)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def app(graph_backend: Any, search_backend: Any, tmp_path_factory: pytest.TempPathFactory,
        world: World) -> Iterator[Any]:
    from talentgraph.search.projection import SearchProjector
    from talentgraph.search.service import SearchService

    root = tmp_path_factory.mktemp("api-search")
    graph = load_world(graph_backend, root / "graph", world)
    index = search_backend.fresh(root / "search")
    try:
        SearchProjector(graph, index).rebuild()
        service = SearchService(index, max_page_size=20)
        yield create_app(graph, service, Settings(data_dir=root, max_page_size=20), gate=OPEN_ADMIN)
    finally:
        search_backend.discard(index)
        graph.close()


async def run(app: Any, query: str, **variables: Any) -> dict[str, Any]:
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["search"]
    return result


SEARCH = """query($q: String!, $filters: [SearchFilter!], $first: Int!, $after: String) {
  search(query: $q, filters: $filters, facets: ["languages"], first: $first, after: $after) {
    totalCount
    hits { id type score title explanations highlights { field fragments }
      node { __typename id ... on Person { name languages } } }
    facets { field values { value label labelZh labelEn count } }
    pageInfo { hasNextPage endCursor } } }"""


async def test_search_by_name_resolves_nodes_from_the_graph(app: Any, world: World) -> None:
    target = world.persons[4]
    res = await run(app, SEARCH, q=target["name"], first=5)
    assert res["totalCount"] >= 1
    top = res["hits"][0]
    assert top["node"]["__typename"] == "Person" and top["type"] == "Person"
    assert top["node"]["id"] == top["id"]
    assert top["node"]["name"] == top["title"]
    assert target["id"] in {h["id"] for h in res["hits"]} or any(
        h["node"]["name"] == target["name"] for h in res["hits"])
    assert top["score"] > 0 and top["explanations"]


async def test_filters_and_facets(app: Any, world: World) -> None:
    res = await run(app, SEARCH, q="", filters=[{"field": "languages", "values": ["俄语"]}], first=20)
    ru = {p["id"] for p in world.persons if "ru" in p["languages"]}
    assert res["totalCount"] == len(ru)
    assert all("ru" in h["node"]["languages"] for h in res["hits"])
    facet = {f["field"]: f["values"] for f in res["facets"]}["languages"]
    assert {"value": "ru", "label": "俄语", "labelZh": "俄语", "labelEn": "Russian", "count": len(ru)} in facet


async def test_pages_do_not_overlap(app: Any, world: World) -> None:
    seen: list[str] = []
    after = None
    while True:
        res = await run(app, SEARCH, q="", filters=None, first=20, after=after)
        seen += [h["id"] for h in res["hits"]]
        if not res["pageInfo"]["hasNextPage"]:
            break
        after = res["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(world.persons)


async def test_search_errors_have_codes(app: Any) -> None:
    async with client(app) as c:
        too_many = await gql(c, '{ search(query: "王", first: 21) { totalCount } }')
        bad_facet = await gql(c, '{ search(query: "王", filters: [{field: "shoeSize", values: ["42"]}]) { totalCount } }')
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_QUERY"
    assert bad_facet["errors"][0]["extensions"]["code"] == "BAD_QUERY"
    assert "shoeSize" in bad_facet["errors"][0]["message"]


async def test_health_names_the_search_backend(app: Any, graph_backend: Any, search_backend: Any) -> None:
    async with client(app) as c:
        body = (await c.get("/health")).json()
    assert body["graph"] == graph_backend.name and body["search"] == search_backend.name and body["status"] == "ok"



async def test_types_filters_and_facets_given_as_literals_or_variables(app: Any, world: World) -> None:
    """``search`` answers from graphql-core's argument values (``execution.fast_resolver``): a NodeKind list as a
    literal or a variable (strawberry's enum parses either to its member), filters and facets as either, a
    selection without highlights or explanations, and a bad cursor refused in the one error shape."""
    target = world.persons[4]
    language = target["languages"][0]
    literal = """query($q: String!) { search(query: $q, types: [Person, Enterprise], first: 5) {
        totalCount hits { id type title } } }"""
    variables = """query($q: String!, $t: [NodeKind!], $f: [SearchFilter!]) {
        search(query: $q, types: $t, filters: $f, facets: ["languages"], first: 20) {
        totalCount hits { id type explanations node { ... on Person { languages } } }
        facets { field values { value count } } } }"""
    async with client(app) as c:
        by_literal = await gql(c, literal, q=target["name"])
        by_variables = await gql(c, variables, q="", t=["Person"], f=[{"field": "languages", "values": [language]}])
        enterprises = await gql(c, 'query($t: [NodeKind!]) { search(types: $t, first: 5) { hits { type } } }',
                                t=["Enterprise"])
        refused = await gql(c, '{ search(query: "x", first: 2, after: "nonsense") { totalCount } }')
    assert "errors" not in by_literal and "errors" not in by_variables and "errors" not in enterprises
    hits = by_literal["data"]["search"]["hits"]
    assert target["id"] in [h["id"] for h in hits] and {h["type"] for h in hits} <= {"Person", "Enterprise"}
    found = by_variables["data"]["search"]
    assert found["totalCount"] >= 1 and all(h["type"] == "Person" and language in h["node"]["languages"]
                                            for h in found["hits"])
    assert [f["field"] for f in found["facets"]] == ["languages"]
    assert {h["type"] for h in enterprises["data"]["search"]["hits"]} == {"Enterprise"}
    assert refused["errors"][0]["extensions"]["code"] == "BAD_QUERY"
