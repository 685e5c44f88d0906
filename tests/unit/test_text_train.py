"""NER training: gold → DocBin on the pipeline's tokens, a few steps of spaCy training, a model that loads and runs
through ``language.blank``'s tokenizer, the same weights for the same seed, and the shipped models' shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.tokens import DocBin

from talentgraph.demo import build
from talentgraph.demo.documents import build_documents
from talentgraph.text import language
from talentgraph.text.train import CONFIGS, MODELS, base_words, graph_words, to_doc, train, write_corpus


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = build_documents(build(residents=300, seed=7), seed=7)
    few: list[dict[str, Any]] = []
    for split, n in (("train", 5), ("dev", 2)):
        few += [r for r in records if r["language"] == "zh" and r["split"] == split][:n]
    path = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in few) + "\n", encoding="utf-8")
    return path


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_docs_carry_gold_entities_on_pipeline_tokens(gold: Path, tmp_path: Path) -> None:
    records = _records(gold)
    words = graph_words(gold, records)
    nlp = language.blank("zh", words)
    for rec in records:
        doc, misaligned = to_doc(nlp, rec)
        assert misaligned == 0
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [tuple(s[:3]) for s in rec["spans"]]
        assert doc[0].is_sent_start and any(t.is_sent_start for t in doc[1:])
    counts = write_corpus(records, "zh", tmp_path, words)
    assert counts["train_docs"] == 5 and counts["dev_docs"] == 2
    assert counts["train_examples"] == 10 and counts["dev_examples"] == 2  # zh train: pipeline cuts + base-name cuts
    docs = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(nlp.vocab))
    assert sum(len(d.ents) for d in docs) == 2 * counts["train_spans"]


def test_base_words_drop_composite_names() -> None:
    words = ["联洋新苑", "联洋新苑3号楼", "联洋新苑3号楼党小组", "联洋新苑居民区党总支", "大拇指广场", "王建华"]
    assert base_words(words) == sorted(["联洋新苑", "大拇指广场", "王建华"])


def test_a_few_steps_train_a_model_that_runs_through_blank(gold: Path, tmp_path: Path) -> None:
    summary = train(gold, tmp_path / "a", "zh", max_steps=2)
    best = tmp_path / "a" / "model-best"
    assert summary["train_docs"] == 5 and (best / "ner" / "model").is_file()
    nlp = spacy.load(best)
    assert isinstance(nlp.tokenizer, language.JiebaTokenizer)  # talentgraph.jieba.v1 from the config
    assert nlp.pipe_names == ["tok2vec", "ner"]
    text = "海桐苑党员会客厅共有停车位36个，联洋新苑居民区党总支书记王建华介绍了情况。"
    language.add_words(nlp, ["联洋新苑居民区党总支"])
    doc = nlp(text)
    assert [t.text for t in doc] == [t.text for t in language.blank("zh", ["联洋新苑居民区党总支"])(text)]
    labels = set(nlp.get_pipe("ner").labels)  # type: ignore[attr-defined]
    assert labels <= {"Person", "Enterprise", "PartyOrganization", "Venue", "Project", "Group", "Area"}
    # Reproducible: the same gold, config and seed give the same weights.
    train(gold, tmp_path / "b", "zh", max_steps=2)
    assert (tmp_path / "b" / "model-best" / "ner" / "model").read_bytes() == (best / "ner" / "model").read_bytes()


def test_configs_and_shipped_models() -> None:
    for lang in ("zh", "en"):
        cfg = (CONFIGS / f"ner_{lang}.cfg").read_text(encoding="utf-8")
        assert 'pipeline = ["tok2vec","ner"]' in cfg and "include_static_vectors = false" in cfg
        assert ("talentgraph.jieba.v1" in cfg) == (lang == "zh")
    for path in sorted(p for p in MODELS.iterdir() if p.is_dir()) if MODELS.is_dir() else []:
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        assert size < 6_000_000, f"{path.name}: {size} bytes"
        assert (path / "config.cfg").is_file() and (path / "ner" / "model").is_file()
        # Named, so a Document's ``pipeline`` tag says which model read it (not spaCy's "pipeline-0.0.0").
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        assert meta["name"] == f"talentgraph_ner_{path.name}" and meta["version"] != "0.0.0"
