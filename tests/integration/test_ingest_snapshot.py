"""Snapshot jobs (``mode: snapshot``, ingest/snapshot.py) on the embedded stores: what a register no
longer lists is ended — only what that register owns — with tombstones, counts and a search index
that follows. Synthetic data only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from talentgraph.cli import main
from talentgraph.config import Settings
from talentgraph.demo import JOBS_DIR, PIPELINE, generate
from talentgraph.errors import IngestError
from talentgraph.ingest.job import JobStopped, JobSummary, run_job
from talentgraph.ingest.mapping import load_job, load_pipeline
from talentgraph.ingest.pipeline import run_pipeline
from talentgraph.ingest.snapshot import SnapshotRefused
from talentgraph.ingest.sources.csv import MAX_CELL_CHARS
from talentgraph.stores import Stores, open_graph, open_stores
from talentgraph.types import Change, rel_key

KEY = b"snapshot-test-key"

AREAS = """
job: areas
source: {path: areas.csv}
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

RESIDENTS = """
job: residents
mode: snapshot
priority: 10
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties: {name: 姓名, occupation: 职业}
relationships:
  - type: LIVES_IN
    from: {type: Person, key: "{编号}"}
    to: {type: Area, key: "{楼栋}"}
    optional: true
  - type: WORKS_AT
    from: {type: Person, key: "{编号}"}
    to: {type: Enterprise, key: "{单位}"}
    optional: true
"""

# A second register that knows some of the same people (lower priority: its values show only where
# the residents register says nothing).
VOLUNTEERS = """
job: volunteers
source: {path: volunteers.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties: {name: 姓名, occupation: 职业, volunteer: {column: 志愿者, transform: bool}}
"""

ENTERPRISES = """
job: enterprises
mode: snapshot
source: {path: enterprises.csv}
nodes:
  - type: Enterprise
    key: "{编号}"
    properties: {name: 名称}
relationships:
  - type: LOCATED_IN
    from: {type: Enterprise, key: "{编号}"}
    to: {type: Area, key: "{楼栋}"}
"""

# Business licences: another register that knows one of the enterprises (by its registered name).
LICENCES = """
job: licences
source: {path: licences.csv}
nodes:
  - type: Enterprise
    key: "{编号}"
    properties: {name: 名称, uscc: 统一社会信用代码}
"""

AREA_ROWS = [["编号", "名称", "层级", "上级"], ["C1", "联洋社区", "社区", ""], ["R1", "联洋花园", "居民区", "C1"],
             ["B1", "联洋花园1号楼", "楼栋", "R1"], ["B2", "联洋花园2号楼", "楼栋", "R1"]]
RESIDENT_HEADER = ["编号", "姓名", "职业", "楼栋", "单位"]
RESIDENT_ROWS = [["P1", "张伟", "工程师", "B1", "E2"], ["P2", "李娜", "医生", "B1", ""], ["P3", "王芳", "律师", "B2", ""],
                 ["P4", "赵强", "厨师", "B2", ""], ["P5", "孙丽", "教师", "B2", ""]]
ENTERPRISE_HEADER = ["编号", "名称", "楼栋"]
ENTERPRISE_ROWS = [["E1", "联洋科技", "B1"], ["E2", "花园餐饮", "B1"], ["E3", "东方书店", "B2"], ["E4", "锦绣药房", "B2"]]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


class World:
    """Registers in a folder and the embedded stores (LadybugDB + Tantivy) they are ingested into."""

    def __init__(self, root: Path) -> None:
        self.data = root / "registers"
        self.data.mkdir()
        self.quarantine = root / "quarantine"
        for name, text in (("areas", AREAS), ("residents", RESIDENTS), ("volunteers", VOLUNTEERS),
                           ("enterprises", ENTERPRISES), ("licences", LICENCES)):
            (self.data / f"{name}.yaml").write_text(text, encoding="utf-8")
        write_csv(self.data / "areas.csv", AREA_ROWS)
        self.residents(RESIDENT_ROWS)
        write_csv(self.data / "volunteers.csv", [["编号", "姓名", "职业", "志愿者"], ["P2", "李娜娜", "护士", "是"]])
        self.enterprises(ENTERPRISE_ROWS)
        write_csv(self.data / "licences.csv", [["编号", "名称", "统一社会信用代码"],
                                                     ["E1", "上海联洋科技有限公司", "91310115MA1K4ABC18"]])
        self.stores: Stores = open_stores(Settings(data_dir=root / "data"))
        self.graph = self.stores.graph
        try:
            for job in ("areas", "enterprises", "residents", "volunteers", "licences"):
                assert not self.run(job).quarantined, job  # the world is as the tests describe it
            self.stores.projector.sync()
        except BaseException:
            self.stores.close()
            raise

    def residents(self, rows: list[list[str]]) -> None:
        write_csv(self.data / "residents.csv", [RESIDENT_HEADER, *rows])

    def enterprises(self, rows: list[list[str]]) -> None:
        write_csv(self.data / "enterprises.csv", [ENTERPRISE_HEADER, *rows])

    def run(self, job: str, **kw: bool) -> JobSummary:
        return run_job(load_job(self.data / f"{job}.yaml"), self.graph, id_hash_key=KEY,
                       quarantine_dir=self.quarantine, **kw)  # type: ignore[arg-type]

    def changes_since(self, seq: int) -> list[Change]:
        return self.graph.changes(after_seq=seq, limit=10_000)

    def found(self, text: str) -> set[str]:
        return {h.id for h in self.stores.search.search(text, types=("Person",)).hits}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.stores.close()


def without(rows: list[list[str]], *keys: str) -> list[list[str]]:
    return [r for r in rows if r[0] not in keys]


def test_a_resident_who_moved_out_loses_lives_in_with_a_tombstone(world: World) -> None:
    seq = world.graph.last_seq()
    rows = without(RESIDENT_ROWS, "P3")
    rows[1] = ["P2", "李娜", "医生", "B2", ""]  # P2 moved from building 1 to building 2
    world.residents(rows)
    s = world.run("residents")
    # P3's LIVES_IN and P2's old one are the register's own relationships: ended. P3 is known to no
    # other register: deleted. P2 stays (the volunteers register knows her) with a new LIVES_IN.
    assert (s.ended, s.deleted, s.detached) == (2, 1, 0)
    assert s.ended_by_type == {"LIVES_IN": 2} and s.deleted_by_type == {"Person": 1}
    assert s.removed_preview == {"LIVES_IN": [rel_key("LIVES_IN", "per:P2", "area:B1"),
                                              rel_key("LIVES_IN", "per:P3", "area:B2")], "Person": ["per:P3"]}
    assert (s.inserted, s.updated, s.unchanged) == (1, 0, 3)  # P2's row: a new LIVES_IN
    assert "per:P3" not in world.graph.get_nodes(["per:P3"])
    lives = world.graph.edges(["per:P2"], "LIVES_IN", "out")["per:P2"]
    assert [e.to_id for e in lives] == ["area:B2"]
    log = world.changes_since(seq)
    tombstones = {(c.kind, c.id) for c in log if c.op == "delete"}
    assert tombstones == {("rel", rel_key("LIVES_IN", "per:P2", "area:B1")),
                          ("rel", rel_key("LIVES_IN", "per:P3", "area:B2")), ("node", "per:P3")}
    old = next(c for c in log if c.id == rel_key("LIVES_IN", "per:P3", "area:B2"))
    assert (old.from_id, old.to_id, old.type, old.version) == ("per:P3", "area:B2", "LIVES_IN", 2)


def test_a_node_two_registers_claim_keeps_the_other_registers_values(world: World) -> None:
    before = world.graph.get_nodes(["per:P2"])["per:P2"].props
    assert (before["name"], before["occupation"]) == ("李娜", "医生")  # the residents register wins (priority)
    seq = world.graph.last_seq()
    world.residents(without(RESIDENT_ROWS, "P2"))
    s = world.run("residents")
    assert (s.ended, s.deleted) == (2, 0) and s.ended_by_type == {"LIVES_IN": 1, "Person": 1}
    after = world.graph.get_nodes(["per:P2"])["per:P2"].props
    # The shown values fall back to the volunteers register's claims; nothing of it is lost.
    assert (after["name"], after["occupation"], after["volunteer"]) == ("李娜娜", "护士", True)
    assert after["version"] == before["version"] + 1 and after["src_job"] == "volunteers"
    prov = json.loads(after["prov"])
    assert {s[0] for s in prov["s"]} == {"volunteers"}
    node_changes = [c for c in world.changes_since(seq) if c.kind == "node"]
    assert [(c.op, c.id, c.version) for c in node_changes] == [("upsert", "per:P2", after["version"])]
    assert not world.graph.edges(["per:P2"], "LIVES_IN", "out")["per:P2"]


def test_an_enterprise_that_left_loses_its_links_and_only_unclaimed_nodes_go(world: World) -> None:
    assert [e.to_id for e in world.graph.edges(["per:P1"], "WORKS_AT", "out")["per:P1"]] == ["ent:E2"]
    seq = world.graph.last_seq()
    world.enterprises(without(ENTERPRISE_ROWS, "E1", "E2"))  # 4 of the job's 8 records: exactly the limit
    s = world.run("enterprises")
    # E2: only this register knew it, so it is deleted, and the residents register's WORKS_AT to it goes
    # with it (detached). E1: the licences register still claims it, so it stays with that register's values.
    assert (s.ended, s.deleted, s.detached) == (3, 1, 1)
    assert s.ended_by_type == {"Enterprise": 1, "LOCATED_IN": 2} and s.deleted_by_type == {"Enterprise": 1}
    nodes = world.graph.get_nodes(["ent:E1", "ent:E2", "ent:E3"])
    assert set(nodes) == {"ent:E1", "ent:E3"}
    assert (nodes["ent:E1"].props["name"], nodes["ent:E1"].props["uscc"]) == ("上海联洋科技有限公司", "91310115MA1K4ABC18")
    assert nodes["ent:E1"].props["src_job"] == "licences"
    assert not world.graph.edges(["ent:E1"], "LOCATED_IN", "out")["ent:E1"]
    assert not world.graph.edges(["per:P1"], "WORKS_AT", "out")["per:P1"]
    tombstones = {c.id for c in world.changes_since(seq) if c.op == "delete"}
    assert tombstones == {"ent:E2", rel_key("LOCATED_IN", "ent:E1", "area:B1"),
                          rel_key("LOCATED_IN", "ent:E2", "area:B1"), rel_key("WORKS_AT", "per:P1", "ent:E2")}
    # Areas the enterprises pointed at are not the register's own: untouched.
    assert set(world.graph.get_nodes(["area:B1", "area:B2"])) == {"area:B1", "area:B2"}


def test_rerunning_the_same_snapshot_changes_nothing(world: World) -> None:
    world.residents(without(RESIDENT_ROWS, "P4"))
    first = world.run("residents")
    assert (first.ended, first.deleted) == (1, 1)
    seq = world.graph.last_seq()
    again = world.run("residents")
    assert (again.ended, again.deleted, again.detached) == (0, 0, 0) and again.unchanged == 4
    assert world.graph.last_seq() == seq and not world.changes_since(seq)
    # The enterprises register, sent again unchanged, ends nothing either.
    assert (world.run("enterprises").ended, world.graph.last_seq()) == (0, seq)


def test_a_snapshot_with_quarantined_rows_ends_nothing(world: World) -> None:
    rows = without(RESIDENT_ROWS, "P5")
    rows[0] = ["P1", "张伟", "工程师", "B9", ""]  # no building B9: the row is quarantined
    world.residents(rows)
    seq = world.graph.last_seq()
    s = world.run("residents")
    assert s.quarantined == 1 and (s.ended, s.deleted) == (0, 0)
    assert s.snapshot_note is not None and "quarantined" in s.snapshot_note and s.snapshot_note in str(s)
    assert "per:P5" in world.graph.get_nodes(["per:P5"])
    assert not [c for c in world.changes_since(seq) if c.op == "delete"]


def test_a_source_that_stops_early_ends_nothing(world: World) -> None:
    rows = without(RESIDENT_ROWS, "P5")
    rows[2] = ["P3", "王芳", "x" * (MAX_CELL_CHARS + 1), "B2", ""]  # unreadable: the job stops at row 3
    world.residents(rows)
    seq = world.graph.last_seq()
    with pytest.raises(JobStopped) as stopped:
        world.run("residents")
    assert stopped.value.summary.snapshot_note == "nothing ended: the source could not be read to the end"
    assert "nothing was ended or deleted" in str(stopped.value)
    assert (stopped.value.summary.ended, stopped.value.summary.deleted) == (0, 0)
    assert set(world.graph.get_nodes(["per:P4", "per:P5"])) == {"per:P4", "per:P5"}
    assert world.graph.last_seq() == seq


def test_a_file_that_would_end_too_much_is_refused_unless_forced(world: World) -> None:
    world.residents(RESIDENT_ROWS[:1])  # a truncated export: 1 resident of 5
    seq = world.graph.last_seq()
    with pytest.raises(SnapshotRefused) as refused:
        world.run("residents")
    assert "would end 8 of the 11 records job residents owns (73%, more than max_delete_share 0.5)" in str(
        refused.value)
    assert "--force" in (refused.value.hint or "")
    held = refused.value.summary
    assert held.unchanged == 1 and (held.ended, held.deleted) == (0, 0)
    assert world.graph.last_seq() == seq  # its one row was unchanged; nothing ended
    # A dry run says what would go, and that the real run would be refused.
    dry = world.run("residents", dry_run=True)
    assert (dry.ended, dry.deleted) == (5, 3) and "would be refused without --force" in (dry.snapshot_note or "")
    forced = world.run("residents", force=True)
    assert (forced.ended, forced.deleted) == (5, 3)  # P2 stays: the volunteers register knows her
    assert set(world.graph.get_nodes([f"per:P{i}" for i in range(1, 6)])) == {"per:P1", "per:P2"}


def test_the_share_limit_and_force_are_job_keys(world: World) -> None:
    def job(keys: str) -> None:
        text = RESIDENTS.replace("mode: snapshot", "mode: snapshot\n" + keys)
        (world.data / "residents.yaml").write_text(text, encoding="utf-8")

    job("max_delete_share: 0.9")
    world.residents(RESIDENT_ROWS[:1])
    assert world.run("residents").deleted == 3  # 73% ≤ 90%
    job("max_delete_share: 0")
    world.residents([])
    with pytest.raises(SnapshotRefused):
        world.run("residents")
    job("max_delete_share: 0\nforce_delete: true")
    s = world.run("residents")
    # P1 is deleted; its LIVES_IN and WORKS_AT are the register's own, so they are ended, not detached.
    assert (s.ended, s.deleted, s.detached) == (2, 1, 0)


def test_a_dry_run_shows_what_would_go_and_writes_nothing(world: World) -> None:
    world.enterprises(without(ENTERPRISE_ROWS, "E1", "E2"))
    seq = world.graph.last_seq()
    dry = world.run("enterprises", dry_run=True)
    assert world.graph.last_seq() == seq and set(world.graph.get_nodes(["ent:E1", "ent:E2"])) == {"ent:E1", "ent:E2"}
    real = world.run("enterprises")
    for field in ("ended", "deleted", "detached", "ended_by_type", "deleted_by_type", "removed_preview"):
        assert getattr(dry, field) == getattr(real, field), field
    assert dry.removed_preview["Enterprise"] == ["ent:E1", "ent:E2"]
    assert "would be ended" in str(dry) and "ent:E2" in str(dry)


def test_search_follows_deletes_and_withdrawn_claims(world: World) -> None:
    assert world.found("王芳") == {"per:P3"} and world.found("李娜娜") == set()
    world.residents(without(RESIDENT_ROWS, "P2", "P3"))
    world.run("residents")
    world.stores.projector.sync()
    assert world.found("王芳") == set()  # deleted: gone from search
    assert world.found("李娜娜") == {"per:P2"}  # re-indexed with the name the volunteers register gives


def test_the_cli_prints_and_reports_the_counts(world: World, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    world.stores.close()  # the CLI opens the data dir itself
    world.residents(without(RESIDENT_ROWS, "P4"))
    home = ["--data-dir", str(tmp_path / "data"), "--quiet"]
    assert main(["ingest", str(world.data / "residents.yaml"), "--dry-run", *home]) == 0
    out = capsys.readouterr().out
    assert "would be ended" in out and "per:P4" in out
    assert main(["ingest", str(world.data / "residents.yaml"), "--json", *home]) == 0
    [summary] = json.loads(capsys.readouterr().out)
    assert (summary["mode"], summary["ended"], summary["deleted"]) == ("snapshot", 1, 1)
    world.residents([])
    assert main(["ingest", str(world.data / "residents.yaml"), *home]) == 2
    assert "max_delete_share" in capsys.readouterr().err
    assert main(["ingest", str(world.data / "residents.yaml"), "--force", "--json", *home]) == 0
    [summary] = json.loads(capsys.readouterr().out)
    assert summary["deleted"] == 3 and summary["ended"] == 6  # 4 LIVES_IN, 1 WORKS_AT; P2 stays (volunteers)
    world.stores = open_stores(Settings(data_dir=tmp_path / "data"))  # for the fixture's close


@pytest.mark.parametrize(("line", "message"), [
    ("mode: snapshots", "'snapshots' is not a mode"),
    ("mode: snapshot\nmax_delete_share: 1.5", "1.5 is not a share between 0 and 1"),
    ("mode: snapshot\nmax_delete_share: yes", "True is not a share"),
    ("mode: snapshot\nforce_delete: 1", "1 is not true or false"),
    ("max_delete_share: 0.2", "max_delete_share: only a snapshot job ends records"),
])
def test_bad_snapshot_keys_are_refused_naming_the_key(tmp_path: Path, line: str, message: str) -> None:
    write_csv(tmp_path / "volunteers.csv", [["编号", "姓名", "职业", "志愿者"]])
    (tmp_path / "v.yaml").write_text(VOLUNTEERS + line + "\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        load_job(tmp_path / "v.yaml")
    assert message in str(err.value)


def test_the_demo_residents_register_as_a_snapshot(tmp_path: Path) -> None:
    """The shipped demo registers, with the residents register re-sent as a full snapshot."""
    regs = generate(tmp_path / "input", residents=300, seed=7)
    graph = open_graph(Settings(data_dir=tmp_path / "data"))
    try:
        graph.ensure_schema()
        run_pipeline(load_pipeline(PIPELINE, input_dir=regs.out_dir), graph, id_hash_key=KEY,
                     quarantine_dir=tmp_path / "q")
        spec = replace(load_job(JOBS_DIR / "residents.yaml", input_dir=regs.out_dir), mode="snapshot")

        def run() -> JobSummary:
            return run_job(spec, graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")

        # The demo register has deliberately bad rows: as a snapshot it ends nothing until they are fixed.
        seq = graph.last_seq()
        first = run()
        assert first.quarantined == regs.bad_rows["residents"] > 0 and (first.ended, first.deleted) == (0, 0)
        assert graph.last_seq() == seq
        with open(first.quarantine_path or "", encoding="utf-8-sig", newline="") as f:
            bad = {int(r["_row"]) for r in csv.DictReader(f)}
        path = regs.paths["residents"]
        with path.open(encoding="gb18030", newline="") as f:
            header, *rows = list(csv.reader(f))
        good = [r for n, r in enumerate(rows, 1) if n not in bad]
        moved_out = {f"per:{r[header.index('居民编号')]}" for r in good[:10]}
        with path.open("w", encoding="gb18030", newline="") as f:
            csv.writer(f).writerows([header, *good[10:]])

        s = run()
        assert s.quarantined == 0 and s.ended_by_type.get("LIVES_IN") == 10
        # Each resident who moved out is deleted, or kept (with no claim of the residents register)
        # because another demo register (volunteers, talent survey, party members …) knows them.
        kept = graph.get_nodes(sorted(moved_out))
        assert s.deleted == s.deleted_by_type["Person"] == 10 - len(kept)
        assert s.ended == 10 + len(kept)
        for node in kept.values():
            assert "residents" not in {src[0] for src in json.loads(node.props["prov"])["s"]}
        lives = graph.edges(sorted(kept), "LIVES_IN", "out")
        assert not [e for edges in lives.values() for e in edges if e.props.get("src_job") == "residents"]
        tombstones = {c.id for c in graph.changes(seq, limit=100_000) if c.op == "delete" and c.kind == "node"}
        assert tombstones == moved_out - set(kept)
        seq = graph.last_seq()
        again = run()
        assert (again.ended, again.deleted, graph.last_seq()) == (0, 0, seq)
    finally:
        graph.close()
