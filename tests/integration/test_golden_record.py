"""Entity resolution in GraphQL and search: one person per cluster, shown as its golden record.

Clusters are written the way ``talentgraph/resolve`` writes them (``canonical`` as a property-level
upsert of the "resolve" job, SAME_AS pairs with probability, weights, status and cluster), straight
into the access world's graph, so the role matrix applies: staff keys are scoped to RA1 (building
B1); per:C1 lives in B2, outside it.

The cluster of per:C0 (canonical), per:C1 and per:C2:

- per:C0 has no latin name, birth year or phone of its own;
- per:C1 (source priority 5) writes in Cyrillic, lives outside the staff scope and alone has a phone;
- per:C2 (priority 1) lives inside the staff scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_world import ROLES, Served, ask, client, load_access_world, make_access_world, project, serve
from api_world import CountingStore

from talentgraph.access.policy import POLICY, Grant
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.search.projection import SearchProjector
from talentgraph.types import NodeRecord, Provenance, RelRecord

pytestmark = pytest.mark.anyio

RESOLVE = Provenance(job="resolve", source="resolve", row=0, ingested_at="2024-06-01T00:00:00Z")
WEIGHTS_1 = '{"name": 4.1, "birth_date": 6.0, "phone": -2.3}'
N_WORLD = 12  # persons of the access world, none resolved
CLUSTER = ("per:C0", "per:C1", "per:C2")


def source(job: str, priority: int) -> Provenance:
    return Provenance(job=job, source=f"{job}.csv", row=1, ingested_at="2024-01-01T00:00:00Z", priority=priority)


def load_cluster(graph: GraphStore) -> None:
    graph.upsert_nodes([
        NodeRecord("Person", "per:C0", {"name": "欧阳娜娜", "other_names": ["老欧"], "languages": ["zh"],
                                        "skills": ["law"], "nationality": "KZ", "bio": "欧阳律师"},
                   source("residents", 0)),
        NodeRecord("Person", "per:C1", {"name": "Наталья Оуян", "latin_name": "Natalia Ouyang", "birth_year": 1980,
                                        "phone": "+8613800002222", "languages": ["ru"], "other_names": ["娜塔莎"],
                                        "skills": ["translation"], "nationality": "KZ", "volunteer": True},
                   source("volunteers", 5)),
        NodeRecord("Person", "per:C2", {"name": "欧阳娜娜", "latin_name": "Ouyang Nana", "birth_year": 1981,
                                        "languages": ["en", "zh"], "nationality": "KZ", "volunteer": False},
                   source("party", 1)),
    ])
    result = graph.upsert_relationships([
        RelRecord("LIVES_IN", "per:C0", "area:B1"), RelRecord("LIVES_IN", "per:C1", "area:B2"),
        RelRecord("LIVES_IN", "per:C2", "area:B1"),
    ])
    assert not result.rejected
    resolve(graph, {i: "per:C0" for i in CLUSTER}, [
        RelRecord("SAME_AS", "per:C1", "per:C0", {"probability": 0.98, "weights": WEIGHTS_1, "status": "matched",
                                                   "cluster": "per:C0"}, RESOLVE),
        RelRecord("SAME_AS", "per:C2", "per:C0", {"probability": 0.91, "weights": '{"name": 7.5}',
                                                   "status": "accepted", "cluster": "per:C0"}, RESOLVE),
        # A pending pair is no part of the cluster.
        RelRecord("SAME_AS", "per:04", "per:C0", {"probability": 0.55, "weights": '{"name": 0.4}',
                                                   "status": "pending", "cluster": ""}, RESOLVE),
    ])


def resolve(graph: GraphStore, canonical: dict[str, str | None], pairs: list[RelRecord]) -> None:
    """What the resolver writes: ``canonical`` (None clears it) and the SAME_AS pairs."""
    graph.upsert_nodes([NodeRecord("Person", i, {"canonical": c}, RESOLVE, names=frozenset({"canonical"}))
                        for i, c in canonical.items()])
    assert not graph.upsert_relationships(pairs).rejected


@pytest.fixture(scope="module")
def served(graph_backend: Any, search_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("golden")
    graph = graph_backend.fresh(root / "graph")
    load_access_world(graph, make_access_world())
    load_cluster(graph)
    index = search_backend.fresh(root / "search")
    try:
        yield serve(graph, project(graph, index), root)
    finally:
        search_backend.discard(index)
        graph.close()


PERSON = """query($id: ID!) { person(id: $id) { id canonical latinName birthYear phone languages otherNames
  canonicalRecord { id } } }"""


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body
    return body["data"]


# --- lists and counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "staff", "analyst"])
async def test_lists_show_one_record_per_cluster_unless_all_records_are_asked(served: Served, role: str) -> None:
    async with client(served.app) as c:
        shown = data(await ask(c, served.keys[role], "{ persons(first: 100) { totalCount nodes { id } } }"))["persons"]
        every = data(await ask(c, served.keys[role],
                               "{ persons(first: 100, allRecords: true) { totalCount nodes { id } } }"))["persons"]
        paged = data(await ask(c, served.keys[role], "{ persons(first: 5) { totalCount pageInfo { hasNextPage } } }"))
    ids = [n["id"] for n in shown["nodes"]]
    assert "per:C0" in ids and "per:C1" not in ids and "per:C2" not in ids
    assert shown["totalCount"] == len(ids) == N_WORLD + 1
    assert paged["persons"]["totalCount"] == N_WORLD + 1
    assert {n["id"] for n in every["nodes"]} >= set(CLUSTER)
    assert every["totalCount"] == N_WORLD + 3


async def test_facet_counts_count_a_cluster_once(served: Served) -> None:
    query = 'query($all: Boolean!) { facetCounts(type: Person, field: "nationality", allRecords: $all) { value count } }'
    async with client(served.app) as c:
        once = data(await ask(c, served.keys["admin"], query, all=False))["facetCounts"]
        every = data(await ask(c, served.keys["admin"], query, all=True))["facetCounts"]
    assert {f["value"]: f["count"] for f in once}["KZ"] == 1
    assert {f["value"]: f["count"] for f in every}["KZ"] == 3


async def test_a_hidden_record_is_found_by_id_and_names_its_stand_in(served: Served) -> None:
    async with client(served.app) as c:
        member = data(await ask(c, served.keys["admin"], PERSON, id="per:C1"))["person"]
        alone = data(await ask(c, served.keys["admin"], PERSON, id="per:05"))["person"]
    assert member["canonical"] == "per:C0" and member["canonicalRecord"] == {"id": "per:C0"}
    # A member shows its own record, not the golden one.
    assert member["latinName"] == "Natalia Ouyang" and member["languages"] == ["ru"]
    assert alone["canonical"] is None and alone["canonicalRecord"] is None


# --- the golden record ----------------------------------------------------------------------------


async def test_golden_values_merge_members_in_priority_order_with_their_sources(served: Served) -> None:
    query = """{ person(id: "per:C0") { canonicalRecord { id } latinName birthYear phone languages otherNames volunteer
      languagesLabels { id } skills
      provenance { property value job record shown } conflicts { property value values { record value shown } } } }"""
    async with client(served.app) as c:
        p = data(await ask(c, served.keys["admin"], query))["person"]
    assert p["canonicalRecord"] == {"id": "per:C0"}
    # Scalars: the canonical record's own value, else the member whose source has the highest priority.
    assert p["latinName"] == "Natalia Ouyang"  # per:C1 (priority 5) before per:C2 (priority 1)
    assert p["birthYear"] == 1980 and p["phone"] == "+8613800002222" and p["volunteer"] is True
    # Lists: the union, canonical record first, then members in the same order.
    assert p["languages"] == ["zh", "ru", "en"]
    assert [x["id"] for x in p["languagesLabels"]] == ["zh", "ru", "en"]
    assert p["otherNames"] == ["老欧", "娜塔莎"] and p["skills"] == ["law", "translation"]
    by_prop: dict[str, list[dict[str, Any]]] = {}
    for e in p["provenance"]:
        by_prop.setdefault(e["property"], []).append(e)
    assert [(e["record"], e["job"], e["value"], e["shown"]) for e in by_prop["birthYear"]] == [
        ("per:C1", "volunteers", 1980, True), ("per:C2", "party", 1981, False)]
    assert {(e["record"], e["shown"]) for e in by_prop["languages"]} == {
        ("per:C0", True), ("per:C1", True), ("per:C2", True)}
    assert {e["record"] for e in p["provenance"]} == set(CLUSTER)
    conflict = {c["property"]: c for c in p["conflicts"]}
    assert conflict["birthYear"]["value"] == 1980
    assert [(v["record"], v["value"], v["shown"]) for v in conflict["birthYear"]["values"]] == [
        ("per:C1", 1980, True), ("per:C2", 1981, False)]
    assert conflict["languages"]["value"] == ["zh", "ru", "en"]


async def test_cluster_members_with_the_evidence_of_their_pairs(served: Served) -> None:
    query = """query($id: ID!) { person(id: $id) { clusterMembers { canonical node { id name }
      links { fromId toId probability status cluster weights } } } }"""
    async with client(served.app) as c:
        from_canonical = data(await ask(c, served.keys["admin"], query, id="per:C0"))["person"]["clusterMembers"]
        from_member = data(await ask(c, served.keys["admin"], query, id="per:C1"))["person"]["clusterMembers"]
        unresolved = data(await ask(c, served.keys["admin"], query, id="per:04"))["person"]["clusterMembers"]
        pending = data(await ask(c, served.keys["admin"], '{ person(id: "per:04") { sameAs { edges { toId '
                                 'properties { status weights } } } } }'))["person"]["sameAs"]["edges"]
    assert [(m["node"]["id"], m["canonical"]) for m in from_canonical] == [("per:C1", False), ("per:C2", False)]
    c1 = from_canonical[0]
    assert c1["node"]["name"] == "Наталья Оуян"
    assert c1["links"] == [{"fromId": "per:C1", "toId": "per:C0", "probability": 0.98, "status": "matched",
                            "cluster": "per:C0", "weights": {"name": 4.1, "birth_date": 6.0, "phone": -2.3}}]
    assert [(m["node"]["id"], m["canonical"]) for m in from_member] == [("per:C0", True), ("per:C2", False)]
    # The pending pair is no part of the cluster; it shows only as a relationship.
    assert unresolved == []
    assert pending == [{"toId": "per:C0", "properties": {"status": "pending", "weights": '{"name": 0.4}'}}]


# --- the role matrix ----------------------------------------------------------------------------------


async def test_staff_get_nothing_personal_from_a_member_outside_their_areas(served: Served) -> None:
    query = """{ person(id: "per:C0") { latinName birthYear phone languages otherNames
      provenance { property record } conflicts { property values { record } }
      clusterMembers { node { id } links { fromId toId } } } }"""
    async with client(served.app) as c:
        p = data(await ask(c, served.keys["staff"], query))["person"]
    # per:C1 lives outside the staff scope: its personal values (birth year, phone) do not reach the golden
    # record; its names and public values do, as they would on per:C1 itself.
    assert p["birthYear"] == 1981 and p["phone"] is None
    assert p["latinName"] == "Natalia Ouyang" and p["languages"] == ["zh", "ru", "en"]
    assert "per:C1" not in {e["record"] for e in p["provenance"]}
    assert "per:C1" not in {v["record"] for c in p["conflicts"] for v in c["values"]}
    assert [m["node"]["id"] for m in p["clusterMembers"]] == ["per:C2"]
    assert p["clusterMembers"][0]["links"] == [{"fromId": "per:C2", "toId": "per:C0"}]


async def test_fields_exist_only_for_the_roles_that_read_them(served: Served) -> None:
    query = 'query($t: String!) { __type(name: $t) { fields { name } } }'
    async with client(served.app) as c:
        fields = {}
        for role in ROLES:
            t = data(await ask(c, served.keys[role], query, t="Person"))["__type"]
            fields[role] = None if t is None else {f["name"] for f in t["fields"]}
        analyst = data(await ask(c, served.keys["analyst"], '{ person(id: "per:C0") { latinName languages '
                                 'canonicalRecord { id } } }'))["person"]
        platform = await ask(c, served.keys["platform"], '{ node(id: "per:C0") { id } }')
    assert POLICY.rel_grant("analyst", ONTOLOGY.rel("SAME_AS")) is Grant.NEVER
    assert {"clusterMembers", "sameAs", "sameAsIn", "canonicalRecord"} <= fields["admin"]
    assert {"clusterMembers", "sameAs", "sameAsIn", "canonicalRecord"} <= fields["staff"]
    assert not {"clusterMembers", "sameAs", "sameAsIn", "provenance", "birthYear"} & fields["analyst"]
    assert "canonicalRecord" in fields["analyst"]
    assert fields["platform"] is None
    assert platform["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Names and public values still merge for the analyst: they read them on every record.
    assert analyst == {"latinName": "Natalia Ouyang", "languages": ["zh", "ru", "en"],
                       "canonicalRecord": {"id": "per:C0"}}


# --- search ---------------------------------------------------------------------------------------------

SEARCH = """query($q: String!) { search(query: $q, facets: ["languages", "volunteer"]) { totalCount hits { id title highlights {
  field fragments } explanations } facets { field values { value count } } } }"""


@pytest.mark.parametrize("role", ["admin", "staff", "analyst"])
async def test_search_finds_the_cluster_by_a_member_name_once(served: Served, role: str) -> None:
    async with client(served.app) as c:
        cyrillic = data(await ask(c, served.keys[role], SEARCH, q="Наталья"))["search"]
        chinese = data(await ask(c, served.keys[role], SEARCH, q="欧阳娜娜"))["search"]
        member_alias = data(await ask(c, served.keys[role], SEARCH, q="娜塔莎"))["search"]
    assert [h["id"] for h in cyrillic["hits"]] == ["per:C0"] and cyrillic["totalCount"] == 1
    assert cyrillic["hits"][0]["title"] == "欧阳娜娜"
    assert any(h["field"] == "name" and "<mark>" in "".join(h["fragments"]) for h in cyrillic["hits"][0]["highlights"])
    assert any("name" in e for e in cyrillic["hits"][0]["explanations"])
    assert [h["id"] for h in chinese["hits"]] == ["per:C0"]
    assert [h["id"] for h in member_alias["hits"]] == ["per:C0"]


async def test_search_facets_count_a_cluster_once(served: Served) -> None:
    async with client(served.app) as c:
        res = data(await ask(c, served.keys["admin"], SEARCH, q=""))["search"]
    counts = {(f["field"], v["value"]): v["count"] for f in res["facets"] for v in f["values"]}
    # per:00, per:04, per:08 speak Russian, and the cluster once (through per:C1).
    assert counts[("languages", "ru")] == 4 and counts[("languages", "en")] == 1
    # A scalar counts the golden value only: per:C1's true (priority 5), not per:C2's false as well.
    assert counts[("volunteer", "true")] == N_WORLD // 2 + 1 and counts[("volunteer", "false")] == N_WORLD // 2
    assert res["totalCount"] == N_WORLD + 1


async def test_the_access_record_names_the_members_a_golden_record_shows(served: Served) -> None:
    async with client(served.app) as c:
        data(await ask(c, served.keys["admin"], 'query GoldenAudit { person(id: "per:C0") { birthYear } }'))
        data(await ask(c, served.keys["staff"], 'query GoldenAuditStaff { person(id: "per:C0") { birthYear } }'))
    c1 = {e.operation for e in served.audit.read(person="per:C1", limit=1000)}
    c2 = {e.operation for e in served.audit.read(person="per:C2", limit=1000)}
    # The admin saw per:C1's birth year; staff saw per:C2's (per:C1 lives outside their areas).
    assert "GoldenAudit" in c1 and "GoldenAuditStaff" not in c1 and "GoldenAuditStaff" in c2


# Tests that build their own graph come last: on Neo4j a fresh graph is the one shared database, so it
# would replace the module's served world under any test that runs after it.

# --- a split ---------------------------------------------------------------------------------------------


async def test_a_split_brings_the_member_back_in_lists_and_search(graph_backend: Any, search_backend: Any,
                                                                 tmp_path: Path) -> None:
    graph = graph_backend.fresh(tmp_path / "graph")
    index = search_backend.fresh(tmp_path / "search")
    try:
        load_access_world(graph, make_access_world())
        load_cluster(graph)
        projector = SearchProjector(graph, index)
        projector.sync()
        assert index.count() == sum(1 for _ in projector.all_docs())  # members have no document
        app = serve(graph, project(graph, index), tmp_path)
        # Split per:C1 off: its canonical is cleared, its pair kept as pending. The change log reports
        # per:C1 and the pair; the projection must re-project per:C0 without per:C1's values.
        resolve(graph, {"per:C1": None}, [
            RelRecord("SAME_AS", "per:C1", "per:C0", {"probability": 0.98, "weights": WEIGHTS_1, "status": "pending",
                                                       "cluster": ""}, RESOLVE)])
        report = projector.sync()
        assert report.indexed >= 2
        async with client(app.app) as c:
            key = app.keys["admin"]
            listed = data(await ask(c, key, "{ persons(first: 100) { totalCount nodes { id } } }"))["persons"]
            split = data(await ask(c, key, SEARCH, q="Наталья"))["search"]
            golden = data(await ask(c, key, PERSON, id="per:C0"))["person"]
            members = data(await ask(c, key, '{ person(id: "per:C0") { clusterMembers { node { id } } } }'))
        assert {"per:C0", "per:C1"} <= {n["id"] for n in listed["nodes"]} and "per:C2" not in str(listed)
        assert listed["totalCount"] == N_WORLD + 2
        assert [h["id"] for h in split["hits"]] == ["per:C1"]
        assert golden["latinName"] == "Ouyang Nana" and golden["birthYear"] == 1981 and golden["phone"] is None
        assert golden["languages"] == ["zh", "en"]
        assert [m["node"]["id"] for m in members["person"]["clusterMembers"]] == ["per:C2"]
        # The whole cluster split: every record is itself again, in lists and search.
        resolve(graph, {"per:C0": None, "per:C2": None}, [])
        projector.sync()
        async with client(app.app) as c:
            listed = data(await ask(c, key, "{ persons(first: 100) { totalCount } }"))["persons"]
            both = data(await ask(c, key, SEARCH, q="欧阳娜娜"))["search"]
        assert listed["totalCount"] == N_WORLD + 3
        assert sorted(h["id"] for h in both["hits"]) == ["per:C0", "per:C2"]
        # A rebuild agrees with the incremental projection.
        assert projector.rebuild() == index.count() == len(make_access_world().nodes) + 3
    finally:
        search_backend.discard(index)
        graph.close()


# --- no N+1 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "staff"])
async def test_golden_records_of_a_page_cost_one_store_call_per_level(graph_backend: Any, tmp_path: Path,
                                                                      role: str) -> None:
    graph = graph_backend.fresh(tmp_path / "graph")
    try:
        load_access_world(graph, make_access_world())
        n = 15
        ids = [(f"per:K{i:02d}a", f"per:K{i:02d}b") for i in range(n)]
        graph.upsert_nodes([NodeRecord("Person", x, {"name": f"成员{x[-3:]}", "birth_year": 1970 + i,
                                                      "latin_name": f"Member {x[-3:]}"}, source("src", i % 3))
                            for i, pair in enumerate(ids) for x in pair])
        graph.upsert_relationships([RelRecord("LIVES_IN", x, "area:B1" if x.endswith("a") else "area:B2")
                                    for pair in ids for x in pair])
        resolve(graph, {x: a for a, b in ids for x in (a, b)},
                [RelRecord("SAME_AS", b, a, {"probability": 0.9, "weights": "{}", "status": "matched", "cluster": a},
                           RESOLVE) for a, b in ids])
        counting = CountingStore(graph)
        app = serve(counting, None, tmp_path / "data")  # type: ignore[arg-type]
        query = """{ persons(first: 50, where: {name: {startsWith: "成员"}}) { totalCount nodes { id latinName
          birthYear provenance { record } conflicts { property } clusterMembers { node { id birthYear }
          links { status weights } } } } }"""
        async with client(app.app) as c:
            page = data(await ask(c, app.keys[role], query))["persons"]
        assert page["totalCount"] == n and {p["id"] for p in page["nodes"]} == {a for a, _ in ids}
        assert all(p["birthYear"] is not None for p in page["nodes"])
        calls = counting.calls
        # persons (one per cluster inside the store query) + the members of all 15 canonical records;
        # SAME_AS out and in once.
        assert calls["list_nodes"] == 2, calls
        assert calls["facet_counts"] == 0, calls
        assert calls["get_nodes"] == 0, calls
        # admin: SAME_AS out + in. Staff also: their areas' buildings (2 hops) and who of the page lives
        # inside them (the canonical records, and their members once these are loaded: at most two batches).
        assert calls["edges"] <= (2 if role == "admin" else 6), calls
    finally:
        graph.close()
