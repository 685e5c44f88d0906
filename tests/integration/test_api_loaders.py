"""No N+1: a nested query costs one store call per level, whatever the number of parents.

That is the DataLoaders' promise, for whatever a root field's walk does not read ahead
(``api/prefetch.py``: levels below its depth, directives, in-scope relationships): so here the walks
are switched off. What the walks cost is pinned in ``test_api_statements.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, CountingStore, World, client, gql, load_world, loaders_only, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def level_by_level(monkeypatch: pytest.MonkeyPatch) -> None:
    loaders_only(monkeypatch)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def store(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-n1") / "graph", world)
    yield g
    g.close()


async def test_three_level_query_over_50_parents_makes_one_call_per_level(store: Any, world: World,
                                                                          tmp_path: Any) -> None:
    counting = CountingStore(store)
    app = create_app(counting, None, Settings(data_dir=tmp_path, max_page_size=50), gate=OPEN_ADMIN)
    query = """{ persons(first: 50) { nodes { id
        memberOf { edges { properties { role } node { ... on PartyOrganization { name
            coBuildsWith { edges { node { ... on Enterprise { name } } } } } } } }
        worksAt { nodes { name } } } } }"""
    async with client(app) as c:
        body = await gql(c, query)
    assert "errors" not in body
    nodes = body["data"]["persons"]["nodes"]
    assert len(nodes) == 50
    # The answer is right, not just cheap.
    for n in nodes:
        orgs = [e["node"] for e in n["memberOf"]["edges"] if e["node"]]
        org_id = world.member_of[n["id"]][0]
        partners = {f"联洋企业{e[-1]}" for e in world.co_builds[org_id]}
        assert [o["name"] for o in orgs] == [f"第{int(org_id[-1]) + 1}党支部"]
        assert {e["node"]["name"] for e in orgs[0]["coBuildsWith"]["edges"]} == partners
    assert counting.calls["list_nodes"] == 1
    assert counting.calls["get_nodes"] == 0  # edges carry their far node; no per-node lookups
    # Level 2 (memberOf, worksAt for 50 persons) and level 3 (coBuildsWith for the distinct orgs):
    # one call each, batching all parents.
    assert sorted(counting.edge_calls) == sorted([
        ("MEMBER_OF", "out", 50), ("WORKS_AT", "out", 50), ("CO_BUILDS_WITH", "out", 5),
    ])


async def test_same_field_with_different_arguments_is_batched_separately(store: Any, tmp_path: Any) -> None:
    counting = CountingStore(store)
    app = create_app(counting, None, Settings(data_dir=tmp_path, max_page_size=50), gate=OPEN_ADMIN)
    query = """{ persons(first: 30) { nodes {
        a: memberOf { nodes { id } }
        b: memberOf(edgeWhere: {role: {eq: "volunteer"}}) { nodes { id } } } } }"""
    async with client(app) as c:
        body = await gql(c, query)
    assert "errors" not in body
    assert counting.calls["edges"] == 2
    assert all(len(n["b"]["nodes"]) <= len(n["a"]["nodes"]) for n in body["data"]["persons"]["nodes"])


async def test_node_lookups_in_one_request_are_one_batched_call(store: Any, tmp_path: Any) -> None:
    counting = CountingStore(store)
    app = create_app(counting, None, Settings(data_dir=tmp_path), gate=OPEN_ADMIN)
    aliases = " ".join(f'n{i}: node(id: "per:{i:03d}") {{ id }}' for i in range(20))
    async with client(app) as c:
        body = await gql(c, "{ " + aliases + " }")
    assert "errors" not in body and body["data"]["n19"] == {"id": "per:019"}
    assert counting.calls["get_nodes"] == 1
