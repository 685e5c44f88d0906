"""Query understanding: what a staff member's words mean, read across the whole query.

``interpret`` turns a query into *units*, each a ``synonyms.Segment`` with a role:

* **concepts**, recognised in any window of the query (longest first) as a vocabulary label in any of
  its languages (Chinese, English, native, Russian — ``vocab/*.yaml``), a yes/no facet ("志愿者",
  "волонтёр"), the name of a place (a residential area or building → its residents), the toneless
  pinyin of a Chinese label ("fanyi", "eyu lvshi"; derived from the labels with pypinyin, never
  written by hand), the plural of an English label ("translators"), or — for words no label spells —
  a label within a few edits, relative to the word's length ("Spanich", "councelling");
* **words**: everything else (names, free text).

Roles: every concept is *required*, and so are the words of a query that has no concept (a name
look-up). Beside a concept an unknown word is *optional* — it ranks what it matches first but does not
empty the result ("谁会说俄语", "people from Kazakhstan"); filler ("someone who", "会说…的", "говорящий")
is dropped. Verb forms of a label ("teaches", "translate") are weak, optional concepts.

Context decides ambiguous labels: English "Russian" is a language and a nationality — beside
"nationals", "citizens", "people from", "граждане" or 籍 it is the nationality, beside a skill or "speaks"
the language. A compound ("俄语翻译", "Russian translator") is the skill *with* the language: its own term
(translation.ru) or its pieces, each in its own field (Russian among the languages and any translation
skill). A language is also held by whoever has a skill in it (translation.ru speaks Russian).

Nothing here knows an engine: the service builds the query tree from the units (``service.plan``).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from pypinyin import Style, lazy_pinyin

from talentgraph.errors import TalentgraphError
from talentgraph.schema.ontology import ONTOLOGY, Ontology, Within
from talentgraph.schema.vocabularies import Term as VocabTerm
from talentgraph.schema.vocabularies import load_vocabularies
from talentgraph.search import analysis, synonyms
from talentgraph.search.mapping import TYPE_FIELD, source_of
from talentgraph.search.port import SearchIndex
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Query, Term, Terms
from talentgraph.search.synonyms import Expansion, Segment, _join, _Tok, _tokens, _word_segments

log = logging.getLogger(__name__)

LANGUAGES = "languages"  # vocabulary names whose labels context disambiguates
NATIONALITIES = "nationalities"
SKILLS = "skills"

FUZZY_MIN_CHARS = 5  # shorter words are names or codes more often than misspellings
PLACES_TTL_S = 60.0  # a new residential area is recognised within this long
MAX_PLACES = 10_000

# Words that carry no concept of their own; dropped from the query, but read as context.
FILLER = frozenset(
    # English
    "a an the who whom whose that which someone somebody anyone anybody person persons people one ones "
    "with and or of for in to at by on is are am be can could may might will would should must "
    "do does did has have had having also too as please find me us our i we any some all "
    "speak speaks speaking spoken talk talks talking know knows knowing fluent fluently "
    "native nationals national citizens citizen nationality from "
    # Russian
    "и или с со в во на по для из от кто который которая которые которого человек люди "
    "говорящий говорящая говорящие говорящих говорит говорят говорить знает знающий знающая владеет "
    "владеющий владеющая свободно граждане гражданин гражданка гражданство подданные ищу нужен нужна нужны "
    # Chinese (beside analysis.QUERY_STOPWORDS, which jieba cuts apart)
    "谁 人 的人 用 提供 会用 讲 会讲 说 会说 懂得 能说 哪些 哪位 有没有 籍 国籍 人员 会 擅长 熟悉".split()
)
NATIONALITY_CUES = frozenset(
    "nationals national citizens citizen nationality from 籍 国籍 граждане гражданин гражданка гражданство "
    "подданные из".split()
)
LANGUAGE_CUES = frozenset(
    "speak speaks speaking spoken talk talks fluent 说 会说 讲 会讲 懂 懂得 能说 говорящий говорящая говорящие "
    "говорящих говорит говорят говорить знает знающий знающая владеет владеющий владеющая".split()
)
_PEOPLE_OF = ("籍", "人")  # 俄罗斯籍, 俄罗斯人: people of a country
_SUFFIXES = ("ings", "ing", "ions", "ion", "ers", "er", "ors", "or", "es", "ed", "s", "e")


@dataclass(frozen=True)
class Unit:
    """One thing the query asks for: a segment, whether a hit must match it, and how it was read."""

    segment: Segment
    required: bool
    how: str  # label | flag | place | plural | pinyin | fuzzy | stem | word
    typed: str = ""  # the query's own words, when the segment names the label it was read as


@dataclass(frozen=True)
class Interpretation:
    units: tuple[Unit, ...]
    fillers: tuple[str, ...] = ()

    @property
    def segments(self) -> list[Segment]:
        return [u.segment for u in self.units]


# --- places (a gazetteer read from the index) ----------------------------------------------------


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    level: str


class Places:
    """Names of the areas a query may name, from ``load`` (id, name, level), read again every
    ``PLACES_TTL_S``. Matched on their normalised name, whole."""

    def __init__(self, load: Callable[[], Iterable[Place]], ttl_s: float = PLACES_TTL_S) -> None:
        self._load = load
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._by_name: dict[str, list[Place]] = {}
        self._at = float("-inf")

    def prime(self) -> None:
        """Read the names now (when the service starts), not inside the first search."""
        self._names()

    def lookup(self, text: str) -> list[Place]:
        return self._names().get(analysis.normalize(text), [])

    def _names(self) -> dict[str, list[Place]]:
        now = time.monotonic()
        if now - self._at < self._ttl:
            return self._by_name
        with self._lock:
            if now - self._at >= self._ttl:
                out: dict[str, list[Place]] = {}
                try:
                    places = list(self._load())
                except TalentgraphError as exc:  # an index not (yet) reachable names no place until next time
                    log.warning("Place names for query understanding could not be read: %s", exc)
                    places = []
                for p in places:
                    key = analysis.normalize(p.name)
                    if len(key) >= 2 and not (key.isascii() and len(key) < 4):
                        out.setdefault(key, []).append(p)
                if out != self._by_name:  # a new object only when the names changed: plans cached on it stay
                    self._by_name = out
                self._at = now
        return self._by_name

    def current(self) -> object:
        """The names as of now; the same object until they change (what a plan was read with)."""
        return self._names()


def index_places(index: SearchIndex, ontology: Ontology = ONTOLOGY, types: Sequence[str] = ("Person",)) -> Places:
    """The places named in ``index``: documents of the node type the searched rows live in, with the
    level property ``place_fields`` reads (Area, level)."""
    paths = [d.path for d in ontology.derived if d.node_type in types and isinstance(d.path, Within)]

    def load() -> Iterator[Place]:
        for path in {(p.hop.to, p.level_prop) for p in paths}:
            raw = index.search(MatchAll(), filters=Terms(TYPE_FIELD, (path[0],)), facets=(), limit=MAX_PLACES,
                               offset=0)
            for h in raw.hits:
                src = source_of(h.stored)
                title = ontology.node(path[0]).title
                yield Place(h.id, str(src.get(title) or ""), str(src.get(path[1]) or ""))

    return Places(load)


def place_fields(ontology: Ontology = ONTOLOGY, types: Sequence[str] = ("Person",)) -> dict[str, str]:
    """Area level → the derived field holding a row's place at that level (residential_area …)."""
    out: dict[str, str] = {}
    for d in ontology.derived:
        if d.node_type in types and isinstance(d.path, Within):
            out.setdefault(d.path.level, d.name)
    return out


# --- vocabulary indexes: pinyin, fuzzy, compounds ------------------------------------------------


@dataclass
class _Lexicon:
    """Per vocabulary generation and searched types: the spellings ``interpret`` reads beside the
    exact labels ``synonyms.lookup`` knows."""

    pinyin: dict[str, list[tuple[str, VocabTerm, str]]] = field(default_factory=dict)
    latin: dict[str, list[tuple[str, VocabTerm]]] = field(default_factory=dict)  # label → (field, term)
    implied: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # language id → (field, skill id)
    stems: dict[str, list[str]] = field(default_factory=dict)  # stem of a one-word Latin label → labels
    by_length: dict[tuple[int, bool], list[str]] = field(default_factory=dict)  # (length, several words) → labels
    chars: dict[str, frozenset[str]] = field(default_factory=dict)  # a fuzzy target's letters


_LEXICONS: dict[tuple[int, tuple[str, ...] | None], tuple[object, _Lexicon]] = {}
_LEXICON_LOCK = threading.Lock()


def _lexicon(ontology: Ontology, types: Sequence[str] | None) -> _Lexicon:
    vocabs = load_vocabularies()
    key = (id(ontology), tuple(types) if types is not None else None)
    hit = _LEXICONS.get(key)
    if hit is not None and hit[0] is vocabs:
        return hit[1]
    with _LEXICON_LOCK:
        lex = _build_lexicon(ontology, types, vocabs)
        if len(_LEXICONS) > 64:
            _LEXICONS.clear()
        _LEXICONS[key] = (vocabs, lex)
    return lex


def pinyin_of(label: str) -> str:
    """Toneless pinyin of a Chinese label, syllables joined (钢琴 → gangqin, 律师 → lvshi); "" unless
    the label is all Han characters."""
    if not label or not all(analysis.is_cjk(c) for c in label):
        return ""
    sylls = lazy_pinyin(label, style=Style.NORMAL, errors=_unreadable)
    return "".join(sylls) if all(s.isascii() and s for s in sylls) else ""


def _unreadable(chars: str) -> Any:
    return ["" for _ in chars]


def _build_lexicon(ontology: Ontology, types: Sequence[str] | None, vocabs: Any) -> _Lexicon:
    lex = _Lexicon()
    fields = synonyms.keyword_vocabularies(ontology, types)
    for fname, names in fields.items():
        for vname in names:
            vocab = vocabs.get(vname)
            if vocab is None:
                continue
            for label, term in vocab.all_labels():
                norm = analysis.normalize(label)
                if len(norm) >= 2 and all(analysis.is_cjk(c) for c in norm):
                    spelled = pinyin_of(norm)
                    # Two syllables at least: one syllable is every other name's surname.
                    if spelled and len(norm) >= 2:
                        lex.pinyin.setdefault(spelled, [])
                        if all(t.id != term.id for _f, t, _l in lex.pinyin[spelled]):
                            lex.pinyin[spelled].append((fname, term, label))
                elif not analysis.has_cjk(norm) and not (label == term.id and "." in label):
                    pairs = lex.latin.setdefault(norm, [])
                    if (fname, term) not in pairs:
                        pairs.append((fname, term))
    for label in lex.latin:
        if " " not in label:
            lex.stems.setdefault(stem(label), []).append(label)
        if len(label) >= FUZZY_MIN_CHARS:
            lex.by_length.setdefault((len(label), " " in label), []).append(label)
            lex.chars[label] = frozenset(label)
    # A specialism named after a language (translation.ru, language_teaching.russian) is work in it:
    # whoever has it knows the language.
    skill_fields = [f for f, names in fields.items() if SKILLS in names]
    if skill_fields and SKILLS in vocabs and LANGUAGES in vocabs:
        by_name = {analysis.normalize(n): t.id for t in vocabs[LANGUAGES] for n in (t.id, t.en)}
        for term in vocabs[SKILLS]:
            leaf = term.id.rpartition(".")[2].replace("_", " ")
            if term.parent is not None and leaf in by_name:
                lex.implied.setdefault(by_name[leaf], []).append((skill_fields[0], term.id))
    return lex


def _splits(label: str) -> list[tuple[str, str]]:
    """Two-piece splits of a label: at its spaces, or between its CJK characters (pieces ≥ 2)."""
    if " " in label:
        words = label.split(" ")
        return [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    if all(analysis.is_cjk(c) for c in label):
        return [(label[:k], label[k:]) for k in range(2, len(label) - 1)]
    return []


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition is one edit), or ``limit + 1`` when above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            v = prev[j - 1] + (ai != b[j - 1])
            if prev[j] + 1 < v:
                v = prev[j] + 1
            if cur[j - 1] + 1 < v:
                v = cur[j - 1] + 1
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1] and prev2[j - 2] + 1 < v:
                v = prev2[j - 2] + 1
            cur[j] = v
            if v < best:
                best = v
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def allowed_edits(word: str) -> int:
    """Edits a misspelling of ``word``'s length may hold: none below 5 letters, 1 up to 7, then 2."""
    n = len(word.replace(" ", ""))
    return 0 if n < FUZZY_MIN_CHARS else 1 if n < 8 else 2


def stem(word: str) -> str:
    """A crude English stem (teaches, teacher → teach; translate, translator → translat)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# --- names -------------------------------------------------------------------------------------------

# Long vowels romanised without macrons (Itou / Ito, Yuuto / Yuto, Yohko / Yoko): one spelling each.
_LONG_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))
_OH = re.compile(r"oh(?![aeiouy])")  # Yohko, Satoh (not Ohio)


def latin_form(word: str) -> str:
    """A word in plain Latin letters as names are indexed: diacritics stripped, other scripts
    transliterated (José → jose, いとう → itou, 오혜진 → ohyejin), parts joined."""
    norm = analysis.normalize(word)
    parts = analysis.word_parts(norm)
    if analysis.is_latin_word("".join(parts)):
        return "".join(analysis.strip_diacritics(p) for p in parts)
    return "".join(analysis.transliterate(norm))


def long_vowel_forms(word: str) -> list[str]:
    """The spellings of a romanised (or kana) word with its long vowels written short (itou → ito)."""
    base = latin_form(word)
    out = _OH.sub("o", base)
    for long, short in _LONG_VOWELS:
        out = out.replace(long, short)
    return [out] if out and out != base and out.isascii() else []


# Korean surnames romanised several ways: Revised Romanisation (the Hangul transliteration the index holds),
# McCune–Reischauer and the spellings passports have long used (장: Jang / Chang). One group per surname, as
# the National Institute of Korean Language and passport practice list them; a spelling in several groups
# (Yu: 유 and 류) stands for each.
_KOREAN_SURNAMES: tuple[tuple[str, ...], ...] = (
    ("kim", "gim"), ("lee", "yi", "rhee", "i", "ri"), ("park", "pak", "bak"), ("choi", "choe", "chwe"),
    ("jeong", "jung", "chung", "cheong"), ("kang", "gang"), ("cho", "jo"), ("yoon", "yun"), ("jang", "chang"),
    ("lim", "im", "rim"), ("han",), ("oh", "o"), ("seo", "suh", "so"), ("shin", "sin"), ("kwon", "gwon"),
    ("hwang",), ("ahn", "an"), ("song",), ("jeon", "chun", "jun", "chon"), ("hong",), ("yoo", "yu"),
    ("ryu", "yu", "yoo", "lyu"), ("ko", "go", "koh"), ("moon", "mun"), ("yang",), ("son", "sohn"),
    ("bae", "pae"), ("baek", "paek", "baik", "paik"), ("heo", "hur", "huh", "ho"), ("nam",),
    ("noh", "roh", "no"), ("ha",), ("kwak", "gwak"), ("seong", "sung"), ("cha",), ("joo", "ju", "chu"),
    ("woo", "u"), ("min",), ("jin", "chin"), ("eom", "um", "uhm"), ("gu", "koo", "ku"), ("na", "ra"),
    ("shim", "sim"), ("kook", "guk"), ("do", "toh", "to"), ("byun", "byeon", "pyon"),
)


@cache
def _romanisations() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for group in _KOREAN_SURNAMES:
        for spelling in group:
            out.setdefault(spelling, []).extend(g for g in group if g != spelling and g not in out[spelling])
    return {k: tuple(v) for k, v in out.items()}


def romanisation_forms(word: str) -> list[str]:
    """The other romanisations of a Korean surname (Chang → jang; Choe → choi, chwe); [] for other words.
    Single letters ("i", "o", "u") only count inside a whole name (``joined_names``), never alone."""
    form = latin_form(word)
    return list(_romanisations().get(form, ())) if len(form) > 1 else []


MAX_JOINED_SPELLINGS = 12


def joined_names(words: Sequence[str]) -> list[str]:
    """A name typed as two to four words, joined as a name field indexes a whole Latin name
    (Chang Eun-ji → changeunji, also eunjichang, and jangeunji: a surname's other romanisations), with short
    long vowels too."""
    forms = [latin_form(w) for w in words]
    if not 2 <= len(forms) <= 4 or not all(f.isascii() and f for f in forms):
        return []
    spellings = [[f, *_romanisations().get(f, ())] for f in forms]
    out: list[str] = []
    for combo in itertools.product(*spellings):
        orders = [list(combo)] + ([list(combo)[::-1]] if len(combo) == 2 else [])
        for order in orders:
            joined = "".join(order)
            for j in [joined, *long_vowel_forms(joined)]:
                if j not in out and len(j.encode()) <= analysis.MAX_TOKEN_BYTES:
                    out.append(j)
        if len(out) >= MAX_JOINED_SPELLINGS:
            break
    return out[:MAX_JOINED_SPELLINGS]


MAX_HANGUL_READINGS = 8


@cache
def _hangul() -> dict[str, tuple[str, ...]]:
    """Hangul readings of Han characters (``readings/hangul.tsv``, from Unicode's Unihan kHangul)."""
    text = resources.files("talentgraph.search").joinpath("readings", "hangul.tsv").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            ch, _tab, readings = line.partition("\t")
            out[ch] = tuple(readings.split())
    return out


def hangul_readings(text: str) -> list[str]:
    """A Korean name written in Hanja as Hangul (韓惠珍 → 한혜진): every reading, up to
    ``MAX_HANGUL_READINGS``; [] unless it is 2 to 4 Han characters that all have one."""
    if not 2 <= len(text) <= 4 or not all(analysis.is_cjk(c) for c in text):
        return []
    table = _hangul()
    options = [table.get(c) for c in text]
    if any(not o for o in options):
        return []
    out: list[str] = []
    for combo in itertools.product(*(o for o in options if o)):
        out.append("".join(combo))
        if len(out) >= MAX_HANGUL_READINGS:
            break
    return out


def whole_name(names: Sequence[str], reading: Interpretation, boost: float, fuzzy_boost: float) -> Query | None:
    """For a name look-up typed as several Latin words: the name fields holding the whole name as one
    joined spelling, exactly (``boost``) or within ``allowed_edits`` (``fuzzy_boost``); None otherwise."""
    if not reading.units or not all(u.how == "word" and not u.segment.cjk for u in reading.units):
        return None
    joined = joined_names([u.segment.text for u in reading.units])
    if not names or not joined:
        return None
    alt: list[Query] = []
    for j in joined:
        alt += [Term(n, j, boost) for n in names]
        edits = allowed_edits(j)
        if edits:
            alt += [Fuzzy(n, j, edits, 0, fuzzy_boost) for n in names]
    return Bool(should=tuple(alt))


# --- interpretation ------------------------------------------------------------------------------


def _split_joined(toks: list[_Tok], known: Callable[[str], bool]) -> list[_Tok]:
    """Latin words joined by hyphens that are no label themselves ("English-speaking") as their parts."""
    out: list[_Tok] = []
    for t in toks:
        if not t.cjk and "-" in t.text and not known(t.text):
            parts = [p for p in t.text.split("-") if p]
            out += [_Tok(p, False, t.glued if i == 0 else True) for i, p in enumerate(parts)]
        else:
            out.append(t)
    return out


def interpret(
    text: str, *, ontology: Ontology = ONTOLOGY, types: Sequence[str] | None = None, places: Places | None = None,
    place_field: dict[str, str] | None = None,
) -> Interpretation:
    """The units of ``text`` (see the module docstring); ``places`` names areas, ``place_field`` maps an
    area level to the field of the searched rows that holds it (``place_fields``)."""
    types = list(types) if types is not None else None
    lex = _lexicon(ontology, types)
    vocab_of = synonyms.keyword_vocabularies(ontology, types)

    def exact(label: str) -> list[Expansion]:
        return synonyms.expand(label, ontology=ontology, types=types) or synonyms.flags(label, ontology=ontology,
                                                                                           types=types)

    def known(label: str) -> bool:
        return bool(exact(label))

    def concept(label: str) -> list[Expansion]:
        """A label, or the pinyin of one (a compound's pieces: "eyu fanyi")."""
        spelled = label.replace(" ", "")
        if not analysis.has_cjk(label) and spelled in lex.pinyin:
            return list(_expansions(lex.pinyin[spelled], exact))
        return exact(label)

    toks = _split_joined(_tokens(analysis.normalize(text)), known)
    words = {t.text for t in toks}
    nationality_cue = bool(words & NATIONALITY_CUES) or any(t.cjk and t.text.endswith(_PEOPLE_OF) for t in toks)
    language_cue = bool(words & LANGUAGE_CUES)

    found: list[tuple[int, int, Segment, str, str]] = []  # start, end, segment, how, typed
    fillers: list[str] = []
    i = 0
    while i < len(toks):
        hit = _recognise(toks, i, exact, lex, places, place_field, ontology, types)
        if hit is not None:
            n, seg, how, typed = hit
            found.append((i, i + n, seg, how, typed))
            i += n
            continue
        t = toks[i]
        if t.text in FILLER or (t.cjk and t.text in analysis.QUERY_STOPWORDS):
            fillers.append(t.text)
        elif t.cjk and t.text.endswith(_PEOPLE_OF) and len(t.text) > 2 and exact(t.text[:-1]):
            # 俄罗斯籍, 俄罗斯人 cut as one word: the country before 籍 / 人.
            label = t.text[:-1]
            found.append((i, i + 1, Segment(label, "concept", True, tuple(exact(label))), "label", t.text))
        i += 1

    # A code-like label of up to three letters (pak, hye, dan) among words no label spells is more likely
    # part of a name (Pak Su-bin, O Hye-jin): read it as a word; the concept stays its other reading.
    taken = {j for start, end, *_x in found for j in range(start, end)}
    names_left = any(j not in taken and not toks[j].cjk and toks[j].text not in FILLER for j in range(len(toks)))
    if names_left:
        found = [x for x in found if x[3] == "flag" or analysis.has_cjk(x[4]) or len(x[4].replace(" ", "")) > 3]
    skill_fields = {f for f, names in vocab_of.items() if SKILLS in names}
    has_skill = any(f in skill_fields for _s, _e, seg, _h, _t in found for f, _id in seg.terms)
    units: list[Unit] = []
    covered: set[int] = set()
    for start, end, seg, how, typed in found:
        covered.update(range(start, end))
        seg = _resolve(seg, vocab_of, nationality=nationality_cue, language=language_cue or has_skill)
        seg = _with_parts(seg, toks[start:end], concept, vocab_of, lex)
        seg = _with_implied(seg, vocab_of, lex)
        units.append(Unit(seg, required=how != "stem", how=how, typed=typed))
    rest = [t for j, t in enumerate(toks) if j not in covered and t.text not in FILLER and not (
        t.cjk and t.text.endswith(_PEOPLE_OF) and len(t.text) > 2 and exact(t.text[:-1]))]
    # Words between concepts stay words; pieces jieba cut from one run are glued back (names).
    word_units = [Unit(s, required=True, how="word") for s in _word_segments(rest)]
    if units:
        word_units = [replace(u, required=False) for u in word_units]
    ordered = units + word_units
    if units and not any(u.required for u in ordered):  # only weak concepts: the best of them is wanted
        ordered = [replace(u, required=True) if u.how == "stem" else u for u in ordered]
    return Interpretation(tuple(ordered), tuple(fillers))


def _recognise(
    toks: Sequence[_Tok], i: int, exact: Callable[[str], list[Expansion]], lex: _Lexicon, places: Places | None,
    place_field: dict[str, str] | None, ontology: Ontology, types: list[str] | None,
) -> tuple[int, Segment, str, str] | None:
    """The longest concept starting at token ``i``: (tokens used, segment, how, typed)."""
    for n in range(min(synonyms.MAX_LABEL_WORDS, len(toks) - i), 0, -1):
        window = toks[i : i + n]
        label = _join(window)
        if n == 1 and label in FILLER:
            continue
        found = exact(label)
        if found:
            how = "flag" if all(e.term_id == synonyms.FLAG_TRUE for e in found) else "label"
            return n, Segment(label, "concept", analysis.has_cjk(label), tuple(found)), how, label
        if places is not None and place_field:
            hits = [p for p in places.lookup(label) if p.level in place_field]
            if hits:
                exps = tuple(Expansion(place_field[p.level], p.id, label) for p in hits)
                return n, Segment(label, "concept", analysis.has_cjk(label), exps), "place", label
        if all(not t.cjk for t in window):
            spelled = "".join(t.text for t in window)
            if spelled.isascii() and spelled.isalpha() and spelled in lex.pinyin:
                exps = _expansions(lex.pinyin[spelled], exact)
                if exps:
                    return n, Segment(label, "concept", False, exps), "pinyin", label
    t = toks[i]
    if t.cjk or t.text in FILLER:
        return None
    # An English plural or verb form of a one-word label.
    if t.text.endswith("s") and len(t.text) > 3:
        for cut in (1, 2):
            found = exact(t.text[:-cut])
            if found:
                return 1, Segment(t.text, "concept", False, tuple(found)), "plural", t.text
    word_stem = stem(t.text)
    if len(word_stem) >= 4 and t.text.isalpha():
        for label_norm in lex.stems.get(word_stem, [])[:1]:
                # An agent noun ("translater") names the skill; a verb form ("teaches") only hints at it.
                how = "plural" if t.text.endswith(("er", "or", "ers", "ors", "ist", "ists")) else "stem"
                return 1, Segment(t.text, "concept", False, tuple(exact(label_norm))), how, t.text
    # Misspellings: a window of one or two words within a few edits of a label.
    for n in (1, 2):
        if i + n > len(toks) or any(x.cjk or x.text in FILLER for x in toks[i : i + n]):
            continue
        typed = " ".join(x.text for x in toks[i : i + n])
        limit = allowed_edits(typed)
        if not limit or not typed.replace(" ", "").isalpha():
            continue
        best: list[tuple[str, VocabTerm]] = []
        best_d = limit + 1
        near = [x for size in range(len(typed) - limit, len(typed) + limit + 1)
                for x in lex.by_length.get((size, n == 2), [])]
        letters = frozenset(typed)
        for label_norm in near:
            if label_norm[0] != typed[0] and limit < 2:
                continue
            # Each letter one side lacks costs an edit (a substitution mends one on each side).
            other = lex.chars[label_norm]
            if max(len(letters - other), len(other - letters)) > min(limit, best_d):
                continue
            pairs = lex.latin[label_norm]
            d = edit_distance(typed, label_norm, min(limit, best_d))
            if d < best_d:
                best, best_d = [(label_norm, p[1]) for p in pairs], d
            elif d == best_d and d <= limit:
                best += [(label_norm, p[1]) for p in pairs]
        if best and best_d <= limit:
            close: list[Expansion] = []
            for label_norm, _term in best:
                close += [e for e in exact(label_norm) if e not in close]
            if close:
                return n, Segment(typed, "concept", False, tuple(close)), "fuzzy", typed
    return None


def _expansions(pairs: Sequence[tuple[str, VocabTerm, str]],
                exact: Callable[[str], list[Expansion]]) -> tuple[Expansion, ...]:
    out: list[Expansion] = []
    for _f, _term, label in pairs:
        out += [e for e in exact(label) if e not in out]
    return tuple(out)


def _resolve(seg: Segment, vocab_of: dict[str, list[str]], *, nationality: bool, language: bool) -> Segment:
    """A label that is both a language and a nationality ("Russian") read as the context says."""
    fields = {e.field for e in seg.expansions}
    langs = {f for f in fields if LANGUAGES in vocab_of.get(f, [])}
    nats = {f for f in fields if NATIONALITIES in vocab_of.get(f, [])}
    if not (langs and nats):
        return seg
    drop = langs if nationality else nats if language else set()
    if not drop:
        return seg
    return replace(seg, expansions=tuple(e for e in seg.expansions if e.field not in drop))


def _with_parts(seg: Segment, window: Sequence[_Tok], exact: Callable[[str], list[Expansion]],
                vocab_of: dict[str, list[str]], lex: _Lexicon) -> Segment:
    """A compound label ("俄语翻译", "Russian translator", "英语 翻译") also read as its pieces: the skill
    *with* the language, when the term is work in that language (not "Chinese painting")."""
    if seg.parts or seg.kind != "concept":
        return seg
    in_language = {lang for lang, pairs in lex.implied.items() for pair in pairs if pair in seg.terms}
    if not in_language:
        return seg
    candidates: list[tuple[str, str]] = []
    if len(window) > 1:
        candidates = [(_join(window[:k]), _join(window[k:])) for k in range(1, len(window))]
    elif window and window[0].cjk:
        candidates = _splits(window[0].text)
    for left, right in candidates:
        a, b = exact(left), exact(right)
        if not a or not b:
            continue
        va = {v for e in a for v in vocab_of.get(e.field, [])}
        vb = {v for e in b for v in vocab_of.get(e.field, [])}
        if va & vb or not (va and vb) or not any(e.term_id in in_language for e in a + b):
            continue
        pieces = []
        for label, exps in ((left, a), (right, b)):
            piece = Segment(label, "concept", analysis.has_cjk(label), tuple(exps))
            piece = _resolve(piece, vocab_of, nationality=False, language=True)
            pieces.append(piece)
        return replace(seg, parts=tuple(pieces))
    return seg


def _with_implied(seg: Segment, vocab_of: dict[str, list[str]], lex: _Lexicon) -> Segment:
    """A language concept is also held through a skill in that language (translation.ru for ru)."""
    extra: list[Expansion] = []
    held = set(seg.terms)
    for e in seg.expansions:
        if LANGUAGES in vocab_of.get(e.field, []):
            for f, skill in lex.implied.get(e.term_id, []):
                x = Expansion(f, skill, e.label)
                if (f, skill) not in held and x not in extra:
                    extra.append(x)
    parts = tuple(_with_implied(p, vocab_of, lex) for p in seg.parts)
    if not extra and parts == seg.parts:
        return seg
    return replace(seg, implied=seg.implied + tuple(extra), parts=parts)


__all__ = ["FILLER", "Interpretation", "Place", "Places", "Unit", "allowed_edits", "edit_distance",
           "hangul_readings", "index_places", "interpret", "joined_names", "latin_form", "long_vowel_forms",
           "romanisation_forms",
           "pinyin_of", "place_fields", "stem", "whole_name"]
