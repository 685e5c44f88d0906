"""What only the Neo4j store has: constraints and indexes, batched statements, a value checked before
the engine (Neo4j stores any type anywhere), a counter that can be lost, writers in many processes
sharing one seq counter, transaction functions retried by the driver, and driver errors. The
GraphStore contract itself is in test_graph_contract.py.

Needs a running Neo4j (services/up; scripts/test sources .services/state.env); skipped otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from conftest import ENGINE_ENV, Neo4jBackend, neo4j_settings
from graph_world import expected_people, load_small, people, person, relationships, structure

from talentgraph.config import Settings
from talentgraph.errors import ConfigError, StoreError
from talentgraph.graph import claims as graph_claims
from talentgraph.access.policy import POLICY
from talentgraph.feed.changes import ChangeFeed
from talentgraph.graph.neo4j import Neo4jGraphStore
from talentgraph.graph.neo4j import store as neo4j_store
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import NodeRecord, RelRecord

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def settings() -> Settings:
    return neo4j_settings()


def open_store(s: Settings, **options: Any) -> Neo4jGraphStore:
    return Neo4jGraphStore(s.graph_url, **{"user": s.graph_user, "password": s.graph_password,
                                           "database": s.graph_database, **options})


@pytest.fixture()
def clean(settings: Settings, tmp_path: Path) -> Iterator[Neo4jGraphStore]:
    store = Neo4jBackend().fresh(tmp_path)
    assert isinstance(store, Neo4jGraphStore)
    yield store
    store.close()


@pytest.fixture()
def small(clean: Neo4jGraphStore) -> Neo4jGraphStore:
    load_small(clean)
    return clean


def test_ensure_schema_creates_constraints_and_indexes_from_the_ontology(clean: Neo4jGraphStore) -> None:
    def names() -> tuple[set[str], set[str]]:
        constraints = {r["name"] for r in clean.run_read("SHOW CONSTRAINTS YIELD name RETURN name")}
        indexes = {r["name"] for r in clean.run_read("SHOW INDEXES YIELD name, state WHERE state = 'ONLINE' "
                                                     "RETURN name")}
        return constraints, indexes

    constraints, indexes = names()
    want_constraints = {f"{n}_id" for n in ("person", "group", "party_organization", "area")}
    assert want_constraints | {"change_log_seq", "change_log_counter_name"} <= constraints
    assert {"person_name", "person_gender"} <= indexes
    # No range index on a list facet (none answers a filter) or on a relationship key (none is read by key).
    assert not {"person_languages", "person_skills", "member_of_key", "lives_in_key"} & indexes
    clean.ensure_schema()
    assert names() == (constraints, indexes)


def test_ensure_schema_drops_the_indexes_an_earlier_version_made(clean: Neo4jGraphStore) -> None:
    with clean._driver.session(database=clean.database) as session:
        session.run("CREATE INDEX person_languages IF NOT EXISTS FOR (n:`Person`) ON (n.`languages`)").consume()
        session.run("CREATE INDEX lives_in_key IF NOT EXISTS FOR ()-[r:`LIVES_IN`]-() ON (r.`key`)").consume()
    old = "SHOW INDEXES YIELD name WHERE name IN ['person_languages', 'lives_in_key'] RETURN name"
    assert len(clean.run_read(old)) == 2
    clean.ensure_schema()
    assert clean.run_read(old) == []


def test_run_read_and_dialect(small: Neo4jGraphStore) -> None:
    assert small.dialect.name == "neo4j"
    rows = small.run_read("MATCH (n:Person) WHERE n.birth_year = $y RETURN count(n) AS c", {"y": 1950})
    assert rows == [{"c": len(expected_people(20, lambda p: p["birth_year"] == 1950))}]
    [row] = small.run_read("MATCH (o:PartyOrganization {id: 'org:1'}) RETURN o, o.established AS d")
    assert row["o"]["_LABEL"] == "PartyOrganization" and row["d"].isoformat() == "2001-07-01"


def test_small_and_large_statements_store_the_same_thing(clean: Neo4jGraphStore, settings: Settings) -> None:
    ids = [f"per:{i:05d}" for i in range(0, 120, 7)] + ["org:1", "grp:3"]

    def load(s: Neo4jGraphStore) -> tuple[dict[str, Any], list[Any], list[Any]]:
        s.upsert_nodes(structure() + people(120))
        s.upsert_relationships(relationships(120))
        # Times differ between the two loads: when each wrote, and so each claim's write time.
        def claims(props: dict[str, Any]) -> Any:
            return {p: [{k: v for k, v in c.items() if k != "t"} for c in cs]
                    for p, cs in graph_claims.load(props, []).items()}

        nodes = {k: {p: claims(n.props) if p == "prov" else v for p, v in n.props.items()
                     if p not in ("ingested_at", "updated_at")}
                 for k, n in s.get_nodes(ids).items()}
        members = [(e.from_id, e.props["role"]) for e in s.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"]]
        return nodes, members, [(c.seq, c.id, c.version) for c in s.changes(0, 10_000)]

    tiny = open_store(settings, batch_rows=7)  # 120 persons in 18 statements, 7 ids per lookup
    try:
        by_seven = load(tiny)
    finally:
        tiny.close()
    Neo4jBackend().wipe(clean)
    whole = load(clean)
    assert by_seven == whole
    assert len(whole[0]) == len(ids) and len(whole[1]) == 12


def test_the_drivers_debug_log_names_a_batch_by_its_size_not_its_rows(clean: Neo4jGraphStore,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    # The driver formats every statement's parameters for its debug log; a batch's rows are residents' data.
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        clean.upsert_nodes(structure() + [person(i, name=f"调试日志{i}") for i in range(40)])
    runs = [r.getMessage() for r in caplog.records if " C: RUN " in r.getMessage()]
    assert runs and not any("调试日志" in m for m in runs)
    assert any("<40 values>" in m for m in runs)  # the Person batch, named by its size
    assert clean.get_nodes(["per:00007"])["per:00007"].props["name"] == "调试日志7"


def test_ensure_schema_restarts_a_lost_counter_above_the_log(clean: Neo4jGraphStore, settings: Settings) -> None:
    clean.upsert_nodes(structure())
    auth = (settings.graph_user, settings.graph_password) if settings.graph_password else None
    with neo4j.GraphDatabase.driver(settings.graph_url, auth=auth) as driver:
        driver.execute_query("MATCH (c:ChangeLogCounter) DELETE c", database_=settings.graph_database)
    assert clean.last_seq() == 0
    clean.ensure_schema()
    assert clean.last_seq() == 17
    clean.upsert_nodes([NodeRecord("Group", "grp:x", {"name": "x", "kind": "culture_team"})])
    assert [c.seq for c in clean.changes(16)] == [17, 18]


def test_a_commit_seen_in_part_is_not_stepped_over(clean: Neo4jGraphStore, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads are read-committed and a commit is applied record by record, so a reader can see a commit's
    counter before all of its change-log entries. Forced here by hiding two of a commit's three entries
    (as a reader can find them mid-apply): the log, search sync's reads and the feed stop before that
    commit, and take all of it once it is visible."""
    monkeypatch.setattr(neo4j_store, "SETTLE_WAIT", 0.05)
    view = POLICY.view("admin")
    feed = ChangeFeed(clean, ONTOLOGY, dt.timedelta(days=1))
    clean.upsert_nodes(structure())
    cursor = feed.page(view, None, first=500).cursor  # a snapshot: consistent at the head
    before = clean.last_seq()
    assert cursor.seq == before
    clean.upsert_nodes([NodeRecord("Group", f"grp:{n}", {"name": f"g{n}", "kind": "culture_team"})
                        for n in (81, 82, 83)])
    auth = (settings.graph_user, settings.graph_password) if settings.graph_password else None
    with neo4j.GraphDatabase.driver(settings.graph_url, auth=auth) as driver:
        hidden = driver.execute_query(
            "MATCH (x:ChangeLog) WHERE x.seq IN $seqs WITH x, properties(x) AS p DELETE x RETURN p",
            seqs=[before + 1, before + 2], database_=settings.graph_database).records
        assert len(hidden) == 2
        assert clean.last_seq() == before
        assert [c.seq for c in clean.changes(before - 1)] == [before]
        page = feed.page(view, cursor, first=100)
        assert page.events == [] and page.cursor.seq == before
        # The commit becomes visible in full: everything it wrote comes, once.
        driver.execute_query("UNWIND $rows AS p CREATE (x:ChangeLog) SET x = p",
                             rows=[r["p"] for r in hidden], database_=settings.graph_database)
    assert clean.last_seq() == before + 3
    assert [c.id for c in clean.changes(before)] == ["grp:81", "grp:82", "grp:83"]
    page = feed.page(view, page.cursor, first=100)
    assert [e.id for e in page.events] == ["grp:81", "grp:82", "grp:83"] and page.cursor.seq == before + 3


def test_pruning_leaves_the_head_settled(clean: Neo4jGraphStore) -> None:
    """A prune deleting entries of the newest writing transaction must not leave a range that can never be
    complete (the head would stick below it)."""
    clean.upsert_nodes([NodeRecord("Group", f"grp:{n}", {"name": "g", "kind": "culture_team"}) for n in (90, 91)])
    clean.delete_nodes(["grp:90", "grp:91"])  # one transaction, two tombstones (seqs 3 and 4)
    head = clean.last_seq()
    assert head == 4
    # Everything but the newest entry: both upserts are superseded, the first tombstone is past retention.
    assert clean.prune_changes("9999-01-01T00:00:00Z", head) == 3
    started = time.monotonic()
    assert clean.last_seq() == head and time.monotonic() - started < neo4j_store.SETTLE_WAIT


def test_values_are_checked_before_the_engine_and_engine_failures_roll_back(small: Neo4jGraphStore) -> None:
    seq = small.last_seq()
    group = NodeRecord("Group", "grp:77", {"name": "ok", "kind": "culture_team"})
    # Neo4j stores any type in any property, so the adapter refuses what a typed LadybugDB column would.
    with pytest.raises(StoreError, match="birth_year is 'nineteen'.*holds int values"):
        small.upsert_nodes([group, NodeRecord("Person", "per:77777", {"name": "bad", "birth_year": "nineteen"})])
    # The engine itself failing after the Group statement ran: a value too large for the name index.
    # The engine's own message stays chained (and in the debug log), never in what a client could be shown.
    with pytest.raises(StoreError, match="Neo4j failed running a query") as failed:
        small.upsert_nodes([group, NodeRecord("Person", "per:77777", {"name": "长" * 20_000})])
    assert "too large to index" in str(failed.value.__cause__) and "MERGE" not in failed.value.message
    assert small.last_seq() == seq and small.changes(seq) == []
    assert small.get_nodes(["grp:77", "per:77777"]) == {}


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


def test_transaction_functions_are_safe_to_retry(clean: Neo4jGraphStore, settings: Settings) -> None:
    s = RetriedStore(settings.graph_url, user=settings.graph_user, password=settings.graph_password,
                     database=settings.graph_database)
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


class _FlakySessions:
    """The real driver, whose next ``fails`` sessions raise ``error`` on their first statement."""

    def __init__(self, driver: Any, fails: int, error: Exception) -> None:
        self._driver, self.fails, self.error, self.sessions = driver, fails, error, 0

    def session(self, **options: Any) -> Any:
        self.sessions += 1
        session = self._driver.session(**options)
        if self.fails > 0:
            self.fails -= 1

            def run(*args: Any, **kwargs: Any) -> Any:
                raise self.error

            session.run = run
        return session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def test_a_read_is_one_auto_commit_statement_retried_on_transient_errors(small: Neo4jGraphStore,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = small._driver
    monkeypatch.setattr(neo4j_store, "READ_RETRY_FIRST_S", 0.01)
    flaky = _FlakySessions(real, 2, neo4j.exceptions.TransientError("the server is busy"))
    monkeypatch.setattr(small, "_driver", flaky)
    assert small.get_nodes(["per:00001"])["per:00001"].props["name"] == person(1).props["name"]
    assert flaky.sessions == 3 and flaky.fails == 0  # two failures, then the answer
    # Not retried: an error a retry cannot mend, and a transient one past the retry window.
    flaky = _FlakySessions(real, 1, neo4j.exceptions.ClientError("no such thing"))
    monkeypatch.setattr(small, "_driver", flaky)
    with pytest.raises(StoreError, match=r"Neo4j failed running a query"):
        small.get_nodes(["per:00001"])
    assert flaky.sessions == 1
    monkeypatch.setattr(neo4j_store, "READ_RETRY_S", 0.0)
    flaky = _FlakySessions(real, 5, neo4j.exceptions.TransientError("still busy"))
    monkeypatch.setattr(small, "_driver", flaky)
    with pytest.raises(StoreError, match="kept failing with a transient error while reading the graph"):
        small.get_nodes(["per:00001"])
    assert flaky.sessions == 1
    monkeypatch.setattr(small, "_driver", real)
    assert small.get_nodes(["per:00001"])["per:00001"].id == "per:00001"


def test_writers_in_several_processes_share_one_seq_counter(small: Neo4jGraphStore, settings: Settings) -> None:
    """Three processes update one node and add groups at once: versions and seqs stay gapless."""
    seq = small.last_seq()
    script = textwrap.dedent(f"""
        import os, sys
        from talentgraph.graph.neo4j import Neo4jGraphStore
        from talentgraph.types import NodeRecord
        tag = sys.argv[1]
        with Neo4jGraphStore({settings.graph_url!r}, user={settings.graph_user!r},
                             password={settings.graph_password!r}, database={settings.graph_database!r}) as s:
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


def test_driver_errors_name_the_server_and_the_fix(clean: Neo4jGraphStore, settings: Settings) -> None:
    user, password = settings.graph_user, settings.graph_password
    with pytest.raises(StoreError, match=r"(?s)bolt://127\.0\.0\.1:1 .*unreachable.*services/up"):
        Neo4jGraphStore("bolt://127.0.0.1:1", user=user, password=password)
    if password:
        with pytest.raises(StoreError, match=f"(?s)refused user {user!r}.*TALENTGRAPH_GRAPH_PASSWORD"):
            Neo4jGraphStore(settings.graph_url, user=user, password=password + "-wrong")
    with pytest.raises(ConfigError, match="not a Neo4j Bolt URL"):
        Neo4jGraphStore("http://127.0.0.1:7474", user=user, password=password)
    with pytest.raises(ConfigError, match="not a valid Neo4j URL"):
        Neo4jGraphStore("bolt://127.0.0.1:notaport", user=user, password=password)
    with open_store(settings, database="nosuchdb") as wrong_db:
        with pytest.raises(StoreError, match="(?s)no such database.*TALENTGRAPH_GRAPH_DATABASE"):
            wrong_db.count_nodes("Person")
    with pytest.raises(StoreError, match=r"Neo4j failed running a query \(Neo\.ClientError\.Statement\.Syntax") as bad:
        clean.run_read("MATCH (n) RETURN n.id +* 1")
    assert "MATCH" not in str(bad.value)  # the query stays in the log, out of messages clients may see


# --- measured numbers ---------------------------------------------------------------------------

PERF_N = int(ENGINE_ENV.get("TALENTGRAPH_NEO4J_PERF_N", "1000"))


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


def test_relationship_writes_never_scan_the_key_index(small: Neo4jGraphStore) -> None:
    """A relationship is merged between its two ends. With its key in the MERGE pattern Neo4j planned a scan of
    the key index per row while the type held few relationships, and kept that plan cached: 4,319 party members
    took 15.7 s instead of 0.3 s in the 50k demo ingest."""
    from talentgraph.graph import cypher

    def operators(plan: Any) -> list[str]:
        return [plan["operatorType"], *(op for child in plan.get("children", []) for op in operators(child))]

    for rel_type, ends in (("MEMBER_OF", ("Person", "PartyOrganization")), ("MEMBER_OF", ("Person", "Group")),
                           ("LIVES_IN", ("Person", "Area"))):
        text = cypher.upsert_rels(cypher.NEO4J, ONTOLOGY, rel_type, *ends)
        rows = [{"from_id": "per:00001", "to_id": "x", "key": "k", **{p.name: None for p in cypher.rel_columns(
            ONTOLOGY.rel(rel_type))}}]
        with small._driver.session(database=small.database) as session:
            plan = session.run("EXPLAIN " + text, {"rows": rows}).consume().plan
        ops = operators(plan)
        assert "Expand(Into)" in " ".join(ops), (rel_type, ends, ops)
        assert not [op for op in ops if "RelationshipIndex" in op], (rel_type, ends, ops)
        # What the write reads first, and deletes, start from the start node (a seek by key would do too).
        reads = ((cypher.existing_rels(cypher.NEO4J, ONTOLOGY, rel_type, ends[0]), {"ids": ["per:00001"]}),
                 *((d, {"rows": [{"from_id": "per:00001", "to_id": "x", "key": "k"}]})
                   for d in cypher.delete_rels(cypher.NEO4J, ONTOLOGY, rel_type, ends[0])))
        for read, params in reads:
            with small._driver.session(database=small.database) as session:
                ops = operators(session.run("EXPLAIN " + read, params).consume().plan)
            assert not [op for op in ops if "RelationshipIndexScan" in op], (read, ops)


def test_every_match_by_id_is_a_seek_in_the_id_index(small: Neo4jGraphStore) -> None:
    """Each statement that matches a node by id carries ``USING INDEX SEEK`` (``Neo4jDialect.id_seek``): Neo4j
    accepts it there, and the node is sought in its unique id index, never found by scanning that index."""
    from talentgraph.graph import cypher
    from tests.statements import matches_by_id

    def operators(plan: Any) -> list[str]:
        return [f"{plan['operatorType']} {plan.get('args', {}).get('Details', '')}",
                *(op for child in plan.get("children", []) for op in operators(child))]

    for text in matches_by_id(cypher.NEO4J):
        with small._driver.session(database=small.database) as session:
            ops = operators(session.run("EXPLAIN " + text).consume().plan)
        assert any(op.startswith("NodeUniqueIndexSeek") for op in ops), (text, ops)
        assert not [op for op in ops if op.startswith("NodeIndexScan") and "(id)" in op], (text, ops)


def test_bulk_reads_packed_many_rows_to_a_record_answer_as_read_row_by_row(
        clean: Neo4jGraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packed two rows to a Bolt record (so every answer spans many records), one to a record, and unpacked: the
    same rows in the same order — keyset pages, sorted pages, walks, the change log."""
    from talentgraph.graph.neo4j import packing
    from talentgraph.types import SortKey

    clean.upsert_nodes(structure() + people(57))
    clean.upsert_relationships(relationships(57))
    ids = [f"per:{i:05d}" for i in range(57)]

    def reads() -> list[Any]:
        pages, after = [], None
        while True:
            page = clean.scan_nodes("Person", after, 10, fields=["name", "languages"])
            pages.append([(i, n.props) for i, n in page.items])
            if page.next is None:
                break
            after = page.next
        listed, cursor = [], None
        for _ in range(4):
            p = clean.list_nodes("Person", sort=[SortKey("name", descending=True)], first=15, after=cursor, count=True)
            listed.append(([n.id for n in p.items], p.total_count))
            cursor = p.end_cursor
        links = clean.links(ids, "MEMBER_OF", "out", far_prop="kind")
        edges = clean.edges(["grp:3", "grp:4"], "MEMBER_OF", "in", far_props=["name"], rel_props=["role"])
        return [pages, listed, {k: sorted(v) for k, v in links.items()},
                {k: [(e.from_id, e.to_id, e.props) for e in v] for k, v in edges.items()},
                [(c.seq, c.id, c.op) for c in clean.change_window(0, 10_000)],
                {k: n.props["name"] for k, n in clean.get_nodes(ids).items()}]

    packed_runs: list[str] = []
    real = neo4j_store._packed_records
    monkeypatch.setattr(neo4j_store, "_packed_records",
                        lambda tx, text, *a: packed_runs.append(text) or real(tx, text, *a))
    clean.pack_rows = 2
    by_two = reads()
    assert len(packed_runs) >= 10  # every read above went packed
    clean.pack_rows = packing.PACK_ROWS
    whole = reads()
    monkeypatch.setattr(packing, "packed", lambda text: None)
    runs = len(packed_runs)
    unpacked = reads()
    assert len(packed_runs) == runs
    assert by_two == whole == unpacked
    assert sum(len(p) for p in by_two[0]) == 57 and len(by_two[4]) == len(structure()) + 57 + len(relationships(57))
