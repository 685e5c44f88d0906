"""Row building, quarantine files and the job summary (the store-facing parts are integration tests)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from talentgraph.ingest.job import JobSummary, _width, build_row
from talentgraph.ingest.mapping import JobSpec, load_job
from talentgraph.ingest.quarantine import QuarantineWriter, cell_text
from talentgraph.schema.validators import resident_id_check_char
from talentgraph.types import Provenance

PROV = Provenance("residents", "residents.csv", 1, "2024-03-05T00:00:00Z")
FIRST17 = "31011519840302123"
RID = FIRST17 + resident_id_check_char(FIRST17)


@pytest.fixture
def spec(tmp_path: Path) -> JobSpec:
    (tmp_path / "r.csv").write_text("id\n", encoding="utf-8")
    job = {
        "job": "residents",
        "source": {"path": "r.csv"},
        "nodes": [{"type": "Person", "key": "{编号}-{分号}", "properties": {
            "name": "姓名",
            "languages": {"column": "语言", "split": "[、,]", "strict": True},
            "identity": {"column": "证件号码", "transform": "identity"},
            "nationality": {"column": "国籍", "default": "CN"},
            "volunteer": "志愿者",
        }}],
        "relationships": [{"type": "LIVES_IN", "from": {"type": "Person", "key": "{编号}-{分号}"},
                           "to": {"type": "Area", "key": "{楼栋}"}, "optional": True}],
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(job, allow_unicode=True), encoding="utf-8")
    return load_job(path)


def row(**cells: object) -> dict[str, object]:
    base: dict[str, object] = {"编号": "P1", "分号": "a", "姓名": " 张伟 ", "语言": "俄语、 英语,,", "证件号码": RID,
                               "国籍": "", "志愿者": "是", "楼栋": "B1"}
    base.update(cells)
    return base


def test_build_row_makes_validated_records(spec: JobSpec) -> None:
    built = build_row(spec, 1, row(), provenance=PROV, id_hash_key=b"k")
    assert built.errors == []
    (node,) = built.nodes
    assert node.id == "per:P1-a" and node.provenance == PROV
    assert node.props["name"] == "张伟" and node.props["languages"] == ["ru", "en"]
    assert node.props["nationality"] == "CN" and node.props["volunteer"] is True
    assert RID not in str(node.props) and node.props["id_last4"] == RID[-4:]
    (rel,) = built.rels
    assert (rel.type, rel.from_id, rel.to_id) == ("LIVES_IN", "per:P1-a", "area:B1")


def test_optional_relationship_with_empty_key_is_skipped(spec: JobSpec) -> None:
    built = build_row(spec, 1, row(楼栋=" "), provenance=PROV, id_hash_key=b"k")
    assert built.errors == [] and built.rels == [] and len(built.nodes) == 1


def test_every_problem_of_a_row_is_listed(spec: JobSpec) -> None:
    built = build_row(spec, 1, row(语言="克林贡语", 志愿者="也许"), provenance=PROV, id_hash_key=b"k")
    assert len(built.errors) == 2, built.errors  # a transform error does not hide a validation error
    # languages is strict here, so its error comes from the mapping (column order), not validation
    assert any("Person.volunteer [志愿者]: '也许'" in e for e in built.errors)
    assert any("Person.languages" in e and "克林贡语" in e for e in built.errors)
    assert built.nodes == []
    built = build_row(spec, 1, row(语言="克林贡语"), provenance=PROV, id_hash_key=b"k")
    assert built.errors and "Person.languages" in built.errors[0] and "克林贡语" in built.errors[0]
    assert "[语言]" in built.errors[0]  # strict values are checked by the mapping, which names the column so


def test_empty_key_is_a_row_error(spec: JobSpec) -> None:
    built = build_row(spec, 1, row(分号=""), provenance=PROV, id_hash_key=b"k")
    assert built.nodes == [] and "column 编号, 分号 is empty" in built.errors[0]


def test_key_with_pipe_is_refused(spec: JobSpec) -> None:
    built = build_row(spec, 1, row(分号="a|b"), provenance=PROV, id_hash_key=b"k")
    assert "without '|'" in built.errors[0]


def test_quarantine_file_masks_and_defuses(tmp_path: Path) -> None:
    started = datetime(2024, 3, 5, 1, 2, 3, tzinfo=UTC)
    w = QuarantineWriter(tmp_path / "q", "residents", ["姓名", "证件号码", "备注", "电话"], frozenset({"证件号码"}), started)
    assert w.path is None  # nothing written, no file
    w.write(7, "Person.languages: '克林贡语' is not valid", {"姓名": "张伟", "证件号码": RID, "备注": "=HYPERLINK(1)",
                                                            "电话": "+8613812345678"})
    w.close()
    assert w.path == tmp_path / "q" / "residents-20240305T010203Z.csv"
    second = QuarantineWriter(tmp_path / "q", "residents", ["a"], frozenset(), started)
    second.write(1, "x", {"a": date(2024, 1, 2)})
    second.close()
    assert second.path == tmp_path / "q" / "residents-20240305T010203Z-2.csv"  # same second, no overwrite
    raw = w.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and RID.encode() not in raw
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [{"_row": "7", "_reason": "Person.languages: '克林贡语' is not valid", "_ids": "", "姓名": "张伟",
                     "证件号码": "************" + RID[-4:], "备注": "'=HYPERLINK(1)", "电话": "+8613812345678"}]
    assert cell_text(["ru", "en"]) == '["ru", "en"]' and cell_text(None) == "" and cell_text(-5) == "-5"


def test_summary_str_aligns_cjk_labels_and_to_dict() -> None:
    s = JobSummary("residents", "residents.csv", "csv", encoding="gb18030", rows_in=10, inserted=7, quarantined=3,
                   quarantine_path="/q/residents.csv", nodes_written={"Person": 7}, seconds=0.5, rows_per_second=20.0)
    s.check()
    lines = str(s).splitlines()
    assert lines[0] == "job residents"
    starts = set()
    for line in lines[1:]:
        gap = line.index("  ", 2)  # labels have single spaces; the padding is at least two
        value_at = len(line) - len(line[gap:].lstrip(" "))
        starts.add(_width(line[:value_at]))
    assert len(starts) == 1, str(s)  # every value starts in the same terminal column
    assert "gb18030" in str(s) and "/q/residents.csv" in str(s)
    assert s.to_dict()["nodes_written"] == {"Person": 7}
    broken = JobSummary("x", "x.csv", "csv", rows_in=2, inserted=1)
    with pytest.raises(AssertionError, match="accounting"):
        broken.check()
