"""The demo's community documents: determinism, gold that matches the text, a third new names, disjoint splits,
spans on token boundaries, ids the ingested graph holds, files every reader can take."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from talentgraph.demo import build
from talentgraph.demo.documents import (LABELS, NAMES_FILE, build_documents, gold_dir_of, read_gold, split_of,
                                        write_documents)
from talentgraph.demo.generator import World
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.text.language import blank

RESIDENTS = 300


@pytest.fixture(scope="module")
def world() -> World:
    return build(residents=RESIDENTS, seed=7)


@pytest.fixture(scope="module")
def records(world: World) -> list[dict[str, Any]]:
    return build_documents(world, seed=7)


@pytest.fixture(scope="module")
def written(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    write_documents(out, world, seed=7)
    return out


def test_deterministic_by_seed(world: World, records: list[dict[str, Any]], written: Path,
                               tmp_path: Path) -> None:
    assert build_documents(world, seed=7) == records
    assert build_documents(world, seed=8) != records
    write_documents(tmp_path, world, seed=7)
    for p in sorted(written.iterdir()):
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name  # docx too: fixed zip times


def test_about_two_hundred_documents_a_fifth_english(records: list[dict[str, Any]]) -> None:
    assert len(records) == 200
    langs = Counter(r["language"] for r in records)
    assert 0.12 <= langs["en"] / len(records) <= 0.3
    assert set(Counter(r["doc_kind"] for r in records)) == {"report", "news", "minutes", "write_up", "case_note"}


def test_spans_and_facts_match_the_text(records: list[dict[str, Any]]) -> None:
    for r in records:
        text = r["text"]
        assert text.startswith(r["title"] + "\n\n")
        last_end = 0
        for start, end, label, node_id, status in r["spans"]:
            assert 0 <= start < end <= len(text)
            assert start >= last_end, "spans do not overlap"
            last_end = end
            surface = text[start:end]
            assert surface == surface.strip() and surface
            assert label in LABELS
            assert status in ("known", "new")
            assert (node_id is None) == (status == "new")
        assert len(r["facts"]) == len(r["fact_checks"])
        for start, end, measure, value, subject in r["facts"]:
            surface = text[start:end]
            digits = "".join(c for c in surface if c.isdigit())
            assert digits == str(int(value)), (surface, value)
            assert measure in ONTOLOGY.node("Fact").prop("measure").description
            assert subject is None or 0 <= subject < len(r["spans"])


def test_a_third_of_the_names_are_new(records: list[dict[str, Any]]) -> None:
    spans = [s for r in records for s in r["spans"]]
    assert len(spans) > 2000
    new = sum(s[4] == "new" for s in spans) / len(spans)
    assert 0.28 <= new <= 0.4
    by_type = Counter(s[2] for s in spans if s[4] == "new")
    assert set(by_type) == set(LABELS), "every type has new names"


def test_known_ids_are_the_ids_ingest_makes(world: World, records: list[dict[str, Any]]) -> None:
    regs = world.registers
    mid = ONTOLOGY.make_id
    ids = {mid("Area", row[0]) for row in regs["areas"].rows if row[1]}
    ids |= {mid("Area", b.key) for b in world.buildings}
    ids |= {mid("Enterprise", e.uscc) for e in world.enterprises}
    ids |= {mid("Person", r.key) for r in world.residents}
    for reg, typ in (("party_orgs", "PartyOrganization"), ("venues", "Venue"), ("groups", "Group"),
                     ("projects", "Project")):
        ids |= {mid(typ, row[0]) for row in regs[reg].rows if row[1]}
    for r in records:
        for start, end, label, node_id, _status in r["spans"]:
            if node_id is not None:
                assert node_id in ids, (r["text"][start:end], node_id)
                assert node_id.startswith(ONTOLOGY.node(label).id_prefix + ":")


def test_english_texts_name_known_entities_by_their_registers_english_names(
        world: World, records: list[dict[str, Any]]) -> None:
    # The registers' English-name column (name_en) is what English texts write: a gazetteer built from the graph has
    # the surface (up to headline capitals and a residential area's level word, which linking folds).
    regs = world.registers
    mid = ONTOLOGY.make_id
    english: dict[str, str] = {mid("Area", b.key): b.en for b in world.buildings}
    for reg, typ in (("areas", "Area"), ("party_orgs", "PartyOrganization"), ("venues", "Venue"), ("groups", "Group"),
                     ("projects", "Project")):
        i = regs[reg].columns.index("英文名称")
        english |= {mid(typ, row[0]): row[i] for row in regs[reg].rows if row[1] and row[i]}
    seen: Counter[str] = Counter()
    for r in records:
        if r["language"] != "en":
            continue
        for start, end, label, node_id, _status in r["spans"]:
            if node_id is None or label in ("Person", "Enterprise"):
                continue
            surface = r["text"][start:end]
            assert node_id in english, (surface, node_id)
            written_as = surface.removesuffix(" Residential Area") if label == "Area" else surface
            assert written_as in (english[node_id], english[node_id].upper()), (surface, english[node_id])
            seen[label] += 1
    assert set(seen) == {"Area", "PartyOrganization", "Venue", "Group", "Project"}, seen


def test_splits_fixed_disjoint_and_new_names_unseen(records: list[dict[str, Any]]) -> None:
    splits = Counter(r["split"] for r in records)
    assert set(splits) == {"train", "dev", "test"}
    assert splits["train"] > splits["dev"] > 0 and splits["test"] > 0
    assert all(r["split"] == split_of(r["id"], 7) for r in records)
    new_names: dict[str, set[str]] = {s: set() for s in splits}
    for r in records:
        new_names[r["split"]] |= {r["text"][s[0]:s[1]] for s in r["spans"] if s[4] == "new"}
    # A test document's new name is in no training document: recognising it is not recalling it.
    assert not (new_names["test"] & new_names["train"])
    assert not (new_names["dev"] & new_names["train"])


def test_spans_align_to_tokens(world: World, records: list[dict[str, Any]], written: Path) -> None:
    names = (gold_dir_of(written) / NAMES_FILE).read_text(encoding="utf-8").splitlines()
    nlp = {"zh": blank("zh", names), "en": blank("en")}
    total = bad = 0
    for r in records:
        doc = nlp[r["language"]](r["text"])
        for start, end, *_ in r["spans"]:
            total += 1
            bad += doc.char_span(start, end) is None
    assert bad / total <= 0.01


def test_files_and_gold(written: Path, records: list[dict[str, Any]]) -> None:
    gold = read_gold(written)
    assert [g["id"] for g in gold] == [r["id"] for r in records]
    formats = Counter(Path(g["file"]).suffix for g in gold)
    assert {".txt", ".md", ".html", ".docx"} <= set(formats)
    for g in gold:
        assert (written / g["file"]).is_file()
        if g["file"].endswith(".txt"):
            assert (written / g["file"]).read_text(encoding="utf-8") == g["text"] + "\n"
    # The gold lives beside the documents, never among them (ingest-docs on the folder reads documents only).
    assert sorted(p.suffix for p in written.iterdir()) == sorted(Path(g["file"]).suffix for g in gold)
    line = (gold_dir_of(written) / "gold.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert set(json.loads(line)) >= {"id", "file", "title", "language", "doc_kind", "published", "split", "text",
                                     "spans", "facts", "fact_checks"}


def test_some_facts_disagree_with_the_registers(records: list[dict[str, Any]]) -> None:
    checks = [c for r in records for c in r["fact_checks"] if c["graph_value"] is not None]
    disagree = sum(c["disagrees"] for c in checks)
    assert 0.2 * len(checks) < disagree < 0.7 * len(checks)


def test_writing_again_replaces_what_an_earlier_run_left(world: World, tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "doc-0001.docx").write_bytes(b"an earlier run's format of doc-0001")
    (out / "gold.jsonl").write_text("{}\n", encoding="utf-8")  # the gold's old place
    (out / "notes.txt").write_text("the user's own file", encoding="utf-8")
    write_documents(out, world, seed=7, n=3)
    left = sorted(p.name for p in out.iterdir())
    assert "gold.jsonl" not in left and "notes.txt" in left and len(left) == 4
    assert len(read_gold(out)) == 3
