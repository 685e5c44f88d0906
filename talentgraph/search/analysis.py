"""Language analysis, done once in Python for indexing and querying alike.

Engines only split on spaces: every function here returns a list of tokens that an adapter joins
with spaces (documents) or turns into term queries (searches). Keeping analysis out of the engines
means Tantivy and OpenSearch score the same tokens, and a query can never be analysed differently
from the documents it is meant to match.

Three analyses, chosen per property by ``schema.ontology.SearchKind``:

* names — CJK as single characters plus character pairs (word segmenters mis-split names), pinyin
  syllables / full spelling / initials with polyphonic-surname readings, Latin words casefolded and
  diacritic-stripped, other scripts as written and transliterated to Latin;
* free text — jieba segmentation with a private dictionary fed with vocabulary labels and entity
  names, plus a character-pair shadow (``analyze_bigrams``) for recall on unknown words;
* keywords — vocabulary ids, canonicalised through the vocabulary (expansion to labels happens at
  query time, see ``search/synonyms.py``).

No emitted token exceeds ``MAX_TOKEN_BYTES``: Tantivy silently drops longer tokens, which would
make a long word or name unsearchable without any error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from functools import lru_cache
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import rjieba
from anyascii import anyascii
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from talentgraph.errors import StoreError, ValidationError

MAX_TOKEN_BYTES = 40
# Bounds of the per-process analysis memos (names, words, jieba cuts, short texts' bigrams): entries
# and the length of a memoised text, so the memos stay within a few tens of MB.
NAME_CACHE = 65_536
CUT_CACHE = 65_536
MEMO_TEXT_CHARS = 64

_SPACES = re.compile(r"\s+")
# A "word" is a run of letters, digits and combining marks; joiners inside it (O'Brien, Jean-Luc,
# node.js) split it but also yield the joined form, so both spellings match.
_WORD = re.compile(r"[^\W_]+(?:['’\-.·][^\W_]+)*")
_JOINERS = re.compile(r"['’\-.·]")
_ALNUM = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

# Compound surnames first: the longest reading that matches the start of a name wins.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"),
    "令狐": ("ling", "hu"),
    "单于": ("chan", "yu"),
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "覃": ("qin",),
    "翟": ("zhai",),
    "盖": ("ge",),
    "缪": ("miao",),
    "乐": ("yue",),
    "召": ("shao",),
    "秘": ("bi",),
    "种": ("chong",),
    "折": ("she",),
    "员": ("yun",),
    "繁": ("po",),
    "句": ("gou",),
    "冼": ("xian",),
    "谌": ("chen",),
    "牟": ("mu",),
    "任": ("ren",),
    "华": ("hua",),
    "纪": ("ji",),
    "沈": ("shen",),
    "柏": ("bai",),
    "曲": ("qu",),
    "宁": ("ning",),
    "薄": ("bo",),
    "贾": ("jia",),
    "朝": ("chao",),
    "藏": ("zang",),
    "卜": ("bu",),
    "佘": ("she",),
    "隽": ("juan",),
}
_MAX_SURNAME = max(len(s) for s in SURNAME_READINGS)

# Function and filler words dropped from CJK queries only (never from documents): "会说俄语的律师"
# should not require every document to contain 的 or 会说.
QUERY_STOPWORDS = frozenset(
    "的 了 和 与 及 或 在 是 有 也 都 就 把 被 对 从 向 给 为 之 其 并 且 等 "
    "我 我们 请 会 会说 说 能 能够 懂 精通 擅长 可以 找 寻找 需要 一位 一名 一个".split()
)


# --- normalisation and scripts ------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC (full-width → ASCII, compatibility forms), casefold, collapse whitespace."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def is_cjk(ch: str) -> bool:
    """Han ideographs (kana and Hangul are phonetic scripts and are transliterated instead)."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
        or cp == 0x3007  # 〇
    )


# The same ranges as ``is_cjk``, for splitting text into runs without a Python call per character.
_CJK_RUN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0003134f\u3007]+")


def has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


def is_latin_word(word: str) -> bool:
    """ASCII or Latin-script letters (with diacritics) and digits only."""
    if word.isascii():
        return True
    for ch in word:
        if ch.isascii():
            continue
        if unicodedata.category(ch).startswith("M"):
            continue
        if "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def strip_diacritics(word: str) -> str:
    """José → jose, Søren → soren, straße → strasse (anyascii covers letters NFD cannot split)."""
    if word.isascii():  # nothing to decompose or replace
        return word
    decomposed = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return anyascii(decomposed).casefold() if not decomposed.isascii() else decomposed


def runs(text: str) -> Iterator[tuple[bool, str]]:
    """Split already-normalised text into (is_cjk, run) pieces; non-CJK runs keep their spaces."""
    pos = 0
    for m in _CJK_RUN.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, m.group(0)
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def fit(token: str, limit: int = MAX_TOKEN_BYTES) -> list[str]:
    """Split a token into pieces of at most ``limit`` UTF-8 bytes, on character boundaries."""
    if len(token) * 4 <= limit or len(token.encode("utf-8")) <= limit:  # no character takes more than 4 bytes
        return [token]
    out: list[str] = []
    buf = ""
    size = 0
    for ch in token:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(buf)
            buf, size = "", 0
        buf += ch
        size += n
    if buf:
        out.append(buf)
    return out


def _fitted(tokens: Iterable[str]) -> list[str]:
    return [piece for t in tokens if t for piece in fit(t)]


def _dedupe(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def words(text: str) -> list[str]:
    """Non-CJK words of a normalised text, joiners kept inside (o'brien, jean-luc)."""
    return _WORD.findall(text)


def cjk_pairs(run: str) -> list[str]:
    """Overlapping character pairs of a CJK run; a single character stands for itself."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


# --- pinyin -------------------------------------------------------------------------------------


def pinyin_syllables(run: str, *, surname: bool = False) -> list[str]:
    """Tone-less pinyin per character (ü written v); ``surname`` applies the surname readings first."""
    head: list[str] = []
    rest = run
    if surname:
        for size in range(min(_MAX_SURNAME, len(run)), 0, -1):
            reading = SURNAME_READINGS.get(run[:size])
            if reading:
                head = list(reading)
                rest = run[size:]
                break
    return head + list(_readings(rest)) if rest else head


def _readings(run: str) -> tuple[str, ...]:
    """Tone-less readings of a CJK run, one per character (unreadable characters: "").

    Names repeat a lot across a register and pypinyin's per-call set-up dominates the projection's
    name analysis (~0.3 ms a call), so readings are memoised per character: a run none of whose
    substrings is one of pypinyin's phrases reads exactly as its characters do one by one. A run
    holding a phrase (朝阳, 长江) keeps the phrase reading, memoised per run.
    """
    if len(run) > MEMO_TEXT_CHARS:
        return _run_readings.__wrapped__(run)
    if len(run) > 1 and (len(run) > _PHRASE_SCAN or _has_phrase(run)):
        return _run_readings(run)
    return tuple(r for ch in run for r in _run_readings(ch))


_PHRASE_SCAN = 8  # longer runs are read whole (free text titles), not scanned for phrases


def _has_phrase(run: str) -> bool:
    n = len(run)
    return any(run[i:j] in PHRASES_DICT for i in range(n - 1) for j in range(i + 2, n + 1))


@lru_cache(maxsize=65_536)
def _run_readings(run: str) -> tuple[str, ...]:
    return tuple(s if s.isascii() else "" for s in lazy_pinyin(run, style=Style.NORMAL, errors=_unreadable))


def _unreadable(chars: str) -> Any:
    # Characters pypinyin cannot read come back empty, one per character: dropping them would
    # shift positions for callers that align syllables with characters (highlighting).
    return ["" for _ in chars]


def _pinyin_tokens(run: str, *, surname: bool) -> list[str]:
    sylls = pinyin_syllables(run, surname=surname)
    known = [s for s in sylls if s]
    if not known:
        return []
    out = list(known)
    if len(known) > 1:
        out.append("".join(known))
        out.append("".join(s[0] for s in known))
    return out


# --- names --------------------------------------------------------------------------------------


def word_parts(word: str) -> list[str]:
    """Letters-and-digits runs of a word (o'brien → o, brien)."""
    return _ALNUM.findall(word)


def transliterate(text: str) -> list[str]:
    """Latin words for text in another script (Иван → ivan, 김민준 → gim, min, jun)."""
    # anyascii capitalises each Hangul syllable (김민준 → GimMinJun): split there too, so
    # "min jun" and "gimminjun" both match.
    return _ALNUM.findall(_CAMEL.sub(" ", anyascii(text)).casefold())


def _word_forms(word: str) -> list[str]:
    """Forms of one non-CJK word: as written, its parts, joined, diacritic-free, transliterated."""
    return list(_word_forms_of(word))


@lru_cache(maxsize=NAME_CACHE)
def _word_forms_of(word: str) -> tuple[str, ...]:
    parts = _ALNUM.findall(word)
    forms = list(parts)
    if len(parts) > 1:
        forms.append("".join(parts))
    if is_latin_word("".join(parts)):
        forms.extend(strip_diacritics(f) for f in list(forms))
    else:
        # Other scripts: keep as written (searchable by "Иван") and add the Latin reading ("ivan").
        latin_parts = transliterate(" ".join(parts))
        forms.extend(latin_parts)
        if len(latin_parts) > 1:
            forms.append("".join(latin_parts))
    return tuple(dict.fromkeys(forms))


def analyze_name(text: str, *, surname: bool = True) -> list[str]:
    """Tokens for a name in any script (see module docstring); ``surname`` for person names."""
    short = len(text) <= MEMO_TEXT_CHARS  # long values (document titles) would only fill the memo
    return list(_analyze_name(text, surname) if short else _analyze_name.__wrapped__(text, surname))


@lru_cache(maxsize=NAME_CACHE)
def _analyze_name(text: str, surname: bool) -> tuple[str, ...]:
    # Memoised per distinct name (张伟 is thousands of people); the pinyin is memoised per character.
    norm = normalize(text)
    out: list[str] = []
    first_cjk = True
    latin_words: list[str] = []
    for cjk, run in runs(norm):
        if cjk:
            out.extend(run)
            if len(run) > 1:
                out.extend(cjk_pairs(run))
            out.extend(_pinyin_tokens(run, surname=surname and first_cjk))
            first_cjk = False
            continue
        for m in _WORD.finditer(run):
            word = m.group(0)
            out.extend(_word_forms(word))
            if is_latin_word(word):
                latin_words.append(strip_diacritics(_JOINERS.sub("", word)))
    # "Zhang Wei" also as "zhangwei", matching how people type pinyin names without spaces.
    if 1 < len(latin_words) <= 4:
        out.append("".join(latin_words))
    return tuple(_dedupe(_fitted(out)))


# --- free text (jieba) --------------------------------------------------------------------------


class _Segmenter:
    """A private jieba tokenizer (jieba-rs through ``rjieba``: the dictionary is compiled in, so it
    starts in a fraction of a second and cuts ~10x faster than the pure-Python jieba, with the same
    dictionary, HMM and cuts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tok: rjieba.Jieba | None = None
        self._added: set[str] = set()
        # Entity names learned (``add_words``/``use_lexicon``) with the frequency each entered with:
        # jieba's state is a function of this set, whatever the order words arrive in.
        self._learned: dict[str, int] = {}
        # Cuts memoised per run; any new dictionary word may cut a run differently, so it clears them.
        self._cuts: dict[str, tuple[str, ...]] = {}
        # Counts the dictionary's changes: what a text was cut into holds while it stays the same.
        self.generation = 0

    def _tokenizer(self) -> rjieba.Jieba:
        tok = self._tok
        if tok is not None:
            return tok
        with self._lock:
            if self._tok is None:
                self._tok = rjieba.Jieba()
                self._feed(_vocabulary_words())
            return self._tok

    def _feed(self, words: Iterable[str], *, learn: bool = False, freqs: Mapping[str, int] | None = None) -> int:
        tok = self._tok
        assert tok is not None
        n = 0
        for w in words:
            w = normalize(w)
            # jieba only keeps dictionary words made of CJK (its Han regex); others are useless here.
            if len(w) < 2 or w in self._added or " " in w or not all(is_cjk(c) for c in w):
                continue
            # jieba's own default (a frequency that keeps the word whole, computed now), made explicit
            # so that a process loading the lexicon reaches the same dictionary in any order.
            freq = freqs[w] if freqs is not None and w in freqs else int(tok.suggest_freq(w))
            tok.add_word(w, freq, None)
            self._added.add(w)
            if learn:
                self._learned[w] = freq
            n += 1
        if n:
            self._cuts = {}
            self.generation += 1
        return n

    def add_words(self, words: Iterable[str]) -> int:
        self._tokenizer()
        with self._lock:
            return self._feed(words, learn=True)

    def use_lexicon(self, words: Mapping[str, int]) -> int:
        self._tokenizer()
        with self._lock:
            return self._feed(sorted(words), learn=True, freqs=words)

    def lexicon(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._learned.items()))

    def cut(self, run: str) -> list[str]:
        cuts = self._cuts
        found = cuts.get(run)
        if found is None:
            found = tuple(w for w in self._tokenizer().cut(run, True) if w.strip())
            if len(run) <= MEMO_TEXT_CHARS:
                if len(cuts) >= CUT_CACHE:
                    cuts.clear()
                cuts[run] = found
        return list(found)


def _vocabulary_words() -> Iterator[str]:
    # Imported here: vocabularies load YAML files and analysis must stay importable without them.
    from talentgraph.schema.vocabularies import load_vocabularies

    for vocab in load_vocabularies().values():
        for label, _term in vocab.all_labels():
            yield label


_SEGMENTER = _Segmenter()


def add_words(words: Iterable[str]) -> int:
    """Teach the segmenter entity names (e.g. enterprise and venue names from the graph).

    Returns how many were new. Call it before indexing *and* before querying with the same words,
    otherwise a document and a query can be segmented differently.
    """
    return _SEGMENTER.add_words(words)


# --- the lexicon: the entity names an index was analysed with ------------------------------------

LEXICON_FORMAT = 1
LEXICON_FILE = "lexicon.json"


def lexicon() -> dict[str, int]:
    """The entity names this process has learned (``add_words``), with their jieba frequencies."""
    return _SEGMENTER.lexicon()


def use_lexicon(words: Mapping[str, int]) -> int:
    """Learn a lexicon (from ``lexicon()`` or ``load_lexicon``); returns how many words were new."""
    return _SEGMENTER.use_lexicon(words)


def lexicon_version(words: Mapping[str, int]) -> str:
    """A short digest of a lexicon: equal versions segment every text the same way."""
    body = json.dumps(sorted(words.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{LEXICON_FORMAT}:{body}".encode()).hexdigest()[:16]


def save_lexicon(path: Path, words: Mapping[str, int] | None = None) -> str:
    """Write the lexicon (this process's, by default) to ``path`` atomically; returns its version.

    The file lives beside the index the documents were analysed into: every process that opens the
    index loads it (``load_lexicon``), so queries are segmented as the documents were.
    """
    words = lexicon() if words is None else dict(sorted(words.items()))
    version = lexicon_version(words)
    body = {"format": LEXICON_FORMAT, "version": version, "words": words}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(tmp, path)
    return version


def read_lexicon(path: Path) -> dict[str, int]:
    """The words of a lexicon file ({} when there is none); a file of another format is refused."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise StoreError(f"{path} is not a lexicon file ({e}).",
                         hint="Delete it and rebuild the search index (`talentgraph reindex`).") from None
    if not isinstance(raw, dict) or raw.get("format") != LEXICON_FORMAT or not isinstance(raw.get("words"), dict):
        raise StoreError(f"{path} is a lexicon of another format than {LEXICON_FORMAT}.",
                         hint="Rebuild the search index (`talentgraph reindex`) to write it again.")
    return {str(w): int(f) for w, f in raw["words"].items()}


def load_lexicon(path: Path) -> int:
    """Learn the lexicon saved at ``path`` (see ``save_lexicon``); returns how many words were new."""
    return use_lexicon(read_lexicon(path))


def segment(run: str) -> list[str]:
    """jieba words of one CJK run (already normalised)."""
    return _SEGMENTER.cut(run)


def analyze_text(text: str) -> list[str]:
    """Free-text tokens: jieba words for CJK runs, casefolded words (and plain forms) otherwise.

    Repeats are kept: term frequency is part of relevance in free text.
    """
    norm = normalize(text)
    out: list[str] = []
    for cjk, run in runs(norm):
        if cjk:
            out.extend(segment(run))
        else:
            for m in _WORD.finditer(run):
                out.extend(_word_forms(m.group(0)))
    return _fitted(out)


def analyze_bigrams(text: str) -> list[str]:
    """Character-pair shadow of the CJK parts of a text: finds words jieba did not know."""
    # Short texts (names, addresses: they repeat) are memoised; long ones would only fill the memo.
    return list(_bigrams_of(text) if len(text) <= MEMO_TEXT_CHARS else _bigrams(text))


@lru_cache(maxsize=NAME_CACHE)
def _bigrams_of(text: str) -> tuple[str, ...]:
    return _bigrams(text)


def _bigrams(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for cjk, run in runs(normalize(text)):
        if cjk:
            out.extend(cjk_pairs(run))
    return tuple(out)


# --- keywords -----------------------------------------------------------------------------------


def analyze_keyword(field: str, values: Iterable[object], vocabulary: str | None = None) -> list[str]:
    """Normalised codes of a keyword property; values given as labels are mapped to their ids.

    Only ids are indexed: labels, synonyms and the skill hierarchy are applied at query time
    (``search/synonyms.py``) so a vocabulary edit takes effect without re-indexing.
    """
    _forget_keywords_if_vocabularies_changed()
    out: list[str] = []
    for value in values:
        if value is None or value == "":
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValidationError(field, value, "a string or integer code",
                                  hint="Keyword properties hold vocabulary ids or codes, not nested values.")
        out.extend(_keyword_pieces(str(value), vocabulary))
    return _dedupe(out)


@lru_cache(maxsize=NAME_CACHE)
def _keyword_pieces(text: str, vocabulary: str | None) -> tuple[str, ...]:
    # Codes repeat across a register (a few hundred languages, skills and countries for every person):
    # each is normalised and looked up once, until the vocabularies change (an overlay term may give a
    # label an id: ``_forget_keywords_if_vocabularies_changed``).
    term = None
    if vocabulary is not None:
        from talentgraph.schema.vocabularies import vocabulary as load

        term = load(vocabulary).lookup(text)
    return tuple(_fitted([normalize(term.id if term is not None else text).replace(" ", "_")]))


_KEYWORDS_READ_WITH: list[int | None] = [None]  # the vocabularies' generation ``_keyword_pieces`` remembers


def _forget_keywords_if_vocabularies_changed() -> None:
    now = _vocabularies_generation()
    if _KEYWORDS_READ_WITH[0] != now:
        _keyword_pieces.cache_clear()
        _KEYWORDS_READ_WITH[0] = now


def _vocabularies_generation() -> int:
    found = _VOCABULARIES_GENERATION
    if not found:
        from talentgraph.schema.vocabularies import generation  # see _vocabulary_words

        found.append(generation)
    return found[0]()


_VOCABULARIES_GENERATION: list[Callable[[], int]] = []  # vocabularies.generation, once imported


def generation() -> tuple[int, int]:
    """Changes whenever a value may analyse differently: the segmenter learned a word (free text may be cut
    otherwise) or the vocabularies changed (a label may map to another id). Memos of analysed values
    (``mapping.build_doc``) hold while it stays the same."""
    return _SEGMENTER.generation, _vocabularies_generation()


@lru_cache(maxsize=NAME_CACHE)
def keyword_token(value: str) -> str:
    """The token ``analyze_keyword`` emits for one id (used to build term queries, and by every hit's explanation
    for its segment and its codes: memoised, as it is a function of the value alone)."""
    return fit(normalize(value).replace(" ", "_"))[0]


__all__ = [
    "LEXICON_FILE",
    "MAX_TOKEN_BYTES",
    "QUERY_STOPWORDS",
    "SURNAME_READINGS",
    "add_words",
    "analyze_bigrams",
    "analyze_keyword",
    "analyze_name",
    "analyze_text",
    "cjk_pairs",
    "fit",
    "generation",
    "has_cjk",
    "is_cjk",
    "is_latin_word",
    "keyword_token",
    "lexicon",
    "lexicon_version",
    "load_lexicon",
    "read_lexicon",
    "save_lexicon",
    "use_lexicon",
    "normalize",
    "pinyin_syllables",
    "runs",
    "segment",
    "strip_diacritics",
    "transliterate",
    "word_parts",
    "words",
]
