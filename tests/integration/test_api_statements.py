"""GraphQL at the cost of the Cypher it stands for: store statements per request, and the same answers.

Pins how many port calls and engine statements typical requests make (on every engine), and that
the shortcuts behind those numbers change no answer: totals when asked, keyset cursors with pages
read ids first, relationship fields narrowed to the far-end types their fragments name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from api_world import OPEN_ADMIN, CountingStore, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.graph.base import CypherGraphStore
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio

TWO_HOP = """query($id: ID!) { person(id: $id) { name
  memberOf { edges { node { ... on PartyOrganization { name
    coBuildsWith { edges { node { ... on Enterprise { name } } } } } } } } } }"""


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def store(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-statements") / "graph", world)
    yield g
    g.close()


class Recorded:
    """Port calls (``CountingStore``) and the engine statements under them (every ``_read``)."""

    def __init__(self, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.port = CountingStore(store)
        self.statements: list[str] = []
        read = store._read

        def counted(text: str, params: Any = None) -> Any:
            self.statements.append(text)
            return read(text, params)

        monkeypatch.setattr(store, "_read", counted)
        if type(store)._read_many is not CypherGraphStore._read_many:  # an adapter's own reads of many rows
            many = store._read_many

            def counted_many(text: str, params: Any = None) -> Any:
                self.statements.append(text)
                return many(text, params)

            monkeypatch.setattr(store, "_read_many", counted_many)

    def reset(self) -> None:
        self.port.calls.clear()
        self.port.edge_calls.clear()
        self.statements.clear()


@pytest.fixture()
def recorded(store: Any, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    # Walks on, whichever engine (LadybugDB reads level by level by default: GraphCapabilities.walks).
    monkeypatch.setattr(store, "capabilities", replace(store.capabilities, walks=True))
    return Recorded(store, monkeypatch)


async def ask(rec: Recorded, tmp_path: Any, query: str, **variables: Any) -> dict[str, Any]:
    app = create_app(rec.port, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


# --- statements per request ---------------------------------------------------------------------


async def test_a_list_without_total_count_is_one_statement(recorded: Recorded, tmp_path: Any) -> None:
    data = await ask(recorded, tmp_path, "{ persons(first: 20) { nodes { id name } pageInfo { hasNextPage } } }")
    assert len(data["persons"]["nodes"]) == 20 and data["persons"]["pageInfo"]["hasNextPage"]
    assert dict(recorded.port.calls) == {"list_nodes": 1}
    assert len(recorded.statements) == 1, recorded.statements  # no count: it was not asked for


async def test_total_count_is_counted_in_the_page_statement_only_when_asked(recorded: Recorded, world: World,
                                                                           tmp_path: Any) -> None:
    data = await ask(recorded, tmp_path, "{ persons(first: 5, where: {volunteer: {eq: true}}) { totalCount "
                                         "nodes { id } } }")
    want = sorted(p["id"] for p in world.persons if p["volunteer"])
    assert data["persons"]["totalCount"] == len(want)
    assert [n["id"] for n in data["persons"]["nodes"]] == want[:5]
    apart = 0 if recorded.port.capabilities.count_in_page else 1  # LadybugDB counts apart (faster there)
    assert len(recorded.statements) == 1 + apart, recorded.statements
    recorded.reset()
    # Through a fragment on the connection it is still seen as asked for.
    data = await ask(recorded, tmp_path, "{ persons(first: 1) { ...Total } } "
                                         "fragment Total on PersonConnection { totalCount }")
    assert data["persons"]["totalCount"] == len(world.persons)
    assert len(recorded.statements) == 1 + apart
    recorded.reset()
    # Under a page with relationship fields (one walk) and past the last page (no row carries it: one more).
    query = """query($after: String) { persons(first: 40, after: $after) { totalCount pageInfo { endCursor }
        nodes { worksAt { nodes { name } } } } }"""
    data = await ask(recorded, tmp_path, query, after=None)
    assert data["persons"]["totalCount"] == len(world.persons) and len(recorded.statements) == 1 + apart
    end = data["persons"]["pageInfo"]["endCursor"]
    while data["persons"]["nodes"]:
        end = data["persons"]["pageInfo"]["endCursor"] or end
        data = await ask(recorded, tmp_path, query, after=end)
    assert data["persons"]["totalCount"] == len(world.persons)


async def test_a_two_hop_walk_is_one_statement(
        recorded: Recorded, world: World, tmp_path: Any) -> None:
    pid = "per:000"  # a party member (org:0) and a volunteer group member (grp:0)
    data = await ask(recorded, tmp_path, TWO_HOP, id=pid)
    org = world.member_of[pid][0]
    orgs = data["person"]["memberOf"]["edges"]
    assert [e["node"]["name"] for e in orgs] == [f"第{int(org[-1]) + 1}党支部"]  # no empty entry for the group
    partners = {f"联洋企业{e[-1]}" for e in world.co_builds[org]}
    assert {e["node"]["name"] for e in orgs[0]["node"]["coBuildsWith"]["edges"]} == partners
    # person, memberOf (PartyOrganization only), coBuildsWith (Enterprise only) in one walk: was 6, then 3.
    assert recorded.port.calls == {"walk": 1}
    assert len(recorded.statements) == 1, recorded.statements


async def test_a_nested_list_is_one_statement(recorded: Recorded, tmp_path: Any) -> None:
    query = """{ persons(first: 50) { nodes { id
        memberOf { edges { node { ... on PartyOrganization { name
            coBuildsWith { nodes { ... on Enterprise { name } } } } } } }
        worksAt { nodes { name } } } } }"""
    await ask(recorded, tmp_path, query)
    assert recorded.port.calls == {"walk": 1}  # the page and its three relationship fields: was 4
    assert len(recorded.statements) == 1, recorded.statements


async def test_three_levels_under_a_node_are_one_statement(recorded: Recorded, world: World, tmp_path: Any) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Person { name
        memberOf(first: 5) { hasMore edges { properties { role } node { ... on PartyOrganization { name
          partOf { nodes { ... on PartyOrganization { name
            partOfIn(first: 3) { hasMore nodes { ... on PartyOrganization { name } } } } } } } } } } } } }"""
    data = await ask(recorded, tmp_path, query, id="per:001")
    org = data["node"]["memberOf"]["edges"][0]["node"]
    top = org["partOf"]["nodes"][0]
    assert top["name"] == "联洋社区党委" and top["partOfIn"]["hasMore"] and len(top["partOfIn"]["nodes"]) == 3
    assert recorded.port.calls == {"walk": 1}
    assert len(recorded.statements) == 1, recorded.statements


async def test_a_page_of_twenty_with_their_memberships_is_one_statement(recorded: Recorded, world: World,
                                                                         tmp_path: Any) -> None:
    data = await ask(recorded, tmp_path, """{ persons(first: 20) { edges { node { name
        memberOf { edges { node { ... on PartyOrganization { name } ... on Group { name } } } } } } } }""")
    names = [[e["node"]["name"] for e in p["node"]["memberOf"]["edges"]] for p in data["persons"]["edges"]]
    assert len(names) == 20 and sum(len(n) for n in names) == 20 + sum(1 for i in range(20) if i % 5 == 0)
    assert recorded.port.calls == {"walk": 1}
    assert len(recorded.statements) == 1, recorded.statements


async def test_statements_are_at_most_the_root_fields(recorded: Recorded, tmp_path: Any) -> None:
    await ask(recorded, tmp_path, """{ a: person(id: "per:001") { memberOf { nodes { id } } }
        b: person(id: "per:002") { worksAt { nodes { id } } } persons(first: 3) { nodes { id } }
        enterprises(first: 2) { nodes { worksAtIn(first: 2) { nodes { id } } } } }""")
    assert recorded.port.calls == {"walk": 3, "list_nodes": 1}
    assert len(recorded.statements) == 4, recorded.statements


async def test_an_engine_that_walks_slower_reads_level_by_level(
        recorded: Recorded, store: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "capabilities", replace(store.capabilities, walks=False))
    data = await ask(recorded, tmp_path, TWO_HOP, id="per:000")
    assert data["person"]["memberOf"]["edges"]
    assert "walk" not in recorded.port.calls and recorded.port.calls["edges"] == 2
    assert len(recorded.statements) <= 3, recorded.statements  # the node, then one per level


# --- the same answers ---------------------------------------------------------------------------


async def test_pages_read_ids_first_keep_their_cursors(recorded: Recorded, world: World, tmp_path: Any) -> None:
    """Every person once, in name order (desc, then id), whether paged by end cursor or an edge's cursor."""
    by_name = sorted(world.persons, key=lambda p: p["id"])
    by_name.sort(key=lambda p: p["name"], reverse=True)
    want = [p["id"] for p in by_name]
    query = """query($after: String) { persons(first: 7, after: $after, orderBy: [{field: NAME, direction: DESC}]) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await ask(recorded, tmp_path, query, after=after))["persons"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert seen == want
    # An item's own cursor continues right after that item.
    page = (await ask(recorded, tmp_path, query, after=None))["persons"]
    nxt = (await ask(recorded, tmp_path, query, after=page["edges"][2]["cursor"]))["persons"]
    assert [e["node"]["id"] for e in nxt["edges"]] == want[3:10]


async def test_fragment_narrowed_edges_are_the_same_nodes_as_before(recorded: Recorded, world: World,
                                                                    tmp_path: Any) -> None:
    ids = [f"per:{i:03d}" for i in range(0, 20, 5)]  # members of an org and of a group
    for pid in ids:
        narrowed = await ask(recorded, tmp_path, """query($id: ID!) { person(id: $id) {
            memberOf { edges { node { ... on Group { id name } } } } } }""", id=pid)
        plain = await ask(recorded, tmp_path, """query($id: ID!) { person(id: $id) {
            memberOf { edges { node { type ... on Group { id name } } } } } }""", id=pid)
        groups = [{"id": e["node"]["id"], "name": e["node"]["name"]}
                  for e in plain["person"]["memberOf"]["edges"] if e["node"]["type"] == "Group"]
        assert [e["node"] for e in narrowed["person"]["memberOf"]["edges"]] == groups
        assert len(plain["person"]["memberOf"]["edges"]) == 1 + (pid in world.group_of)
        assert [g["id"] for g in groups] == ([world.group_of[pid]] if pid in world.group_of else [])


async def test_edges_whose_own_fields_are_read_are_all_listed(recorded: Recorded, world: World,
                                                              tmp_path: Any) -> None:
    """Reading an edge's properties (or any field of every node) reads every edge: nothing is narrowed."""
    for query in ("""{ person(id: "per:000") { memberOf { edges { properties { role } node {
                       ... on Group { name } } } } } }""",
                  """{ person(id: "per:000") { memberOf { nodes { id ... on Group { name } } } } }""",
                  """{ person(id: "per:000") { memberOf { nodes { ... on Node { id } } } } }"""):
        data = await ask(recorded, tmp_path, query)
        conn = data["person"]["memberOf"]
        assert len(conn.get("edges") or conn.get("nodes")) == 2, query  # the party branch and the group


async def test_a_fragment_on_two_types_reads_both(recorded: Recorded, world: World, tmp_path: Any) -> None:
    data = await ask(recorded, tmp_path, """{ person(id: "per:000") { memberOf { nodes {
        ... on Group { id } ...Org } } } } fragment Org on PartyOrganization { id }""")
    assert sorted(n["id"] for n in data["person"]["memberOf"]["nodes"]) == sorted(
        [world.member_of["per:000"][0], world.group_of["per:000"]])
