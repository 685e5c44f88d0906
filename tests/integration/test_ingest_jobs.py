"""Ingest jobs into a real graph store (every backend; LadybugDB in tmp_path): accounting, quarantine, re-runs, encodings, dry runs.

Synthetic data only: names are invented and identity numbers are built with the check-character
function from made-up digits.
"""

from __future__ import annotations

import csv
import re
import time
import json
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import openpyxl
import pytest

from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary, run_job
from talentgraph.ingest.mapping import load_job, load_pipeline
from talentgraph.ingest.pipeline import run_pipeline
from talentgraph.schema.validators import hash_identity, resident_id_check_char

KEY = b"integration-test-key"


def rid(serial: int) -> str:
    first17 = f"310115198{serial % 10}0302{serial % 1000:03d}"[:17]
    first17 = first17.ljust(17, "0")
    return first17 + resident_id_check_char(first17)


def bad_rid(serial: int) -> str:
    good = rid(serial)
    return good[:-1] + ("1" if good[-1] != "1" else "2")


AREAS_JOB = """
job: areas
description: 区域 → Area, PART_OF
source: {path: areas.csv}
nodes:
  - type: Area
    key: "{区域编号}"
    properties:
      name: 名称
      level: 层级
      lon_lat: {columns: [经度, 纬度], transform: gcj02}
relationships:
  - type: PART_OF
    from: {type: Area, key: "{区域编号}"}
    to: {type: Area, key: "{上级编号}"}
    optional: true
"""

RESIDENTS_JOB = """
job: residents
description: 居民登记表 → Person, LIVES_IN
source: {path: residents.csv, encoding: auto}
nodes:
  - type: Person
    key: "{居民编号}"
    properties:
      name: 姓名
      gender: 性别
      birth_year: {column: 出生日期, transform: year}
      languages: {column: 语言, split: "[,;，；、/]", strict: true}   # unknown languages quarantine here
      identity: {column: 证件号码, transform: identity, kind_column: 证件类型}
      volunteer: {column: 是否志愿者, transform: bool}
      nationality: {column: 国籍, default: CN}
relationships:
  - type: LIVES_IN
    from: {type: Person, key: "{居民编号}"}
    to: {type: Area, key: "{楼栋编号}"}
    optional: true
"""

AREA_ROWS = [
    ["区域编号", "名称", "层级", "上级编号", "经度", "纬度"],
    ["C1", "联洋社区", "社区", "", "121.5550", "31.2260"],
    ["R1", "联洋花园", "居民区", "C1", "121.5580", "31.2240"],
    ["B1", "1号楼", "楼栋", "R1", "121.5581", "31.2241"],
    ["B2", "2号楼", "楼栋", "R1", "121.5585", "31.2243"],
    ["B3", "3号楼", "楼栋", "R1", "31.2245", "121.5589"],  # swapped coordinates
]

RESIDENT_HEADER = ["居民编号", "姓名", "性别", "出生日期", "语言", "证件号码", "证件类型", "楼栋编号", "是否志愿者", "国籍"]


def resident_rows() -> list[list[str]]:
    rows = [
        ["P001", "张伟", "男", "1984-03-02", "俄语、英语", rid(1), "居民身份证", "B1", "是", ""],
        ["P002", "李娜", "女", "1990/5/6", "日语", rid(2), "身份证", "B1", "否", ""],
        ["P003", "王芳", "女", "19751111", "英语", rid(3), "", "B2", "", ""],
        ["P004", "Anna Petrova", "F", "1988", "Russian; English", "E1234567", "护照", "B2", "yes", "RU"],
        ["P005", "陈杰", "男", "2001年7月8日", "", rid(5), "居民身份证", "", "", ""],  # no building: optional
        ["P006", "赵敏", "女", "1979-01-01", "中文", bad_rid(6), "居民身份证", "B1", "", ""],  # bad check char
        ["P007", "孙浩", "男", "1985-09-09", "克林贡语", rid(7), "居民身份证", "B2", "", ""],  # unknown language
        ["P008", "周婷", "女", "1992-12-12", "英语", rid(8), "居民身份证", "B999", "", ""],  # missing building
        ["P009", "吴磊", "男", "1970-02-02", "中文", rid(9), "居民身份证", "B3", "", ""],  # B3 was quarantined
    ]
    return rows


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture
def world(tmp_path: Path, fresh_graph: GraphStore) -> Iterator[tuple[Path, GraphStore]]:
    data = tmp_path / "registers"
    data.mkdir()
    write_csv(data / "areas.csv", AREA_ROWS)
    write_csv(data / "residents.csv", [RESIDENT_HEADER, *resident_rows()], encoding="gbk")
    (data / "areas.yaml").write_text(AREAS_JOB, encoding="utf-8")
    (data / "residents.yaml").write_text(RESIDENTS_JOB, encoding="utf-8")
    (data / "pipeline.yaml").write_text("pipeline: test\njobs: [areas.yaml, residents.yaml]\n", encoding="utf-8")
    yield data, fresh_graph


def run(data: Path, store: GraphStore, tmp_path: Path, **kw: object) -> list[JobSummary]:
    return run_pipeline(load_pipeline(data / "pipeline.yaml"), store, id_hash_key=KEY,
                        quarantine_dir=tmp_path / "quarantine", **kw)  # type: ignore[arg-type]


def read_quarantine(path: str | None) -> list[dict[str, str]]:
    assert path is not None
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel opens it as UTF-8
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_pipeline_accounting_and_quarantine(world: tuple[Path, GraphStore], tmp_path: Path) -> None:
    data, store = world
    areas, residents = run(data, store, tmp_path)

    assert (areas.rows_in, areas.inserted, areas.quarantined) == (5, 4, 1)
    assert areas.nodes_written == {"Area": 4} and areas.rels_written == {"PART_OF": 3}
    assert residents.encoding == "gb18030"
    assert residents.rows_in == 9
    assert (residents.inserted, residents.updated, residents.unchanged, residents.quarantined) == (5, 0, 0, 4)
    assert residents.nodes_written == {"Person": 5} and residents.rels_written == {"LIVES_IN": 4}
    for s in (areas, residents):
        assert s.rows_in == s.inserted + s.updated + s.unchanged + s.quarantined
        json.dumps(s.to_dict())  # JSON-ready for the HTTP ingest endpoint
        assert s.job in str(s)

    rows = {r["_row"]: r for r in read_quarantine(residents.quarantine_path)}
    assert set(rows) == {"6", "7", "8", "9"}
    assert "Person.identity" in rows["6"]["_reason"] and "************" + bad_rid(6)[-4:] in rows["6"]["_reason"]
    assert bad_rid(6) not in Path(residents.quarantine_path or "").read_text(encoding="utf-8-sig")
    assert rows["6"]["证件号码"] == "************" + bad_rid(6)[-4:]
    assert rows["6"]["姓名"] == "赵敏"  # original columns kept, Chinese intact
    assert "Person.languages" in rows["7"]["_reason"] and "克林贡语" in rows["7"]["_reason"]
    assert rows["8"]["_reason"] == "LIVES_IN to area:B999: no Area with that id"
    assert "area:B3" in rows["9"]["_reason"]
    area_q = read_quarantine(areas.quarantine_path)
    assert [r["_row"] for r in area_q] == ["5"] and "swapped" in area_q[0]["_reason"]

    people = store.get_nodes(["per:P001", "per:P004", "per:P005", "per:P006"])
    assert set(people) == {"per:P001", "per:P004", "per:P005"}
    zhang = people["per:P001"].props
    assert zhang["name"] == "张伟" and zhang["gender"] == "male" and zhang["birth_year"] == 1984
    assert zhang["languages"] == ["ru", "en"] and zhang["volunteer"] is True and zhang["nationality"] == "CN"
    assert zhang["id_hash"] == hash_identity(rid(1), KEY)[0] and zhang["id_kind"] == "resident_id"
    assert rid(1) not in json.dumps(zhang, default=str)
    anna = people["per:P004"].props
    assert anna["id_kind"] == "passport" and anna["nationality"] == "RU" and anna["languages"] == ["ru", "en"]
    assert zhang["src_job"] == "residents" and zhang["src_row"] == 1 and zhang["src_file"] == "residents.csv"
    lives = store.edges(["per:P001", "per:P005"], "LIVES_IN", "out")
    assert [e.to_id for e in lives.get("per:P001", [])] == ["area:B1"] and not lives.get("per:P005")


def test_rerun_is_unchanged_and_one_edit_is_one_update(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    run(data, store, tmp_path)
    seq = store.last_seq()
    areas, residents = run(data, store, tmp_path)
    assert (areas.inserted, areas.updated, areas.unchanged, areas.quarantined) == (0, 0, 4, 1)
    assert (residents.inserted, residents.updated, residents.unchanged, residents.quarantined) == (0, 0, 5, 4)
    assert store.last_seq() == seq  # nothing written, not even a change-log entry

    rows = resident_rows()
    rows[1][4] = "日语、法语"  # P002 learns French
    write_csv(data / "residents.csv", [RESIDENT_HEADER, *rows], encoding="gbk")
    residents = run_job(load_job(data / "residents.yaml"), store, id_hash_key=KEY,
                        quarantine_dir=tmp_path / "quarantine")
    assert (residents.inserted, residents.updated, residents.unchanged, residents.quarantined) == (0, 1, 4, 4)
    assert store.get_nodes(["per:P002"])["per:P002"].props["languages"] == ["ja", "fr"]


def test_dry_run_writes_nothing_and_predicts(world: tuple[Path, GraphStore], tmp_path: Path) -> None:
    data, store = world
    seq = store.last_seq()
    areas, residents = run(data, store, tmp_path, dry_run=True)
    assert store.last_seq() == seq and store.count_nodes("Person") == 0 and store.count_nodes("Area") == 0
    assert areas.dry_run and "dry run" in str(areas)
    # Later jobs see the ids earlier jobs would write, so the prediction matches a real run.
    assert (areas.inserted, areas.quarantined) == (4, 1)
    assert (residents.inserted, residents.quarantined) == (5, 4)
    real = run(data, store, tmp_path)
    assert [(s.inserted, s.quarantined) for s in real] == [(4, 1), (5, 4)]
    again = run(data, store, tmp_path, dry_run=True)
    assert [(s.unchanged, s.quarantined) for s in again] == [(4, 1), (5, 4)]


def test_small_batches_and_on_batch(world: tuple[Path, GraphStore], tmp_path: Path) -> None:
    data, store = world
    calls: list[int] = []
    areas, residents = run(data, store, tmp_path, batch_size=2, on_batch=lambda: calls.append(1))
    assert (areas.inserted, residents.inserted, residents.quarantined) == (4, 5, 4)
    assert len(calls) >= 4


def test_a_full_batch_with_rows_to_come_lets_the_store_settle_while_the_next_is_built(
    world: tuple[Path, GraphStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a full batch the store may housekeep (LadybugDB: checkpoint) while the job reads and builds the next
    one, rather than at the start of the next write; never after a job's last batch (the pipeline settles
    between jobs) nor in a dry run, which writes nothing."""
    data, store = world
    events: list[str] = []
    real_write, real_settle = type(store).upsert_batch, type(store).settle

    def upsert_batch(self: GraphStore, *a: object, **kw: object) -> object:
        events.append("write")
        return real_write(self, *a, **kw)  # type: ignore[arg-type]

    def settle(self: GraphStore) -> None:
        events.append("settle")
        real_settle(self)

    monkeypatch.setattr(type(store), "upsert_batch", upsert_batch)
    monkeypatch.setattr(type(store), "settle", settle)
    areas, residents = run(data, store, tmp_path, batch_size=2)
    assert (areas.inserted, residents.inserted) == (4, 5)
    # areas: C1 R1 | B1 B2 (B3 quarantined), then the pipeline between jobs; residents: P001 P002 | P003 P004 |
    # P005 P008 (P006, P007 fail as they are built; P008's building is missing, found as the batch is written) and
    # P009 left to come: its batch writes nothing (its building B3 was quarantined), so nothing settles after it
    assert events == ["write", "settle", "write", "settle",
                      "settle",
                      "write", "settle", "write", "settle", "write", "settle"]
    events.clear()
    run(data, store, tmp_path, batch_size=2, dry_run=True)
    assert events == []


def test_the_collector_is_held_while_a_batch_is_gathered_and_written_and_runs_between_batches(
    world: tuple[Path, GraphStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    data, store = world
    writes: list[bool] = []
    real = type(store).upsert_batch

    def upsert_batch(self: GraphStore, *a: object, **kw: object) -> object:
        writes.append(gc.isenabled())
        return real(self, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store), "upsert_batch", upsert_batch)
    between: list[bool] = []
    areas, residents = run(data, store, tmp_path, batch_size=2, on_batch=lambda: between.append(gc.isenabled()))
    assert (areas.inserted, residents.inserted) == (4, 5)
    assert writes and not any(writes)  # every batch written with the collector held
    assert between and not any(between)  # on_batch runs inside the batch's hold too
    assert gc.isenabled()  # and it runs again after the job
    monkeypatch.setattr(type(store), "upsert_batch", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("down")))
    with pytest.raises(RuntimeError, match="down"):
        run(data, store, tmp_path)
    assert gc.isenabled()  # a job that failed mid-batch let it go too


def test_xlsx_and_ndjson_sources(tmp_path: Path, fresh_graph: GraphStore) -> None:
    data = tmp_path / "in"
    data.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["编号", "名称", "层级"])
    ws.append(["B1", "1号楼", "楼栋"])
    ws.append([1234567890123456789, "长号码", "楼栋"])  # an id typed into a Number cell
    wb.save(data / "areas.xlsx")
    (data / "areas.yaml").write_text(
        'job: areas-xlsx\nsource: {path: areas.xlsx}\nnodes:\n  - type: Area\n    key: "{编号}"\n'
        "    properties: {name: 名称, level: 层级}\n", encoding="utf-8")
    (data / "people.ndjson").write_text(
        '{"id": "X1", "name": "Ivan", "langs": ["ru", "Chinese"], "building": "B1"}\n'
        '{"id": "X2", "name": \n', encoding="utf-8")
    (data / "people.yaml").write_text(
        'job: people\nsource: {path: people.ndjson}\nnodes:\n  - type: Person\n    key: "{id}"\n'
        "    properties: {name: name, languages: langs}\nrelationships:\n  - type: LIVES_IN\n"
        '    from: {type: Person, key: "{id}"}\n    to: {type: Area, key: "{building}"}\n', encoding="utf-8")
    store = fresh_graph
    a, p = run_pipeline([load_job(data / "areas.yaml"), load_job(data / "people.yaml")], store,
                        id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert (a.inserted, a.quarantined) == (1, 1)
    assert "15 digits" in read_quarantine(a.quarantine_path)[0]["_reason"]
    assert (p.inserted, p.quarantined) == (1, 1)
    bad = read_quarantine(p.quarantine_path)[0]
    assert "not valid JSON" in bad["_reason"] and bad["_line"].startswith('{"id": "X2"')
    assert store.get_nodes(["per:X1"])["per:X1"].props["languages"] == ["ru", "zh"]


def test_store_rejection_is_quarantined_and_partial_write_reported(
    world: tuple[Path, GraphStore], tmp_path: Path
) -> None:
    data, store = world
    # Telling the job area:B1 exists (as a dry-run pipeline would) while it does not makes the
    # endpoint check pass, so the store itself rejects the LIVES_IN records.
    spec = load_job(data / "residents.yaml")
    s = run_job(spec, store, id_hash_key=KEY, quarantine_dir=tmp_path / "q", known_ids={"area:B1"})
    rows = {r["_row"]: r["_reason"] for r in read_quarantine(s.quarantine_path)}
    for n in ("1", "2"):  # P001, P002 live in B1
        assert rows[n].startswith("store rejected per:P00") and "area:B1" in rows[n]
        assert "other records were written" in rows[n]
    assert s.partially_written == 2
    assert s.rows_in == s.inserted + s.updated + s.unchanged + s.quarantined
    assert "per:P001" in store.get_nodes(["per:P001"])  # the person was written; the row still counts as quarantined


def test_repeated_ids_in_one_file_keep_file_order(tmp_path: Path, fresh_graph: GraphStore) -> None:
    (tmp_path / "areas.csv").write_text(
        "编号,名称,层级\nB1,一号楼,楼栋\nB1,一号楼,楼栋\nB1,1号楼,楼栋\nB2,二号楼,楼栋\n", encoding="utf-8")
    (tmp_path / "areas.yaml").write_text(
        'job: areas\nsource: {path: areas.csv}\nnodes:\n  - type: Area\n    key: "{编号}"\n'
        "    properties: {name: 名称, level: 层级}\n", encoding="utf-8")
    store = fresh_graph
    s = run_job(load_job(tmp_path / "areas.yaml"), store, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    # Row 2 repeats row 1 (unchanged); row 3 renames it (an update, applied after row 1).
    assert (s.inserted, s.updated, s.unchanged, s.quarantined) == (2, 1, 1, 0)
    assert store.get_nodes(["area:B1"])["area:B1"].props["name"] == "1号楼"


def test_the_progress_bar_says_what_a_job_waits_for_once_it_lasts(
    world: tuple[Path, GraphStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The row count stands still while a batch is written (seconds for 100,000 rows at scale, plus the graph saving
    the job before): once that lasts, the bar says what the job is doing and for how long; a quick one says nothing."""
    from talentgraph.ingest import progress

    data, store = world
    write, check = store.upsert_batch, store.get_nodes

    def slow_write(*a: Any, **kw: Any) -> Any:
        time.sleep(0.3)  # a write long enough for the ticker to see (the real store still writes it)
        return write(*a, **kw)

    def slow_check(*a: Any, **kw: Any) -> Any:
        time.sleep(0.3)
        return check(*a, **kw)

    monkeypatch.setattr(progress, "SAY_AFTER", 0.1)
    monkeypatch.setattr(progress, "TICK", 0.02)
    monkeypatch.setattr(store, "get_nodes", slow_check)
    run(data, store, tmp_path, batch_size=3, progress=True, dry_run=True)
    assert re.search(r"checking 3 rows against the graph, \d+ s", capsys.readouterr().err)
    monkeypatch.setattr(store, "upsert_batch", slow_write)
    run(data, store, tmp_path, batch_size=3, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"writing 3 rows to the graph, \d+ s", err)
    monkeypatch.setattr(progress, "SAY_AFTER", 60.0)  # no write lasts that long: nothing said
    run(data, store, tmp_path, batch_size=3, progress=True)
    assert "rows to the graph" not in capsys.readouterr().err
