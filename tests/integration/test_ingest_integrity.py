"""Ingest integrity on real stores: a batch is all-or-nothing even when the process dies in it, a source
that cannot be read on stops the job with an exact account of what was written, search catches up
after a failed job, and everything written in the data dir is owner-only.

Synthetic data only (invented names and building numbers).
"""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import (
    GRAPH_DATABASE,
    GRAPH_PASSWORD,
    GRAPH_URL,
    GRAPH_USER,
    SEARCH_URL,
    GraphBackend,
    neo4j_settings,
    opensearch_settings,
)

from talentgraph.cli import _run_pipeline, main
from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobStopped, run_job
from talentgraph.ingest.mapping import load_job, load_pipeline
from talentgraph.ingest.sources.csv import MAX_CELL_CHARS
from talentgraph.stores import open_stores

KEY = b"integrity-test-key"
BUILDINGS = 4

AREAS_JOB = """\
job: areas
source: {path: areas.csv}
nodes:
  - type: Area
    key: "{编号}"
    properties: {name: 名称, level: 层级}
"""

RESIDENTS_JOB = """\
job: residents
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{居民编号}"
    properties: {name: 姓名}
relationships:
  - type: LIVES_IN
    from: {type: Person, key: "{居民编号}"}
    to: {type: Area, key: "{楼栋编号}"}
"""


def registers(folder: Path, residents: int, *, note: dict[int, str] | None = None) -> Path:
    """areas.csv (BUILDINGS buildings), residents.csv (every resident lives in one), the jobs and a pipeline.

    ``note`` puts a value in the unmapped 备注 column of the given 1-based rows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "areas.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["编号", "名称", "层级"])
        w.writerows([f"B{b}", f"{b}号楼", "楼栋"] for b in range(BUILDINGS))
    with (folder / "residents.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["居民编号", "姓名", "楼栋编号", "备注"])
        for i in range(1, residents + 1):
            w.writerow([f"P{i:04d}", f"居民{i}", f"B{i % BUILDINGS}", (note or {}).get(i, "")])
    (folder / "areas.yaml").write_text(AREAS_JOB, encoding="utf-8")
    (folder / "residents.yaml").write_text(RESIDENTS_JOB, encoding="utf-8")
    (folder / "pipeline.yaml").write_text("pipeline: t\njobs: [areas.yaml, residents.yaml]\n", encoding="utf-8")
    return folder


def lives_in(store: GraphStore, ids: list[str]) -> dict[str, int]:
    return {i: len(edges) for i, edges in store.edges(ids, "LIVES_IN", "out").items()}


def person_ids(n: int) -> list[str]:
    return [f"per:P{i:04d}" for i in range(1, n + 1)]


# --- a source that cannot be read on ----------------------------------------------------------------------


def test_a_cell_over_the_limit_stops_the_job_after_writing_the_rows_before_it(
        tmp_path: Path, fresh_graph: GraphStore) -> None:
    # 10 MB in row 5 is read (the csv default limit is 128 KiB); row 36 is over the limit.
    data = registers(tmp_path / "r", 50, note={5: "长" * (10 * 1024 * 1024), 36: "x" * (MAX_CELL_CHARS + 1)})
    areas, residents = load_pipeline(data / "pipeline.yaml")
    run_job(areas, fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    with pytest.raises(JobStopped) as info:
        run_job(residents, fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q", batch_size=10)
    stopped = info.value
    assert stopped.message.startswith("residents.csv: row 36 (line 37) cannot be read: a cell is longer than "
                                      "16,777,216 characters (MAX_CELL_CHARS). Job residents stopped there: rows 1–35 "
                                      "were processed (35 rows in = 35 inserted + 0 updated + 0 unchanged + 0 "
                                      "quarantined); nothing from row 36 on.")
    assert stopped.hint is not None and stopped.hint.endswith("Then re-run the job: rows already written come back "
                                                              "unchanged.")
    s = stopped.summary
    assert (s.rows_in, s.inserted, s.quarantined) == (35, 35, 0)
    # Rows 31-35 were still in the unflushed batch when the reader failed: they are written too.
    assert fresh_graph.count_nodes("Person") == 35
    assert set(lives_in(fresh_graph, person_ids(35)).values()) == {1}
    assert fresh_graph.get_nodes(["per:P0036", "per:P0037"]) == {}


# --- one transaction per batch, even when the process dies in it ------------------------------------------

KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from talentgraph.graph.base import CypherGraphStore
    from talentgraph.ingest.job import run_job
    from talentgraph.ingest.mapping import load_pipeline

    backend, where, folder = sys.argv[1:4]
    if backend == "neo4j":
        from talentgraph.graph.neo4j import Neo4jGraphStore
        store = Neo4jGraphStore(os.environ["TG_URL"], user=os.environ["TG_USER"], password=os.environ["TG_PASSWORD"],
                                database=os.environ["TG_DATABASE"])
    else:
        from talentgraph.graph.ladybug import LadybugGraphStore
        store = LadybugGraphStore(Path(where))
    store.ensure_schema()
    areas, residents = load_pipeline(Path(folder) / "pipeline.yaml")
    run_job(areas, store, id_hash_key=b"k", quarantine_dir=Path(folder) / "q")
    calls = 0
    store_rels = CypherGraphStore._store_rels

    def die_in_the_second_batch(self, tx, *args):
        # The batch's persons were sent in this transaction a moment ago; now the process is killed.
        global calls
        calls += 1
        if calls == 2:
            os._exit(9)
        return store_rels(self, tx, *args)

    type(store)._store_rels = die_in_the_second_batch
    run_job(residents, store, id_hash_key=b"k", quarantine_dir=Path(folder) / "q", batch_size=300)
    print("not killed")
""")


def test_a_process_killed_mid_batch_leaves_no_person_without_lives_in(
        graph_backend: GraphBackend, fresh_graph: GraphStore, tmp_path: Path) -> None:
    """Before batches were one transaction, the second batch's 300 persons stayed without LIVES_IN."""
    data = registers(tmp_path / "r", 700)  # batches of 300: over LadybugDB's COPY threshold
    fresh_graph.close()  # one writing process at a time (LadybugDB); Neo4j's database is shared
    env = {**os.environ, "TG_URL": GRAPH_URL, "TG_USER": GRAPH_USER, "TG_PASSWORD": GRAPH_PASSWORD,
           "TG_DATABASE": GRAPH_DATABASE}
    done = subprocess.run([sys.executable, "-c", KILL_SCRIPT, graph_backend.name, str(tmp_path / "graph"), str(data)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 9, done.stdout + done.stderr[-3000:]
    store = graph_backend.open(tmp_path / "graph")
    try:
        assert store.count_nodes("Person") == 300  # the first batch, whole; nothing of the second
        assert set(lives_in(store, person_ids(700)).values()) == {0, 1}
        assert all(n == 1 for n in lives_in(store, person_ids(300)).values())
        log = store.changes(0, limit=10_000)
        assert [c.seq for c in log] == list(range(1, BUILDINGS + 601))  # areas, then 300 persons + 300 LIVES_IN
        assert store.last_seq() == BUILDINGS + 600
    finally:
        store.close()


LADYBUG_ROLLBACK = textwrap.dedent("""
    import sys
    from pathlib import Path
    from talentgraph.graph.ladybug.store import LadybugGraphStore
    from talentgraph.types import NodeRecord, RelRecord

    g = LadybugGraphStore(Path(sys.argv[1]))
    g.ensure_schema()
    g.upsert_batch([NodeRecord("Area", "area:b", {"name": "1号楼", "level": "building"}),
                    NodeRecord("Group", "grp:1", {"name": "合唱队", "kind": "culture_team"}),
                    *(NodeRecord("Person", f"per:{i}", {"name": "甲"}) for i in range(20))], [])  # committed, in the WAL
    people = [NodeRecord("Person", f"per:{i}", {"name": "乙"}) for i in range(1000, 1300)]
    lives_in = [RelRecord("LIVES_IN", p.id, "area:b") for p in people]
    bad = RelRecord("MEMBER_OF", "per:1000", "grp:1", {"role": 42})  # refused after the person and LIVES_IN COPYs
    try:
        g.upsert_batch(people, [*lives_in, bad])
    except Exception as exc:
        print(type(exc).__name__)
    assert g.count_nodes("Person") == 20 and g.last_seq() == 22, (g.count_nodes("Person"), g.last_seq())
    nodes, rels = g.upsert_batch(people, lives_in)
    assert len(nodes.inserted) == 300 and len(rels.inserted) == 300
    g.close()
    print("ok")
""")


def test_ladybug_survives_a_batch_that_fails_after_its_copies(tmp_path: Path) -> None:
    """LadybugDB 0.22 crashed the process (SIGSEGV) when a COPY batch rolled back over an un-checkpointed
    WAL; the store checkpoints before each write. Run in a child so a crash cannot take pytest down."""
    done = subprocess.run([sys.executable, "-c", LADYBUG_ROLLBACK, str(tmp_path / "g")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split() == ["UnstorableValueError", "ok"], \
        (done.returncode, done.stdout, done.stderr[-3000:])


# --- search catches up after a failed job -------------------------------------------------------------------


def failing_registers(folder: Path) -> Path:
    return registers(folder, 60, note={45: "x" * (MAX_CELL_CHARS + 1)})


def test_a_failed_ingest_leaves_search_at_the_graphs_seq(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = failing_registers(tmp_path / "r")
    home = tmp_path / "data"
    assert main(["ingest", str(data / "pipeline.yaml"), "--quiet", "--data-dir", str(home)]) == 2
    err = capsys.readouterr().err
    assert "row 45 (line 46) cannot be read" in err and "rows 1–44 were processed" in err
    assert main(["stats", "--json", "--data-dir", str(home)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["nodes"]["Person"] == 44
    assert stats["change_log_seq"] == stats["search_cursor"] == BUILDINGS + 88


@pytest.mark.neo4j
@pytest.mark.opensearch
def test_a_failed_ingest_on_the_engines_leaves_search_at_the_graphs_seq(tmp_path: Path) -> None:
    if not SEARCH_URL:
        pytest.skip("OpenSearch is not configured: start it with services/up (scripts/test does)")
    search = opensearch_settings()
    settings = neo4j_settings(data_dir=tmp_path / "data", search_url=search.search_url,
                              search_engine=search.search_engine, search_user=search.search_user,
                              search_password=search.search_password, search_index=search.search_index)
    stores = open_stores(settings)
    try:
        stores.graph.wipe()  # type: ignore[attr-defined]
        with pytest.raises(JobStopped):
            _run_pipeline(stores, failing_registers(tmp_path / "r") / "pipeline.yaml", None, dry_run=False,
                          progress=False)
        assert stores.graph.count_nodes("Person") == 44
        assert stores.graph.last_seq() == stores.index.get_cursor() == BUILDINGS + 88
    finally:
        try:
            stores.index.drop()  # type: ignore[attr-defined]
            stores.graph.wipe()  # type: ignore[attr-defined]
        finally:
            stores.close()


# --- owner-only files ------------------------------------------------------------------------------------------


def test_everything_an_ingest_writes_in_the_data_dir_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical login umask; opening the data dir tightens it for the process
    try:
        data = registers(tmp_path / "r", 30, note={7: "not a year"})
        (data / "residents.yaml").write_text(RESIDENTS_JOB.replace("properties: {name: 姓名}",
                                                                   "properties: {name: 姓名, birth_year: 备注}"))
        home = tmp_path / "data"
        home.mkdir(mode=0o755)  # made by hand before the first run: readable by everyone
        assert main(["ingest", str(data / "pipeline.yaml"), "--quiet", "--data-dir", str(home)]) == 0
    finally:
        os.umask(old)
    quarantined = list((home / "quarantine").iterdir())
    assert len(quarantined) == 1  # row 7
    entries = [home, *home.rglob("*")]
    assert {p.relative_to(home).parts[0] for p in entries[1:]} >= {"graph", "search", "quarantine", "id-hash.key"}
    loose = [(str(p), oct(stat.S_IMODE(p.stat().st_mode))) for p in entries if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert loose == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o700 and stat.S_IMODE(quarantined[0].stat().st_mode) == 0o600
    graph_files = [p for p in (home / "graph").rglob("*") if p.is_file()]
    assert graph_files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in graph_files)


def test_open_stores_creates_an_owner_only_data_dir(tmp_path: Path) -> None:
    stores = open_stores(Settings(data_dir=tmp_path / "new" / "data"))
    stores.close()
    assert stat.S_IMODE((tmp_path / "new" / "data").stat().st_mode) == 0o700
    for p in (tmp_path / "new" / "data").rglob("*"):
        assert not stat.S_IMODE(p.stat().st_mode) & 0o077, p
