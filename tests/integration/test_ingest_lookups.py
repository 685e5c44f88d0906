"""Lookup ends and the ingest fixes of issue 7 on a real graph store (every backend; LadybugDB in tmp_path).

One pipeline writes places and enterprises by id, then a register that names them the way people
write them ("联洋新苑", "12栋", "LIANYANG TECH") is ingested with lookups. Also: dry runs write no
quarantine file, an unchanged re-run keeps one file, paths are absolute, blank rows count as empty.
Synthetic data only.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary, run_job
from talentgraph.ingest.lookups import LookupFailed, Lookups
from talentgraph.ingest.mapping import load_job, load_pipeline
from talentgraph.ingest.pipeline import _lookups_ahead, run_pipeline
from talentgraph.schema.validators import uscc_check_char

KEY = b"integration-test-key"

PLACES_JOB = """
job: places
source: {path: places.csv}
nodes:
  - type: Area
    key: "{编号}"
    properties: {name: 名称, level: 层级}
relationships:
  - type: PART_OF
    from: {type: Area, key: "{编号}"}
    to: {type: Area, key: "{上级}"}
    optional: true
"""

PLACES = [
    ["编号", "名称", "层级", "上级"],
    ["C1", "联洋社区", "社区", ""],
    ["RA03", "联洋新苑", "居民区", "C1"],
    ["RA05", "联洋花园", "居民区", "C1"],
    ["B0312", "12号", "楼栋", "RA03"],
    ["B0313", "13号", "楼栋", "RA03"],
    ["B0399", "１３幢", "楼栋", "RA03"],  # the same building entered twice: ambiguous
    ["B0501", "12号楼", "楼栋", "RA05"],  # another 12号, in another residential area
]

FIRMS_JOB = """
job: firms
source: {path: firms.csv}
nodes:
  - type: Enterprise
    key: "{编号}"
    properties: {name: 名称, latin_name: 英文名, uscc: 代码}
"""

USCC_1 = "91310115MA1H7GH21" + uscc_check_char("91310115MA1H7GH21")
USCC_2 = "91310115MA1K3YJ12" + uscc_check_char("91310115MA1K3YJ12")
FIRMS = [
    ["编号", "名称", "英文名", "代码"],
    ["E1", "联洋科技有限公司", "Lianyang Tech", ""],
    ["E2", "花木物流有限公司", "", ""],
]

RESIDENTS_JOB = """
job: residents
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties: {name: 姓名}
relationships:
  - type: LIVES_IN
    from: {type: Person, key: "{编号}"}
    to:
      type: Area
      lookup:
        name: "{楼栋}"
        where: {level: building}
        within: {name: "{小区}", where: {level: residential_area}}
    optional: true
  - type: WORKS_AT
    from: {type: Person, key: "{编号}"}
    to: {type: Enterprise, lookup: {name: "{单位}", uscc: "{信用代码}"}}
    optional: true
"""

RESIDENT_HEADER = ["编号", "姓名", "小区", "楼栋", "单位", "信用代码"]
RESIDENTS = [
    ["P1", "张伟", "联洋新苑", "12栋", "LIANYANG  TECH", ""],  # latin name, other case and spacing
    ["P2", "李娜", "联洋花园", "１２号", "", ""],
    ["P3", "王芳", "联洋新村", "12号", "", ""],  # no such residential area
    ["P4", "陈杰", "联洋新苑", "13栋", "", ""],  # two buildings 13 in 联洋新苑
    ["P5", "赵敏", "联洋新苑", "14号", "", ""],  # no building 14 there
    ["", "", "", "", "", ""],  # an entirely empty row: the reader skips it, the job counts it
    ["P6", "孙浩", "", "", "花木物流有限公司", ""],
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture
def world(tmp_path: Path, fresh_graph: GraphStore) -> Iterator[tuple[Path, GraphStore]]:
    data = tmp_path / "registers"
    data.mkdir()
    write_csv(data / "places.csv", PLACES)
    write_csv(data / "firms.csv", FIRMS)
    write_csv(data / "residents.csv", [RESIDENT_HEADER, *RESIDENTS])
    (data / "places.yaml").write_text(PLACES_JOB, encoding="utf-8")
    (data / "firms.yaml").write_text(FIRMS_JOB, encoding="utf-8")
    (data / "residents.yaml").write_text(RESIDENTS_JOB, encoding="utf-8")
    (data / "pipeline.yaml").write_text("pipeline: t\njobs: [places.yaml, firms.yaml, residents.yaml]\n",
                                        encoding="utf-8")
    yield data, fresh_graph


def run(data: Path, store: GraphStore, quarantine: Path, **kw: object) -> list[JobSummary]:
    return run_pipeline(load_pipeline(data / "pipeline.yaml"), store, id_hash_key=KEY,
                        quarantine_dir=quarantine, **kw)  # type: ignore[arg-type]


def reasons(summary: JobSummary) -> dict[str, str]:
    assert summary.quarantine_path is not None
    with open(summary.quarantine_path, encoding="utf-8-sig", newline="") as f:
        return {r["_row"]: r["_reason"] for r in csv.DictReader(f)}


def test_lookups_find_places_and_enterprises_as_registers_write_them(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    _, _, residents = run(data, store, tmp_path / "q")
    assert (residents.rows_in, residents.inserted, residents.quarantined, residents.empty) == (7, 3, 3, 1)
    lives = store.edges(["per:P1", "per:P2"], "LIVES_IN", "out")
    assert [e.to_id for e in lives["per:P1"]] == ["area:B0312"]  # 12栋 in 联洋新苑
    assert [e.to_id for e in lives["per:P2"]] == ["area:B0501"]  # １２号 in 联洋花园, not 联洋新苑's 12号
    works = store.edges(["per:P1", "per:P6"], "WORKS_AT", "out")
    assert [e.to_id for e in works["per:P1"]] == ["ent:E1"] and [e.to_id for e in works["per:P6"]] == ["ent:E2"]

    why = reasons(residents)
    assert set(why) == {"3", "4", "5"}  # the empty row (6) is not quarantined
    assert why["3"] == ("LIVES_IN to: Area '联洋新村' (level residential_area) not found; "
                        "did you mean 联洋新苑 (area:RA03) or 联洋花园 (area:RA05)?")
    assert why["4"] == ("LIVES_IN to: ambiguous: 2 Area nodes match '13栋' inside 联洋新苑 (area:RA03): "
                        "area:B0313 (13号), area:B0399 (１３幢)")
    assert why["5"].startswith("LIVES_IN to: Area '14号' (level building) inside 联洋新苑 (area:RA03) not found; "
                               "did you mean ")
    assert "area:B0501" not in why["5"]  # suggestions come from inside the residential area only
    assert str(Path(residents.quarantine_path or "")) == str(Path(residents.quarantine_path or "").resolve())


def test_uscc_or_name_and_a_conflict_between_them(world: tuple[Path, GraphStore], tmp_path: Path) -> None:
    data, store = world
    firms = [FIRMS[0], [*FIRMS[1][:3], USCC_1], [*FIRMS[2][:3], USCC_2]]
    write_csv(data / "firms.csv", firms)
    write_csv(data / "residents.csv", [RESIDENT_HEADER,
                                       ["P1", "张伟", "", "", "", USCC_2],  # the code alone
                                       ["P2", "李娜", "", "", "联洋科技有限公司", USCC_2]])  # name and code disagree
    _, _, residents = run(data, store, tmp_path / "q")
    assert [e.to_id for e in store.edges(["per:P1"], "WORKS_AT", "out")["per:P1"]] == ["ent:E2"]
    assert reasons(residents)["2"] == (
        f"WORKS_AT to: ambiguous: 2 Enterprise nodes match '联洋科技有限公司' or uscc '{USCC_2}': "
        "ent:E1 (联洋科技有限公司), ent:E2 (花木物流有限公司)")


def test_each_type_is_read_once_per_job_and_after_earlier_jobs(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    spec = load_job(data / "residents.yaml")
    lookups = Lookups(store)
    area = spec.relationships[0].to.lookup
    assert area is not None
    with pytest.raises(LookupFailed, match="not found"):  # an empty graph: nothing to find yet
        lookups.resolve(area, {"小区": "联洋新苑", "楼栋": "12号"}, "LIVES_IN to")
    for name in ("places", "firms"):
        run_job(load_job(data / f"{name}.yaml"), store, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    lookups = Lookups(store)  # a new job: built at its first lookup, so it sees what the jobs before wrote
    for building in ("12号", "12栋", "１２幢", "12号楼", "12"):
        assert lookups.resolve(area, {"小区": "联洋新苑", "楼栋": building}, "LIVES_IN to") == "area:B0312"
    assert lookups.resolve(area, {"小区": "联洋新苑", "楼栋": ""}, "LIVES_IN to") is None
    assert lookups.scans == 1  # Area, once, for the buildings and their residential areas alike


def test_a_pipeline_reads_the_next_jobs_lookups_before_it_settles_the_last_one(
    world: tuple[Path, GraphStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LadybugDB checkpoints at settle() and reads wait for a checkpoint: the residents' lookups are read
    # before it, so their rows are built while it runs. What they find is what the first row would have found.
    data, store = world
    events: list[str] = []
    settle, list_nodes, edges = store.settle, store.list_nodes, store.edges

    def spy_settle() -> None:
        events.append("settle")
        settle()

    def spy_list(type_name: str, *a: object, **kw: object) -> object:
        events.append(f"list {type_name}")
        return list_nodes(type_name, *a, **kw)  # type: ignore[arg-type]

    def spy_edges(ids: object, rel: str, *a: object, **kw: object) -> object:
        events.append(f"edges {rel}")
        return edges(ids, rel, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "settle", spy_settle)
    monkeypatch.setattr(store, "list_nodes", spy_list)
    monkeypatch.setattr(store, "edges", spy_edges)
    _, _, residents = run(data, store, tmp_path / "q")
    last_settle = len(events) - 1 - events[::-1].index("settle")
    before, after = events[:last_settle], events[last_settle + 1:]
    assert {"list Area", "list Enterprise", "edges PART_OF"} <= set(before)
    assert not [e for e in after if e.startswith(("list ", "edges PART_OF"))]  # nothing read again in the job
    assert (residents.inserted, residents.quarantined) == (3, 3)
    assert [e.to_id for e in store.edges(["per:P2"], "LIVES_IN", "out")["per:P2"]] == ["area:B0501"]


def test_lookups_that_read_what_their_job_writes_are_not_read_ahead(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    run(data, store, tmp_path / "q")
    # Places under a parent found by name: the job writes the Areas its lookup reads, so a row's lookup may
    # find a place an earlier batch of the same job wrote; read ahead, it could not.
    (data / "nested.yaml").write_text(PLACES_JOB.replace("job: places", "job: nested").replace(
        'to: {type: Area, key: "{上级}"}', 'to: {type: Area, lookup: {name: "{上级}"}}'), encoding="utf-8")
    assert _lookups_ahead(load_job(data / "nested.yaml"), store) is None
    ahead = _lookups_ahead(load_job(data / "residents.yaml"), store)
    assert ahead is not None and ahead.scans == 2  # Area and Enterprise, read once, before the job runs


def test_dry_run_reports_would_be_quarantined_rows_and_writes_no_file(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    quarantine = tmp_path / "q"
    run_job(load_job(data / "places.yaml"), store, id_hash_key=KEY, quarantine_dir=quarantine)
    run_job(load_job(data / "firms.yaml"), store, id_hash_key=KEY, quarantine_dir=quarantine)
    before = sorted(os.listdir(quarantine)) if quarantine.exists() else []
    s = run_job(load_job(data / "residents.yaml"), store, id_hash_key=KEY, quarantine_dir=quarantine, dry_run=True)
    assert (s.inserted, s.quarantined, s.empty) == (3, 3, 1) and s.quarantine_path is None
    assert (sorted(os.listdir(quarantine)) if quarantine.exists() else []) == before
    assert [q["row"] for q in s.quarantine_preview] == [3, 4, 5]
    assert "联洋新村" in s.quarantine_preview[0]["reason"]
    text = str(s)
    assert "would be quarantined" in text and "row 4: LIVES_IN to: ambiguous" in text


def test_a_dry_run_pipeline_looks_up_what_its_earlier_jobs_would_write(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    seq = store.last_seq()
    _, _, dry = run(data, store, tmp_path / "q", dry_run=True)
    assert store.last_seq() == seq and not (tmp_path / "q").exists()
    _, _, real = run(data, store, tmp_path / "q")
    assert (dry.inserted, dry.quarantined, dry.empty) == (real.inserted, real.quarantined, real.empty) == (3, 3, 1)
    assert [q["reason"] for q in dry.quarantine_preview] == list(reasons(real).values())


def test_unchanged_rerun_keeps_one_quarantine_file(world: tuple[Path, GraphStore], tmp_path: Path) -> None:
    data, store = world
    quarantine = tmp_path / "q"
    first = run(data, store, quarantine)
    assert [s.quarantine_path is None for s in first] == [True, True, False]  # a file only when a row is rejected
    again = run(data, store, quarantine)
    assert [p.name for p in quarantine.iterdir()] == [Path(first[2].quarantine_path or "").name]
    assert again[2].quarantine_repeated and again[2].quarantine_path == first[2].quarantine_path
    assert (again[2].unchanged, again[2].quarantined, again[2].empty) == (3, 3, 1)
    assert "the same rows as the last run" in str(again[2])
    # A change to what is rejected is news: a second file.
    rows = [*RESIDENTS[:2], ["P3", "王芳", "联洋新村", "11号", "", ""], *RESIDENTS[3:]]
    write_csv(data / "residents.csv", [RESIDENT_HEADER, *rows])
    third = run_job(load_job(data / "residents.yaml"), store, id_hash_key=KEY, quarantine_dir=quarantine)
    assert not third.quarantine_repeated and len(list(quarantine.iterdir())) == 2


def test_blank_rows_are_counted_empty_whatever_the_source(tmp_path: Path, fresh_graph: GraphStore) -> None:
    # JSON records of nulls and cells holding only invisible characters reach the job as rows.
    (tmp_path / "people.json").write_text(
        '[{"id": "X1", "name": "Ivan"}, {"id": null, "name": null}, {"id": "\\u200b", "name": " \\u3000"}]',
        encoding="utf-8")
    (tmp_path / "people.yaml").write_text(
        'job: people\nsource: {path: people.json}\nnodes:\n  - type: Person\n    key: "{id}"\n'
        "    properties: {name: name}\n", encoding="utf-8")
    s = run_job(load_job(tmp_path / "people.yaml"), fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert (s.rows_in, s.inserted, s.quarantined, s.empty) == (3, 1, 0, 2)
    assert s.quarantine_path is None and not (tmp_path / "q").exists()
    assert "空行 empty" in str(s)
    # Blank lines a CSV reader skips between rows are rows of the file too; trailing ones are not counted.
    (tmp_path / "people.csv").write_text("id,name\nY1,Ivan\n,\n\nY2,Olga\n,\n", encoding="utf-8")
    (tmp_path / "csv.yaml").write_text(
        'job: people-csv\nsource: {path: people.csv}\nnodes:\n  - type: Person\n    key: "{id}"\n'
        "    properties: {name: name}\n", encoding="utf-8")
    s = run_job(load_job(tmp_path / "csv.yaml"), fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert (s.rows_in, s.inserted, s.empty) == (4, 2, 2)
    assert s.quarantine_path is None and not (tmp_path / "q").exists()
    assert "空行 empty" in str(s)


def test_cli_prints_absolute_quarantine_paths_and_dry_run_reasons(
    world: tuple[Path, GraphStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from talentgraph.cli import main

    data, _ = world
    for name in [k for k in os.environ if k.startswith("TALENTGRAPH_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # a relative --data-dir, as a user types it
    args = ["ingest", str(data / "pipeline.yaml"), "--quiet", "--data-dir", "tg-data"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "residents would quarantine 3 row(s):" in out and "row 3: LIVES_IN to: Area '联洋新村'" in out
    quarantine = tmp_path / "tg-data" / "quarantine"
    assert not quarantine.exists() or not any(quarantine.iterdir())
    assert main(args) == 0
    out = capsys.readouterr().out
    (written,) = quarantine.iterdir()
    assert f"  {written.resolve()} (3)" in out  # absolute, whatever the working directory
    assert main(args) == 0
    assert "(the same rows as the last run: no new file)" in capsys.readouterr().out
    assert list(quarantine.iterdir()) == [written]
