"""The GraphQL API over a real graph store (every backend): lookups, filters, sorting, paging, relationships, graph shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, N_PERSONS, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api") / "graph", world)
    yield g
    g.close()


@pytest.fixture(scope="module")
def app(graph: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(graph, None, Settings(data_dir=tmp_path_factory.mktemp("data"), max_page_size=50), gate=OPEN_ADMIN)


async def q(app: Any, query: str, **variables: Any) -> dict[str, Any]:
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def ids_where(app: Any, where: str) -> set[str]:
    data = await q(app, f"{{ persons(where: {where}, first: 50) {{ totalCount nodes {{ id }} pageInfo {{ hasNextPage }} }} }}")
    conn = data["persons"]
    assert not conn["pageInfo"]["hasNextPage"]
    found = {n["id"] for n in conn["nodes"]}
    assert conn["totalCount"] == len(found)
    return found


# --- single nodes --------------------------------------------------------------------------------


async def test_person_by_id_exposes_properties_labels_and_system_fields(app: Any, world: World) -> None:
    p = world.persons[3]
    data = await q(app, """query($id: ID!) { person(id: $id) {
        id type title name latinName languages languagesLabels { id zh en } volunteer version updatedAt
        provenance { property job source } } }""", id=p["id"])
    got = data["person"]
    assert got["id"] == p["id"] and got["type"] == "Person" and got["title"] == p["name"] == got["name"]
    assert got["languages"] == p["languages"]
    assert [lab["id"] for lab in got["languagesLabels"]] == p["languages"]
    assert {"id": "zh", "zh": "中文", "en": "Chinese"} in got["languagesLabels"]
    assert got["version"] == 1 and got["updatedAt"]
    # Per property: one source here, for every property the record gave.
    assert {(e["job"], e["source"]) for e in got["provenance"]} == {("api-test", "synthetic.csv")}
    assert {"name", "languages"} <= {e["property"] for e in got["provenance"]}


async def test_unknown_or_other_type_id_is_null_and_node_resolves_concrete_type(app: Any) -> None:
    data = await q(app, """{ missing: person(id: "per:999") { id } wrongType: person(id: "org:0") { id }
        org: node(id: "org:0") { __typename id title ... on PartyOrganization { level } }
        gone: node(id: "ent:404") { id } }""")
    assert data["missing"] is None and data["wrongType"] is None and data["gone"] is None
    assert data["org"] == {"__typename": "PartyOrganization", "id": "org:0", "title": "第1党支部", "level": "branch"}


# --- filters -------------------------------------------------------------------------------------


async def test_filters_eq_in_contains_range_and_boolean_logic(app: Any, world: World) -> None:
    ps = world.persons
    target = ps[10]
    assert await ids_where(app, f'{{name: {{eq: "{target["name"]}"}}}}') == {p["id"] for p in ps if p["name"] == target["name"]}
    assert await ids_where(app, '{latinName: {in: ["Person 001", "Person 002", "nobody"]}}') == {"per:001", "per:002"}
    assert await ids_where(app, '{languages: {contains: "ru"}}') == {p["id"] for p in ps if "ru" in p["languages"]}
    assert await ids_where(app, '{languages: {in: ["fr", "ja"]}}') == \
        {p["id"] for p in ps if {"fr", "ja"} & set(p["languages"])}
    assert await ids_where(app, "{birthYear: {gte: 1970, lt: 1990}}") == \
        {p["id"] for p in ps if 1970 <= p.get("birth_year", 0) < 1990}
    assert await ids_where(app, "{birthYear: {isNull: true}}") == {p["id"] for p in ps if "birth_year" not in p}
    assert await ids_where(app, '{name: {startsWith: "王"}, volunteer: {eq: true}}') == \
        {p["id"] for p in ps if p["name"].startswith("王") and p["volunteer"]}
    assert await ids_where(app, '{OR: [{languages: {contains: "ru"}}, {birthYear: {lt: 1960}}]}') == \
        {p["id"] for p in ps if "ru" in p["languages"] or p.get("birth_year", 9999) < 1960}
    assert await ids_where(app, '{AND: [{volunteer: {eq: false}}], NOT: {languages: {contains: "en"}}}') == \
        {p["id"] for p in ps if not p["volunteer"] and "en" not in p["languages"]}


async def test_sensitive_properties_are_neither_fields_nor_filters(app: Any) -> None:
    async with client(app) as c:
        as_field = await gql(c, '{ persons(first: 1) { nodes { idHash } } }')
        as_filter = await gql(c, '{ persons(where: {idHash: {eq: "secret-1"}}) { totalCount } }')
    for body in (as_field, as_filter):
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "idHash" in body["errors"][0]["message"]


# --- sorting and paging --------------------------------------------------------------------------


async def test_sorting_by_name_desc_then_id(app: Any, world: World) -> None:
    data = await q(app, "{ persons(first: 50, orderBy: [{field: NAME, direction: DESC}]) { nodes { id name } } }")
    got = [(n["name"], n["id"]) for n in data["persons"]["nodes"]]
    # Ties on name are broken by id ascending, so the order is total.
    expected = sorted(((p["name"], p["id"]) for p in world.persons), key=lambda t: t[1])
    expected = sorted(expected, key=lambda t: t[0], reverse=True)[:50]
    assert got == expected


async def test_pages_cover_everything_once_and_item_cursors_resume(app: Any, world: World) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    query = """query($after: String) { persons(first: 7, after: $after, orderBy: [{field: BIRTH_YEAR}]) {
        totalCount edges { cursor node { id birthYear } } pageInfo { hasNextPage endCursor } } }"""
    while True:
        conn = (await q(app, query, after=after))["persons"]
        assert conn["totalCount"] == N_PERSONS
        seen += [e["node"]["id"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        after = conn["pageInfo"]["endCursor"]
    assert pages == -(-N_PERSONS // 7)
    assert len(seen) == len(set(seen)) == N_PERSONS
    # Resuming from any item's cursor continues right after that item.
    first = (await q(app, query, after=None))["persons"]["edges"]
    rest = (await q(app, query, after=first[2]["cursor"]))["persons"]["edges"]
    assert [e["node"]["id"] for e in rest][:4] == seen[3:7]


# --- relationships -------------------------------------------------------------------------------


async def test_relationship_fields_both_directions_with_edge_properties(app: Any, world: World) -> None:
    pid = "per:007"
    org, role, since = world.member_of[pid]
    data = await q(app, """query($id: ID!, $org: ID!) {
        person(id: $id) { memberOf { hasMore edges { type fromId toId properties { role since }
            node { __typename id ... on PartyOrganization { level } ... on Group { kind } } } } }
        partyOrganization(id: $org) { memberOfIn(first: 50) { hasMore nodes { id } }
            partOf { nodes { id name } } } }""", id=pid, org=org)
    edges = data["person"]["memberOf"]["edges"]
    assert [e["node"]["id"] for e in edges] == [org]
    assert edges[0]["properties"] == {"role": role, "since": since}
    assert edges[0]["type"] == "MEMBER_OF" and edges[0]["fromId"] == pid and edges[0]["toId"] == org
    members = {n["id"] for n in data["partyOrganization"]["memberOfIn"]["nodes"]}
    assert members == {p for p, (o, _, _) in world.member_of.items() if o == org}
    assert data["partyOrganization"]["partOf"]["nodes"] == [{"id": "org:top", "name": "联洋社区党委"}]


async def test_relationship_where_edge_where_first_and_union_end(app: Any, world: World) -> None:
    pid = "per:010"  # member of an org and of a group
    assert pid in world.group_of
    data = await q(app, """query($id: ID!) { person(id: $id) {
        all: memberOf { edges { node { __typename ... on Group { kind } } } }
        groups: memberOf(where: {name: {startsWith: "志愿者"}}) { nodes { id } }
        volunteering: memberOf(edgeWhere: {role: {eq: "volunteer"}}) { nodes { id } }
        one: memberOf(first: 1) { hasMore nodes { id } } } }""", id=pid)
    p = data["person"]
    assert sorted(e["node"]["__typename"] for e in p["all"]["edges"]) == ["Group", "PartyOrganization"]
    assert {"kind": "volunteer_branch", "__typename": "Group"} in [e["node"] for e in p["all"]["edges"]]
    assert p["groups"]["nodes"] == [{"id": world.group_of[pid]}]
    assert p["volunteering"]["nodes"] == [{"id": world.group_of[pid]}]
    assert len(p["one"]["nodes"]) == 1 and p["one"]["hasMore"] is True
    org_members = await q(app, """{ partyOrganization(id: "org:1") {
        secretaries: memberOfIn(edgeWhere: {role: {eq: "secretary"}}) { nodes { id } } } }""")
    assert org_members["partyOrganization"]["secretaries"]["nodes"] == [{"id": "per:001"}]


# --- graph shape ---------------------------------------------------------------------------------


async def test_path_and_missing_path(app: Any, world: World) -> None:
    ent = world.co_builds["org:2"][1]
    data = await q(app, f"""{{ p: path(from: "per:002", to: "{ent}") {{ hops nodes {{ id }} edges {{ type fromId toId properties }} }}
        none: path(from: "per:002", to: "ven:lonely") {{ hops }} }}""")
    path = data["p"]
    assert path["nodes"][0]["id"] == "per:002" and path["nodes"][-1]["id"] == ent
    assert path["hops"] == len(path["edges"]) == len(path["nodes"]) - 1 == 2
    assert all("content_hash" not in e["properties"] for e in path["edges"])
    assert data["none"] is None


async def test_neighbourhood_depth_limit_and_unknown(app: Any, world: World) -> None:
    data = await q(app, """{ small: neighbourhood(id: "org:0", depth: 1, limit: 5) { truncated nodes { id } edges { type } }
        wide: neighbourhood(id: "ent:0", depth: 1, limit: 50) { truncated nodes { id } }
        unknown: neighbourhood(id: "per:999") { truncated } }""")
    assert data["small"]["truncated"] is True and len(data["small"]["nodes"]) == 5
    assert data["small"]["nodes"][0]["id"] == "org:0"
    ent_neighbours = {p for p, e in world.works_at.items() if e == "ent:0"} | \
        {o for o, es in world.co_builds.items() if "ent:0" in es} | {"ent:0"}
    assert data["wide"]["truncated"] is False
    assert {n["id"] for n in data["wide"]["nodes"]} == ent_neighbours
    assert data["unknown"] is None


async def test_facet_counts_with_where_and_labels(app: Any, world: World) -> None:
    data = await q(app, """{ all: facetCounts(type: Person, field: "languages") { value count label labelEn }
        volunteers: facetCounts(type: Person, field: "languages", where: {volunteer: {eq: true}}) { value count }
        orgs: facetCounts(type: PartyOrganization, field: "level") { value count } }""")
    expected: dict[str, int] = {}
    for p in world.persons:
        for lang in p["languages"]:
            expected[lang] = expected.get(lang, 0) + 1
    assert {f["value"]: f["count"] for f in data["all"]} == expected
    assert {"value": "ru", "count": expected["ru"], "label": "俄语", "labelEn": "Russian"} in data["all"]
    vol: dict[str, int] = {}
    for p in world.persons:
        if p["volunteer"]:
            for lang in p["languages"]:
                vol[lang] = vol.get(lang, 0) + 1
    assert {f["value"]: f["count"] for f in data["volunteers"]} == vol
    assert {f["value"]: f["count"] for f in data["orgs"]} == {"branch": 5, "committee": 1}
