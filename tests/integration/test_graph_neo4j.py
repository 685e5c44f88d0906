"""Neo4jGraphStore against a real Neo4j (synthetic community data only).

Needs TALENTGRAPH_GRAPH_URL (and _USER/_PASSWORD): `services/up neo4j` starts a server and writes
them to .services/state.env, which `scripts/test` sources. Skipped without it.

The same contract as tests/integration/test_graph_ladybug.py. One server holds one database, so
tests that write start from ``wipe()``; the read tests share one loaded graph, which is reloaded
whenever a test has wiped it since. Where LadybugDB-only behaviour is tested there (COPY bulk path,
one writer process), this file tests what Neo4j has instead: batched statements, many writer
processes sharing one seq counter, and retried transaction functions.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import neo4j
import pytest

from talentgraph.errors import BadQueryError, ConfigError, NotFoundError, StoreError
from talentgraph.graph.neo4j import Neo4jGraphStore
from talentgraph.types import And, Cmp, Filter, NodeRecord, Or, Provenance, RelRecord, SortKey

URL = os.environ.get("TALENTGRAPH_GRAPH_URL", "")
USER = os.environ.get("TALENTGRAPH_GRAPH_USER", "neo4j")
PASSWORD = os.environ.get("TALENTGRAPH_GRAPH_PASSWORD", "")
DATABASE = os.environ.get("TALENTGRAPH_GRAPH_DATABASE", "neo4j")

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(not URL, reason="TALENTGRAPH_GRAPH_URL is not set: run services/up neo4j and source "
                                       ".services/state.env (scripts/test does)"),
]

N = 2000  # LadybugDB's suite uses 5000; every expectation below is derived from N
PROV = Provenance(job="job-test", source="people.csv", row=1, ingested_at="2024-01-01T00:00:00.000Z")


def person(i: int, **extra: object) -> NodeRecord:
    props: dict[str, object] = {
        "name": f"居民{i % 1000:03d}",  # five people share each name: the id tiebreak matters
        "gender": "female" if i % 2 else "male",
        "birth_year": 1950 + i % 50,
        "languages": None if i % 7 == 0 else (["zh", "en"] if i % 2 else ["fr"]),
        "skills": ["python"] if i % 5 == 0 else None,
        "volunteer": i % 3 == 0,
    }
    props.update(extra)
    return NodeRecord("Person", f"per:{i:05d}", props, Provenance(PROV.job, PROV.source, i + 1, PROV.ingested_at))


def people(n: int = N) -> list[NodeRecord]:
    return [person(i) for i in range(n)]


def structure() -> list[NodeRecord]:
    nodes = [NodeRecord("Group", f"grp:{g}", {"name": f"志愿者分队{g}", "kind": "volunteer_branch"}) for g in range(10)]
    nodes.append(NodeRecord("PartyOrganization", "org:1", {"name": "第一支部", "level": "branch",
                                                           "established": "2001-07-01"}))
    nodes.append(NodeRecord("Area", "area:c", {"name": "社区", "level": "community"}))
    nodes += [NodeRecord("Area", f"area:b{b}", {"name": f"{b}号楼", "level": "building"}) for b in range(5)]
    return nodes


def relationships(n: int = N) -> list[RelRecord]:
    rels = [RelRecord("MEMBER_OF", f"per:{i:05d}", f"grp:{i % 10}", {"role": "captain" if i < 10 else "member"})
            for i in range(n)]
    rels += [RelRecord("PART_OF", f"area:b{b}", "area:c") for b in range(5)]
    rels += [RelRecord("LIVES_IN", f"per:{i:05d}", f"area:b{(i // 50) % 5}") for i in range(0, n, 50)]
    rels.append(RelRecord("MEMBER_OF", "per:00001", "org:1", {"role": "secretary", "since": "2020-03-01"}))
    return rels


def open_store(**options: Any) -> Neo4jGraphStore:
    return Neo4jGraphStore(URL, **{"user": USER, "password": PASSWORD, "database": DATABASE, **options})


# What the shared graph looked like right after loading; cleared by every test that wipes.
_loaded: dict[str, float] = {}


@pytest.fixture(scope="module")
def store() -> Iterator[Neo4jGraphStore]:
    s = open_store()
    s.ensure_schema()
    s.ensure_schema()  # idempotent
    yield s
    _loaded.clear()
    s.wipe()  # leave the shared server as empty as we found it
    s.close()


@pytest.fixture()
def graph(store: Neo4jGraphStore) -> Neo4jGraphStore:
    if "seq" not in _loaded:
        store.wipe()
        t0 = time.perf_counter()
        result = store.upsert_nodes(people())
        _loaded["bulk_seconds"] = time.perf_counter() - t0
        assert len(result.inserted) == N and not result.rejected
        assert len(store.upsert_nodes(structure()).inserted) == 17
        rels = store.upsert_relationships(relationships())
        assert not rels.rejected and len(rels.inserted) == len(relationships())
        _loaded["seq"] = store.last_seq()
    return store


@pytest.fixture()
def clean(store: Neo4jGraphStore) -> Neo4jGraphStore:
    _loaded.clear()
    store.wipe()
    assert store.last_seq() == 0 and store.count_nodes("Person") == 0
    return store


@pytest.fixture()
def small(clean: Neo4jGraphStore) -> Neo4jGraphStore:
    clean.upsert_nodes(structure() + [person(i) for i in range(20)])
    clean.upsert_relationships(relationships(20))
    return clean


# --- writes on the shared graph -----------------------------------------------------------------


def test_bulk_insert_writes_nodes_and_one_change_each(graph: Neo4jGraphStore) -> None:
    assert graph.count_nodes("Person") == N
    loaded = int(_loaded["seq"])
    log = graph.changes(0, limit=loaded)
    assert [c.seq for c in log] == list(range(1, loaded + 1))
    assert Counter(c.type for c in log if c.kind == "node")["Person"] == N
    p = graph.get_nodes(["per:00042"])["per:00042"]
    assert p.props["version"] >= 1 and p.props["src_row"] == 43 and p.props["src_file"] == "people.csv"
    assert p.props["ingested_at"] == PROV.ingested_at
    print(f"\nNeo4j: upsert of {N} new persons: {N / _loaded['bulk_seconds']:,.0f} nodes/s")


def test_reupsert_is_unchanged_and_logs_nothing(graph: Neo4jGraphStore) -> None:
    seq = graph.last_seq()
    assert len(graph.upsert_nodes(people()).unchanged) == N
    assert len(graph.upsert_relationships(relationships()).unchanged) == len(relationships())
    assert graph.last_seq() == seq and graph.changes(seq) == []


def test_one_change_bumps_version_and_logs_once(graph: Neo4jGraphStore) -> None:
    seq = graph.last_seq()
    before = graph.get_nodes(["per:00003"])["per:00003"]
    result = graph.upsert_nodes([person(3, bio="喜欢书法"), person(4)])
    assert result.updated == ["per:00003"] and result.unchanged == ["per:00004"]
    after = graph.get_nodes(["per:00003"])["per:00003"]
    assert after.props["version"] == before.props["version"] + 1 and after.props["bio"] == "喜欢书法"
    assert after.props["ingested_at"] == before.props["ingested_at"]
    assert after.props["updated_at"] >= before.props["updated_at"]
    changes = graph.changes(seq)
    assert [(c.op, c.kind, c.id, c.version, c.seq) for c in changes] == [
        ("upsert", "node", "per:00003", after.props["version"], seq + 1)]
    graph.upsert_nodes([person(3)])  # put it back for the read tests


# --- reads on the shared graph ------------------------------------------------------------------


def expected_people(pred: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [r.id for r in people() if pred(r.props)]


def test_pagination_by_name_desc_has_no_gaps_or_duplicates(graph: Neo4jGraphStore) -> None:
    where = And((Cmp("languages", "contains", "fr"), Cmp("birth_year", "lt", 1960)))
    want = sorted(expected_people(lambda p: "fr" in (p["languages"] or []) and p["birth_year"] < 1960))
    want.sort(key=lambda i: [-ord(c) for c in f"居民{int(i[4:]) % 1000:03d}"])  # name desc, id asc within a name
    per_page = len(want) // 3 + 1
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = graph.list_nodes("Person", where=where, sort=[SortKey("name", descending=True)], first=per_page,
                                after=after)
        assert page.total_count == len(want)
        seen += [n.id for n in page.items]
        after = page.end_cursor
    assert not page.has_next_page
    assert seen == want


def test_pagination_with_nulls_and_a_bad_cursor(graph: Neo4jGraphStore) -> None:
    where = Cmp("birth_year", "eq", 1950)
    ids: list[str] = []
    after = None
    while True:
        page = graph.list_nodes("Person", where=where, sort=[SortKey("bio")], first=30, after=after)
        ids += [n.id for n in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert ids == sorted(expected_people(lambda p: p["birth_year"] == 1950))
    with pytest.raises(BadQueryError):
        graph.list_nodes("Person", after="garbage!")


def test_filters_with_list_membership_and_or(graph: Neo4jGraphStore) -> None:
    cases: list[tuple[Filter, Callable[[dict[str, Any]], bool]]] = [
        (Cmp("languages", "eq", "en"), lambda p: "en" in (p["languages"] or [])),
        (Cmp("languages", "in", ["fr", "de"]), lambda p: bool({"fr", "de"} & set(p["languages"] or []))),
        (Or((Cmp("skills", "contains", "python"), And((Cmp("gender", "eq", "female"), Cmp("volunteer", "eq", True))))),
         lambda p: "python" in (p["skills"] or []) or (p["gender"] == "female" and p["volunteer"])),
        (Cmp("languages", "is_null", True), lambda p: p["languages"] is None),
        (Cmp("name", "starts_with", "居民00"), lambda p: p["name"].startswith("居民00")),
        (Cmp("languages", "ne", "fr"), lambda p: "fr" not in (p["languages"] or [])),
    ]
    for f, pred in cases:
        assert graph.count_nodes("Person", f) == len(expected_people(pred)), f


def test_batched_edges_both_directions_with_edge_filter(graph: Neo4jGraphStore) -> None:
    out = graph.edges(["per:00001", "per:00002", "grp:1"], "MEMBER_OF", "out")
    assert [e.to_id for e in out["per:00001"]] == ["grp:1", "org:1"] and out["grp:1"] == []
    assert out["per:00001"][1].props["since"] == "2020-03-01" and out["per:00001"][1].node.type == "PartyOrganization"
    assert out["per:00001"][1].node.props["established"] == "2001-07-01"  # a Neo4j Date read back as ISO text
    captains = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", edge_where=Cmp("role", "eq", "captain"))
    assert [e.node.id for e in captains["grp:1"]] == ["per:00001"]
    assert [e.from_id for e in captains["grp:2"]] == ["per:00002"]
    members = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", where=Cmp("volunteer", "eq", True))
    assert len(members["grp:1"]) == len([i for i in range(1, N, 10) if i % 3 == 0])
    limited = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", limit_per_node=3)
    assert [e.from_id for e in limited["grp:2"]] == ["per:00002", "per:00012", "per:00022"]
    orgs = graph.edges(["per:00001"], "MEMBER_OF", "out", where=Cmp("level", "eq", "branch"))
    assert [e.to_id for e in orgs["per:00001"]] == ["org:1"]
    since = graph.edges(["org:1"], "MEMBER_OF", "in", edge_where=Cmp("since", "lt", "2021-01-01"))
    assert [e.from_id for e in since["org:1"]] == ["per:00001"]


def test_facet_counts_on_a_list_property(graph: Neo4jGraphStore) -> None:
    counts = {f.value: f.count for f in graph.facet_counts("Person", "languages")}
    want = Counter(lang for r in people() for lang in (r.props["languages"] or []))
    assert counts == dict(want)
    volunteers = graph.facet_counts("Person", "gender", Cmp("volunteer", "eq", True))
    assert sum(f.count for f in volunteers) == len(expected_people(lambda p: p["volunteer"]))


def test_shortest_path(graph: Neo4jGraphStore) -> None:
    path = graph.shortest_path("per:00000", "per:00050")
    assert path is not None and path.hops == 2  # both live in building b0
    assert path.nodes[0].id == "per:00000" and path.nodes[-1].id == "per:00050"
    assert {e.type for e in path.edges} <= {"LIVES_IN", "MEMBER_OF"}
    path = graph.shortest_path("per:00011", "org:1")
    assert path is not None and [n.id for n in path.nodes] == ["per:00011", "grp:1", "per:00001", "org:1"]
    assert [(e.from_id, e.to_id) for e in path.edges] == [
        ("per:00011", "grp:1"), ("per:00001", "grp:1"), ("per:00001", "org:1")]
    assert path.edges[2].props["role"] == "secretary" and path.edges[0].node.id == "grp:1"
    assert path.edges[2].props["since"] == "2020-03-01" and path.nodes[3].type == "PartyOrganization"
    assert graph.shortest_path("per:00002", "org:1") is None  # grp:2 members reach no one in org:1
    assert graph.shortest_path("per:00011", "org:1", max_hops=2) is None
    assert graph.shortest_path("per:00001", "per:00001", 6).hops == 0  # type: ignore[union-attr]
    assert graph.shortest_path("per:00001", "per:99999") is None
    assert graph.shortest_path("per:00001", "nope:1") is None


def test_neighbourhood_truncates_at_the_cap(graph: Neo4jGraphStore) -> None:
    whole = graph.neighbourhood("area:b1", 1, 1000)
    assert not whole.truncated
    assert {n.id for n in whole.nodes} == {"area:b1", "area:c"} | {f"per:{i:05d}" for i in range(50, N, 250)}
    cut = graph.neighbourhood("grp:3", 2, 25)
    assert cut.truncated and len(cut.nodes) == 25
    ids = {n.id for n in cut.nodes}
    assert all(e.from_id in ids and e.to_id in ids for e in cut.edges)
    with pytest.raises(NotFoundError):
        graph.neighbourhood("per:99999", 1, 10)


def test_concurrent_reads_while_writing(graph: Neo4jGraphStore) -> None:
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                assert graph.count_nodes("Person") >= N
                assert len(graph.get_nodes([f"per:{i:05d}" for i in range(100)])) == 100
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    seq = graph.last_seq()
    threads = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=lambda k=k: graph.upsert_nodes(
        [NodeRecord("Group", f"grp:t{k}", {"name": f"T{k}", "kind": "culture_team"})])) for k in range(10)]
    for t in threads + writers:
        t.start()
    for t in threads + writers:
        t.join()
    assert errors == []
    # Ten writer threads, one seq counter: ten entries, no gaps, no duplicates.
    assert sorted(c.seq for c in graph.changes(seq)) == list(range(seq + 1, seq + 11))


def test_run_read_and_dialect(graph: Neo4jGraphStore) -> None:
    assert graph.dialect.name == "neo4j"
    rows = graph.run_read("MATCH (n:Person) WHERE n.birth_year = $y RETURN count(n) AS c", {"y": 1950})
    assert rows == [{"c": len(expected_people(lambda p: p["birth_year"] == 1950))}]
    [row] = graph.run_read("MATCH (o:PartyOrganization {id: 'org:1'}) RETURN o, o.established AS d")
    assert row["o"]["_LABEL"] == "PartyOrganization" and row["d"].isoformat() == "2001-07-01"


# --- writes from a clean database ---------------------------------------------------------------


def test_ensure_schema_creates_constraints_and_indexes_from_the_ontology(store: Neo4jGraphStore) -> None:
    def names() -> tuple[set[str], set[str]]:
        constraints = {r["name"] for r in store.run_read("SHOW CONSTRAINTS YIELD name RETURN name")}
        indexes = {r["name"] for r in store.run_read("SHOW INDEXES YIELD name, state WHERE state = 'ONLINE' "
                                                     "RETURN name")}
        return constraints, indexes

    constraints, indexes = names()
    want_constraints = {f"{n}_id" for n in ("person", "group", "party_organization", "area")}
    assert want_constraints | {"change_log_seq", "change_log_counter_name"} <= constraints
    assert {"person_name", "member_of_key", "lives_in_key"} <= indexes
    store.ensure_schema()
    assert names() == (constraints, indexes)


def test_duplicates_in_a_batch_last_wins_and_bad_records_are_rejected(small: Neo4jGraphStore) -> None:
    result = small.upsert_nodes([
        NodeRecord("Person", "per:90000", {"name": "甲"}),
        NodeRecord("Person", "per:90000", {"name": "乙"}),
        NodeRecord("Group", "per:90001", {"name": "x", "kind": "culture_team"}),
        NodeRecord("Person", "per:90002", {"name": "丙", "shoe_size": 42}),
        NodeRecord("Robot", "rob:1", {"name": "R"}),
    ])
    assert result.inserted == ["per:90000"]
    assert small.get_nodes(["per:90000"])["per:90000"].props["name"] == "乙"
    assert "prefix of Person but the record is a Group" in result.rejected["per:90001"]
    assert "no property 'shoe_size'" in result.rejected["per:90002"]
    assert "Unknown node type 'Robot'" in result.rejected["rob:1"]


def test_relationship_rejections_and_updates(small: Neo4jGraphStore) -> None:
    seq = small.last_seq()
    result = small.upsert_relationships([
        RelRecord("MEMBER_OF", "per:00002", "per:00003"),
        RelRecord("MEMBER_OF", "per:00002", "grp:404"),
        RelRecord("MEMBER_OF", "per:00002", "grp:2", {"role": "deputy"}),
        RelRecord("WORKS_AT", "per:00002", "ent:1"),
    ])
    assert "does not connect Person to Person" in result.rejected["per:00002|MEMBER_OF|per:00003"]
    assert "node grp:404 does not exist" in result.rejected["per:00002|MEMBER_OF|grp:404"]
    assert "node ent:1 does not exist" in result.rejected["per:00002|WORKS_AT|ent:1"]
    assert result.updated == ["per:00002|MEMBER_OF|grp:2"]
    edge = small.edges(["per:00002"], "MEMBER_OF", "out")["per:00002"][0]
    assert edge.props["role"] == "deputy" and edge.props["version"] == 2
    assert [(c.kind, c.id, c.from_id, c.to_id) for c in small.changes(seq)] == [
        ("rel", "per:00002|MEMBER_OF|grp:2", "per:00002", "grp:2")]


def test_small_and_large_statements_store_the_same_thing(clean: Neo4jGraphStore) -> None:
    ids = [f"per:{i:05d}" for i in range(0, 120, 7)] + ["org:1", "grp:3"]

    def load(s: Neo4jGraphStore) -> tuple[dict[str, Any], list[Any], list[Any]]:
        s.upsert_nodes(structure() + people(120))
        s.upsert_relationships(relationships(120))
        nodes = {k: {p: v for p, v in n.props.items() if p not in ("ingested_at", "updated_at")}
                 for k, n in s.get_nodes(ids).items()}
        members = [(e.from_id, e.props["role"]) for e in s.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"]]
        return nodes, members, [(c.seq, c.id, c.version) for c in s.changes(0, 10_000)]

    tiny = open_store(batch_rows=7)  # 120 persons in 18 statements, 7 ids per lookup
    try:
        by_seven = load(tiny)
    finally:
        tiny.close()
    clean.wipe()
    whole = load(clean)
    assert by_seven == whole
    assert len(whole[0]) == len(ids) and len(whole[1]) == 12


def test_delete_nodes_writes_tombstones_for_node_and_relationships(small: Neo4jGraphStore) -> None:
    seq = small.last_seq()
    assert small.delete_nodes(["per:00001", "per:99999", "nope:1"]) == 1
    tombstones = small.changes(seq)
    assert {(c.op, c.kind, c.id) for c in tombstones} == {
        ("delete", "rel", "per:00001|MEMBER_OF|grp:1"),
        ("delete", "rel", "per:00001|MEMBER_OF|org:1"),
        ("delete", "node", "per:00001"),
    }
    assert all(c.version == 2 for c in tombstones)
    assert [c.seq for c in tombstones] == [seq + 1, seq + 2, seq + 3]
    assert small.get_nodes(["per:00001"]) == {}
    assert small.edges(["org:1"], "MEMBER_OF", "in")["org:1"] == []
    seq = small.last_seq()
    assert small.delete_relationships(["per:00011|MEMBER_OF|grp:1", "per:00011|MEMBER_OF|grp:9"]) == 1
    assert [(c.op, c.id) for c in small.changes(seq)] == [("delete", "per:00011|MEMBER_OF|grp:1")]
    assert small.delete_nodes([]) == 0 and small.last_seq() == seq + 1


def test_reopen_keeps_seq_monotonic(clean: Neo4jGraphStore) -> None:
    first = open_store()
    first.upsert_nodes(structure())
    last = first.last_seq()
    first.close()
    with pytest.raises(StoreError, match="closed"):
        first.get_nodes(["grp:1"])
    with open_store() as second:
        second.ensure_schema()
        assert second.last_seq() == last == 17
        second.upsert_nodes([NodeRecord("Group", "grp:new", {"name": "新队", "kind": "culture_team"})])
        assert [c.seq for c in second.changes(last - 1)] == [last, last + 1]


def test_ensure_schema_restarts_a_lost_counter_above_the_log(clean: Neo4jGraphStore) -> None:
    clean.upsert_nodes(structure())
    with neo4j.GraphDatabase.driver(URL, auth=(USER, PASSWORD) if PASSWORD else None) as driver:
        driver.execute_query("MATCH (c:ChangeLogCounter) DELETE c", database_=DATABASE)
    assert clean.last_seq() == 0
    clean.ensure_schema()
    assert clean.last_seq() == 17
    clean.upsert_nodes([NodeRecord("Group", "grp:x", {"name": "x", "kind": "culture_team"})])
    assert [c.seq for c in clean.changes(16)] == [17, 18]


def test_a_failed_write_rolls_back_data_and_log(small: Neo4jGraphStore) -> None:
    seq = small.last_seq()
    group = NodeRecord("Group", "grp:77", {"name": "ok", "kind": "culture_team"})
    # Neo4j stores any type in any property, so the adapter refuses what a typed LadybugDB column would.
    with pytest.raises(StoreError, match="birth_year is 'nineteen'.*holds int values"):
        small.upsert_nodes([group, NodeRecord("Person", "per:77777", {"name": "bad", "birth_year": "nineteen"})])
    # The engine itself failing after the Group statement ran: a value too large for the name index.
    with pytest.raises(StoreError, match="too large to index"):
        small.upsert_nodes([group, NodeRecord("Person", "per:77777", {"name": "长" * 20_000})])
    assert small.last_seq() == seq and small.changes(seq) == []
    assert small.get_nodes(["grp:77", "per:77777"]) == {}
    assert small.upsert_nodes([NodeRecord("Group", "grp:78", {"name": "ok", "kind": "culture_team"})]).inserted
    assert small.changes(seq)[0].seq == seq + 1


class RetriedStore(Neo4jGraphStore):
    """Runs every transaction function once in a transaction that is rolled back, then for real.

    That is what the driver does after a transient error (deadlock, leader change): anything a
    function carried over from its first attempt would show up as wrong versions, results or seqs.
    """

    attempts = 0

    def _write(self, doing: str, work: Any, *args: Any) -> Any:
        with self._driver.session(database=self.database) as session:
            tx = session.begin_transaction()
            try:
                work(tx, *args)
                self.attempts += 1
            finally:
                tx.rollback()
        return super()._write(doing, work, *args)


def test_transaction_functions_are_safe_to_retry(clean: Neo4jGraphStore) -> None:
    s = RetriedStore(URL, user=USER, password=PASSWORD, database=DATABASE)
    try:
        first = s.upsert_nodes(structure() + people(20))
        assert len(first.inserted) == 37 and not first.updated
        again = s.upsert_nodes([person(3, bio="书法"), person(4)])
        assert again.updated == ["per:00003"] and again.unchanged == ["per:00004"]
        rels = s.upsert_relationships(relationships(20) + [RelRecord("MEMBER_OF", "per:00002", "grp:404")])
        assert len(rels.inserted) == len(relationships(20)) and list(rels.rejected) == ["per:00002|MEMBER_OF|grp:404"]
        assert s.delete_relationships(["per:00011|MEMBER_OF|grp:1"]) == 1
        assert s.delete_nodes(["per:00005"]) == 1
        assert s.attempts == 5  # one per write call; the wipe in `clean` ran on the plain store
        log = s.changes(0, 10_000)
        assert [c.seq for c in log] == list(range(1, len(log) + 1))
        assert [c.version for c in log if c.id == "per:00003"] == [1, 2]
        assert s.get_nodes(["per:00003"])["per:00003"].props["version"] == 2
        assert [(c.op, c.version) for c in log if c.id == "per:00005"] == [("upsert", 1), ("delete", 2)]
    finally:
        s.close()


def test_writers_in_several_processes_share_one_seq_counter(small: Neo4jGraphStore) -> None:
    """Three processes update one node and add groups at once: versions and seqs stay gapless."""
    seq = small.last_seq()
    script = textwrap.dedent(f"""
        import os, sys
        from talentgraph.graph.neo4j import Neo4jGraphStore
        from talentgraph.types import NodeRecord
        tag = sys.argv[1]
        with Neo4jGraphStore({URL!r}, user={USER!r}, password={PASSWORD!r}, database={DATABASE!r}) as s:
            for k in range(10):
                s.upsert_nodes([NodeRecord("Group", f"grp:{{tag}}{{k}}", {{"name": tag, "kind": "culture_team"}}),
                                NodeRecord("Person", "per:00007", {{"name": "共享", "bio": f"{{tag}}-{{k}}"}})])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tag], stderr=subprocess.PIPE, text=True)
             for tag in ("a", "b", "c")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    log = small.changes(seq, 1000)
    assert [c.seq for c in log] == list(range(seq + 1, seq + 61))
    # Every update saw the one committed before it: the shared node went 1 → 31 without a repeat.
    assert [c.version for c in log if c.id == "per:00007"] == list(range(2, 32))
    assert small.get_nodes(["per:00007"])["per:00007"].props["version"] == 31
    assert small.count_nodes("Group") == 10 + 30


def test_driver_errors_name_the_server_and_the_fix(store: Neo4jGraphStore) -> None:
    with pytest.raises(StoreError, match=r"(?s)bolt://127\.0\.0\.1:1 .*unreachable.*services/up"):
        Neo4jGraphStore("bolt://127.0.0.1:1", user=USER, password=PASSWORD)
    if PASSWORD:
        with pytest.raises(StoreError, match=f"(?s)refused user {USER!r}.*TALENTGRAPH_GRAPH_PASSWORD"):
            Neo4jGraphStore(URL, user=USER, password=PASSWORD + "-wrong")
    with pytest.raises(ConfigError, match="not a Neo4j Bolt URL"):
        Neo4jGraphStore("http://127.0.0.1:7474", user=USER, password=PASSWORD)
    with pytest.raises(ConfigError, match="not a valid Neo4j URL"):
        Neo4jGraphStore("bolt://127.0.0.1:notaport", user=USER, password=PASSWORD)
    with open_store(database="nosuchdb") as wrong_db:
        with pytest.raises(StoreError, match="(?s)no such database.*TALENTGRAPH_GRAPH_DATABASE"):
            wrong_db.count_nodes("Person")
    with pytest.raises(StoreError, match="Neo4j failed on `MATCH"):
        store.run_read("MATCH (n) RETURN n.id +* 1")


# --- measured numbers ---------------------------------------------------------------------------

PERF_N = int(os.environ.get("TALENTGRAPH_NEO4J_PERF_N", "1000"))


def test_upsert_throughput_and_read_latency(clean: Neo4jGraphStore) -> None:
    """Prints upsert rows/s and batched get/edges latency (TALENTGRAPH_NEO4J_PERF_N persons; default 1000)."""
    n = PERF_N
    records = people(n)
    t0 = time.perf_counter()
    assert len(clean.upsert_nodes(records).inserted) == n
    node_rate = n / (time.perf_counter() - t0)
    clean.upsert_nodes(structure())
    rels = [RelRecord("MEMBER_OF", r.id, f"grp:{i % 10}", {"role": "member"}) for i, r in enumerate(records)]
    t0 = time.perf_counter()
    assert len(clean.upsert_relationships(rels).inserted) == n
    rel_rate = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    assert len(clean.upsert_nodes([person(i, bio="更新") for i in range(n)]).updated) == n
    update_rate = n / (time.perf_counter() - t0)

    def latency(call: Any) -> float:
        times = []
        for _ in range(15):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    ids = [f"per:{i:05d}" for i in range(0, n, max(1, n // 100))][:100]
    assert len(clean.get_nodes(ids)) == len(ids)
    assert all(len(v) == 1 for v in clean.edges(ids, "MEMBER_OF", "out").values())
    get_one = latency(lambda: clean.get_nodes(ids[:1]))
    get_100 = latency(lambda: clean.get_nodes(ids))
    edges_100 = latency(lambda: clean.edges(ids, "MEMBER_OF", "out"))
    members = latency(lambda: clean.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", limit_per_node=20))
    print(f"\nNeo4j, {n} persons: insert {node_rate:,.0f} nodes/s, update {update_rate:,.0f} nodes/s, "
          f"MEMBER_OF insert {rel_rate:,.0f} rels/s; median get_nodes 1 id {get_one:.1f} ms, 100 ids {get_100:.1f} ms; "
          f"edges 100 ids {edges_100:.1f} ms; 2 groups x 20 members {members:.1f} ms")
