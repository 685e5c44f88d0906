"""Unreviewed terms end to end on a real store: ingest keeps them, the queue lists them, an overlay term
re-normalises the records holding them (through the port), and the CLI drives it on a data dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from talentgraph.cli import main
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import run_job
from talentgraph.ingest.mapping import load_job
from talentgraph.ingest.review import pending, renormalise
from talentgraph.schema.overlay import add_alias, add_term, overlay_path
from talentgraph.schema.vocabularies import load_vocabularies, package_vocabularies, refresh, use_overlay

KEY = b"integration-test-key"
JOB = """
job: volunteers
source: {path: v.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties:
      name: 姓名
      skills: {column: 技能, split: "[、]"}
      languages: {column: 语言, split: "[、]"}
      birth_date: 出生日期
"""
ROWS = ("编号,姓名,技能,语言,出生日期\n"
        "V1,林晓,律师、红酒品鉴,汉语(HSK4)、克林贡语,1984-03-02\n"
        "V2,王芳,红酒品鉴,英语,\n"
        "V3,赵磊,厨师,俄语（母语）,\n")


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "v.csv").write_text(ROWS, encoding="utf-8")
    path = tmp_path / "volunteers.yaml"
    path.write_text(JOB, encoding="utf-8")
    return path


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[Path]:
    path = overlay_path(tmp_path / "data")
    path.parent.mkdir()
    use_overlay(path)
    yield path
    use_overlay(None)


def _props(graph: GraphStore, node_id: str) -> dict[str, object]:
    return graph.get_nodes([node_id])[node_id].props


def test_unknown_values_are_kept_listed_and_renormalised(fresh_graph: GraphStore, job: Path, overlay: Path,
                                                         tmp_path: Path) -> None:
    spec = load_job(job)
    summary = run_job(spec, fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert (summary.inserted, summary.quarantined) == (3, 0)
    v1 = _props(fresh_graph, "per:V1")
    assert v1["skills"] == ["law"] and v1["skills_unreviewed"] == ["红酒品鉴"]
    assert v1["languages"] == ["zh"] and v1["languages_unreviewed"] == ["克林贡语"]
    assert v1["language_levels"] == ["zh:B2"] and v1["birth_year"] == 1984
    assert _props(fresh_graph, "per:V3")["language_levels"] == ["ru:native"]

    queue = pending(fresh_graph)
    assert [(p.vocabulary, p.value, p.count) for p in queue] == [("skills", "红酒品鉴", 2), ("languages", "克林贡语", 1)]
    assert queue[0].examples == [{"id": "per:V1", "job": "volunteers", "row": 1},
                                 {"id": "per:V2", "job": "volunteers", "row": 2}]

    add_term(overlay, package_vocabularies(), "skills",
             {"id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting", "parent": "cooking"})
    refresh()
    seq = fresh_graph.last_seq()
    assert renormalise(fresh_graph, load_vocabularies()) == 2
    assert fresh_graph.last_seq() == seq + 2  # through the port: the change log feeds the search index
    v1 = _props(fresh_graph, "per:V1")
    assert v1["skills"] == ["law", "cooking.wine_tasting"] and v1.get("skills_unreviewed") is None
    assert v1["languages_unreviewed"] == ["克林贡语"]  # still unknown: untouched
    assert _props(fresh_graph, "per:V2")["skills"] == ["cooking.wine_tasting"]
    assert [p.value for p in pending(fresh_graph)] == ["克林贡语"]
    assert renormalise(fresh_graph, load_vocabularies()) == 0  # nothing left to move

    # The source now maps to the term as well: re-running it changes nothing.
    again = run_job(spec, fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q2")
    assert again.unchanged == 3, again


def test_a_language_alias_with_a_level_qualifier(fresh_graph: GraphStore, job: Path, overlay: Path,
                                                 tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("编号,姓名,技能,语言,出生日期\nV9,周敏,,克林贡语(流利),\n", encoding="utf-8")
    run_job(load_job(job), fresh_graph, id_hash_key=KEY, quarantine_dir=tmp_path / "q")
    assert _props(fresh_graph, "per:V9")["languages_unreviewed"] == ["克林贡语(流利)"]
    add_alias(overlay, package_vocabularies(), "languages", "eo", "克林贡语")  # any existing term will do
    refresh()
    assert renormalise(fresh_graph) == 1
    v9 = _props(fresh_graph, "per:V9")
    assert v9["languages"] == ["eo"] and v9["language_levels"] == ["eo:C1"]


def test_vocab_cli_pending_add_and_alias(job: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "cli-data"
    try:
        assert main(["ingest", str(job), "--quiet", "--data-dir", str(data)]) == 0
        capsys.readouterr()
        assert main(["vocab", "pending", "--json", "--data-dir", str(data)]) == 0
        queue = json.loads(capsys.readouterr().out)
        assert [(q["vocabulary"], q["value"], q["count"]) for q in queue] == [("skills", "红酒品鉴", 2),
                                                                              ("languages", "克林贡语", 1)]
        assert main(["search", "红酒品鉴", "--json", "--data-dir", str(data)]) == 0  # unreviewed: found as text
        assert {h["id"] for h in json.loads(capsys.readouterr().out)["hits"]} == {"per:V1", "per:V2"}
        assert main(["vocab", "add", "skills", "cooking.wine_tasting", "--zh", "红酒品鉴", "--en", "Wine tasting",
                     "--parent", "cooking", "--data-dir", str(data)]) == 0
        out = capsys.readouterr().out
        assert "Re-normalised 2 record(s)" in out
        assert oct((data / "vocab-overlay.yaml").stat().st_mode & 0o777) == "0o600"
        assert main(["vocab", "alias", "languages", "eo", "克林贡语", "--data-dir", str(data)]) == 0
        assert "Re-normalised 1 record(s)" in capsys.readouterr().out
        assert main(["vocab", "pending", "--data-dir", str(data)]) == 0
        assert "No unreviewed terms" in capsys.readouterr().out
        assert main(["search", "红酒品鉴", "--json", "--data-dir", str(data)]) == 0
        hits = json.loads(capsys.readouterr().out)["hits"]
        assert {h["id"] for h in hits} >= {"per:V1", "per:V2"}
        assert main(["vocab", "alias", "languages", "nope", "x", "--data-dir", str(data)]) == 2
        assert "'nope', which does not exist" in capsys.readouterr().err
    finally:
        use_overlay(None)


def test_vocab_add_while_another_process_holds_the_data_dir(job: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """No server to send it to: the overlay is written, and re-normalising waits for a free data dir."""
    import subprocess
    import sys

    data = tmp_path / "busy-data"
    try:
        assert main(["ingest", str(job), "--quiet", "--data-dir", str(data)]) == 0
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import time; from pathlib import Path; from talentgraph.graph.ladybug.store import LadybugGraphStore;"
             f"g = LadybugGraphStore(Path({str(data / 'graph')!r})); print('ready', flush=True); time.sleep(60)"],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            capsys.readouterr()
            assert main(["vocab", "add", "skills", "cooking.wine_tasting", "--zh", "红酒品鉴", "--en", "Wine tasting",
                         "--data-dir", str(data)]) == 0
            out = capsys.readouterr().out
            assert "Not re-normalised" in out and f"pid {holder.pid}" in out and "vocab renormalise" in out
        finally:
            holder.terminate()
            holder.wait(timeout=30)
            if holder.stdout:
                holder.stdout.close()
        assert "cooking.wine_tasting" in (data / "vocab-overlay.yaml").read_text(encoding="utf-8")
        assert main(["vocab", "renormalise", "--data-dir", str(data)]) == 0
        assert "Re-normalised 2 record(s)" in capsys.readouterr().out
    finally:
        use_overlay(None)
