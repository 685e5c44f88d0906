"""What only the embedded LadybugDB store has: the COPY bulk path beside the row-by-row one, and one
read-write process per database. The GraphStore contract itself is in test_graph_contract.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ladybug as lb
import pytest
from graph_world import load_small, people, person, relationships, structure

from talentgraph.errors import StoreBusyError, StoreError
from talentgraph.graph import claims as graph_claims
from talentgraph.graph.ladybug import LadybugGraphStore
from talentgraph.graph.ladybug import store as ladybug_store
from talentgraph.types import NodeRecord

N = 5000


@pytest.fixture()
def small(tmp_path: Path) -> Iterator[LadybugGraphStore]:
    store = LadybugGraphStore(tmp_path / "g")
    store.ensure_schema()
    load_small(store)
    yield store
    store.close()


def test_small_and_bulk_paths_store_the_same_thing(tmp_path: Path) -> None:
    bulk, unwind = LadybugGraphStore(tmp_path / "bulk"), LadybugGraphStore(tmp_path / "unwind", copy_threshold=10**9)
    try:
        for store in (bulk, unwind):
            store.ensure_schema()
            store.upsert_nodes(structure() + people(300))
            store.upsert_relationships(relationships(300))
        ids = [f"per:{i:05d}" for i in range(0, 300, 7)] + ["org:1", "grp:3"]

        def strip(nodes: dict[str, Any]) -> dict[str, Any]:
            # Times differ between the two stores: when each wrote, and so each claim's write time.
            def claims(props: dict[str, Any]) -> Any:
                return {p: [{k: v for k, v in c.items() if k != "t"} for c in cs]
                        for p, cs in graph_claims.load(props, []).items()}
            return {k: {p: claims(n.props) if p == "prov" else v for p, v in n.props.items()
                        if p not in ("ingested_at", "updated_at")}
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


def test_many_rows_as_arrow_read_what_one_row_at_a_time_reads(tmp_path: Path) -> None:
    """Results of ARROW_FROM rows or more come over as Arrow, smaller ones value by value: the same nodes."""
    store = LadybugGraphStore(tmp_path / "g")
    try:
        store.ensure_schema()
        dated = [person(i, birth_date=f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}") if i % 3 else person(i)
                 for i in range(120)]
        store.upsert_nodes(structure() + dated)
        store.upsert_relationships(relationships(120))
        ids = [f"per:{i:05d}" for i in range(120)]
        assert len(ids) >= ladybug_store.ARROW_FROM
        together = store.get_nodes(ids)  # one statement of 120 rows: Arrow
        one_by_one = {i: store.get_nodes([i])[i] for i in ids}  # one row each: value by value
        assert together == one_by_one
        assert any(n.props.get("birth_date") for n in together.values())  # dates and lists went both ways
        assert any(n.props.get("languages") for n in together.values())
        page = store.list_nodes("Person", first=100)  # a page of 101 rows: Arrow
        assert [n.id for n in page.items] == ids[:100] and page.has_next_page
        assert {n.id: n for n in page.items} == {i: one_by_one[i] for i in ids[:100]}
    finally:
        store.close()


def test_a_second_process_gets_a_clear_busy_error(small: LadybugGraphStore) -> None:
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


def test_raw_copy_baseline(tmp_path: Path) -> None:
    """Prints store bulk-upsert and raw COPY throughput for the same Arrow rows (for the report)."""
    from talentgraph.graph.common import node_row

    graph = LadybugGraphStore(tmp_path / "g")
    db = lb.Database(str(tmp_path / "raw.lbdb"))
    conn = lb.Connection(db)
    try:
        graph.ensure_schema()
        t0 = time.perf_counter()
        assert len(graph.upsert_nodes(people(N)).inserted) == N
        store_seconds = time.perf_counter() - t0
        nt = graph.ontology.node("Person")
        rows = [node_row(nt, r.id, r.props, {"version": 1}) for r in people(N)]
        table = graph._arrow("Person", rows)
        for statement in graph.dialect.schema(graph.ontology)[:1]:
            conn.execute(statement)
        t0 = time.perf_counter()
        conn.execute("COPY `Person` FROM $t", {"t": table})
        seconds = time.perf_counter() - t0
        assert conn.execute("MATCH (n:`Person`) RETURN count(n)").get_next() == [N]  # type: ignore[union-attr]
        print(f"\nLadybugDB, {N} new persons: store upsert {N / store_seconds:,.0f} nodes/s, "
              f"raw COPY of the same rows {N / seconds:,.0f} rows/s")
    finally:
        conn.close()
        db.close()
        graph.close()


def test_a_query_that_outgrows_the_page_cache_names_the_setting_and_the_store_goes_on(tmp_path: Path) -> None:
    """At a million residents a 1 GiB cache ran out mid-sync ("the buffer pool is full"); the error must say
    which setting to raise and by how much, not call it a bug, and the store must keep answering."""
    store = LadybugGraphStore(tmp_path / "g", buffer_pool_mb=64)
    try:
        store.ensure_schema()
        with pytest.raises(StoreError) as failed:
            store.run_read("UNWIND range(1, 5000000) AS x RETURN collect(x) AS c")
        assert "out of page cache" in failed.value.message and "64 MiB" in failed.value.message
        assert "TALENTGRAPH_GRAPH_MEMORY_MB=128" in (failed.value.hint or "") and "bug" not in (failed.value.hint or "")
        store.upsert_nodes(structure())
        assert store.run_read("RETURN 1 AS one") == [{"one": 1}] and store.count_nodes("Area") > 0
    finally:
        store.close()


def test_settle_checkpoints_beside_what_comes_next(tmp_path: Path) -> None:
    """``settle()`` checkpoints the WAL on a thread (no write needed to trigger it) while reads wait for
    it and see what was committed; the next write transaction starts from a clean WAL either way."""
    import threading
    import time

    g = LadybugGraphStore(tmp_path / "g", copy_threshold=10)
    try:
        g.ensure_schema()
        people = [NodeRecord("Person", f"per:{i:06d}", {"name": f"居民{i}"}) for i in range(3000)]
        assert len(g.upsert_nodes(people).inserted) == 3000
        assert g._wal_dirty  # a commit alone leaves the checkpoint to the next write transaction
        g.settle()
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.extend(g.count_nodes("Person") for _ in range(20)))
        reader.start()
        deadline = time.monotonic() + 60
        while g._wal_dirty and time.monotonic() < deadline:
            time.sleep(0.01)
        reader.join()
        assert not g._wal_dirty and seen == [3000] * 20
        assert not [t for t in threading.enumerate() if t.name == "ladybug-checkpoint" and t.is_alive()]
        assert len(g.upsert_nodes([NodeRecord("Person", "per:999999", {"name": "新"})]).inserted) == 1
    finally:
        g.close()
    assert g._closed


def test_a_store_whose_directory_was_replaced_leaves_the_new_database_alone(tmp_path: Path) -> None:
    """A process keeps its store open while its data directory is deleted and another process makes a new
    database at the same path (a server left running, an ingest into a fresh directory). The engine names
    its log by path, so the old store's checkpoints — at close too — would rename or remove the new
    database's log: every row of the new one was gone after a reopen. The old store now says what happened
    on every write and leaves the path alone."""
    import shutil
    import threading

    path = tmp_path / "g"
    old = LadybugGraphStore(path)
    old.ensure_schema()
    old.upsert_nodes([NodeRecord("Group", "grp:old", {"name": "旧", "kind": "culture_team"})])
    shutil.rmtree(path)
    new = LadybugGraphStore(path)  # the lock is on a file nobody can see any more: the path is free
    try:
        new.ensure_schema()
        mine = [NodeRecord("Group", f"grp:new{i}", {"name": f"新{i}", "kind": "culture_team"}) for i in range(5)]
        assert len(new.upsert_nodes(mine).inserted) == 5
        with pytest.raises(StoreError) as err:
            old.upsert_nodes([NodeRecord("Group", "grp:late", {"name": "晚", "kind": "culture_team"})])
        assert f"{path} was deleted or replaced while this process (pid {os.getpid()})" in str(err.value)
        assert "Restart this process" in (err.value.hint or "")
        with pytest.raises(StoreError, match="deleted or replaced"):
            old.ensure_schema()
        with pytest.raises(StoreError, match="deleted or replaced"):
            old.last_seq()  # what /health reads: the process reports itself unhealthy
        old.settle()  # a background checkpoint: nothing to do for a displaced store
        for t in [t for t in threading.enumerate() if t.name == "ladybug-checkpoint"]:
            t.join(30)
        old.close()
        assert len(new.upsert_nodes([NodeRecord("Group", "grp:new9", {"name": "新9", "kind": "culture_team"})])
                   .inserted) == 1
    finally:
        new.close()
    again = LadybugGraphStore(path)
    try:
        assert again.count_nodes("Group") == 6  # the new database's rows, after the old store closed
        assert "grp:old" not in again.get_nodes(["grp:old", "grp:new0"]) and "grp:new0" in again.get_nodes(["grp:new0"])
    finally:
        again.close()


def test_the_process_lock_knows_when_its_path_names_another_file(tmp_path: Path) -> None:
    from talentgraph.graph.ladybug.lock import ProcessLock

    lock = ProcessLock(tmp_path / ".lock")
    assert lock.held()
    (tmp_path / ".lock").unlink()
    assert not lock.held()
    (tmp_path / ".lock").write_text("someone else\n")
    assert not lock.held()
    lock.release()
    assert not lock.held()
    other = ProcessLock(tmp_path / ".lock")
    assert other.held()
    other.release()


@pytest.mark.anyio
async def test_a_server_whose_data_directory_was_replaced_reports_itself_unhealthy(tmp_path: Path) -> None:
    import shutil

    from api_world import client

    from talentgraph.access.gate import Gate
    from talentgraph.config import Settings
    from talentgraph.server import create_app

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    app = create_app(graph, None, Settings(data_dir=tmp_path), gate=Gate(open_role="analyst"))
    try:
        async with client(app) as c:
            assert (await c.get("/health")).json()["status"] == "ok"
            shutil.rmtree(tmp_path / "graph")
            LadybugGraphStore(tmp_path / "graph").close()  # someone's fresh database at the same path
            r = await c.get("/health")
            assert r.status_code == 503 and r.json()["status"] == "error"  # an orchestrator restarts it
    finally:
        graph.close()
