"""Search-box suggestions from the vocabularies (languages, skills, nationalities), in both languages.

A term matches when any of its spellings (Chinese, English, native name, synonyms) starts with or
contains what was typed; prefix matches come first. The page shows the label in its own language
with the other language beside it, and fills the box with the label in the page's language — the
search reads either.
"""

from __future__ import annotations

from dataclasses import dataclass

from talentgraph.schema.vocabularies import generation, load_vocabularies, normalise

VOCABULARIES = ("skills", "languages", "nationalities")
MAX_SUGGESTIONS = 10
MAX_TYPED = 50


@dataclass(frozen=True)
class Suggestion:
    value: str  # what goes into the search box
    label: str  # what the list shows


_CACHE: dict[int, list[tuple[str, tuple[str, ...], str, str]]] = {}


def _entries() -> list[tuple[str, tuple[str, ...], str, str]]:
    """(vocabulary, normalised spellings, zh, en) per term, rebuilt when the vocabularies change."""
    gen = generation()
    found = _CACHE.get(gen)
    if found is None:
        vocabs = load_vocabularies()
        found = [(name, tuple(normalise(label) for label in term.labels if label != term.id), term.zh, term.en)
                 for name in VOCABULARIES if name in vocabs for term in vocabs[name]]
        _CACHE.clear()
        _CACHE[gen] = found
    return found


def suggest(typed: str, lang: str) -> list[Suggestion]:
    text = normalise(typed[:MAX_TYPED])
    if not text:
        return []
    # The whole text first ("russian tr" → Russian translation), then its last word alone, with the
    # words before it kept in front ("俄语 翻" → 俄语 翻译).
    head, _, last = text.rpartition(" ")
    tries = [("", text)] + ([(head, last)] if head and last else [])
    out: list[Suggestion] = []
    seen: set[str] = set()
    for before, word in tries:
        for zh, en in _matches(word):
            label = zh if lang == "zh" else en
            value = f"{before} {label}".strip()
            if value in seen:
                continue
            seen.add(value)
            out.append(Suggestion(value, f"{zh} · {en}" if lang == "zh" else f"{en} · {zh}"))
            if len(out) >= MAX_SUGGESTIONS:
                return out
    return out


def _matches(word: str) -> list[tuple[str, str]]:
    """(zh, en) of terms with a spelling starting with ``word``, then (two characters or more)
    containing it."""
    prefix, inside = [], []
    for _vocab, spellings, zh, en in _entries():
        if any(s.startswith(word) for s in spellings):
            prefix.append((zh, en))
        elif len(word) >= 2 and any(word in s for s in spellings):
            inside.append((zh, en))
    return prefix + inside


__all__ = ["MAX_SUGGESTIONS", "Suggestion", "suggest"]
