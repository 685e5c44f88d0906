"""Data subject rights on real stores (every backend): export all held about a person, then erase it.

A world is built by real ingest jobs (areas, residents, memberships), a few direct upserts for the
relationship types jobs here do not write, and a search projection. One resident, 张伟 (per:P001),
has a rejected row in two quarantine files; another resident's rejected row shares one of them.
Synthetic data only: names are invented and identity numbers built from made-up digits.
"""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from talentgraph.access.subject import AuditReader, ErasureReport, erase_person, export_person
from talentgraph.errors import BadQueryError, NotFoundError
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary, run_job
from talentgraph.ingest.mapping import load_job
from talentgraph.ingest.quarantine import FILE_MODE, IDS_COLUMN
from talentgraph.schema.validators import hash_identity, resident_id_check_char
from talentgraph.search.port import SearchIndex
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.types import NodeRecord, RelRecord, rel_key

KEY = b"subject-rights-test-key"
SUBJECT, OTHER = "per:P001", "per:P002"


def rid(serial: int) -> str:
    first17 = f"3101151984030200{serial % 10}"
    return first17 + resident_id_check_char(first17)


AREAS_JOB = """
job: areas
source: {path: areas.csv}
nodes:
  - type: Area
    key: "{区域编号}"
    properties: {name: 名称, level: 层级}
relationships:
  - type: PART_OF
    from: {type: Area, key: "{区域编号}"}
    to: {type: Area, key: "{上级编号}"}
    optional: true
"""

RESIDENTS_JOB = """
job: residents
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{居民编号}"
    properties:
      name: 姓名
      languages: {column: 语言, split: "[,;，；、/]", strict: true}
      identity: {column: 证件号码, transform: identity, kind_column: 证件类型}
relationships:
  - type: LIVES_IN
    from: {type: Person, key: "{居民编号}"}
    to: {type: Area, key: "{楼栋编号}"}
    optional: true
"""

MEMBERS_JOB = """
job: members
source: {path: members.csv}
relationships:
  - type: MEMBER_OF
    from: {type: Person, key: "{居民编号}"}
    to: {type: Group, key: "{团队编号}"}
    properties: {role: 角色}
"""

AREA_ROWS = [
    ["区域编号", "名称", "层级", "上级编号"],
    ["C1", "联洋社区", "社区", ""],
    ["R1", "联洋花园", "居民区", "C1"],
    ["B1", "1号楼", "楼栋", "R1"],
]
RESIDENT_ROWS = [
    ["居民编号", "姓名", "语言", "证件号码", "证件类型", "楼栋编号"],
    ["P001", "张伟", "俄语、英语", rid(1), "居民身份证", "B1"],
    ["P002", "李娜", "日语", rid(2), "居民身份证", "B1"],
    ["P001", "张伟", "克林贡语", rid(1), "居民身份证", "B1"],  # the subject, quarantined: unknown language
    ["P007", "孙浩", "克林贡语", rid(7), "居民身份证", "B1"],  # someone else, quarantined (never written)
]
MEMBER_ROWS = [
    ["居民编号", "团队编号", "角色"],
    ["P001", "G1", "队长"],
    ["P002", "G1", "队员"],
    ["P001", "G404", "队员"],  # no such group: quarantined, the only row of its file
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@dataclass(frozen=True)
class Entry:
    at: str
    principal: str
    action: str
    person: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TinyAudit:
    """A real (file-backed) audit reader for these tests; ``access/audit.py``'s AuditLog has the same read."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "audit.jsonl"

    def record(self, principal: str, action: str, person: str) -> None:
        entry = Entry("2024-03-05T01:02:03Z", principal, action, person)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")

    def read(self, *, person: str | None = None) -> list[Entry]:
        if not self.path.exists():
            return []
        entries = [Entry(**json.loads(line)) for line in self.path.read_text(encoding="utf-8").splitlines()]
        return [e for e in entries if person is None or e.person == person]


@dataclass
class World:
    graph: GraphStore
    index: SearchIndex
    projector: SearchProjector
    quarantine: Path
    audit: TinyAudit
    residents: JobSummary
    members: JobSummary
    legacy: Path


@pytest.fixture
def world(tmp_path: Path, fresh_graph: GraphStore, fresh_index: SearchIndex) -> Iterator[World]:
    data = tmp_path / "registers"
    data.mkdir()
    quarantine = tmp_path / "quarantine"
    for name, job, rows in (("areas", AREAS_JOB, AREA_ROWS), ("residents", RESIDENTS_JOB, RESIDENT_ROWS),
                            ("members", MEMBERS_JOB, MEMBER_ROWS)):
        write_csv(data / f"{name}.csv", rows)
        (data / f"{name}.yaml").write_text(job, encoding="utf-8")
    graph = fresh_graph
    graph.upsert_nodes([
        NodeRecord("Group", "grp:G1", {"name": "联洋外籍志愿者团队", "kind": "foreign_volunteer_team"}),
        NodeRecord("Enterprise", "ent:E1", {"name": "联洋律师事务所"}),
        NodeRecord("Document", "doc:D1", {"title": "睦邻节纪要", "text": "张伟 主持 睦邻节"}),
    ])
    summaries = [run_job(load_job(data / f"{n}.yaml"), graph, id_hash_key=KEY, quarantine_dir=quarantine)
                 for n in ("areas", "residents", "members")]
    graph.upsert_relationships([
        RelRecord("WORKS_AT", SUBJECT, "ent:E1", {"title": "律师"}),
        RelRecord("MENTIONS", "doc:D1", SUBJECT, {"count": 1}),
    ])
    # A quarantine file from before the _ids column: it cannot be matched to anyone.
    legacy = quarantine / "old-20230101T000000Z.csv"
    legacy.write_text("_row,_reason,居民编号,姓名\r\n3,bad,P001,张伟\r\n", encoding="utf-8-sig")
    legacy.chmod(FILE_MODE)
    projector = SearchProjector(graph, fresh_index)
    projector.sync()
    audit = TinyAudit(tmp_path / "audit")
    audit.record("admin-1", "read", SUBJECT)
    audit.record("analyst-2", "search", SUBJECT)
    audit.record("admin-1", "read", OTHER)
    yield World(graph, fresh_index, projector, quarantine, audit, summaries[1], summaries[2], legacy)


def quarantine_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def names_found(index: SearchIndex, text: str) -> set[str]:
    return {h.id for h in SearchService(index).search(text).hits}


def test_ingest_writes_the_ids_a_row_names(world: World) -> None:
    assert world.residents.quarantined == 2 and world.members.quarantined == 1
    residents_q = Path(world.residents.quarantine_path or "")
    assert stat.S_IMODE(residents_q.stat().st_mode) == FILE_MODE
    rows = quarantine_rows(residents_q)
    assert list(rows[0])[:3] == ["_row", "_reason", IDS_COLUMN]
    assert [(r["_row"], r[IDS_COLUMN]) for r in rows] == [("3", "per:P001 area:B1"), ("4", "per:P007 area:B1")]
    members = quarantine_rows(Path(world.members.quarantine_path or ""))
    assert [r[IDS_COLUMN] for r in members] == ["per:P001 grp:G404"]  # a relationship-only job names both ends


def test_export_has_every_section(world: World) -> None:
    audit: AuditReader = world.audit
    out = export_person(world.graph, world.index, SUBJECT, quarantine_dir=world.quarantine, audit=audit)
    text = json.dumps(out, ensure_ascii=False)  # JSON-ready as it is: no default= needed
    assert out["person_id"] == SUBJECT and out["format_version"] == 1 and out["generated_at"].endswith("Z")

    node = out["node"]
    assert node["type"] == "Person"
    assert node["properties"]["name"] == "张伟" and node["properties"]["languages"] == ["ru", "en"]
    prov = node["provenance"]
    assert (prov["src_job"], prov["src_file"], prov["src_row"]) == ("residents", "residents.csv", 1)
    assert prov["version"] >= 1 and prov["ingested_at"] and prov["updated_at"]
    ident = node["identity_document"]
    assert ident["held"] == "yes" and ident["id_kind"] == "resident_id" and ident["id_last4"] == rid(1)[-4:]
    assert ident["withheld"] == ["id_hash"] and "hash" in ident["why"]
    held = world.graph.get_nodes([SUBJECT])[SUBJECT].props
    assert held["id_hash"] == hash_identity(rid(1), KEY)[0]
    assert held["id_hash"] not in text and held["content_hash"] not in text and rid(1) not in text
    assert "id_hash" not in node["properties"] and "content_hash" not in node["provenance"]

    rels = {(r["type"], r["direction"], r["other"]["id"]): r for r in out["relationships"]}
    assert set(rels) == {("LIVES_IN", "out", "area:B1"), ("MEMBER_OF", "out", "grp:G1"),
                         ("WORKS_AT", "out", "ent:E1"), ("MENTIONS", "in", "doc:D1")}
    member = rels[("MEMBER_OF", "out", "grp:G1")]
    assert member["key"] == rel_key("MEMBER_OF", SUBJECT, "grp:G1")
    assert member["other"] == {"id": "grp:G1", "type": "Group", "title": "联洋外籍志愿者团队"}
    assert member["properties"] == {"role": "队长"}
    assert member["provenance"]["src_job"] == "members" and member["provenance"]["src_row"] == 1
    assert rels[("LIVES_IN", "out", "area:B1")]["other"]["title"] == "1号楼"
    assert rels[("LIVES_IN", "out", "area:B1")]["provenance"]["src_job"] == "residents"
    assert rels[("WORKS_AT", "out", "ent:E1")]["properties"] == {"title": "律师"}
    assert rels[("MENTIONS", "in", "doc:D1")]["other"]["title"] == "睦邻节纪要"

    doc = out["search_document"]
    assert doc["id"] == SUBJECT and doc["type"] == "Person" and doc["values"]["name"] == "张伟"
    assert "id_hash" not in doc["values"]

    q = out["quarantine"]
    found = sorted((r["file"].split("-")[0], r["row"], r["cells"].get("姓名") or r["cells"].get("团队编号"))
                   for r in q["rows"])
    assert found == [("members", 3, "G404"), ("residents", 3, "张伟")]
    assert any("克林贡语" in r["reason"] for r in q["rows"])
    assert "孙浩" not in text  # someone else's row in the same file is not theirs
    assert q["unchecked_files"] == [{"file": world.legacy.name, "rows": 1, "reason": "could not check: no _ids column"}]

    assert out["audit"]["checked"] is True
    assert sorted(e["principal"] for e in out["audit"]["entries"]) == ["admin-1", "analyst-2"]
    assert all(e["person"] == SUBJECT for e in out["audit"]["entries"])

    without = export_person(world.graph, None, SUBJECT, quarantine_dir=world.quarantine, audit=None)
    assert without["audit"] == {"checked": False, "entries": []} and without["search_document"] == {"checked": False}


def test_erase_removes_everything_and_twice_is_not_found(world: World) -> None:
    graph, index, qdir = world.graph, world.index, world.quarantine
    residents_q = Path(world.residents.quarantine_path or "")
    members_q = Path(world.members.quarantine_path or "")
    header_before = residents_q.read_bytes().split(b"\r\n", 1)[0]
    keys = {rel_key("LIVES_IN", SUBJECT, "area:B1"), rel_key("MEMBER_OF", SUBJECT, "grp:G1"),
            rel_key("WORKS_AT", SUBJECT, "ent:E1"), rel_key("MENTIONS", "doc:D1", SUBJECT)}
    assert names_found(index, "张伟") == {SUBJECT}

    # A dry run reports what would go and changes nothing.
    seq = graph.last_seq()
    files_before = {p.name: p.read_bytes() for p in qdir.iterdir()}
    dry = erase_person(graph, index, SUBJECT, quarantine_dir=qdir, dry_run=True)
    assert dry.dry_run and dry.node_deleted and dry.search_document_deleted and dry.tombstone_seqs == []
    assert set(dry.relationship_keys) == keys and dry.relationships_deleted == 4
    assert dry.quarantine_rows_removed == {residents_q.name: 1, members_q.name: 1}
    assert dry.quarantine_files_deleted == [members_q.name]
    assert graph.last_seq() == seq and SUBJECT in graph.get_nodes([SUBJECT])
    assert {p.name: p.read_bytes() for p in qdir.iterdir()} == files_before
    assert names_found(index, "张伟") == {SUBJECT}

    report = erase_person(graph, index, SUBJECT, quarantine_dir=qdir)
    assert isinstance(report, ErasureReport) and not report.dry_run
    assert report.node_deleted and report.search_document_deleted
    assert set(report.relationship_keys) == keys and report.relationships_deleted == 4
    assert report.quarantine_rows_removed == {residents_q.name: 1, members_q.name: 1}
    assert report.quarantine_files_deleted == [members_q.name]
    assert report.quarantine_unchecked == {world.legacy.name: "could not check: no _ids column"}

    # The graph: node and relationships gone, one tombstone each in the change log.
    assert graph.get_nodes([SUBJECT]) == {}
    assert [e.from_id for e in graph.edges(["area:B1"], "LIVES_IN", "in").get("area:B1", [])] == [OTHER]
    assert [e.from_id for e in graph.edges(["grp:G1"], "MEMBER_OF", "in").get("grp:G1", [])] == [OTHER]
    assert not graph.edges(["doc:D1"], "MENTIONS", "out").get("doc:D1")
    tombstones = [c for c in graph.changes(after_seq=seq) if c.op == "delete"]
    assert {(c.kind, c.id) for c in tombstones} == {("node", SUBJECT), *(("rel", k) for k in keys)}
    assert sorted(c.seq for c in tombstones) == report.tombstone_seqs

    # The search index: the document is gone now, and the projector's later pass keeps it gone.
    assert names_found(index, "张伟") == set() and names_found(index, "李娜") == {OTHER}
    cursor = index.get_cursor()
    assert cursor < graph.last_seq()  # erasure moved nothing but the document
    world.projector.sync()
    assert names_found(index, "张伟") == set() and index.get_cursor() == graph.last_seq()

    # Quarantine: their rows gone, others' kept, header and mode unchanged, an emptied file deleted.
    assert not members_q.exists()
    rows = quarantine_rows(residents_q)
    assert [(r["_row"], r["姓名"]) for r in rows] == [("4", "孙浩")]
    assert residents_q.read_bytes().split(b"\r\n", 1)[0] == header_before
    assert stat.S_IMODE(residents_q.stat().st_mode) == FILE_MODE
    assert world.legacy.read_bytes() == files_before[world.legacy.name]  # not guessed at
    assert not [p for p in qdir.iterdir() if p.name.startswith(".")]  # no temp file left

    # The report keeps the fact, not the data: ids and counts only.
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    for value in ("张伟", "俄语", "\"ru\"", rid(1)[-4:], "克林贡语", "队长"):
        assert value not in text

    with pytest.raises(NotFoundError) as again:
        erase_person(graph, index, SUBJECT, quarantine_dir=qdir)
    assert SUBJECT in str(again.value) and again.value.hint
    with pytest.raises(NotFoundError):
        export_person(graph, index, SUBJECT, quarantine_dir=qdir, audit=world.audit)
    # The audit log is kept: the fact of every access stays on record.
    assert len(world.audit.read(person=SUBJECT)) == 2


def test_a_person_held_only_in_quarantine_can_be_exported_and_erased(world: World) -> None:
    someone = "per:P007"  # rejected on ingest: never written to the graph
    out = export_person(world.graph, world.index, someone, quarantine_dir=world.quarantine, audit=world.audit)
    assert out["node"] is None and out["relationships"] == [] and out["search_document"] is None
    assert [r["cells"]["姓名"] for r in out["quarantine"]["rows"]] == ["孙浩"]
    report = erase_person(world.graph, world.index, someone, quarantine_dir=world.quarantine)
    assert not report.node_deleted and report.tombstone_seqs == [] and report.notes
    residents_q = Path(world.residents.quarantine_path or "")
    assert [r["_row"] for r in quarantine_rows(residents_q)] == ["3"]  # the subject's row is still there
    with pytest.raises(NotFoundError):
        erase_person(world.graph, world.index, someone, quarantine_dir=world.quarantine)


def test_ids_that_are_not_people_are_refused(world: World) -> None:
    for bad in ("grp:G1", "nonsense", "per:"):
        with pytest.raises(BadQueryError) as exc:
            erase_person(world.graph, world.index, bad, quarantine_dir=world.quarantine)
        assert exc.value.hint
        with pytest.raises(BadQueryError):
            export_person(world.graph, world.index, bad, quarantine_dir=world.quarantine, audit=None)
    with pytest.raises(NotFoundError) as missing:
        export_person(world.graph, world.index, "per:NOBODY", quarantine_dir=world.quarantine, audit=None)
    assert "talentgraph search" in (missing.value.hint or "")
    assert SUBJECT in world.graph.get_nodes([SUBJECT])  # refusals change nothing


def test_a_malformed_row_names_no_one_and_is_reported(tmp_path: Path, fresh_graph: GraphStore,
                                                       fresh_index: SearchIndex) -> None:
    (tmp_path / "people.ndjson").write_text(
        '{"id": "X1", "name": "Ivan"}\n{"id": "X1", "name": \n', encoding="utf-8")
    (tmp_path / "people.yaml").write_text(
        'job: people\nsource: {path: people.ndjson}\nnodes:\n  - type: Person\n    key: "{id}"\n'
        "    properties: {name: name}\n", encoding="utf-8")
    s = run_job(load_job(tmp_path / "people.yaml"), fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert (s.inserted, s.quarantined) == (1, 1)
    assert [r[IDS_COLUMN] for r in quarantine_rows(Path(s.quarantine_path or ""))] == [""]
    report = erase_person(fresh_graph, fresh_index, "per:X1", quarantine_dir=tmp_path / "q")
    assert report.node_deleted and report.quarantine_rows_removed == {}
    assert report.quarantine_rows_without_ids == {Path(s.quarantine_path or "").name: 1}
    assert Path(s.quarantine_path or "").exists()


def test_ids_with_spaces_stay_one_id(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from talentgraph.ingest.quarantine import QuarantineWriter, remove_rows, rows_naming

    w = QuarantineWriter(tmp_path, "j", ["a"], frozenset(), datetime(2024, 1, 1, tzinfo=UTC))
    w.write(1, "x", {"a": "1"}, ["per:A 1", "area:B"])
    w.write(2, "x", {"a": "2"}, ["per:A", "per:1"])  # not "per:A 1", though its parts are here
    w.close()
    assert w.path is not None
    assert [r[IDS_COLUMN] for r in quarantine_rows(w.path)] == ["per:A%00201 area:B", "per:A per:1"]
    assert [m["a"] for m in rows_naming(w.path, "per:A 1").matches] == ["1"]
    assert remove_rows(w.path, "per:A 1") == (1, False)
    assert [r["a"] for r in quarantine_rows(w.path)] == ["2"]
