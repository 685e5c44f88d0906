"""Mentions → existing nodes (with the type checked) or candidate new entities.

Each mention is looked up, stopping at the first step that finds a node of the mention's type (a Venue mention
never links to a Person, whatever the surface):

==========  =====  ========================================================================================
method      score  how
==========  =====  ========================================================================================
exact       1.00   the surface is a node's title (``Gazetteer``)
alias       0.95   the surface is one of a node's other names (latin_name, other_names, an English name_en …)
normalised  0.90   equal after ``normalise``: NFKC, case-folded, spaces/punctuation/quotes removed, and the
                   type's variant endings made one (居委 = 居委会 = 居民区; 有限公司 = 公司; Centre = Center);
            0.85   equal after ``bare``: ``normalise`` and then the type's level word dropped, on both sides (a
                   residential area is written with or without it: 联洋新苑 = 联洋新苑居民区 = 联洋新苑小区,
                   Lianyang Xinyuan = Lianyang Xinyuan Residential Area)
pinyin      0.80   same toneless pinyin (联阳社区 → 联洋社区); 0.65 for one syllable off, allowed only for names of
                   ``PINYIN_MIN`` or more syllables. Never for persons: 张伟 and 张玮 sound alike and are two
                   people (a person's name links exactly, by an alias, or normalised).
==========  =====  ========================================================================================

Ambiguity: when a step finds several nodes of the type, titles are preferred to aliases; if several remain, the
one of them another mention of the same document links to unambiguously is taken (score × 0.8); otherwise the
mention links to none: ``node_id`` and ``candidate_key`` stay None, ``alternatives`` lists the nodes and the score
is the step's divided by their number. An ambiguous name is a known name, so it never becomes a candidate.

No node: the mention is a candidate new entity, ``candidate_key`` = ``"<type>:<normalised name>"`` (the same new
name in two documents is one candidate), ``method`` = its source ("form" or "model"), ``score`` = the
recognition confidence the pipeline gave it (``pipeline.form_score`` / ``MODEL_SCORE``).

Traditional characters are not folded to simplified (no converter is a dependency); a traditional spelling
links only through pinyin.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from talentgraph.search.analysis import pinyin_syllables, runs
from talentgraph.text.gazetteer import Entry, Gazetteer
from talentgraph.text.model import LinkMethod, Mention

SCORES: dict[str, float] = {"exact": 1.0, "alias": 0.95, "normalised": 0.9, "bare": 0.85, "pinyin": 0.8,
                            "pinyin1": 0.65}
CONTEXT_FACTOR = 0.8
PINYIN_MIN = 3
NO_FUZZY_TYPES = frozenset({"Person"})

# Endings that name the same thing for one type: the first of each group stands for all of them.
SUFFIX_VARIANTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Area": (("居民区", "居委会", "居委", "居民委员会"), ("Residential Area", "Residents' Committee", "Neighbourhood")),
    "Enterprise": (("有限公司", "有限责任公司", "股份有限公司", "公司"),
                   ("Co., Ltd.", "Co. Ltd.", "Co., Ltd", "Ltd.", "Ltd", "Limited", "Inc.", "Inc", "Company")),
    "Group": (("志愿服务队", "志愿者服务队", "志愿者队", "志愿队", "志愿服务团队"),
              ("Volunteer Team", "Volunteers", "Volunteer Corps", "Volunteer Group")),
    "Venue": (("Centre", "Center"),),
    "PartyOrganization": (("党委", "党委员会"),),
}
# Level words a type's names are written with or without (after ``normalise``, so one of each variant group stands
# for the group): 联洋新苑, 联洋新苑居民区 (居委会, 居委) and 联洋新苑小区 are one residential area.
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "Area": ("居民区", "小区", "Residential Area"),
}


def _plain(text: str) -> str:
    """NFKC, case-folded, only letters and digits (spaces, punctuation, quotes and symbols removed)."""
    s = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in s if unicodedata.category(c)[0] in "LN")


_VARIANTS: dict[str, list[tuple[str, str]]] = {
    t: sorted(((_plain(v), _plain(g[0])) for g in groups for v in g), key=lambda p: len(p[0]), reverse=True)
    for t, groups in SUFFIX_VARIANTS.items()
}


def normalise(name: str, type_name: str) -> str:
    """The form names are compared in (module docstring): 联洋居委会 and 联洋 居民区 are the same Area name."""
    s = _plain(name)
    for variant, canonical in _VARIANTS.get(type_name, ()):
        if len(s) > len(variant) and s.endswith(variant):
            return s[: -len(variant)] + canonical
    return s


_LEVELS: dict[str, list[str]] = {t: sorted({normalise(w, t) for w in words}, key=len, reverse=True)
                                  for t, words in LEVEL_WORDS.items()}


def bare(name: str, type_name: str) -> str:
    """``normalise`` without the type's level word (``LEVEL_WORDS``): 联洋新苑居委会 → 联洋新苑."""
    s = normalise(name, type_name)
    for word in _LEVELS.get(type_name, ()):
        if len(s) > len(word) and s.endswith(word):
            return s[: -len(word)]
    return s


def candidate_key(name: str, type_name: str) -> str:
    return f"{type_name}:{normalise(name, type_name)}"


def syllables(name: str, type_name: str) -> tuple[str, ...]:
    """Toneless pinyin of the normalised name's Han characters; other words as they are."""
    out: list[str] = []
    for cjk, run in runs(normalise(name, type_name)):
        if cjk:
            out.extend(s or "?" for s in pinyin_syllables(run, surname=type_name == "Person"))
        elif run:
            out.append(run)
    return tuple(out)


def _edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class _Found:
    ids: tuple[str, ...]
    method: LinkMethod
    score: float


class Linker:
    """Links mentions to the gazetteer's nodes (module docstring). Indexes are built on first use per type."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._norm: dict[str, dict[str, list[Entry]]] | None = None  # type → normalised name → entries
        self._bare: dict[str, dict[str, list[Entry]]] = {}  # type with level words → bare name → entries
        self._pinyin: dict[str, dict[tuple[str, ...], set[tuple[str, tuple[str, ...]]]]] = {}

    # --- indexes --------------------------------------------------------------------------------

    def _norm_index(self) -> dict[str, dict[str, list[Entry]]]:
        if self._norm is None:
            idx: dict[str, dict[str, list[Entry]]] = {}
            for surface, entries in self.gazetteer.items():
                for e in entries:
                    idx.setdefault(e.type, {}).setdefault(normalise(surface, e.type), []).append(e)
            self._norm = idx
        return self._norm

    def _bare_index(self, type_name: str) -> dict[str, list[Entry]]:
        idx = self._bare.get(type_name)
        if idx is None:
            idx = {}
            for norm, entries in self._norm_index().get(type_name, {}).items():
                idx.setdefault(bare(norm, type_name), []).extend(entries)
            self._bare[type_name] = idx
        return idx

    def _pinyin_index(self, type_name: str) -> dict[tuple[str, ...], set[tuple[str, tuple[str, ...]]]]:
        idx = self._pinyin.get(type_name)
        if idx is None:
            # Symmetric deletion index: a name is filed under its syllables and each one-syllable deletion, so
            # one lookup of the mention's keys finds every name within one substitution, insertion or deletion.
            idx = {}
            for norm, entries in self._norm_index().get(type_name, {}).items():
                if not any(c for c in norm if "\u3400" <= c <= "\u9fff"):
                    continue
                syl = syllables(norm, type_name)
                for key in _deletions(syl):
                    for e in entries:
                        idx.setdefault(key, set()).add((e.node_id, syl))
            self._pinyin[type_name] = idx
        return idx

    # --- linking --------------------------------------------------------------------------------

    def find(self, surface: str, type_name: str) -> _Found | None:
        """The nodes of ``type_name`` the first matching step finds for ``surface`` (None: no step finds one)."""
        entries = [e for e in self.gazetteer.lookup(surface) if e.type == type_name]
        if entries:
            titles = [e for e in entries if e.how == "title"]
            if titles:
                return _Found(_ids(titles), "exact", SCORES["exact"])
            return _Found(_ids(entries), "alias", SCORES["alias"])
        norm = normalise(surface, type_name)
        if not norm:
            return None
        normed = self._norm_index().get(type_name, {}).get(norm)
        if normed:
            titles = [e for e in normed if e.how == "title"]
            return _Found(_ids(titles or normed), "normalised", SCORES["normalised"])
        if type_name in LEVEL_WORDS:
            bared = self._bare_index(type_name).get(bare(norm, type_name))
            if bared:
                titles = [e for e in bared if e.how == "title"]
                return _Found(_ids(titles or bared), "normalised", SCORES["bare"])
        return self._fuzzy(norm, type_name)

    def _fuzzy(self, norm: str, type_name: str) -> _Found | None:
        if type_name in NO_FUZZY_TYPES or not any("\u3400" <= c <= "\u9fff" for c in norm):
            return None
        syl = syllables(norm, type_name)
        fuzzy = len(syl) >= PINYIN_MIN
        idx = self._pinyin_index(type_name)
        same: dict[str, None] = {}
        near: dict[str, None] = {}
        for key in (_deletions(syl) if fuzzy else [syl]):
            for node_id, other in idx.get(key, ()):
                if other == syl:
                    same[node_id] = None
                elif fuzzy and _edit_distance(syl, other) <= 1:
                    near[node_id] = None
        if same:
            return _Found(tuple(same), "pinyin", SCORES["pinyin"])
        if near:
            return _Found(tuple(near), "pinyin", SCORES["pinyin1"])
        return None

    def link(self, mentions: Sequence[Mention], text: str = "") -> list[Mention]:
        """Each mention linked, made a candidate, or marked ambiguous (module docstring), in the given order.

        ``text`` is the document the spans index; a mention's surface is read from it when it holds the span.
        """
        found: list[_Found | None] = []
        for m in mentions:
            surface = text[m.start:m.end] if text and 0 <= m.start < m.end <= len(text) else m.text
            found.append(self.find(surface, m.type))
        # Context: nodes this document links to without doubt.
        sure = {f.ids[0] for f in found if f is not None and len(f.ids) == 1}
        out: list[Mention] = []
        for m, f in zip(mentions, found):
            if f is None:
                method: LinkMethod = "model" if m.source == "model" else "form"
                out.append(dataclasses.replace(m, node_id=None, candidate_key=candidate_key(m.text, m.type),
                                               method=method, score=round(m.score, 3), alternatives=()))
            elif len(f.ids) == 1:
                out.append(dataclasses.replace(m, node_id=f.ids[0], candidate_key=None, method=f.method,
                                               score=f.score, alternatives=()))
            else:
                chosen = [i for i in f.ids if i in sure]
                if len(chosen) == 1:
                    out.append(dataclasses.replace(m, node_id=chosen[0], candidate_key=None, method=f.method,
                                                   score=round(f.score * CONTEXT_FACTOR, 3), alternatives=f.ids))
                else:
                    out.append(dataclasses.replace(m, node_id=None, candidate_key=None, method=f.method,
                                                   score=round(f.score / len(f.ids), 3), alternatives=f.ids))
        return out


def _ids(entries: Sequence[Entry]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.node_id for e in entries))


def _deletions(syl: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [syl, *(syl[:i] + syl[i + 1:] for i in range(len(syl)))]
