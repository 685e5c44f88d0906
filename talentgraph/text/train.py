"""Train the statistical NER the text pipeline ships, with spaCy's own training, from the demo's gold documents.

    talentgraph generate --residents 2000 --out /tmp/demo            # writes /tmp/demo/documents-gold/gold.jsonl
    nice -n 10 python -m talentgraph.text.train --gold /tmp/demo/documents-gold/gold.jsonl --out /tmp/ner-zh --lang zh --ship
    nice -n 10 python -m talentgraph.text.train --gold /tmp/demo/documents-gold/gold.jsonl --out /tmp/ner-en --lang en

1. The ``train`` and ``dev`` splits of one language become ``DocBin`` files (``<out>/corpus/``), tokenised by
   ``language.blank`` — jieba for Chinese — fed the graph's names from ``names.txt`` beside the gold (the
   running pipeline feeds its gazetteer's: the same cuts); Chinese training documents are added once more, cut
   with only the base names as words, so known composite names are also seen in the shape new ones have
   (``write_corpus``). Each document is split into sentences at 。！？ / ". " /
   blank lines so a batch holds many short examples. A span that does not align to tokens is left out and its
   tokens marked missing (none do for the shipped generator; the count is printed).
2. ``spacy.cli.train.train`` runs ``talentgraph/text/configs/ner_<lang>.cfg`` (small tok2vec + ner, CPU, no
   vectors, a fixed seed and a bounded number of steps) in this process, after importing
   ``talentgraph.text.language`` — the ``--code`` of ``spacy train`` — so ``talentgraph.jieba.v1`` is registered.
   Same gold, config and seed give the same model and metrics.
3. ``--ship`` copies ``<out>/model-best`` (weights, vocab strings, config, meta; no vectors) into
   ``talentgraph/text/models/<lang>/``. Load it with ``spacy.load(path)`` after importing
   ``talentgraph.text.language`` (the Chinese tokenizer is created empty: add the graph's names with
   ``language.add_words``) or source its ``ner`` + ``tok2vec`` into ``language.blank(lang)``.

Options: ``--max-steps`` (default: the config's), ``--seed`` (default 7), ``--config`` (another .cfg).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin

# Importing language registers talentgraph.jieba.v1, which the zh config names (the --code of ``spacy train``).
from talentgraph.text.language import blank

HERE = Path(__file__).parent
CONFIGS = HERE / "configs"
MODELS = HERE / "models"
SEED = 7
# Sentence ends: a token that is one of these closes a sentence (a blank line does too).
_SENT_END = {"。", "！", "？", "!", "?", ".", "；"}


def read_gold(path: Path) -> list[dict[str, Any]]:
    from talentgraph.demo.documents import read_gold as read  # the generator owns the gold's layout

    return read(path)


def graph_words(gold: Path, records: Iterable[dict[str, Any]]) -> list[str]:
    """The words jieba is taught: the graph's names (``names.txt`` beside the gold, which the demo writes), as the
    running pipeline teaches it its gazetteer's; without that file, the surfaces of the known entities."""
    from talentgraph.demo.documents import NAMES_FILE, gold_file

    names = gold_file(Path(gold)).parent / NAMES_FILE
    if names.is_file():
        return [w for w in names.read_text(encoding="utf-8").splitlines() if w.strip()]
    return sorted({str(r["text"])[s[0]:s[1]] for r in records for s in r["spans"] if s[4] == "known"})


def tokenizer_for(lang: str, words: Iterable[str]) -> Language:
    return blank(lang, words if lang == "zh" else ())


def to_doc(nlp: Language, rec: dict[str, Any]) -> tuple[Doc, int]:
    """The record's text as a Doc with its gold entities and sentence starts; returns the misaligned spans."""
    doc = nlp.make_doc(str(rec["text"]))
    ents = []
    missing = []
    for start, end, label, *_ in rec["spans"]:
        span = doc.char_span(start, end, label=label)
        if span is None:
            loose = doc.char_span(start, end, alignment_mode="expand")
            if loose is not None:
                missing.append(loose)
            continue
        ents.append(span)
    doc.set_ents(ents, missing=missing, default="outside")
    for i, tok in enumerate(doc):
        if i == 0:
            tok.is_sent_start = True
            continue
        prev = doc[i - 1]
        tok.is_sent_start = prev.text in _SENT_END or "\n" in prev.text or "\n" in prev.whitespace_
    # Keep a sentence start from landing inside an entity (never happens with the punctuation above).
    for e in doc.ents:
        for tok in e[1:]:
            tok.is_sent_start = False
    return doc, len(missing)


def base_words(words: Iterable[str]) -> list[str]:
    """The graph's names that are not another name plus more (联洋新苑 stays; 联洋新苑3号楼, 联洋新苑居民区党总支 go)."""
    names = set(words)
    return sorted(w for w in names if not any(w[:i] in names for i in range(2, len(w))))


def write_corpus(records: Sequence[dict[str, Any]], lang: str, out: Path, words: Iterable[str] = ()) -> dict[str, int]:
    """``<out>/train.spacy`` and ``<out>/dev.spacy`` for ``lang``; returns counts.

    Chinese training documents go in twice: cut as the running pipeline cuts them (every graph name one token)
    and cut with only the graph's *base* names as words (``base_words``), so a known composite name is seen as
    its parts — 联洋新苑 / 3 / 号 / 楼 / 党小组. A new name reaches the model in exactly that shape (its parts are
    known words, the whole is not): without the second view the model meets known names only as single tokens
    and learns the shapes of new ones from the few new names alone. Dev is cut as the pipeline cuts.
    """
    out.mkdir(parents=True, exist_ok=True)
    words = list(words)
    mine = [r for r in records if r["language"] == lang]
    views = [tokenizer_for(lang, words)]
    if lang == "zh":
        views.append(tokenizer_for(lang, base_words(words)))
    counts: dict[str, int] = {}
    for split in ("train", "dev"):
        db = DocBin(store_user_data=False)
        misaligned = 0
        docs = [r for r in mine if r["split"] == split]
        for nlp in views if split == "train" else views[:1]:
            for rec in docs:
                doc, bad = to_doc(nlp, rec)
                misaligned += bad
                db.add(doc)
        db.to_disk(out / f"{split}.spacy")
        counts[f"{split}_docs"] = len(docs)
        counts[f"{split}_examples"] = len(db)
        counts[f"{split}_spans"] = sum(len(r["spans"]) for r in docs)
        counts[f"{split}_misaligned"] = misaligned
    return counts


def train(gold: Path, out: Path, lang: str = "zh", *, seed: int = SEED, max_steps: int | None = None,
          config: Path | None = None, ship: bool = False) -> dict[str, Any]:
    """Convert, train, optionally ship; returns a summary (counts, dev scores, seconds, model size)."""
    from spacy.cli.train import train as spacy_train  # heavy import, only when training

    records = read_gold(gold)
    out = Path(out)
    counts = write_corpus(records, lang, out / "corpus", graph_words(gold, records))
    if not counts["train_docs"] or not counts["dev_docs"]:
        raise SystemExit(f"No {lang} documents in the train or dev split of {gold}.")
    overrides: dict[str, Any] = {"paths.train": str(out / "corpus" / "train.spacy"),
                                 "paths.dev": str(out / "corpus" / "dev.spacy"),
                                 "system.seed": seed}
    if max_steps is not None:
        overrides["training.max_steps"] = max_steps
        overrides["training.eval_frequency"] = max(1, min(150, max_steps // 4))
    t0 = time.perf_counter()
    spacy_train(config or CONFIGS / f"ner_{lang}.cfg", out, overrides=overrides, use_gpu=-1)
    seconds = time.perf_counter() - t0
    best = out / "model-best"
    meta = json.loads((best / "meta.json").read_text(encoding="utf-8"))
    summary = {"lang": lang, **counts, "seconds": round(seconds, 1), "dev": meta.get("performance", {}),
               "size_bytes": _size(best)}
    if ship:
        target = MODELS / lang
        ship_model(best, target, lang, summary)
        summary["shipped"] = str(target)
        summary["size_bytes"] = _size(target)
    return summary


def ship_model(best: Path, target: Path, lang: str, summary: dict[str, Any] | None = None) -> None:
    """Copy model-best into the package, without what a loaded pipeline does not need, its meta naming it
    (spaCy's default is "pipeline" 0.0.0: the version tag a Document's ``pipeline`` records would say nothing)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(best, target)
    name_model(target, lang, summary)
    # The tokenizer is rebuilt from the config at load (jieba's words come from the graph); vectors are empty.
    for junk in ("vocab/vectors", "vocab/vectors.cfg", "vocab/lookups.bin"):
        p = target / junk
        if p.is_file() and p.stat().st_size < 200:  # only empty placeholders: spaCy tolerates their absence
            p.unlink()


def name_model(target: Path, lang: str, summary: dict[str, Any] | None = None) -> None:
    """Name a shipped model in its meta.json: ``talentgraph_ner_<lang>``, the package's version, what it was
    trained on (the weights are untouched: the pipeline's version tag hashes them)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package_version = version("talentgraph")
    except PackageNotFoundError:  # a source tree that was never installed
        package_version = "0.0.0"
    path = target / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update({"name": f"talentgraph_ner_{lang}", "version": package_version,
                 "description": f"talentgraph's {lang} entity recogniser, trained by `python -m talentgraph.text.train` "
                                "on the synthetic documents of `talentgraph generate` (train split; dev for selection).",
                 "author": "talentgraph", "license": "as talentgraph"})
    if summary:
        meta["talentgraph_training"] = {k: v for k, v in summary.items() if k not in ("dev", "shipped", "size_bytes")}
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m talentgraph.text.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, required=True, help="gold.jsonl (or its folder, or the documents/ folder it describes)")
    ap.add_argument("--out", type=Path, required=True, help="working folder: corpus/, model-best/, model-last/")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--ship", action="store_true", help="copy model-best into talentgraph/text/models/<lang>/")
    args = ap.parse_args(argv)
    summary = train(args.gold, args.out, args.lang, seed=args.seed, max_steps=args.max_steps, config=args.config,
                    ship=args.ship)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
