"""The permission matrix: role × type × property × path, each cell checked against the policy.

Expected values come from the policy file through ``Policy.grant``/``rows_visible`` and from the
world's ground truth (who lives inside the staff key's areas), never from the API under test. Paths:
object fields from a list, by id and through a relationship; filters (an oracle if unguarded); sort
keys; search matches, highlights, explanations, filters and facets; facet counts; paths and
neighbourhoods; connection counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from access_world import ROLES, AccessWorld, Served, ask, client, load_access_world, make_access_world, project, serve

from talentgraph.access.policy import POLICY, FacetRule, Grant
from talentgraph.api.naming import camel, plural, single
from talentgraph.schema.ontology import ONTOLOGY, PropType, Sensitivity

pytestmark = pytest.mark.anyio

# How each type is reached through a relationship from another node of the world (parent id, field).
THROUGH = {
    "Person": ("org:O1", "memberOfIn"), "Enterprise": ("org:O1", "coBuildsWith"), "Venue": ("prj:P1", "heldAt"),
    "Area": ("ven:V1", "locatedIn"), "Project": ("ent:E1", "sponsors"), "Group": ("per:00", "leads"),
    "PartyOrganization": ("ent:E1", "anchoredAtIn"), "Document": ("ven:V1", "mentionedIn"),
    "Candidate": ("doc:D1", "mentions"), "Fact": ("doc:D1", "states"),
}


@pytest.fixture(scope="module")
def world() -> AccessWorld:
    return make_access_world()


@pytest.fixture(scope="module")
def served(graph_backend: Any, search_backend: Any, tmp_path_factory: pytest.TempPathFactory,
           world: AccessWorld) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("access-matrix")
    graph = graph_backend.fresh(root / "graph")
    load_access_world(graph, world)
    index = search_backend.fresh(root / "search")
    try:
        yield serve(graph, project(graph, index), root)
    finally:
        search_backend.discard(index)
        graph.close()


def expected_value(role: str, world: AccessWorld, node_id: str, prop_name: str) -> Any:
    """What the policy says the role sees of one property of one row (None: hidden or unset)."""
    node = world.nodes[node_id]
    prop = ONTOLOGY.node(node.type).prop(prop_name)
    grant = POLICY.grant(role, prop)
    if grant is Grant.ALWAYS or (grant is Grant.IN_SCOPE and node_id in world.in_scope):
        return node.props.get(prop_name)
    return None


async def type_fields(c: Any, key: str, type_name: str) -> set[str] | None:
    body = await ask(c, key, "query($t: String!) { __type(name: $t) { fields { name } } }", t=type_name)
    t = body["data"]["__type"]
    return None if t is None else {f["name"] for f in t["fields"]}


async def input_fields(c: Any, key: str, type_name: str) -> set[str]:
    body = await ask(c, key, "query($t: String!) { __type(name: $t) { inputFields { name } enumValues { name } } }",
                     t=type_name)
    t = body["data"]["__type"]
    if t is None:
        return set()
    return {f["name"] for f in (t["inputFields"] or [])} | {v["name"] for v in (t["enumValues"] or [])}


@pytest.mark.parametrize("role", ROLES)
async def test_object_fields_by_list_by_id_and_through_relationships(served: Served, world: AccessWorld,
                                                                     role: str) -> None:
    key = served.keys[role]
    async with client(served.app) as c:
        for t in ONTOLOGY.node_types:
            fields = await type_fields(c, key, t.name)
            if not POLICY.rows_visible(role, t.name):
                assert fields is None, f"{role} must not have a {t.name} type"
                listed = await ask(c, key, f"{{ {plural(t.name)}(first: 1) {{ totalCount }} }}")
                assert listed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
                one_id = world.of_type(t.name)[0].id
                by_node = await ask(c, key, "query($id: ID!) { node(id: $id) { id } }", id=one_id)
                assert by_node["errors"][0]["extensions"]["code"] == "FORBIDDEN", by_node
                continue
            assert fields is not None
            props = [p for p in t.properties]
            for p in props:
                shown = POLICY.grant(role, p) is not Grant.NEVER
                gql = "title" if p.name == "title" else camel(p.name)
                assert (gql in fields) == shown or (p.name == t.title == "title"), (role, t.name, p.name)
                if p.sensitivity is Sensitivity.SENSITIVE:
                    assert camel(p.name) not in fields
            selection = " ".join(camel(p.name) for p in props if POLICY.grant(role, p) is not Grant.NEVER)
            listed = await ask(c, key, f"{{ {plural(t.name)}(first: 100) {{ totalCount nodes {{ id {selection} }} }} }}")
            assert "errors" not in listed, listed
            rows = listed["data"][plural(t.name)]["nodes"]
            assert listed["data"][plural(t.name)]["totalCount"] == len(world.of_type(t.name)) == len(rows)
            for row in rows:
                for p in props:
                    if POLICY.grant(role, p) is Grant.NEVER:
                        continue
                    want = expected_value(role, world, row["id"], p.name)
                    assert row[camel(p.name)] == want, (role, row["id"], p.name)
            # By id (node + typed root) and through a relationship: the same cells.
            sample = world.of_type(t.name)[0].id
            by_id = await ask(c, key, f'{{ node(id: "{sample}") {{ ... on {t.name} {{ {selection} }} }} '
                                      f'{single(t.name)}(id: "{sample}") {{ {selection} }} }}')
            for p in props:
                if POLICY.grant(role, p) is not Grant.NEVER:
                    want = expected_value(role, world, sample, p.name)
                    assert by_id["data"]["node"][camel(p.name)] == want
                    assert by_id["data"][single(t.name)][camel(p.name)] == want
            parent, rel_field = THROUGH[t.name]
            if not POLICY.rows_visible(role, world.nodes[parent].type):
                continue
            parent_fields = await type_fields(c, key, world.nodes[parent].type) or set()
            if rel_field not in parent_fields:
                continue
            via = await ask(c, key, f'{{ node(id: "{parent}") {{ ... on {world.nodes[parent].type} {{ '
                                    f'{rel_field}(first: 100) {{ nodes {{ ... on {t.name} {{ id {selection} }} }} }} }} }} }}')
            assert "errors" not in via, via
            reached = via["data"]["node"][rel_field]["nodes"]
            assert reached, (role, t.name, rel_field)
            for row in reached:
                for p in props:
                    if POLICY.grant(role, p) is not Grant.NEVER and "id" in row:
                        assert row[camel(p.name)] == expected_value(role, world, row["id"], p.name)


@pytest.mark.parametrize("role", ROLES)
async def test_filters_and_sort_keys_follow_the_policy(served: Served, world: AccessWorld, role: str) -> None:
    """A filter on a value the role cannot read would be an oracle: it must not exist, or (in scope)
    match only rows whose value the role may read."""
    key = served.keys[role]
    async with client(served.app) as c:
        for t in ONTOLOGY.node_types:
            if not POLICY.rows_visible(role, t.name):
                continue
            where_fields = await input_fields(c, key, f"{t.name}Where")
            sort_fields = await input_fields(c, key, f"{t.name}SortField")
            for p in t.properties:
                grant = POLICY.grant(role, p)
                assert (camel(p.name) in where_fields) == (grant is not Grant.NEVER), (role, t.name, p.name)
                if p.sortable:
                    assert (p.name.upper() in sort_fields) == (grant is Grant.ALWAYS), (role, t.name, p.name)
                if grant is Grant.NEVER or p.type is PropType.BOOL:
                    continue
                for row in world.of_type(t.name):
                    value = row.props.get(p.name)
                    if value is None:
                        continue
                    cond = {"contains": value[0]} if p.type is PropType.STRING_LIST else {"eq": value}
                    got = await ask(c, key, f"query($w: {t.name}Where) {{ {plural(t.name)}(where: $w, first: 100) "
                                            "{ totalCount nodes { id } } }", w={camel(p.name): cond})
                    assert "errors" not in got, got
                    ids = {n["id"] for n in got["data"][plural(t.name)]["nodes"]}
                    truth = {n.id for n in world.of_type(t.name)
                             if (cond.get("eq") == n.props.get(p.name)) or
                             (p.type is PropType.STRING_LIST and cond.get("contains") in (n.props.get(p.name) or []))}
                    if grant is Grant.IN_SCOPE:
                        truth &= world.in_scope
                    assert ids == truth, (role, t.name, p.name, value)
                    assert got["data"][plural(t.name)]["totalCount"] == len(truth)
                    break  # one value per property is enough: the rows differ by scope, not by value


@pytest.mark.parametrize("role", ROLES)
async def test_facet_counts_exact_suppressed_or_refused(served: Served, world: AccessWorld, role: str) -> None:
    key = served.keys[role]
    k = POLICY.k_anonymity
    async with client(served.app) as c:
        for t in ONTOLOGY.node_types:
            for p in t.properties:
                if not p.facet:
                    continue
                got = await ask(c, key, f'{{ facetCounts(type: {t.name}, field: "{p.name}") {{ value count display }} }}')
                rule = POLICY.facet_rule(role, t.name, p.sensitivity)
                if rule is not FacetRule.FORBIDDEN and not POLICY.rows_visible(role, t.name):
                    rule = FacetRule.SUPPRESSED
                if rule is FacetRule.FORBIDDEN:
                    assert got["errors"][0]["extensions"]["code"] == "UNKNOWN_SCHEMA_NAME", (role, t.name, p.name)
                    continue
                assert "errors" not in got, got
                truth: dict[str, int] = {}
                for n in world.of_type(t.name):
                    v = n.props.get(p.name)
                    for x in (v if isinstance(v, list) else [v] if v is not None else []):
                        key_ = str(x).lower() if isinstance(x, bool) else str(x)
                        truth[key_] = truth.get(key_, 0) + 1
                for item in got["data"]["facetCounts"]:
                    real = truth[item["value"]]
                    if rule is FacetRule.EXACT or real >= k:
                        assert item["count"] == real and item["display"] == str(real)
                    else:
                        assert item["count"] is None and item["display"] == f"<{k}", (role, t.name, p.name, item)


@pytest.mark.parametrize("role", ROLES)
async def test_search_matches_highlights_filters_and_facets(served: Served, world: AccessWorld, role: str) -> None:
    key = served.keys[role]
    person = ONTOLOGY.node("Person")
    async with client(served.app) as c:
        if not POLICY.rows_visible(role, "Person"):
            got = await ask(c, key, '{ search(query: "marker00word", types: [Person]) { totalCount } }')
            assert got["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            default = await ask(c, key, '{ search(query: "联洋") { totalCount hits { type } } }')
            assert "errors" not in default and all(h["type"] != "Person" for h in default["data"]["search"]["hits"])
            return
        bio = person.prop("bio")
        for row in world.of_type("Person"):
            word = row.props["bio"].split()[-1]  # unique per person
            got = await ask(c, key, f'{{ search(query: "{word}") {{ totalCount hits {{ id highlights {{ field }} '
                                    'explanations } } }')
            hits = got["data"]["search"]["hits"]
            grant = POLICY.grant(role, bio)
            visible = grant is Grant.ALWAYS or (grant is Grant.IN_SCOPE and row.id in world.in_scope)
            assert [h["id"] for h in hits] == ([row.id] if visible else []), (role, row.id)
            for h in hits:
                assert {x["field"] for x in h["highlights"]} <= {p.name for p in person.properties
                                                                 if POLICY.grant(role, p) is not Grant.NEVER}
        # Names (read by every role that sees persons) match and are highlighted.
        name = world.nodes["per:01"].props["name"]
        got = await ask(c, key, f'{{ search(query: "{name}") {{ hits {{ id title highlights {{ field }} }} }} }}')
        assert got["data"]["search"]["hits"][0]["id"] == "per:01"
        # A facet filter on a personal value: refused, or (in scope) matching only rows inside the scope.
        political = person.prop("political_status")
        got = await ask(c, key, '{ search(query: "", filters: [{field: "political_status", values: ["party_member"]}], '
                                'first: 50) { totalCount hits { id } } }')
        grant = POLICY.grant(role, political)
        truth = {n.id for n in world.of_type("Person") if n.props["political_status"] == "party_member"}
        if grant is Grant.NEVER:
            assert got["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        else:
            want = truth & world.in_scope if grant is Grant.IN_SCOPE else truth
            assert {h["id"] for h in got["data"]["search"]["hits"]} == want
        # Facet counts over search hits: suppressed below k for roles that may only count them.
        got = await ask(c, key, '{ search(query: "", facets: ["political_status", "languages"], first: 0) '
                                '{ facets { field values { value count display } } } }')
        assert "errors" not in got, got
        facets = {f["field"]: f["values"] for f in got["data"]["search"]["facets"]}
        for v in facets["political_status"]:
            real = sum(1 for n in world.of_type("Person") if n.props["political_status"] == v["value"])
            exact = POLICY.facet_rule(role, "Person", political.sensitivity) is FacetRule.EXACT
            assert v["count"] == (real if exact or real >= POLICY.k_anonymity else None)
        # The default facets never include a personal one for a role that may not read it.
        got = await ask(c, key, '{ search(query: "") { facets { field } } }')
        fields = {f["field"] for f in got["data"]["search"]["facets"]}
        assert ("political_status" in fields) is False or POLICY.grant(role, political) is Grant.ALWAYS


@pytest.mark.parametrize("role", ROLES)
async def test_paths_and_neighbourhoods_never_cross_hidden_rows_or_relationships(
        served: Served, world: AccessWorld, role: str) -> None:
    key = served.keys[role]
    allowed_types = {t.name for t in POLICY.visible_types(role)}
    allowed_rels = set(POLICY.path_rels(role))
    async with client(served.app) as c:
        got = await ask(c, key, '{ neighbourhood(id: "org:O1", depth: 2, limit: 100) { nodes { id type } '
                                'edges { type properties } } }')
        assert "errors" not in got, got
        nb = got["data"]["neighbourhood"]
        assert {n["type"] for n in nb["nodes"]} <= allowed_types
        assert {e["type"] for e in nb["edges"]} <= allowed_rels
        # Venue V1 and enterprise E1 are linked through people (WORKS_AT) and directly (LOCATED_IN area).
        got = await ask(c, key, '{ path(from: "org:O1", to: "area:B2", maxHops: 6) { nodes { id type } edges { type } } }')
        assert "errors" not in got, got
        path = got["data"]["path"]
        if path is not None:
            assert {n["type"] for n in path["nodes"]} <= allowed_types
            assert {e["type"] for e in path["edges"]} <= allowed_rels
        if "LIVES_IN" not in allowed_rels:
            # area:B2 is reached only through a resident's LIVES_IN or a LEADS by a person.
            assert path is None or all(e["type"] != "LIVES_IN" for e in path["edges"])


@pytest.mark.parametrize("role", ROLES)
async def test_staff_scope_reaches_residence_only_inside_the_areas(served: Served, world: AccessWorld,
                                                                  role: str) -> None:
    key = served.keys[role]
    rel = ONTOLOGY.rel("LIVES_IN")
    async with client(served.app) as c:
        fields = await type_fields(c, key, "Person") or set()
        grant = POLICY.rel_grant(role, rel)
        assert ("livesIn" in fields) == (grant is not Grant.NEVER and POLICY.rows_visible(role, "Person"))
        if "livesIn" not in fields:
            return
        got = await ask(c, key, '{ persons(first: 100) { nodes { id livesIn { nodes { id } } } } }')
        for row in got["data"]["persons"]["nodes"]:
            shown = [n["id"] for n in row["livesIn"]["nodes"]]
            if grant is Grant.ALWAYS or row["id"] in world.in_scope:
                assert shown, row
            else:
                assert shown == [], row
        for area, inside in (("area:B1", True), ("area:B2", False)):
            got = await ask(c, key, f'{{ area(id: "{area}") {{ livesInIn(first: 100) {{ nodes {{ id }} }} }} }}')
            residents = {n["id"] for n in got["data"]["area"]["livesInIn"]["nodes"]}
            assert bool(residents) == (grant is Grant.ALWAYS or inside), (role, area)
