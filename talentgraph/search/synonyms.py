"""Query-time vocabulary expansion: "俄语", "Russian", "ru" and "русский" all mean ``languages: ru``.

Documents carry only vocabulary ids (``analysis.analyze_keyword``); every label, synonym and the
skill hierarchy is applied here, when a query is read. Expanding at query time rather than index
time means a community worker's edit to ``vocab/*.yaml`` (a new synonym, a new specialism) takes
effect on the next search without re-indexing, keeps documents small, and gives the service the
exact (field, term) pairs it needs to explain a match.

``parse`` splits a query into segments: *concepts* (a vocabulary label, possibly several words,
matched longest-first) and *words* (everything else: names, free-text words).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from talentgraph.schema.ontology import ONTOLOGY, Ontology, SearchKind
from talentgraph.schema.vocabularies import Term, Vocabulary, load_vocabularies
from talentgraph.search import analysis

MAX_LABEL_WORDS = 6  # longest label, in query tokens, tried when matching concepts


class Expansion(NamedTuple):
    field: str  # keyword property name, e.g. "skills"
    term_id: str
    label: str  # the label the query used (for explanations)


def keyword_vocabularies(ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Keyword-searchable properties with a vocabulary: property name -> vocabulary names."""
    wanted = set(types) if types is not None else None
    out: dict[str, list[str]] = {}
    for nt in ontology.node_types:
        if wanted is not None and nt.name not in wanted:
            continue
        for p in nt.properties:
            if p.searchable is SearchKind.KEYWORD and p.vocabulary:
                names = out.setdefault(p.name, [])
                if p.vocabulary not in names:
                    names.append(p.vocabulary)
    return out


def _vocabs(names: Sequence[str]) -> list[Vocabulary]:
    loaded = load_vocabularies()
    return [loaded[n] for n in names if n in loaded]


def lookup(
    token: str, *, ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None
) -> list[tuple[str, Term]]:
    """The (keyword field, term) pairs whose id or label is ``token`` (no hierarchy)."""
    out: list[tuple[str, Term]] = []
    for field, vocab_names in keyword_vocabularies(ontology, types).items():
        for vocab in _vocabs(vocab_names):
            term = vocab.lookup(token)
            if term is not None and (field, term) not in out:
                out.append((field, term))
    return out


def expand(
    token: str, *, ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None
) -> list[Expansion]:
    """Every (field, term id) a label stands for, with the term's descendants (a search for law
    also finds law.litigation); empty when the text is no vocabulary label."""
    out: list[Expansion] = []
    vocabs = keyword_vocabularies(ontology, types)
    for field, term in lookup(token, ontology=ontology, types=types):
        for vocab in _vocabs(vocabs[field]):
            if term.id in vocab and vocab.terms[term.id] is term:
                for t in (term, *vocab.descendants(term.id)):
                    e = Expansion(field, t.id, token)
                    if e not in out:
                        out.append(e)
    return out


def term_of(field: str, term_id: str, *, ontology: Ontology = ONTOLOGY) -> Term | None:
    """The vocabulary term behind a keyword field's id (for explanation labels)."""
    for vocab in _vocabs(keyword_vocabularies(ontology).get(field, [])):
        if term_id in vocab:
            return vocab.terms[term_id]
    return None


# --- query segmentation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One unit of a query that a matching document must satisfy."""

    text: str  # normalised, as typed
    kind: Literal["concept", "word"]
    cjk: bool
    expansions: tuple[Expansion, ...] = ()

    @property
    def terms(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((e.field, e.term_id) for e in self.expansions))


@dataclass(frozen=True)
class _Tok:
    text: str
    cjk: bool
    glued: bool  # no space before it in the query (CJK tokens cut from one run)


def _tokens(norm: str) -> list[_Tok]:
    out: list[_Tok] = []
    for chunk in norm.split(" "):
        first = True
        for cjk, run in analysis.runs(chunk):
            if cjk:
                for w in analysis.segment(run):
                    out.append(_Tok(w, True, not first))
                    first = False
            else:
                for w in analysis.words(run):
                    out.append(_Tok(w, False, not first))
                    first = False
    return out


def _join(toks: Sequence[_Tok]) -> str:
    text = toks[0].text
    for prev, t in zip(toks, toks[1:]):
        text += "" if (prev.cjk and t.cjk) else " "
        text += t.text
    return text


def parse(text: str, *, ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None) -> list[Segment]:
    """Split a query into concept and word segments (see module docstring)."""
    types = list(types) if types is not None else None
    toks = _tokens(analysis.normalize(text))
    out: list[Segment] = []
    pending: list[_Tok] = []  # consecutive non-concept tokens

    def flush() -> None:
        out.extend(_word_segments(pending))
        pending.clear()

    i = 0
    while i < len(toks):
        matched = 0
        for n in range(min(MAX_LABEL_WORDS, len(toks) - i), 0, -1):
            label = _join(toks[i : i + n])
            found = expand(label, ontology=ontology, types=types)
            if found:
                flush()
                out.append(Segment(label, "concept", analysis.has_cjk(label), tuple(found)))
                matched = n
                break
        if matched:
            i += matched
        else:
            pending.append(toks[i])
            i += 1
    flush()
    return out


def _word_segments(toks: Sequence[_Tok]) -> list[Segment]:
    """Glue CJK pieces jieba cut from one run back together when short (a name: 张伟, 欧阳娜娜),
    otherwise keep jieba's words; function words are dropped and end a run."""
    out: list[Segment] = []
    group: list[_Tok] = []

    def close() -> None:
        if not group:
            return
        run = "".join(t.text for t in group)
        if len(run) <= 4:
            out.append(Segment(run, "word", True))
        else:
            out.extend(Segment(t.text, "word", True) for t in group)
        group.clear()

    for t in toks:
        if t.cjk and t.text in analysis.QUERY_STOPWORDS:
            close()
        elif t.cjk:
            if group and not t.glued:
                close()
            group.append(t)
        else:
            close()
            out.append(Segment(t.text, "word", False))
    close()
    return out


__all__ = ["Expansion", "Segment", "expand", "keyword_vocabularies", "lookup", "parse", "term_of"]
