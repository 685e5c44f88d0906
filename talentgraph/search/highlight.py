"""Highlights computed in Python from a hit's stored original text, the same for every engine.

Matching mirrors analysis: text is normalised character by character (keeping a map back to the
original offsets, so full-width letters and ligatures highlight correctly), CJK needles match as
substrings, other needles as whole words (also through their diacritic-free and transliterated
forms: "jose" marks "José", "ivan" marks "Иван"), Latin needles can mark the Chinese characters
whose pinyin they spell ("zhang" marks 张), and long words can match within one edit.

Everything outside ``<mark>`` is HTML-escaped, and so is the marked text itself.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from talentgraph.search import analysis

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
ELLIPSIS = "…"
_WORD = re.compile(r"[^\W_]+")


@dataclass
class Needles:
    """What to mark, all normalised (``analysis.normalize``)."""

    cjk: set[str] = field(default_factory=set)  # substrings of CJK text
    words: set[str] = field(default_factory=set)  # whole words or space-separated phrases
    fuzzy: set[str] = field(default_factory=set)  # words matched within edit distance 1
    pinyin: set[str] = field(default_factory=set)  # syllables, full spellings or initials

    def __bool__(self) -> bool:
        return bool(self.cjk or self.words or self.fuzzy or self.pinyin)

    def update(self, other: "Needles") -> None:
        self.cjk |= other.cjk
        self.words |= other.words
        self.fuzzy |= other.fuzzy
        self.pinyin |= other.pinyin


@functools.lru_cache(maxsize=4096)
def _normalised_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` normalised as the index saw it, and each character's offset in the original. Kept
    for recent texts: highlighting and explaining one hit scan the same values once per segment."""
    if text.isascii():
        return text.lower(), tuple(range(len(text)))  # NFKC keeps ASCII; casefold is lower() there
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            chars.append(c)
            where.append(i)
    return "".join(chars), tuple(where)


def within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance ≤ 1 (with adjacent transposition counted as one, as Tantivy does)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


@functools.lru_cache(maxsize=8192)
def _word_forms(word: str) -> frozenset[str]:
    forms = {word}
    if analysis.is_latin_word(word):
        forms.add(analysis.strip_diacritics(word))
    else:
        latin = analysis.transliterate(word)
        forms.update(latin)
        forms.add("".join(latin))
    return frozenset(forms)


@functools.lru_cache(maxsize=4096)
def _words_of(norm: str) -> tuple[dict[str, tuple[tuple[int, int], ...]], tuple[tuple[frozenset[str], int, int], ...]]:
    """The non-CJK words of a normalised text: each form of each word → its spans, and every word
    with its forms (for fuzzy needles). Worked out once however many needle sets read the text (each
    segment of a query explains itself from its own spans)."""
    words: dict[str, list[tuple[int, int]]] = {}
    latin: list[tuple[frozenset[str], int, int]] = []
    for m in _WORD.finditer(norm):
        word = m.group(0)
        if analysis.has_cjk(word):
            continue
        forms = _word_forms(word)
        latin.append((forms, m.start(), m.end()))
        for f in forms:
            words.setdefault(f, []).append((m.start(), m.end()))
    return {f: tuple(v) for f, v in words.items()}, tuple(latin)


@functools.lru_cache(maxsize=4096)
def _cjk_runs(norm: str) -> tuple[tuple[int, str], ...]:
    """(offset, run) of each CJK run of a normalised text."""
    out: list[tuple[int, str]] = []
    offset = 0
    for cjk, run in analysis.runs(norm):
        if cjk:
            out.append((offset, run))
        offset += len(run)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(p) for p in phrase.split(" ")) + r"(?!\w)")


def find_spans(text: str, needles: Needles, *, surname: bool = False) -> list[tuple[int, int]]:
    """Merged (start, end) offsets in the original ``text`` of everything the needles match."""
    norm, where = _normalised_with_map(text)
    found: list[tuple[int, int]] = []

    def add(start: int, end: int) -> None:
        if start < end:
            found.append((where[start], where[end - 1] + 1))

    for needle in needles.cjk:
        if not needle:
            continue
        start = norm.find(needle)
        while start >= 0:
            add(start, start + len(needle))
            start = norm.find(needle, start + 1)
    for word in needles.words:
        if " " in word:  # a phrase: its words in order, any spaces between
            for m in _phrase(word).finditer(norm):
                add(m.start(), m.end())
        else:  # a word marks every word one of whose forms it is
            for start, end in _words_of(norm)[0].get(word, ()):
                add(start, end)
    if needles.fuzzy:
        for forms, start, end in _words_of(norm)[1]:
            if any(abs(len(f) - len(n)) <= 1 and within_one_edit(f, n) for f in forms for n in needles.fuzzy):
                add(start, end)
    if needles.pinyin:
        for i, (offset, run) in enumerate(_cjk_runs(norm)):
            _pinyin_spans(run, offset, needles.pinyin, surname and i == 0, add)
    return merge_spans(found)


def _pinyin_spans(run: str, offset: int, tokens: set[str], surname: bool, add: Callable[[int, int], None]) -> None:
    sylls = analysis.pinyin_syllables(run, surname=surname)
    n = len(sylls)
    # Names are short; for long text only single syllables are checked, to keep this linear.
    max_span = n if n <= 12 else 1
    for i in range(n):
        spelled = ""
        initials = ""
        for j in range(i, min(n, i + max_span)):
            if not sylls[j]:
                break
            spelled += sylls[j]
            initials += sylls[j][0]
            if spelled in tokens or (j > i and initials in tokens):
                add(offset + i, offset + j + 1)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching spans joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` HTML-escaped, with ``spans`` wrapped in <mark>."""
    end = len(text) if end is None else end
    out: list[str] = []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s]))
        out.append(MARK_OPEN + html.escape(text[s:e]) + MARK_CLOSE)
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def highlight(
    text: str, needles: Needles, *, surname: bool = False, max_chars: int = 160, max_fragments: int = 3,
    spans: list[tuple[int, int]] | None = None,
) -> list[str]:
    """Marked fragments of ``text`` (the whole text when short); [] when nothing matches.

    ``spans``: what ``needles`` mark in ``text``, when the caller has found them already (merged, as
    ``find_spans`` returns them); the text is then not scanned again."""
    if not text or not needles:
        return []
    if spans is None:
        spans = find_spans(text, needles, surname=surname)
    if not spans:
        return []
    if len(text) <= max_chars:
        return [mark(text, spans)]
    half = max_chars // 2
    fragments: list[str] = []
    covered_to = -1
    for s, e in spans:
        if s < covered_to:
            continue
        lo = max(0, s - half // 2)
        hi = min(len(text), lo + max_chars)
        lo = max(0, min(lo, hi - max_chars))
        covered_to = hi
        frag = mark(text, spans, lo, hi)
        fragments.append((ELLIPSIS if lo > 0 else "") + frag + (ELLIPSIS if hi < len(text) else ""))
        if len(fragments) == max_fragments:
            break
    return fragments


__all__ = ["Needles", "find_spans", "highlight", "mark", "merge_spans", "within_one_edit"]
