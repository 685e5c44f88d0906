"""Query-time vocabulary expansion: "俄语", "Russian", "ru" and "русский" all mean ``languages: ru``.

Documents carry only vocabulary ids (``analysis.analyze_keyword``); every label, synonym and the
skill hierarchy is applied here, when a query is read. Expanding at query time rather than index
time means a community worker's edit to ``vocab/*.yaml`` (a new synonym, a new specialism) takes
effect on the next search without re-indexing, keeps documents small, and gives the service the
exact (field, term) pairs it needs to explain a match.

``parse`` splits a query into segments: *concepts* (a vocabulary label, possibly several words,
matched longest-first, or the label of a yes/no facet such as "志愿者" for ``volunteer``) and
*words* (everything else: names, free-text words). A concept read across a typed space ("英语 翻译":
English translation) keeps the separate concepts as another reading (``Segment.parts``: English in
the languages, translation in the skills), so a person with the concepts in different fields matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from talentgraph.schema.ontology import ONTOLOGY, Ontology, SearchKind
from talentgraph.schema.vocabularies import Term, Vocabulary, load_vocabularies
from talentgraph.search import analysis
from talentgraph.search.mapping import facets as facet_fields

MAX_LABEL_WORDS = 6  # longest label, in query tokens, tried when matching concepts
FLAG_TRUE = "true"  # the indexed value of a yes/no facet that holds

FLAG_LABELS: dict[str, tuple[str, ...]] = {
    "volunteer": ("志愿者", "义工", "volunteer", "volunteers", "волонтёр", "волонтер", "волонтёры", "волонтеры",
                  "доброволец", "добровольцы"),
    "party_member": ("党员", "中共党员", "共产党员", "party member", "party members", "член партии", "члены партии",
                     "коммунист"),
}
"""Words that mean "this yes/no facet holds" (``volunteer: true``). Only facets the ontology has,
as yes/no values, on the searched types are read; the service matches them only where the caller
may read the facet's property. TODO: move into the ontology's property labels."""


class Expansion(NamedTuple):
    field: str  # keyword property name, e.g. "skills"
    term_id: str
    label: str  # the label the query used (for explanations)


_KEYWORD_VOCABS: dict[tuple[int, tuple[str, ...] | None], tuple[Ontology, dict[str, list[str]]]] = {}
_KEYWORD_VOCABS_MAX = 256


def keyword_vocabularies(ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Keyword-searchable properties with a vocabulary: property name -> vocabulary names.

    Read from the ontology once per (ontology, types): every query window asks. Callers must not
    change the returned dict."""
    key = (id(ontology), tuple(types) if types is not None else None)
    hit = _KEYWORD_VOCABS.get(key)
    if hit is not None and hit[0] is ontology:
        return hit[1]
    out = _keyword_vocabularies(ontology, key[1])
    if len(_KEYWORD_VOCABS) >= _KEYWORD_VOCABS_MAX:
        _KEYWORD_VOCABS.clear()
    _KEYWORD_VOCABS[key] = (ontology, out)
    return out


def _keyword_vocabularies(ontology: Ontology, types: Iterable[str] | None) -> dict[str, list[str]]:
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


def flags(
    label: str, *, ontology: Ontology = ONTOLOGY, types: Iterable[str] | None = None
) -> list[Expansion]:
    """The yes/no facets ``label`` names (``FLAG_LABELS``), as (property, "true") expansions."""
    norm = analysis.normalize(label)
    props = [p for p, labels in FLAG_LABELS.items() if norm in (analysis.normalize(x) for x in labels)]
    if not props:
        return []
    wanted = set(types) if types is not None else None
    out: list[Expansion] = []
    for prop in props:
        f = facet_fields(ontology).get(prop)
        if f is None or f.values != "bool" or (wanted is not None and f.types and not wanted & set(f.types)):
            continue
        out.append(Expansion(prop, FLAG_TRUE, label))
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
    parts: tuple["Segment", ...] = ()  # a concept read across typed spaces: the concepts between them
    implied: tuple[Expansion, ...] = ()  # held through another term (a skill in a language: translation.ru → ru)

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
            found = expand(label, ontology=ontology, types=types) or flags(label, ontology=ontology, types=types)
            if found:
                flush()
                parts = _parts(toks[i : i + n], ontology, types)
                out.append(Segment(label, "concept", analysis.has_cjk(label), tuple(found), parts))
                matched = n
                break
        if matched:
            i += matched
        else:
            pending.append(toks[i])
            i += 1
    flush()
    return out


def _parts(toks: Sequence[_Tok], ontology: Ontology, types: list[str] | None) -> tuple[Segment, ...]:
    """The concepts a label read across typed spaces splits into at those spaces ("英语 翻译" →
    英语, 翻译), when every piece is a concept itself; else none."""
    if all(t.glued for t in toks[1:]) or any(not t.cjk for t in toks):
        return ()  # typed as one word, or Latin words, which spaces always separate ("Russian lawyer")
    chunks: list[list[_Tok]] = []
    for t in toks:
        if chunks and t.glued:
            chunks[-1].append(t)
        else:
            chunks.append([t])
    out: list[Segment] = []
    for chunk in chunks:
        label = _join(chunk)
        found = expand(label, ontology=ontology, types=types) or flags(label, ontology=ontology, types=types)
        if not found:
            return ()
        out.append(Segment(label, "concept", analysis.has_cjk(label), tuple(found)))
    return tuple(out)


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


__all__ = ["FLAG_LABELS", "FLAG_TRUE", "Expansion", "Segment", "expand", "flags", "keyword_vocabularies", "lookup",
           "parse", "term_of"]
