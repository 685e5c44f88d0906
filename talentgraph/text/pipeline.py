"""The text pipeline of one language: sentences, entity mentions, links and numeric facts of a document.

``build_pipeline(language, gazetteer)`` makes a spaCy ``Language``:

1. tokenizer: ``text.language.blank`` (Chinese: jieba taught every gazetteer name, so a known name is one token);
   with a trained model, the model's own pipeline is loaded and its jieba taught the same names;
2. ``tg_gazetteer``: a span ruler with one phrase pattern per graph name (``patterns.gazetteer_patterns``), writing
   to ``doc.spans`` (not ``doc.ents``, so the model below predicts freely and overlaps are decided here);
3. ``tg_sentences``: rule-based sentence starts after 。！？!?；; and a line break, and after English . ? ! tokens
   (closing quotes and brackets stay with their sentence);
4. ``ner`` (when a trained model exists at ``model_dir`` or ``talentgraph/text/models/<lang>/``): labels are
   ontology node type names; other labels are ignored. Without a model the pipeline works from the gazetteer and
   name forms alone, and says so in ``Extraction.pipeline`` ("+no-model").

Then, in Python over each parsed doc: name-form matches (``patterns.FormMatcher``); overlapping spans resolved by
length first (拇指广场志愿服务队 beats 拇指广场), then source (gazetteer > model > form); linking
(``linking.Linker``); numeric facts (``facts.extract_facts``) whose subjects are the linked mentions.

Recognition confidences (``Mention.score`` before linking; kept for candidates): gazetteer 1.0; model
``MODEL_SCORE`` (spaCy's greedy NER gives no per-entity probability); form ``form_score``: longer name parts are
surer (联洋新苑1号楼党小组 over 某某党小组).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy
import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from talentgraph.errors import ConfigError
from talentgraph.text import language as lang_mod
from talentgraph.text.facts import extract_facts
from talentgraph.text.gazetteer import Gazetteer, entity_types
from talentgraph.text.linking import Linker
from talentgraph.text.model import DocumentText, Extraction, Mention, Sentence
from talentgraph.text.patterns import FormMatch, FormMatcher, gazetteer_patterns

PIPELINE_VERSION = "2"
MODELS_DIR = Path(__file__).parent / "models"
GAZETTEER_KEY = "tg_gazetteer"
MODEL_SCORE = 0.7
MAX_CHARS = 6_000_000  # spaCy refuses longer texts; the readers cap text at 5 MB
BATCH = 32
_SOURCE_RANK = {"ruler": 0, "model": 1, "form": 2}
_KEEP_FROM_MODEL = ("tok2vec", "transformer", "ner")

# --- sentences -----------------------------------------------------------------------------------------

SENTENCE_ENDS = frozenset("。！？!?；…")
EN_SENTENCE_ENDS = frozenset(".?!")
CLOSERS = frozenset("\"'”’」』）)】》〉]")


@Language.component("tg_sentences")
def mark_sentences(doc: Doc) -> Doc:
    """Sentence starts by rule (module docstring); whitespace never starts a sentence."""
    # Written as one array: Token.is_sent_start's setter re-checks the doc's annotations on every call.
    starts = numpy.full((len(doc), 1), -1, dtype="int64")
    pending = True
    for i, tok in enumerate(doc):
        text = tok.text
        if pending and not tok.is_space and (i == 0 or text not in CLOSERS):
            starts[i, 0] = 1
            pending = False
        if (tok.is_space and "\n" in text) or text in EN_SENTENCE_ENDS or (
                text and text[-1] in SENTENCE_ENDS and not text[0].isalnum()):
            pending = True
    if len(doc):
        starts[0, 0] = 1
        doc.from_array([SENT_START], starts.astype("uint64"))  # type: ignore[arg-type]
    return doc


def sentences_of(doc: Doc) -> list[Sentence]:
    """Sentence spans with surrounding whitespace trimmed; empty ones dropped."""
    out: list[Sentence] = []
    text = doc.text
    for s in doc.sents:
        start, end = s.start_char, s.end_char
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append(Sentence(start, end))
    return out


# --- scores and overlaps ----------------------------------------------------------------------------------


def form_score(fm: FormMatch) -> float:
    """Chinese: 0.55 for a 2-character name part up to 0.85 for 8; English: 0.6 for one word up to 0.8."""
    if fm.latin:
        return round(0.5 + 0.1 * min(fm.name_size, 3), 3)
    return round(0.45 + 0.05 * min(fm.name_size, 8), 3)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    type: str
    source: str
    score: float


def _type_rank() -> dict[str, int]:
    # A span the gazetteer gives several types: a place or organisation before a person of the same name.
    types = [t for t in entity_types() if t != "Person"] + ["Person"]
    return {t: i for i, t in enumerate(types)}


_TYPE_RANK = _type_rank()


def resolve(spans: Iterable[_Span]) -> list[_Span]:
    """Non-overlapping spans: longest first, then gazetteer > model > form, then type rank; in text order.

    A form span made wholly of gazetteer names (花木街道 + 联洋社区 read as one Area "花木街道联洋社区") is dropped
    first: two known names side by side are not a new one. Where the model and a name form find the same
    span with different types, the form's type stands: a name ending in 党支部 or 广场 says what it is, the
    model guesses from context.
    """
    spans = list(spans)
    forms = {(s.start, s.end): s.type for s in spans if s.source == "form"}
    spans = [s for s in spans if s.source != "model" or forms.get((s.start, s.end), s.type) == s.type]
    known = bytearray(max((s.end for s in spans), default=0) + 1)
    for s in spans:
        if s.source == "ruler":
            known[s.start:s.end] = b"\x01" * (s.end - s.start)
    spans = [s for s in spans if s.source != "form" or 0 in known[s.start:s.end]]
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), _SOURCE_RANK[s.source],
                                           _TYPE_RANK.get(s.type, 99), s.start))
    taken: list[_Span] = []
    used = bytearray(max((s.end for s in ordered), default=0) + 1)  # characters already in a kept span
    for s in ordered:
        if 1 not in used[s.start:s.end]:
            taken.append(s)
            used[s.start:s.end] = b"\x01" * (s.end - s.start)
    return sorted(taken, key=lambda s: s.start)


# --- the pipeline ------------------------------------------------------------------------------------------


class TextPipeline:
    """Built by ``build_pipeline``; ``extract``/``extract_many`` documents of its language."""

    def __init__(self, language: str, nlp: Language, gazetteer: Gazetteer, version: str, has_model: bool) -> None:
        self.language = language
        self.nlp = nlp
        self.gazetteer = gazetteer
        self.version = version
        self.has_model = has_model
        self.linker = Linker(gazetteer)
        self.forms = FormMatcher()
        self._types = frozenset(entity_types())

    def extract(self, doc: DocumentText) -> Extraction:
        self._check(doc)
        return self._finish(doc, self.nlp(doc.text))

    def extract_many(self, docs: Iterable[DocumentText], *, batch_size: int = BATCH) -> Iterator[Extraction]:
        """Extractions in input order; spaCy parses them in batches (``nlp.pipe``)."""
        def texts() -> Iterator[tuple[str, DocumentText]]:
            for d in docs:
                self._check(d)
                yield d.text, d

        for parsed, d in self.nlp.pipe(texts(), as_tuples=True, batch_size=batch_size):
            yield self._finish(d, parsed)

    def _check(self, doc: DocumentText) -> None:
        if doc.language != self.language:
            raise ValueError(f"{doc.path}: a {doc.language!r} document given to the {self.language!r} pipeline "
                             "(route documents by language: TextPipelines does).")

    def mentions(self, parsed: Doc) -> list[Mention]:
        """The recognised mentions of a parsed doc, overlaps resolved, not yet linked."""
        spans: list[_Span] = [_Span(s.start_char, s.end_char, s.label_, "ruler", 1.0)
                              for s in parsed.spans.get(GAZETTEER_KEY, [])]
        spans.extend(_Span(e.start_char, e.end_char, e.label_, "model", MODEL_SCORE)
                     for e in parsed.ents if e.label_ in self._types)
        spans.extend(_Span(f.start, f.end, f.type, "form", form_score(f)) for f in self.forms.find(parsed))
        text = parsed.text
        return [Mention(s.start, s.end, text[s.start:s.end], s.type, s.source,  # type: ignore[arg-type]
                        score=s.score) for s in resolve(spans)]

    def _finish(self, doc: DocumentText, parsed: Doc) -> Extraction:
        sentences = sentences_of(parsed)
        mentions = self.linker.link(self.mentions(parsed), doc.text)
        facts = extract_facts(doc.text, sentences, mentions)
        return Extraction(document=doc, sentences=sentences, mentions=mentions, facts=facts, pipeline=self.version)


def default_model_dir(language: str) -> Path:
    return MODELS_DIR / language


def _load_model(language: str, model_dir: Path | None) -> tuple[Language | None, str]:
    """The trained pipeline (only what its ``ner`` needs) and its version tag; (None, "no-model") when absent."""
    path = model_dir if model_dir is not None else default_model_dir(language)
    if not (path / "config.cfg").is_file():
        if model_dir is not None:
            raise ConfigError(f"No trained text model at {path} (no config.cfg).",
                              hint="Train one (see bench/RESULTS.md) or leave model_dir unset to use the shipped one.")
        return None, "no-model"
    nlp = spacy.load(path)
    if nlp.lang != language:
        raise ConfigError(f"The text model at {path} is for {nlp.lang!r}, not {language!r}.")
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"The text model at {path} has no 'ner' component (it has {nlp.pipe_names}).")
    for name in list(nlp.pipe_names):
        if name not in _KEEP_FROM_MODEL:
            nlp.remove_pipe(name)
    meta = nlp.meta
    digest = hashlib.sha256()
    weights = path / "ner" / "model"
    digest.update(weights.read_bytes() if weights.is_file() else json.dumps(meta, sort_keys=True).encode())
    return nlp, f"{meta.get('name', 'model')}-{meta.get('version', '0')}@{digest.hexdigest()[:12]}"


def build_pipeline(language: str, gazetteer: Gazetteer, *, model_dir: Path | None = None,
                   use_model: bool = True) -> TextPipeline:
    """The pipeline for ``language`` ("zh", "en") over ``gazetteer``'s names, with the trained NER when there is one
    (``model_dir``, else the shipped ``talentgraph/text/models/<lang>/``); ``use_model=False``: without it."""
    if language not in lang_mod.LANGUAGES:
        raise ConfigError(f"No text pipeline for language {language!r}; known: {', '.join(lang_mod.LANGUAGES)}.")
    trained, model_tag = _load_model(language, model_dir) if use_model else (None, "no-model")
    surfaces = list(gazetteer.surfaces())
    if trained is None:
        nlp = lang_mod.blank(language, surfaces)
    else:
        nlp = trained
        lang_mod.add_words(nlp, surfaces)
    nlp.max_length = MAX_CHARS
    first = nlp.pipe_names[0] if nlp.pipe_names else None
    patterns = gazetteer_patterns(gazetteer)
    if patterns:
        # An empty graph gives no names: a ruler without patterns only warns (spaCy W036) on every document.
        ruler = nlp.add_pipe("span_ruler", name="tg_gazetteer", before=first,
                             config={"spans_key": GAZETTEER_KEY, "phrase_matcher_attr": "LOWER", "validate": False})
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
        nlp.add_pipe("tg_sentences", after="tg_gazetteer")
    else:
        nlp.add_pipe("tg_sentences", before=first)
    version = f"talentgraph-text/{PIPELINE_VERSION}+{model_tag}"
    return TextPipeline(language, nlp, gazetteer, version, has_model=trained is not None)


class TextPipelines:
    """One pipeline per language, built on first use; routes each document to its language's pipeline."""

    def __init__(self, gazetteer: Gazetteer, *, model_root: Path | None = None, use_model: bool = True) -> None:
        self.gazetteer = gazetteer
        self.model_root = model_root
        self.use_model = use_model
        self._built: dict[str, TextPipeline] = {}

    def get(self, language: str) -> TextPipeline:
        p = self._built.get(language)
        if p is None:
            model_dir = self.model_root / language if self.model_root is not None else None
            if model_dir is not None and not (model_dir / "config.cfg").is_file():
                model_dir = None
            p = build_pipeline(language, self.gazetteer, model_dir=model_dir, use_model=self.use_model)
            self._built[language] = p
        return p

    def extract(self, doc: DocumentText) -> Extraction:
        return self.get(doc.language).extract(doc)

    def extract_many(self, docs: Iterable[DocumentText], *, batch_size: int = BATCH) -> Iterator[Extraction]:
        """Extractions in input order; consecutive documents of one language go through ``nlp.pipe`` together."""
        run: list[DocumentText] = []
        for d in docs:
            if run and d.language != run[0].language:
                yield from self.get(run[0].language).extract_many(run, batch_size=batch_size)
                run = []
            run.append(d)
            if len(run) >= batch_size:
                yield from self.get(d.language).extract_many(run, batch_size=batch_size)
                run = []
        if run:
            yield from self.get(run[0].language).extract_many(run, batch_size=batch_size)
