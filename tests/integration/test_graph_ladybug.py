"""LadybugGraphStore over real database files in tmp_path (synthetic community data only)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import ladybug as lb
import pytest

from talentgraph.errors import BadQueryError, NotFoundError, StoreBusyError
from talentgraph.graph.ladybug import LadybugGraphStore
from talentgraph.types import And, Cmp, NodeRecord, Or, Provenance, RelRecord, SortKey

N = 5000
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


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory):
    store = LadybugGraphStore(tmp_path_factory.mktemp("graph") / "g")
    store.ensure_schema()
    store.ensure_schema()  # idempotent
    t0 = time.perf_counter()
    result = store.upsert_nodes(people())
    store.bulk_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    assert len(result.inserted) == N and not result.rejected
    assert len(store.upsert_nodes(structure()).inserted) == 17
    rels = store.upsert_relationships(relationships())
    assert not rels.rejected and len(rels.inserted) == len(relationships())
    yield store
    store.close()


@pytest.fixture()
def small(tmp_path: Path):
    store = LadybugGraphStore(tmp_path / "g")
    store.ensure_schema()
    store.upsert_nodes(structure() + [person(i) for i in range(20)])
    store.upsert_relationships([r for r in relationships(20)])
    yield store
    store.close()


# --- writes -------------------------------------------------------------------------------------


def test_bulk_insert_writes_nodes_and_one_change_each(graph: LadybugGraphStore):
    assert graph.count_nodes("Person") == N
    log = graph.changes(0, limit=N + 100)
    assert [c.seq for c in log] == list(range(1, len(log) + 1))
    assert Counter(c.type for c in log if c.kind == "node")["Person"] == N
    p = graph.get_nodes(["per:00042"])["per:00042"]
    assert p.props["version"] == 1 and p.props["src_row"] == 43 and p.props["src_file"] == "people.csv"
    assert p.props["ingested_at"] == PROV.ingested_at
    print(f"\nbulk upsert of {N} new persons: {N / graph.bulk_seconds:,.0f} nodes/s")  # type: ignore[attr-defined]


def test_reupsert_is_unchanged_and_logs_nothing(graph: LadybugGraphStore):
    seq = graph.last_seq()
    assert len(graph.upsert_nodes(people()).unchanged) == N
    assert len(graph.upsert_relationships(relationships()).unchanged) == len(relationships())
    assert graph.last_seq() == seq and graph.changes(seq) == []


def test_one_change_bumps_version_and_logs_once(graph: LadybugGraphStore):
    seq = graph.last_seq()
    before = graph.get_nodes(["per:00003"])["per:00003"]
    result = graph.upsert_nodes([person(3, bio="喜欢书法"), person(4)])
    assert result.updated == ["per:00003"] and result.unchanged == ["per:00004"]
    after = graph.get_nodes(["per:00003"])["per:00003"]
    assert after.props["version"] == 2 and after.props["bio"] == "喜欢书法"
    assert after.props["ingested_at"] == before.props["ingested_at"]
    assert after.props["updated_at"] >= before.props["updated_at"]
    changes = graph.changes(seq)
    assert [(c.op, c.kind, c.id, c.version, c.seq) for c in changes] == [("upsert", "node", "per:00003", 2, seq + 1)]
    graph.upsert_nodes([person(3)])  # put it back for the read tests


def test_duplicates_in_a_batch_last_wins_and_bad_records_are_rejected(small: LadybugGraphStore):
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


def test_relationship_rejections_and_updates(small: LadybugGraphStore):
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


def test_small_and_bulk_paths_store_the_same_thing(tmp_path: Path):
    bulk, unwind = LadybugGraphStore(tmp_path / "bulk"), LadybugGraphStore(tmp_path / "unwind", copy_threshold=10**9)
    try:
        for store in (bulk, unwind):
            store.ensure_schema()
            store.upsert_nodes(structure() + people(300))
            store.upsert_relationships(relationships(300))
        ids = [f"per:{i:05d}" for i in range(0, 300, 7)] + ["org:1", "grp:3"]

        def strip(nodes: dict) -> dict:
            return {k: {p: v for p, v in n.props.items() if p not in ("ingested_at", "updated_at")}
                    for k, n in nodes.items()}

        assert strip(bulk.get_nodes(ids)) == strip(unwind.get_nodes(ids))
        b = bulk.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"]
        u = unwind.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"]
        assert [(e.from_id, e.props["role"]) for e in b] == [(e.from_id, e.props["role"]) for e in u]
        assert len(b) == 30
        assert [c.id for c in bulk.changes(0, 10_000)] == [c.id for c in unwind.changes(0, 10_000)]
    finally:
        bulk.close()
        unwind.close()


def test_delete_nodes_writes_tombstones_for_node_and_relationships(small: LadybugGraphStore):
    seq = small.last_seq()
    assert small.delete_nodes(["per:00001", "per:99999"]) == 1
    tombstones = small.changes(seq)
    assert {(c.op, c.kind, c.id) for c in tombstones} == {
        ("delete", "rel", "per:00001|MEMBER_OF|grp:1"),
        ("delete", "rel", "per:00001|MEMBER_OF|org:1"),
        ("delete", "node", "per:00001"),
    }
    assert all(c.version == 2 for c in tombstones)
    assert small.get_nodes(["per:00001"]) == {}
    assert small.edges(["org:1"], "MEMBER_OF", "in")["org:1"] == []
    seq = small.last_seq()
    assert small.delete_relationships(["per:00011|MEMBER_OF|grp:1", "per:00011|MEMBER_OF|grp:9"]) == 1
    assert [(c.op, c.id) for c in small.changes(seq)] == [("delete", "per:00011|MEMBER_OF|grp:1")]
    assert small.delete_nodes([]) == 0 and small.last_seq() == seq + 1


def test_reopen_keeps_seq_monotonic(tmp_path: Path):
    store = LadybugGraphStore(tmp_path / "g")
    store.ensure_schema()
    store.upsert_nodes(structure())
    last = store.last_seq()
    store.close()
    store = LadybugGraphStore(tmp_path / "g")
    try:
        store.ensure_schema()
        assert store.last_seq() == last == 17
        store.upsert_nodes([NodeRecord("Group", "grp:new", {"name": "新队", "kind": "culture_team"})])
        assert [c.seq for c in store.changes(last - 1)] == [last, last + 1]
    finally:
        store.close()


def test_a_failed_write_rolls_back_data_and_log(small: LadybugGraphStore):
    seq = small.last_seq()
    with pytest.raises(Exception):
        # A text value in an integer column fails inside the transaction, after the first type was written.
        small.upsert_nodes([NodeRecord("Group", "grp:77", {"name": "ok", "kind": "culture_team"}),
                            NodeRecord("Person", "per:77777", {"name": "bad", "birth_year": "nineteen"})])
    assert small.last_seq() == seq and small.changes(seq) == []
    assert small.get_nodes(["grp:77"]) == {}
    assert small.upsert_nodes([NodeRecord("Group", "grp:78", {"name": "ok", "kind": "culture_team"})]).inserted
    assert small.changes(seq)[0].seq == seq + 1


# --- reads --------------------------------------------------------------------------------------


def expected_people(pred) -> list[str]:
    return [r.id for r in people() if pred(r.props)]


def test_pagination_by_name_desc_has_no_gaps_or_duplicates(graph: LadybugGraphStore):
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


def test_pagination_with_nulls_and_a_bad_cursor(graph: LadybugGraphStore):
    # Sort on a mostly-null field: every row must still appear exactly once.
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


def test_filters_with_list_membership_and_or(graph: LadybugGraphStore):
    cases = [
        (Cmp("languages", "eq", "en"), lambda p: "en" in (p["languages"] or [])),
        (Cmp("languages", "in", ["fr", "de"]), lambda p: bool({"fr", "de"} & set(p["languages"] or []))),
        (Or((Cmp("skills", "contains", "python"), And((Cmp("gender", "eq", "female"), Cmp("volunteer", "eq", True))))),
         lambda p: "python" in (p["skills"] or []) or (p["gender"] == "female" and p["volunteer"])),
        (Cmp("languages", "is_null", True), lambda p: p["languages"] is None),
        (Cmp("name", "starts_with", "居民00"), lambda p: p["name"].startswith("居民00")),
    ]
    for f, pred in cases:
        assert graph.count_nodes("Person", f) == len(expected_people(pred)), f


def test_batched_edges_both_directions_with_edge_filter(graph: LadybugGraphStore):
    out = graph.edges(["per:00001", "per:00002", "grp:1"], "MEMBER_OF", "out")
    assert [e.to_id for e in out["per:00001"]] == ["grp:1", "org:1"] and out["grp:1"] == []
    assert out["per:00001"][1].props["since"] == "2020-03-01" and out["per:00001"][1].node.type == "PartyOrganization"
    captains = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", edge_where=Cmp("role", "eq", "captain"))
    assert [e.node.id for e in captains["grp:1"]] == ["per:00001"]
    assert [e.from_id for e in captains["grp:2"]] == ["per:00002"]
    members = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", where=Cmp("volunteer", "eq", True))
    assert len(members["grp:1"]) == len([i for i in range(1, N, 10) if i % 3 == 0])
    limited = graph.edges(["grp:1", "grp:2"], "MEMBER_OF", "in", limit_per_node=3)
    assert [e.from_id for e in limited["grp:2"]] == ["per:00002", "per:00012", "per:00022"]
    orgs = graph.edges(["per:00001"], "MEMBER_OF", "out", where=Cmp("level", "eq", "branch"))
    assert [e.to_id for e in orgs["per:00001"]] == ["org:1"]


def test_facet_counts_on_a_list_property(graph: LadybugGraphStore):
    counts = {f.value: f.count for f in graph.facet_counts("Person", "languages")}
    want = Counter(lang for r in people() for lang in (r.props["languages"] or []))
    assert counts == dict(want)
    volunteers = graph.facet_counts("Person", "gender", Cmp("volunteer", "eq", True))
    assert sum(f.count for f in volunteers) == len(expected_people(lambda p: p["volunteer"]))


def test_shortest_path(graph: LadybugGraphStore):
    path = graph.shortest_path("per:00000", "per:00050")
    assert path is not None and path.hops == 2  # both live in building b0
    assert path.nodes[0].id == "per:00000" and path.nodes[-1].id == "per:00050"
    assert {e.type for e in path.edges} <= {"LIVES_IN", "MEMBER_OF"}
    path = graph.shortest_path("per:00011", "org:1")
    assert path is not None and [n.id for n in path.nodes] == ["per:00011", "grp:1", "per:00001", "org:1"]
    assert [(e.from_id, e.to_id) for e in path.edges] == [
        ("per:00011", "grp:1"), ("per:00001", "grp:1"), ("per:00001", "org:1")]
    assert path.edges[2].props["role"] == "secretary" and path.edges[0].node.id == "grp:1"
    assert graph.shortest_path("per:00002", "org:1") is None  # grp:2 members reach no one in org:1
    assert graph.shortest_path("per:00011", "org:1", max_hops=2) is None
    assert graph.shortest_path("per:00001", "per:00001", 6).hops == 0  # type: ignore[union-attr]
    assert graph.shortest_path("per:00001", "per:99999") is None


def test_neighbourhood_truncates_at_the_cap(graph: LadybugGraphStore):
    whole = graph.neighbourhood("area:b1", 1, 1000)
    assert not whole.truncated
    assert {n.id for n in whole.nodes} == {"area:b1", "area:c"} | {f"per:{i:05d}" for i in range(50, N, 250)}
    cut = graph.neighbourhood("grp:3", 2, 25)
    assert cut.truncated and len(cut.nodes) == 25
    ids = {n.id for n in cut.nodes}
    assert all(e.from_id in ids and e.to_id in ids for e in cut.edges)
    with pytest.raises(NotFoundError):
        graph.neighbourhood("per:99999", 1, 10)


def test_concurrent_reads_while_writing(graph: LadybugGraphStore):
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                assert graph.count_nodes("Person") >= N
                assert len(graph.get_nodes([f"per:{i:05d}" for i in range(100)])) == 100
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for k in range(10):
        graph.upsert_nodes([NodeRecord("Group", f"grp:t{k}", {"name": f"T{k}", "kind": "culture_team"})])
    for t in threads:
        t.join()
    assert errors == []


# --- one writer process -------------------------------------------------------------------------


def test_a_second_process_gets_a_clear_busy_error(small: LadybugGraphStore):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from talentgraph.errors import StoreBusyError
        from talentgraph.graph.ladybug import LadybugGraphStore
        try:
            LadybugGraphStore(Path({str(small.path)!r}))
        except StoreBusyError as exc:
            print(exc)
        else:
            print("OPENED")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert f"in use by another process (pid {os.getpid()}" in run.stdout
    assert f"stop `talentgraph serve` (pid {os.getpid()})".lower() in run.stdout.lower()
    assert "--server URL" in run.stdout
    # The first process is unaffected.
    assert small.upsert_nodes([NodeRecord("Group", "grp:after", {"name": "后", "kind": "culture_team"})]).inserted
    with pytest.raises(StoreBusyError):
        LadybugGraphStore(small.path)  # also within one process


def test_raw_copy_baseline(tmp_path: Path, graph: LadybugGraphStore):
    """Prints raw COPY throughput for the same Arrow rows the store builds (for the report)."""
    from talentgraph.graph.common import node_row

    nt = graph.ontology.node("Person")
    rows = [node_row(nt, r.id, r.props, {"version": 1}) for r in people()]
    table = graph._arrow("Person", rows)
    db = lb.Database(str(tmp_path / "raw.lbdb"))
    conn = lb.Connection(db)
    try:
        for statement in graph.dialect.schema(graph.ontology)[:1]:
            conn.execute(statement)
        t0 = time.perf_counter()
        conn.execute("COPY `Person` FROM $t", {"t": table})
        seconds = time.perf_counter() - t0
        assert conn.execute("MATCH (n:`Person`) RETURN count(n)").get_next() == [N]  # type: ignore[union-attr]
        print(f"\nraw COPY of the same {N} rows: {N / seconds:,.0f} rows/s")
    finally:
        conn.close()
        db.close()
