"""One store statement per GraphQL root field, with each engine's own capabilities (no walk forced on).

Statements are counted under the real adapter (every ``_read`` and ``_read_many`` of the engine session), on every
engine pair; and a walk that reads only the selected columns answers what ``edges`` answers, also
when a step before another matched nothing (LadybugDB 0.22 lost the later step's rows there when
whole nodes were collected).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.graph.base import CypherGraphStore
from talentgraph.graph.walk import Step, Walk
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio

# The bench's 2-hop query: edge properties (so every MEMBER_OF edge is listed, to either far type)
# and a fragment naming one far type below.
TWO_HOP = """query($id: ID!) { person(id: $id) { name
  memberOf(first: 20) { edges { properties { role } node { ... on PartyOrganization { name
    coBuildsWith(first: 20) { edges { node { ... on Enterprise { name } } } } } } } } } }"""

QUERIES = {
    "2-hop under a person": (TWO_HOP, {"id": "per:000"}, 1),
    "a page, no totalCount": ("{ persons(first: 20) { nodes { id name } pageInfo { hasNextPage } } }", {}, 1),
    "a page with two levels under it": ("""{ persons(first: 10, orderBy: [{field: NAME}]) { edges { cursor node {
        name memberOf { edges { properties { role } node { id ... on PartyOrganization { name
          coBuildsWith(first: 2) { nodes { ... on Enterprise { name } } } } } } }
        worksAt { nodes { name } } } } } }""", {}, 1),
    "a page with totalCount and a level under it": ("""{ persons(first: 5, where: {volunteer: {eq: true}}) {
        totalCount nodes { name worksAt { nodes { name } } } } }""", {}, 1),
    "three root fields": ("""{ a: person(id: "per:001") { name memberOf { nodes { id } } }
        b: node(id: "per:005") { ... on Person { worksAt { edges { properties { title } node { name } } } } }
        enterprises(first: 2) { nodes { name worksAtIn(first: 2) { nodes { id name } } } } }""", {}, 3),
}


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def store(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-root-statements") / "graph", world)
    yield g
    g.close()


@pytest.fixture()
def statements(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the engine session runs (reads: a GraphQL request writes nothing)."""
    seen: list[str] = []
    read = store._read

    def counted(text: str, params: Any = None) -> Any:
        seen.append(text)
        return read(text, params)

    monkeypatch.setattr(store, "_read", counted)
    if type(store)._read_many is not CypherGraphStore._read_many:  # an adapter's own reads of many rows
        many = store._read_many

        def counted_many(text: str, params: Any = None) -> Any:
            seen.append(text)
            return many(text, params)

        monkeypatch.setattr(store, "_read_many", counted_many)
    return seen


async def ask(store: Any, tmp_path: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.parametrize("name", list(QUERIES))
async def test_statements_per_request_are_at_most_the_root_fields(
        store: Any, statements: list[str], tmp_path: Any, name: str) -> None:
    query, variables, roots = QUERIES[name]
    data = await ask(store, tmp_path, query, variables)
    assert all(v is not None for v in data.values())
    # totalCount: in the page's statement, but on LadybugDB one more (``GraphCapabilities.count_in_page``).
    apart = int("totalCount" in query and not store.capabilities.count_in_page)
    assert len(statements) <= roots + apart, statements


async def test_the_2_hop_answer_is_the_loaders_answer(store: Any, world: World, tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns read, root carried: the same answer as level by level, whole nodes (every person)."""
    from dataclasses import replace

    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    async with client(app) as c:
        walked = [await gql(c, TWO_HOP, id=p["id"]) for p in world.persons]
        monkeypatch.setattr(store, "capabilities", replace(store.capabilities, walks=False))
        plain = [await gql(c, TWO_HOP, id=p["id"]) for p in world.persons]
    assert walked == plain and all("errors" not in w for w in walked)
    walked = [w["data"] for w in walked]
    assert any(e["node"] == {} for w in walked for e in w["person"]["memberOf"]["edges"])  # a group: listed, empty


async def test_walked_relationship_fields_answer_without_awaiting(store: Any, world: World, tmp_path: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk primed every relationship field's loader: each answers on the spot (``rel_page_ready``), none
    through the awaiting ``rel_page``; without the walk every one does."""
    from dataclasses import replace

    from talentgraph.api import resolvers

    awaited: list[str] = []
    rel_page = resolvers.rel_page

    async def counted(ctx: Any, node: Any, rel_type: str, *args: Any, **kwargs: Any) -> Any:
        awaited.append(rel_type)
        return await rel_page(ctx, node, rel_type, *args, **kwargs)

    monkeypatch.setattr(resolvers, "rel_page", counted)
    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    members = [p["id"] for p in world.persons[:20]]
    async with client(app) as c:
        walked = [await gql(c, TWO_HOP, id=i) for i in members]
        assert awaited == []
        monkeypatch.setattr(store, "capabilities", replace(store.capabilities, walks=False))
        plain = [await gql(c, TWO_HOP, id=i) for i in members]
    assert walked == plain
    assert "MEMBER_OF" in awaited and "CO_BUILDS_WITH" in awaited


async def test_a_documents_plan_is_worked_out_once_for_every_id(store: Any, world: World, tmp_path: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan of a root field by id is remembered per document and the values of the variables its selection
    reads — never when a step filters (a filter may be guarded by the caller's areas) — and answers as a plan
    worked out afresh does."""
    from collections import OrderedDict

    from talentgraph.api import prefetch

    worked: list[str] = []
    plan = prefetch._plan

    async def counted(*args: Any, **kwargs: Any) -> Any:
        worked.append("plan")
        return await plan(*args, **kwargs)

    monkeypatch.setattr(prefetch, "_plan", counted)
    monkeypatch.setattr(prefetch, "_PLANS", OrderedDict())
    paged = "query($id: ID!, $n: Int!) { person(id: $id) { name memberOf(first: $n) { nodes { id } } } }"
    filtered = """query($id: ID!) { person(id: $id) { name
        worksAt(where: {name: {startsWith: "A"}}) { nodes { id } } } }"""
    ids = [p["id"] for p in world.persons[:10]]
    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    async with client(app) as c:
        remembered = [await gql(c, paged, id=i, n=3) for i in ids]
        assert len(worked) == 1
        one = [await gql(c, paged, id=i, n=1) for i in ids]  # a variable the selection reads: its own plan
        assert len(worked) == 2
        for i in ids[:3]:
            await gql(c, filtered, id=i)
        assert len(worked) == 5
        listed = """query($n: Int!, $m: Int!) {
            persons(first: $n) { nodes { name memberOf(first: $m) { nodes { id } } } } }"""
        pages = [await gql(c, listed, n=n, m=2) for n in (3, 5, 8)]  # the root's own arguments: one plan
        assert len(worked) == 6
        monkeypatch.setattr(prefetch, "_remembered", lambda key, raw: None)
        fresh = [await gql(c, paged, id=i, n=3) for i in ids]
        assert pages == [await gql(c, listed, n=n, m=2) for n in (3, 5, 8)]
    assert [len(p["data"]["persons"]["nodes"]) for p in pages] == [3, 5, 8]
    assert remembered == fresh and all("errors" not in b for b in remembered + one)

    def cut(body: dict[str, Any]) -> list[Any]:
        return body["data"]["person"]["memberOf"]["nodes"][:1]

    assert [cut(b) for b in one] == [cut(b) for b in remembered] and one != remembered


# --- the walk itself: selected columns --------------------------------------------------------------

NOTHING_FIRST = {
    # Most persons are in no group: the first step matches nothing, the next must still match.
    "siblings": (Step("grp", "MEMBER_OF", "out", ("Person",), limit=3, other_types=("Group",), node_props=("name",)),
                 Step("wa", "WORKS_AT", "out", ("Person",), limit=3, node_props=("name", "version"))),
    "both far types, levels under each": (
        Step("mo", "MEMBER_OF", "out", ("Person",), limit=5, node_props=("name", "kind"), steps=(
            Step("co", "CO_BUILDS_WITH", "out", ("PartyOrganization",), limit=2, node_props=("name",)),
            Step("up", "PART_OF", "out", ("Group",), limit=2, node_props=()))),
        Step("wa", "WORKS_AT", "out", ("Person",), node_props=("name",))),
}


@pytest.mark.parametrize("name", list(NOTHING_FIRST))
@pytest.mark.parametrize("root_props", [("name",), None])
def test_a_walk_of_selected_columns_is_what_edges_says(store: Any, world: World, name: str,
                                                       root_props: tuple[str, ...] | None) -> None:
    checked = 0
    for p in world.persons[:12]:
        result = store.walk(Walk(NOTHING_FIRST[name], node_id=p["id"], root_props=root_props))
        whole = store.get_nodes([p["id"]])[p["id"]]
        assert result.node is not None and result.node.id == whole.id
        want_props = whole.props if root_props is None else {k: whole.props[k] for k in root_props}
        assert result.node.props == want_props

        def visit(steps: tuple[Step, ...], parents: list[Any]) -> None:
            nonlocal checked
            for s in steps:
                applies = sorted({n.id for n in parents if n.type in s.parent_types})
                want = store.edges(applies, s.rel_type, s.direction, limit_per_node=s.limit,
                                   other_types=s.other_types, far_props=s.node_props) if applies else {}
                for pid in applies:
                    got = result.edges[s.name][pid]
                    assert [(e.from_id, e.to_id, e.node) for e in got] == \
                        [(e.from_id, e.to_id, e.node) for e in want[pid]], (s.name, pid)
                    own = {"key", *(x.name for x in store.ontology.rel(s.rel_type).properties)}
                    for e, w in zip(got, want[pid]):  # the relationship: its ontology properties
                        assert e.props == {k: v for k, v in w.props.items() if k in own}
                    checked += len(got)
                visit(s.steps, [e.node for pid in applies for e in result.edges[s.name][pid]])

        visit(NOTHING_FIRST[name], [whole])
    assert checked > 12


RICH = """query($id: ID!) { person(id: $id) { id name title version updatedAt birthYear volunteer
  memberOf(first: 5) { hasMore edges { type fromId toId properties { role since } node { __typename id type title
    ... on PartyOrganization { name version coBuildsWith(first: 3) { nodes { id title ... on Enterprise { name } } } }
    ... on Group { name kind } } } }
  worksAt { nodes { id name updatedAt worksAtIn(first: 4) { nodes { id name birthYear } } } } } }"""


async def test_selected_columns_answer_what_whole_nodes_answer(store: Any, world: World, tmp_path: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The same answers when every node is read whole (``selection.node_columns`` answering None)."""
    from talentgraph.api import selection

    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    ids = [p["id"] for p in world.persons[:15]]
    page = "{ persons(first: 12, orderBy: [{field: NAME}]) { totalCount edges { cursor node { name title " \
           "memberOf { edges { properties { role } node { title } } } } } } }"
    async with client(app) as c:
        narrow = [await gql(c, RICH, id=i) for i in ids] + [await gql(c, page)]
        monkeypatch.setattr(selection, "node_columns", lambda *a, **k: None)
        whole = [await gql(c, RICH, id=i) for i in ids] + [await gql(c, page)]
    assert narrow == whole and all("errors" not in b for b in narrow)
    assert any(e["node"]["type"] == "Group" for b in narrow[:-1] for e in b["data"]["person"]["memberOf"]["edges"])


@pytest.mark.parametrize("where", [None, {"volunteer": True}])
def test_a_counted_page_walk_carries_the_count(store: Any, world: World, where: dict[str, Any] | None) -> None:
    from talentgraph.graph.walk import PageRoot
    from talentgraph.types import Cmp

    flt = Cmp("volunteer", "eq", True) if where else None
    want = store.count_nodes("Person", flt)
    steps = NOTHING_FIRST["siblings"]
    first = store.walk(Walk(steps, page=PageRoot("Person", flt, first=4, count=True), root_props=("name",)))
    assert first.page is not None and first.page.total_count == want and len(first.page.items) == 4
    past = store.walk(Walk(steps, page=PageRoot("Person", flt, first=4, after=first.page.end_cursor, count=True)))
    assert past.page is not None and past.page.total_count == want


async def test_walked_relationship_fields_skip_strawberrys_wrapper(store: Any, world: World, tmp_path: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The root field by id and a walked relationship field with nothing but ``first`` answer through their
    fast resolvers (``execution.fast_resolver``): strawberry converts no argument. A filter, or no walk, takes
    strawberry's path for the relationship field, with the same answers."""
    from dataclasses import replace

    from strawberry.schema import schema_converter

    converted: list[str] = []
    get_arguments = schema_converter.get_arguments

    def counted(*, field: Any, **kwargs: Any) -> Any:
        converted.append(field.python_name)
        return get_arguments(field=field, **kwargs)

    monkeypatch.setattr(schema_converter, "get_arguments", counted)
    filtered = TWO_HOP.replace("coBuildsWith(first: 20)", 'coBuildsWith(first: 20, where: {name: {startsWith: ""}})')
    app = create_app(store, None, Settings(data_dir=tmp_path, max_page_size=100), gate=OPEN_ADMIN)
    members = [p["id"] for p in world.persons[:20]]
    async with client(app) as c:
        walked = [await gql(c, TWO_HOP, id=i) for i in members]
        by_node = [await gql(c, TWO_HOP.replace("person(id: $id)", "node(id: $id) { ... on Person")
                             .replace("} } } } } } } } } }", "} } } } } } } } } } }"), id=i) for i in members]
        assert converted == []
        walked_filtered = [await gql(c, filtered, id=i) for i in members]
        assert converted and "person" not in converted  # the filtered field's arguments only
        monkeypatch.setattr(store, "capabilities", replace(store.capabilities, walks=False))
        plain = [await gql(c, TWO_HOP, id=i) for i in members]
    assert walked == plain == walked_filtered and all("errors" not in w for w in walked)
    assert [b["data"]["node"] for b in by_node] == [w["data"]["person"] for w in walked]
