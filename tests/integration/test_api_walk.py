"""A root field's relationship fields read ahead in one walk (``api/prefetch.py``) answer as the loaders do.

Every query below is asked by every role twice — with the walk, and with it switched off so each
level goes through its DataLoader — and the two answers (data, errors, and the persons the access
record notes) must be the same: filters, edge properties, ``first``/``hasMore``, fragments, masked
and in-scope fields, and the role's view of which relationships and far ends exist.
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import loaders_only
from access_world import ROLES, AccessWorld, Served, ask, client, load_access_world, make_access_world, serve


pytestmark = pytest.mark.anyio

QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "two hops, edge properties, masked fields": ("""{ person(id: "per:00") { name phone birthDate
        memberOf { edges { properties { role since } node { ... on PartyOrganization { name secretary
          coBuildsWith { edges { properties { since } node { ... on Enterprise { name uscc employees } } } } } } } }
        worksAt(first: 1) { hasMore nodes { name } }
        leads { nodes { id ... on Group { name } ... on Area { name } } }
        livesIn { nodes { id } } } }""", {}),
    "three hops from an enterprise, first and hasMore per level": ("""{ enterprise(id: "ent:E1") { name
        worksAtIn(first: 3) { hasMore edges { properties { title } node { ... on Person { id name phone
          memberOf(first: 1) { hasMore nodes { ... on PartyOrganization { name
            coBuildsWith { nodes { ... on Enterprise { name } } } } ... on Group { name } } } } } } } } }""", {}),
    "a page with nested filters and a sort": ("""{ persons(first: 5, orderBy: [{field: NAME, direction: DESC}]) {
        pageInfo { hasNextPage endCursor } edges { cursor node { id name
          memberOf(first: 1) { hasMore edges { node { ... on PartyOrganization { name } } } }
          worksAt(where: {name: {startsWith: "联洋"}}) { nodes { name } }
          participatesIn(edgeWhere: {role: {eq: "volunteer"}}) { edges { properties { role } node {
            ... on Project { name } } } } } } } }""", {}),
    "a second page, variables and a where on the page": ("""query($after: String, $w: PersonWhere, $n: Int!,
        $e: EnterpriseWhere) { persons(first: 4, after: $after, where: $w) { pageInfo { hasNextPage endCursor }
          nodes { id leads { nodes { ... on Group { name } } } livesIn { nodes { ... on Area { name } } }
            worksAt(first: $n, where: $e) { hasMore nodes { name } } } } }""",
                                                         {"after": None, "w": {"volunteer": {"eq": True}}, "n": 1,
                                                          "e": {"name": {"contains": "科技"}}}),
    "what an analyst may read, sorted by name": ("""{ persons(first: 6, orderBy: [{field: NAME}]) { nodes { id name
        languages memberOf { edges { properties { role } node { ... on PartyOrganization { name
          coBuildsWith { nodes { ... on Enterprise { name } } } } } } } worksAt(first: 0) { hasMore } } } }""", {}),
    "node(id) through the interface, a filter on an in-scope field": ("""{ node(id: "ent:E1") { id
        ... on Enterprise { name worksAtIn(where: {phone: {startsWith: "+86"}}) { nodes { ... on Person { id phone } } }
          sponsors { edges { properties { year } node { ... on Project { name heldAt { nodes { ... on Venue {
            name capacity } } } } } } } } } }""", {}),
    "aliases, a fragment spread and a directive (left to the loaders)": ("""query($yes: Boolean!) {
        a: person(id: "per:01") { ...P } b: person(id: "per:02") { ...P memberOf @include(if: $yes) { nodes { id } } } }
        fragment P on Person { id mo: memberOf { nodes { ... on Group { name } ... on PartyOrganization { name } } }
          participatesIn { nodes { ... on Project { name } } } }""", {"yes": True}),
    "organisations, as every role sees them": ("""{ partyOrganizations(first: 3) { nodes { name
        coBuildsWith { edges { properties { since } node { ... on Enterprise { name locatedIn { nodes { ... on Area {
          name } } } } } } }
        anchoredAt { nodes { ... on Enterprise { name sponsors { nodes { ... on Project { name } } } } } } } } }""",
                                               {}),
    "a nested argument the resolver rejects": (
        """{ person(id: "per:00") { memberOf(first: -1) { nodes { id } } } }""", {}),
    "no such node": ("""{ person(id: "per:99") { memberOf { nodes { id } } } }""", {}),
}

# Walks the admin's answer takes: one per root field with a relationship field under it. The
# directive's root field is left to the loaders; the rejected argument is left to its resolver.
WALKS = {"two hops, edge properties, masked fields": 1, "three hops from an enterprise, first and hasMore per level": 1,
         "a page with nested filters and a sort": 1, "a second page, variables and a where on the page": 1,
         "what an analyst may read, sorted by name": 1,
         "node(id) through the interface, a filter on an in-scope field": 1,
         "aliases, a fragment spread and a directive (left to the loaders)": 1,
         "organisations, as every role sees them": 1, "a nested argument the resolver rejects": 0, "no such node": 1}


@pytest.fixture(scope="module")
def world() -> AccessWorld:
    return make_access_world()


@pytest.fixture(scope="module")
def graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: AccessWorld) -> Iterator[Any]:
    g = graph_backend.fresh(tmp_path_factory.mktemp("api-walk") / "graph")
    load_access_world(g, world)
    # Walks on, whichever engine (LadybugDB reads level by level by default: GraphCapabilities.walks).
    g.capabilities = replace(g.capabilities, walks=True)
    yield g
    g.close()


@pytest.fixture(scope="module")
def served(graph: Any, tmp_path_factory: pytest.TempPathFactory) -> Served:
    return serve(graph, None, tmp_path_factory.mktemp("api-walk-served"))


async def answer(served: Served, role: str, query: str, variables: dict[str, Any]) -> tuple[Any, list[str]]:
    async with client(served.app) as c:
        body = await ask(c, served.keys[role], query, **variables)
    entry = served.audit.read(limit=1)[-1]
    return body, sorted(entry.person_ids)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(QUERIES))
async def test_walked_answers_are_the_loaders_answers(graph: Any, served: Served, role: str, name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    query, variables = QUERIES[name]
    walks: list[Any] = []
    walk = graph.walk

    def counted(w: Any) -> Any:
        walks.append(w)
        return walk(w)

    monkeypatch.setattr(graph, "walk", counted)
    walked, walked_persons = await answer(served, role, query, variables)
    monkeypatch.undo()

    loaders_only(monkeypatch)
    loaded, loaded_persons = await answer(served, role, query, variables)
    assert walked == loaded
    assert walked_persons == loaded_persons
    if role == "admin":  # not vacuous: the admin's answers come from walks, whenever one can be taken
        assert ("errors" in walked) == (name == "a nested argument the resolver rejects"), walked
        assert len(walks) == WALKS[name], walks


async def test_pages_read_with_their_walks_list_everyone_once(served: Served, world: AccessWorld) -> None:
    query, _ = QUERIES["a second page, variables and a where on the page"]
    seen: list[str] = []
    after = None
    while True:
        body, _ = await answer(served, "admin", query, {"after": after, "w": None, "n": 2, "e": None})
        page = body["data"]["persons"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # In id order, each once, everyone in the world (a shared Neo4j may hold more).
    assert seen == sorted(set(seen)) and {n.id for n in world.of_type("Person")} <= set(seen)
