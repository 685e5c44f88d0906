"""A job's rows built once per distinct cell (``ingest/distinct.py``) come out exactly as ``build_row``
builds them — records, values, spilled companions, errors — on the demo's registers with hostile cells
spread through them, and on cells of every type a source hands over.

Synthetic registers from the demo generator (invented people).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from talentgraph.demo.generator import generate
from talentgraph.ingest import distinct
from talentgraph.ingest.distinct import JobBuilder
from talentgraph.ingest.mapping import JobSpec, load_job, load_pipeline
from talentgraph.ingest.rows import BuiltRow, build_row
from talentgraph.ingest.sources import open_source
from talentgraph.schema.overlay import add_term
from talentgraph.schema.vocabularies import package_vocabularies, refresh
from talentgraph.types import Provenance

KEY = b"distinct-test-key"
PIPELINE = Path(__file__).resolve().parents[2] / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
# What registers get wrong: blanks that are not empty, impossible dates, unknown and over-long terms,
# levels, numbers where text belongs, separators inside keys, a phone number too short, yes/no words.
HOSTILE = ["", " ", "\u200b", "maybe", "1990-13-45", "2099-01-01", "12", "汉语(HSK4)", "English (C1)", "克林贡语",
           "x" * 70, "3.1E+17", "a|b", "0", "是", "无", "+86 138 1234 567", "021-1234", "俄语、英语、克林贡语",
           "1984/3/2", "19840302", "男", "F", "中共党员", "博士", "程序员", "足球;书法", "ru;en", "N/A"]


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("registers")
    generate(out, residents=700, seed=23)
    rng = random.Random(5)
    for path in out.glob("*.csv"):
        data = path.read_bytes()
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:  # the community's own exports are GB18030
            text, encoding = data.decode("gb18030"), "gb18030"
        rows = list(csv.reader(text.splitlines()))
        for row in rows[1:]:
            if rng.random() < 0.15:
                row[rng.randrange(len(row))] = rng.choice(HOSTILE)
        with path.open("w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows(rows)
    return out


def _lookup_free(spec: Any) -> bool:
    return isinstance(spec, JobSpec) and not any(
        end.lookup is not None for r in spec.relationships for end in (r.from_, r.to))


def _rows(spec: JobSpec) -> list[tuple[int, dict[str, Any]]]:
    with open_source(spec.source.path, spec.source.format, spec.source.options) as source:
        return [(n, r) for n, r in source.read_rows() if isinstance(r, dict)]


def _prov(spec: JobSpec, number: int) -> Provenance:
    return Provenance(spec.job, spec.source.path.name, number, "2026-12-03T00:00:00Z", spec.priority)


def _same(a: BuiltRow, b: BuiltRow) -> bool:
    return (a.number, a.nodes, a.rels, a.errors) == (b.number, b.nodes, b.rels, b.errors)


def test_every_demo_job_builds_its_rows_as_the_row_path_does(registers: Path) -> None:
    specs = [s for s in load_pipeline(PIPELINE, input_dir=registers) if _lookup_free(s)]
    assert {"residents", "foreign_residents", "enterprises", "projects"} <= {s.job for s in specs}
    quarantined = remembered = 0
    for spec in specs:
        builder = JobBuilder(spec, id_hash_key=KEY)
        for number, row in _rows(spec):
            want = build_row(spec, number, row, provenance=_prov(spec, number), id_hash_key=KEY)
            got = builder.build(number, row, _prov(spec, number))
            assert _same(got, want), (spec.job, number, row)
            quarantined += bool(want.errors)
        remembered += sum(p.hits for _, _, owner, _ in builder.nodes for p in owner.props)
    # The hostile cells reached both paths, and repeated cells were answered from memory.
    assert quarantined > 50
    assert remembered > 1000


def _spec(tmp_path: Path) -> JobSpec:
    (tmp_path / "r.csv").write_text("编号,姓名,性别,技能,语言,电话,出生日期,楼栋\n", encoding="utf-8")
    (tmp_path / "r.yaml").write_text(
        "job: people\nsource: {path: r.csv}\nnodes:\n  - type: Person\n    key: \"{编号}\"\n    properties:\n"
        "      name: 姓名\n      gender: 性别\n      skills: {column: 技能, split: \"[;、]\"}\n"
        "      languages: {column: 语言, split: \"[;、]\"}\n      phone: 电话\n"
        "      birth_date: {column: 出生日期, transform: date}\n"
        "relationships:\n  - type: LIVES_IN\n    from: {type: Person, key: \"{编号}\"}\n"
        "    to: {type: Area, key: \"{楼栋}\"}\n    optional: true\n", encoding="utf-8")
    return load_job(tmp_path / "r.yaml")


def _row(i: int, **cells: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"编号": f"P{i}", "姓名": f"名{i}", "性别": "男" if i % 2 else "女", "技能": "书法;足球",
                           "语言": "汉语、英语", "电话": None, "出生日期": "1984-03-02", "楼栋": "RA01-1"}
    row.update(cells)
    return row


def test_cells_of_every_type_a_source_hands_over_build_as_the_row_path_does(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    builder = JobBuilder(spec, id_hash_key=KEY)
    # JSON and Excel cells: numbers, booleans, lists, dates; equal as dict keys but not the same cell.
    odd: list[dict[str, Any]] = [
        {"技能": ["书法", "足球"]}, {"技能": ["书法", 7]}, {"性别": 1}, {"性别": True}, {"性别": 1.0},
        {"编号": 101}, {"编号": 101.0}, {"出生日期": 19840302}, {"语言": ["汉语(HSK4)", "克林贡语"]},
        {"电话": 13812345678}, {"电话": 13812345678.0}, {"楼栋": None}, {"楼栋": 5}, {"语言": {"a": 1}},
    ]
    for i, cells in enumerate(odd * 2):  # twice: the second time every text cell is remembered
        row = _row(i, **cells)
        prov = Provenance("people", "r.csv", i + 1, "2026-12-03T00:00:00Z")
        assert _same(builder.build(i + 1, row, prov), build_row(spec, i + 1, row, provenance=prov, id_hash_key=KEY))


def test_a_column_that_rarely_repeats_stops_being_remembered(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    builder = JobBuilder(spec, id_hash_key=KEY)
    for i in range(distinct.SAMPLE + 10):
        builder.build(i + 1, _row(i), Provenance("people", "r.csv", i + 1, "2026-12-03T00:00:00Z"))
    props = {p.spec.name: p for p in builder.nodes[0][2].props}
    assert not props["name"].remember and not props["name"].memo  # every name differs: no memo kept
    assert props["gender"].remember and len(props["gender"].memo) == 2
    assert props["skills"].hits >= distinct.SAMPLE


def test_records_of_rows_with_the_same_cells_do_not_share_their_lists(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    builder = JobBuilder(spec, id_hash_key=KEY)
    a, b = (builder.build(i + 1, _row(i), Provenance("people", "r.csv", i + 1, "2026-12-03T00:00:00Z"))
            for i in range(2))
    assert a.nodes[0].props["skills"] == b.nodes[0].props["skills"]
    a.nodes[0].props["skills"].append("cooking")
    assert "cooking" not in b.nodes[0].props["skills"]


def test_a_term_added_while_a_job_runs_is_used_from_the_next_row_on(tmp_path: Path, overlay: Path) -> None:
    spec = _spec(tmp_path)
    builder = JobBuilder(spec, id_hash_key=KEY)

    def skills(i: int) -> Any:
        prov = Provenance("people", "r.csv", i + 1, "2026-12-03T00:00:00Z")
        built = builder.build(i + 1, _row(i, 技能="红酒品鉴"), prov)
        assert _same(built, build_row(spec, i + 1, _row(i, 技能="红酒品鉴"), provenance=prov, id_hash_key=KEY))
        return built.nodes[0].props

    before = skills(0)
    assert "skills" not in before and before["skills_unreviewed"] == ["红酒品鉴"]  # kept for review
    add_term(overlay, package_vocabularies(), "skills",
             {"id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting", "parent": "cooking"})
    refresh()  # what the overlay's recheck does within a second in a running job
    after = skills(1)
    assert after["skills"] == ["cooking.wine_tasting"] and "skills_unreviewed" not in after
