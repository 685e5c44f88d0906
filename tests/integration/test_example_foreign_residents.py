"""The README's worked example, end to end: ``examples/foreign-residents`` on top of the demo's places.

A GB18030 register with Chinese headers names each resident's residential area and building (lookups),
carries skills no vocabulary has (kept for review, then added or aliased and re-normalised), a qualified
language, an empty row, three rows to quarantine, and the same woman registered twice under two record
numbers. A volunteer sign-up sheet of lower priority overlaps the register (provenance and conflicts).
Everything runs through the ``talentgraph`` command on a real embedded data dir, as the README does.

The duplicate woman (``DUPLICATE``) is two records here; resolving her is for ``talentgraph resolve``:
extend ``test_the_duplicate_woman_is_two_records_with_provenance`` or add a test taking ``example``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from readme_examples import run_readme_example

from talentgraph.cli import main
from talentgraph.config import Settings
from talentgraph.demo import PIPELINE, generate
from talentgraph.graph import claims
from talentgraph.ingest.mapping import load_job
from talentgraph.ingest.pipeline import run_pipeline
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.schema.vocabularies import use_overlay
from talentgraph.stores import id_hash_key, open_graph, open_stores, quarantine_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "foreign-residents"
README = Path(__file__).resolve().parents[2] / "README.md"
DUPLICATE = ("per:JW24001", "per:JW24009")  # Анна Петрова: 俄罗斯 / 俄罗斯联邦, 75 1234567 / 751234567
INSERTED = {f"per:JW240{n:02d}" for n in (1, 2, 3, 4, 5, 7, 9, 12, 13, 14)}
QUARANTINED = {  # data row → the start of its reason (row 6 is empty: counted, never quarantined)
    "8": "LIVES_IN to: Area '联洋新园' (level residential_area) not found; did you mean ",
    "10": "LIVES_IN to: Area '樱花苑25号楼' (level building) inside 樱花苑 (area:RA05) not found; did you mean ",
    "11": "Person.birth_date [出生日期]: '1992-02-30' is not valid",
}
UNKNOWN_SKILLS = {"红酒品鉴": 4, "作曲": 2, "幼儿教育": 2}  # value → records holding it (row 8 is quarantined)


@dataclass
class Example:
    data_dir: Path
    summaries: list[dict[str, Any]]

    def args(self, *argv: str) -> list[str]:
        return [*argv, "--data-dir", str(self.data_dir)]

    def props(self, *ids: str) -> dict[str, dict[str, Any]]:
        graph = open_graph(Settings(data_dir=self.data_dir))
        try:
            return {i: n.props for i, n in graph.get_nodes(list(ids)).items()}
        finally:
            graph.close()


def _places(data_dir: Path, registers: Path) -> None:
    """The demo's areas and buildings (the shipped jobs over a small generated world): what the lookups find."""
    generate(registers, residents=200, seed=7)
    stores = open_stores(Settings(data_dir=data_dir))
    try:
        specs = [load_job(PIPELINE.parent / f"{job}.yaml", input_dir=registers) for job in ("areas", "buildings")]
        run_pipeline(specs, stores.graph, id_hash_key=id_hash_key(stores.settings),
                     quarantine_dir=quarantine_dir(stores.settings))
        stores.projector.sync()
    finally:
        stores.close()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    base = tmp_path_factory.mktemp("foreign-residents")
    data_dir = base / "data"
    _places(data_dir, base / "registers")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):  # capsys is per test; this fixture is per module
            assert main(["ingest", str(EXAMPLE / "pipeline.yaml"), "--json", "--quiet",
                         "--data-dir", str(data_dir)]) == 0
        yield Example(data_dir, json.loads(out.getvalue()))
    finally:
        use_overlay(None)


def _reasons(summary: dict[str, Any]) -> dict[str, str]:
    with open(summary["quarantine_path"], encoding="utf-8-sig", newline="") as f:
        return {r["_row"]: r["_reason"] for r in csv.DictReader(f)}


def test_every_row_is_accounted_for(example: Example) -> None:
    register, volunteers = example.summaries
    assert (register["job"], register["encoding"]) == ("foreign_register", "gb18030")
    assert (register["rows_in"], register["inserted"], register["quarantined"], register["empty"]) == (14, 10, 3, 1)
    assert register["rows_in"] == register["inserted"] + register["updated"] + register["unchanged"] + \
        register["quarantined"] + register["empty"]
    reasons = _reasons(register)
    assert set(reasons) == set(QUARANTINED)
    for row, start in QUARANTINED.items():
        assert reasons[row].startswith(start), (row, reasons[row])
    assert "联洋新苑 (area:RA01)" in reasons["8"]  # the one it should have been
    assert set(example.props(*INSERTED, "per:JW24008", "per:JW24010", "per:JW24011")) == INSERTED
    # The sign-up sheet updates three people the register wrote; nothing of it is quarantined.
    assert (volunteers["rows_in"], volunteers["updated"], volunteers["quarantined"]) == (3, 3, 0)


def test_areas_and_buildings_are_found_by_name(example: Example) -> None:
    graph = open_graph(Settings(data_dir=example.data_dir))
    try:
        lives = graph.edges(sorted(INSERTED), "LIVES_IN", "out")
    finally:
        graph.close()
    assert [e.to_id for e in lives["per:JW24001"]] == ["area:RA01-3"]  # 联洋新苑, 3号楼
    assert [e.to_id for e in lives["per:JW24009"]] == ["area:RA01-3"]  # 联洋新苑, 3栋: the same building
    assert [e.to_id for e in lives["per:JW24003"]] == ["area:RA03-12"]  # 联洋花园, 12号
    assert all(len(lives[i]) == 1 for i in INSERTED)


def test_the_duplicate_woman_is_two_records_with_provenance(example: Example) -> None:
    """Two records, normalised alike where the register wrote the same thing differently. (Resolution: extend.)"""
    a, b = (example.props(*DUPLICATE)[i] for i in DUPLICATE)
    for key in ("name", "latin_name", "nationality", "phone", "id_hash", "id_last4", "birth_date", "gender"):
        assert a[key] == b[key], key
    assert (a["nationality"], a["phone"], a["id_last4"], a["birth_year"]) == ("RU", "+8613812345678", "4567", 1988)
    assert (a["registered_on"], b["registered_on"]) == ("2024-03-05", "2024-09-18")
    assert (a["other_names"], b["other_names"]) == (["安娜·彼得罗娃"], ["安娜"])
    assert a["languages"] == ["ru", "zh", "en"] and a["language_levels"] == ["ru:native", "zh:B2"]  # 汉语(HSK4)
    names = [p.name for p in ONTOLOGY.node("Person").properties]
    for pid, props, row in ((DUPLICATE[0], a, 1), (DUPLICATE[1], b, 9)):
        held = claims.load(props, names)
        assert {(c["job"], c["file"], c["row"], c["p"]) for c in held["nationality"]} == \
            {("foreign_register", "register.csv", row, 10)}, pid
    # The sign-up sheet (priority 0) disagrees on her name and occupation: the register's (priority 10) is shown.
    held = claims.load(a, names)
    assert a["name"] == "Анна Петрова" and a["occupation"] == "音乐教师" and a["volunteer"] is True
    assert sorted((c["job"], c["v"]) for c in held["occupation"]) == [("foreign_register", "音乐教师"),
                                                                      ("volunteer_signup", "钢琴教师")]


def test_the_readme_graphql_example_shows_provenance_and_conflicts(example: Example, tmp_path: Path) -> None:
    """The README's query, verbatim, as admin: every source per property, and the two the sheet disagrees on."""
    r = run_readme_example(DUPLICATE[0], example.data_dir, tmp_path)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    person = body["data"]["person"]
    assert (person["name"], person["occupation"], person["volunteer"]) == ("Анна Петрова", "音乐教师", True)
    assert person["otherNames"] == ["安娜·彼得罗娃"] and person["livesIn"]["edges"][0]["node"]["name"] == "联洋新苑3号楼"
    assert {c["property"] for c in person["conflicts"]} == {"name", "occupation"}
    occupation = [p for p in person["provenance"] if p["property"] == "occupation"]
    assert [(p["value"], p["job"], p["source"], p["row"], p["priority"], p["shown"]) for p in occupation] == [
        ("音乐教师", "foreign_register", "register.csv", 1, 10, True),
        ("钢琴教师", "volunteer_signup", "volunteers.csv", 1, 0, False)]
    assert not any(p["property"].startswith("id") for p in person["provenance"])  # identity documents: never


def test_unknown_skills_are_kept_reviewed_and_renormalised(example: Example,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    before = example.props(*INSERTED)
    assert before["per:JW24001"]["skills"] == ["music.piano"]
    assert before["per:JW24001"]["skills_unreviewed"] == ["红酒品鉴"]
    capsys.readouterr()
    assert main(example.args("vocab", "pending", "--json")) == 0
    queue = {q["value"]: q for q in json.loads(capsys.readouterr().out) if q["vocabulary"] == "skills"}
    assert {v: q["count"] for v, q in queue.items()} == UNKNOWN_SKILLS
    assert {"id": "per:JW24001", "job": "foreign_register", "row": 1} in queue["红酒品鉴"]["examples"]

    # The README's three commands: two new terms, one alias of an existing term.
    assert main(example.args("vocab", "add", "skills", "cooking.wine_tasting", "--zh", "红酒品鉴", "--en",
                             "Wine tasting", "--parent", "cooking")) == 0
    assert "Re-normalised 4 record(s)" in capsys.readouterr().out
    assert main(example.args("vocab", "add", "skills", "music.composition", "--zh", "作曲", "--en", "Composition",
                             "--parent", "music")) == 0
    assert "Re-normalised 2 record(s)" in capsys.readouterr().out
    assert main(example.args("vocab", "alias", "skills", "teaching.preschool", "幼儿教育")) == 0
    assert "Re-normalised 2 record(s)" in capsys.readouterr().out
    assert main(example.args("vocab", "pending", "--json")) == 0
    assert [q for q in json.loads(capsys.readouterr().out) if q["vocabulary"] == "skills"] == []

    after = example.props(*INSERTED)
    assert after["per:JW24001"]["skills"] == ["music.piano", "cooking.wine_tasting"]
    assert after["per:JW24001"].get("skills_unreviewed") is None
    assert after["per:JW24014"]["skills"] == ["music.piano", "music.composition"]
    assert after["per:JW24007"]["skills"] == ["dance", "teaching.preschool"]
    # Still a claim of the register's row: provenance survives re-normalising.
    names = [p.name for p in ONTOLOGY.node("Person").properties]
    assert [(c["job"], c["row"]) for c in claims.load(after["per:JW24001"], names)["skills"]] == \
        [("foreign_register", 1)]
    # Now a term: the label filters, and the search index caught up from the change log.
    assert main(example.args("search", "--skill", "红酒品鉴", "--json", "--first", "20")) == 0
    hits = {h["id"] for h in json.loads(capsys.readouterr().out)["hits"]}
    assert hits == {"per:JW24001", "per:JW24004", "per:JW24009", "per:JW24012"}
    assert main(example.args("stats", "--json")) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["search_cursor"] == stats["change_log_seq"]


def test_a_rerun_requarantines_the_same_rows_and_then_changes_nothing(example: Example,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = example.props(*INSERTED)
    capsys.readouterr()
    runs = []
    for _ in range(2):
        assert main(example.args("ingest", str(EXAMPLE / "register.yaml"), "--json", "--quiet")) == 0
        runs.append(json.loads(capsys.readouterr().out)[0])
    first, second = runs
    assert (first["inserted"], first["quarantined"], first["empty"]) == (0, 3, 1)
    assert first["quarantine_repeated"] is True
    # After the vocab test, re-normalising has appended the new term ids after the known ones; the register
    # writes them in its own order (红酒品鉴、钢琴), so the first re-run reorders those lists once (4 of them):
    # the same terms.
    after = example.props(*INSERTED)
    assert all(sorted(after[i].get("skills") or []) == sorted(before[i].get("skills") or []) for i in INSERTED)
    assert first["updated"] == sum(after[i].get("skills") != before[i].get("skills") for i in INSERTED)
    assert (second["inserted"], second["updated"], second["unchanged"], second["quarantined"]) == (0, 0, 10, 3)
