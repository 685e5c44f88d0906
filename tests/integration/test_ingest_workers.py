"""Rows built on every core give exactly what one process gives: the same records, statuses, row
accounting and quarantine files, in file order — and a source that cannot be read on still stops
the job with an exact account.

Synthetic registers from the demo generator (invented people).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_ingest_integrity import registers as registers_of

from talentgraph.config import Settings
from talentgraph.demo.generator import generate
from talentgraph.graph.common import split_props
from talentgraph.ingest import workers
from talentgraph.ingest.job import JobStopped, run_job
from talentgraph.ingest.mapping import load_job, load_pipeline
from talentgraph.ingest.pipeline import run_pipeline
from talentgraph.ingest.sources.csv import MAX_CELL_CHARS
from talentgraph.ingest.workers import RowBuilders, parallel_safe
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.stores import open_stores

KEY = b"workers-test-key"
PIPELINE = Path(__file__).resolve().parents[2] / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
_TIMING = {"seconds", "rows_per_second", "quarantine_path"}


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("registers")
    generate(out, residents=900, seed=11)
    # Rows a real register gets wrong, spread through the file so they fall in different chunks.
    path = out / "residents.csv"  # GB18030, as the community's own exports
    with path.open(encoding="gb18030", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for n, col, value in ((7, "出生日期", "1990-13-45"), (300, "性别", "maybe"), (650, "联系电话", "12")):
        rows[n][header.index(col)] = value
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)
    # Lookups that find nothing, in jobs whose other rows are built by the workers: their reasons come from
    # the main process, which resolved them, in their places.
    survey = out / "talent_survey.csv"
    with survey.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    for n in (3, len(rows) - 2):
        rows[n][rows[0].index("居住小区")] = "不存在的小区"
    with survey.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    book = openpyxl.load_workbook(out / "volunteers.xlsx")
    sheet = book.worksheets[0]
    team = [c.value for c in sheet[1]].index("服务队伍") + 1
    for n in (4, sheet.max_row - 1):
        sheet.cell(row=n, column=team, value="没有这支队伍")
    book.save(out / "volunteers.xlsx")
    return out


def _ingest(registers: Path, data: Path, monkeypatch: pytest.MonkeyPatch, *, n_workers: int) -> tuple[Any, ...]:
    monkeypatch.setattr(workers, "MIN_BYTES", 0)  # every job big enough
    monkeypatch.setattr(workers, "CHUNK_ROWS", 97)  # many chunks, a row count no chunk divides
    stores = open_stores(Settings(data_dir=data))
    try:
        specs = load_pipeline(PIPELINE, input_dir=registers)
        summaries = run_pipeline(specs, stores.graph, id_hash_key=KEY, quarantine_dir=data / "q",
                                 workers=n_workers, batch_size=250)
        nodes: dict[str, dict[str, Any]] = {}
        for t in ONTOLOGY.node_types:
            after = None
            while True:
                page = stores.graph.list_nodes(t.name, first=1000, after=after)
                for n in page.items:
                    shown, system = split_props(n.props)
                    nodes[n.id] = {**shown, "content_hash": system.get("content_hash"),
                                   "version": system.get("version"), "src_row": system.get("src_row")}
                if not page.has_next_page:
                    break
                after = page.end_cursor
        lives = stores.graph.edges(sorted(i for i in nodes if i.startswith("per:")), "LIVES_IN", "out")
        edges = {i: sorted(e.to_id for e in es) for i, es in lives.items()}
        quarantined = {}
        for s in summaries:
            if s.quarantine_path:
                quarantined[s.job] = Path(s.quarantine_path).read_text(encoding="utf-8-sig")
        return ([{k: v for k, v in s.to_dict().items() if k not in _TIMING} for s in summaries],
                nodes, edges, quarantined)
    finally:
        stores.close()


def test_workers_build_exactly_what_one_process_builds(registers: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    one = _ingest(registers, tmp_path / "one", monkeypatch, n_workers=1)
    two = _ingest(registers, tmp_path / "two", monkeypatch, n_workers=2)
    summaries, nodes, edges, quarantined = two
    assert sum(s["quarantined"] for s in summaries) >= 7  # the planted bad rows were caught
    assert any("1990-13-45" in text for text in quarantined.values())
    assert quarantined["talent_survey"].count("不存在的小区") >= 2 and "not found" in quarantined["talent_survey"]
    assert quarantined["volunteers"].count("没有这支队伍") >= 2
    assert summaries == one[0]
    assert nodes == one[1]
    assert edges == one[2]
    assert quarantined == one[3]  # the same rows, reasons and order


# A worker that dies at its first residents' chunk from row 400 on, once a run (the flag file): pickled by reference,
# so module-level; the forked workers inherit the flag's path.
_REAL_BUILD = workers._build
_KILL_FLAG: list[Path] = []


def _dying_build(spec: Any, items: list[Any], *rest: Any) -> Any:
    import os
    import signal

    if spec.job == "residents" and items[0][0] >= 400 and _KILL_FLAG and not _KILL_FLAG[0].exists():
        _KILL_FLAG[0].touch()
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return _REAL_BUILD(spec, items, *rest)


def test_a_worker_killed_mid_run_leaves_its_rows_to_the_main_process(
    registers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The workers only save time: one killed mid-job, the chunks the pool held and every later row are built in the
    main process, in their places: the same graph, accounting and quarantine as one process, and a warning."""
    one = _ingest(registers, tmp_path / "one", monkeypatch, n_workers=1)
    monkeypatch.setattr(workers, "_build", _dying_build)
    monkeypatch.setattr(sys.modules[__name__], "_KILL_FLAG", [tmp_path / "killed"])
    two = _ingest(registers, tmp_path / "two", monkeypatch, n_workers=2)
    assert (tmp_path / "killed").exists()
    assert "row-building worker process ended abruptly" in caplog.text
    assert two[0] == one[0]
    assert two[1] == one[1]
    assert two[2] == one[2]
    assert two[3] == one[3]


def test_jobs_whose_lookups_could_see_their_own_writes_build_in_the_main_process(registers: Path,
                                                                                 tmp_path: Path) -> None:
    specs = load_pipeline(PIPELINE, input_dir=registers)
    by_job = {s.job: parallel_safe(s) for s in specs}
    assert by_job["residents"] is True
    # Finds its team by name: resolved in the main process, the rest built by the workers.
    assert by_job["volunteers"] is True and by_job["talent_survey"] is True
    # A job that writes areas and finds the area they lie in by name could find an area of its own file once a
    # batch of it is written: it builds row by row in the main process.
    (tmp_path / "a.csv").write_text("编号,名称,上级\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text(
        'job: areas\nsource: {path: a.csv}\nnodes:\n  - type: Area\n    key: "{编号}"\n'
        "    properties: {name: 名称, level: {value: building}}\nrelationships:\n  - type: PART_OF\n"
        '    from: {type: Area, key: "{编号}"}\n    to: {type: Area, lookup: {name: "{上级}"}}\n', encoding="utf-8")
    assert parallel_safe(load_job(tmp_path / "a.yaml")) is False


def test_a_source_that_cannot_be_read_on_stops_with_an_exact_account(tmp_path: Path) -> None:
    # Row 650 of 699 holds a cell over the reader's limit; rows before it are built by the workers.
    data = registers_of(tmp_path / "r", 699, note={650: "x" * (MAX_CELL_CHARS + 1)})
    areas, residents = load_pipeline(data / "pipeline.yaml")
    stores = open_stores(Settings(data_dir=tmp_path / "data"))
    builders = RowBuilders(2, min_bytes=0)
    try:
        run_job(areas, stores.graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
        with pytest.raises(JobStopped) as info:
            run_job(residents, stores.graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q", batch_size=100,
                    builders=builders)
        s = info.value.summary
        assert (s.rows_in, s.inserted, s.quarantined) == (649, 649, 0)
        assert stores.graph.count_nodes("Person") == 649
    finally:
        builders.close()
        stores.close()


def test_a_smaller_source_uses_the_workers_once_they_run(registers: Path) -> None:
    """Starting the pool is what a small source cannot repay; once an earlier job started it, a source of a few
    chunks is built there too, and one smaller still is built in process."""
    residents = next(s for s in load_pipeline(PIPELINE, input_dir=registers) if s.job == "residents")
    size = residents.source.path.stat().st_size
    builders = RowBuilders(2, min_bytes=size + 1, warm_min_bytes=size)
    try:
        assert not builders.wanted(residents)  # below the cold threshold: no pool is started for it
        builders._executor()  # an earlier job of the pipeline started it
        assert builders.wanted(residents)
        warm_but_too_small = RowBuilders(2, min_bytes=size + 1, warm_min_bytes=size + 1)
        warm_but_too_small._executor()
        try:
            assert not warm_but_too_small.wanted(residents)
        finally:
            warm_but_too_small.close()
    finally:
        builders.close()


def test_row_workers_forked_while_a_job_holds_the_collector_run_their_own() -> None:
    """A job holds the cyclic collector from a batch's first row (``memory.CollectorHold``), so the pool is forked
    with it off: each worker turns its own on (it builds chunk after chunk, each under a hold of its own)."""
    import gc

    from talentgraph.memory import collector_held

    builders = RowBuilders(2)
    try:
        with collector_held():  # the pool forks its workers as chunks are submitted: here, inside the hold
            pool = builders._executor()
            answers = [pool.submit(gc.isenabled) for _ in range(4)]
            assert not gc.isenabled()
            assert all(a.result(timeout=30) for a in answers)
    finally:
        builders.close()


def test_row_workers_collectors_leave_alone_what_they_inherited() -> None:
    """Each worker's collector walks only the objects it makes, not the heap it was forked with
    (``memory.frozen_for_fork``); the main process's collector is as it was."""
    import gc

    inherited = [[i] for i in range(50_000)]
    builders = RowBuilders(2)
    try:
        pool = builders._executor()
        assert gc.get_freeze_count() == 0
        counts = [pool.submit(gc.get_freeze_count) for _ in range(4)]
        assert all(c.result(timeout=30) >= len(inherited) for c in counts)
    finally:
        builders.close()
