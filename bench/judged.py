"""The judged query set of the relevance benchmark: staff queries with graded judgments from the demo's ground truth.

    people, records = world_truth(residents=50_000, seed=7)     # who everyone really is; Person id → person
    queries = build_queries(people, seed=7)                      # ≥ 100 queries, each with its grades

Judgments never look at the registers, the graph or the index: they come from ``talentgraph.demo.build``'s
``Resident`` objects (skills, languages, nationality, residential area, volunteer, political status, the name
in every script and spelling the generator gave it) and from the people who volunteer here but live elsewhere
(``overlap.outside_volunteers``). So a record that a register spells badly is still judged by who it is.

Grades, per query class:

* **Concept queries** (skill × language, compound terms, nationality, area, role, natural phrasing, Russian,
  pinyin, misspellings): the query is written from a list of concepts, each a predicate on the true person
  — a skill (the person has a skill id equal to or below one of the concept's vocabulary ids; "翻译" is
  ``translation`` or ``interpretation``), a language (spoken, or implied by a skill in it: ``translation.ko``,
  ``language_teaching.korean`` — the generator draws a translator's skills and languages independently), a
  nationality, a residential area, a volunteer, a party member (``party_member`` or ``probationary_member``).
  A compound term is its skill *with* its language (issue 10: 俄语翻译 = translates and speaks Russian; 日语钢琴老师
  = piano and Japanese, 钢琴老师 being the vocabulary's piano). Grade 2: holds every concept; grade 1: holds
  at least one but not all (only for queries of two or more concepts); grade 0: otherwise.
  The spelling of the query (Chinese, English, Russian, pinyin, misspelt) never changes its grades.
* **Name look-ups**: the query is one resident's name in one form (汉字, pinyin with or without tones,
  passport Latin, another Latin spelling, Cyrillic, Hangul, Hanja, kanji, kana, another script). Grade 2:
  every person whose name, in that form and in any of its recorded spellings, has the same family and given
  name (order, case, spaces, hyphens, apostrophes and — for Latin forms — diacritics ignored): a namesake is
  as right an answer as the resident picked. For toned pinyin, grade 2 needs the same tones; a homophone
  with other tones (same toneless pinyin) is grade 1.

A query is kept only if at least one person has grade 2. Each query falls into the dev or the test split by a
hash of its class and text, so adding queries never moves the others.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pypinyin import Style, pinyin

from talentgraph.demo import overlap
from talentgraph.demo.generator import build
from talentgraph.demo.names import GIVEN_FEMALE, GIVEN_MALE, SURNAMES, PersonName, latin_spelling
from talentgraph.demo.people import Resident
from talentgraph.demo.places import RESIDENTIAL_AREAS

PARTY = frozenset({"party_member", "probationary_member"})


@dataclass(frozen=True)
class Person:
    """One true person as the generator made them (a resident, or a volunteer from outside: area "")."""

    key: str
    name: PersonName
    foreign: bool
    nationality: str
    languages: frozenset[str]
    skills: frozenset[str]
    area: str
    volunteer: bool
    party: bool
    implied_languages: frozenset[str] = frozenset()  # from skills in a language (translation.ko: Korean)


@dataclass(frozen=True)
class Concept:
    kind: str  # skill | language | nationality | area | volunteer | party
    values: tuple[str, ...] = ()

    def held_by(self, p: Person) -> bool:
        if self.kind == "skill":
            return any(s == v or s.startswith(v + ".") for s in p.skills for v in self.values)
        if self.kind == "language":
            return any(v in p.languages or v in p.implied_languages for v in self.values)
        if self.kind == "nationality":
            return p.nationality in self.values
        if self.kind == "area":
            return p.area in self.values
        if self.kind == "volunteer":
            return p.volunteer
        if self.kind == "party":
            return p.party
        raise ValueError(f"Concept kind {self.kind!r} is not one of skill, language, nationality, area, volunteer, party.")


@dataclass(frozen=True)
class Query:
    qid: str
    qclass: str
    text: str
    grades: Mapping[str, int]  # person key → 1 or 2 (absent: 0)
    concepts: tuple[Concept, ...] = ()  # empty for name look-ups
    target: str = ""  # name look-ups: the resident whose name was typed
    split: str = field(default="")

    @property
    def is_name(self) -> bool:
        return self.qclass.startswith("name/")

    @property
    def relevant(self) -> frozenset[str]:
        """Persons with grade 2: the answers recall and MRR count."""
        return frozenset(k for k, g in self.grades.items() if g >= 2)


def split_of(qclass: str, text: str) -> str:
    """dev or test, by a hash of the class and the text: stable across runs, scales and added queries."""
    return "dev" if hashlib.sha256(f"{qclass}\0{text}".encode()).digest()[0] % 2 == 0 else "test"


# --- the truth --------------------------------------------------------------------------------------------


@contextmanager
def _captured_outsiders() -> Iterator[list[Resident]]:
    """``build`` makes the volunteers from outside Lianyang but keeps only their record ids in the truth;
    their skills and languages are needed to judge them, so the generator's own function is wrapped
    while ``build`` runs (the generator calls it through the module attribute) and restored after."""
    seen: list[Resident] = []
    original = overlap.outside_volunteers

    def wrapper(*args: Any, **kwargs: Any) -> list[Resident]:
        out = original(*args, **kwargs)
        seen.extend(out)
        return out

    overlap.outside_volunteers = wrapper
    try:
        yield seen
    finally:
        overlap.outside_volunteers = original


# Skills that are work in one language: whoever has them knows it, even where the generator drew the skill
# from the occupation and the spoken languages separately (a 韩语翻译 whose languages list no Korean).
LANGUAGE_TEACHING = {"english": "en", "japanese": "ja", "korean": "ko", "french": "fr", "german": "de",
                     "russian": "ru", "spanish": "es", "chinese": "zh"}


def implied_languages(skills: Iterable[str]) -> frozenset[str]:
    out = set()
    for s in skills:
        root, _, leaf = s.partition(".")
        if root == "translation" and leaf:
            out.add(leaf)  # translation.<ISO 639-1 code>
        elif root == "language_teaching" and leaf in LANGUAGE_TEACHING:
            out.add(LANGUAGE_TEACHING[leaf])
    return frozenset(out)


def _person(r: Resident) -> Person:
    return Person(key=r.key, name=r.name, foreign=r.foreign, nationality=r.nationality,
                  languages=frozenset(r.languages), skills=frozenset(r.skills), area=r.area,
                  volunteer=r.volunteer, party=r.political in PARTY, implied_languages=implied_languages(r.skills))


def world_truth(residents: int, seed: int) -> tuple[dict[str, Person], dict[str, str]]:
    """Every true person by key, and every Person node id the demo pipeline creates → its person's key.
    The same ``build`` as ``talentgraph generate`` with the same arguments, so the same people."""
    with _captured_outsiders() as outsiders:
        world = build(residents=residents, seed=seed)
    people = {r.key: _person(r) for r in [*world.residents, *outsiders]}
    missing = {k for k in world.truth.values() if k not in people}
    if missing:
        raise RuntimeError(f"The ground truth names {len(missing)} persons the generator did not expose "
                           f"(e.g. {sorted(missing)[:3]}); bench/judged.py needs updating for the generator.")
    return people, dict(world.truth)


# --- query vocabulary: how staff write each concept ---------------------------------------------------------


@dataclass(frozen=True)
class SkillWords:
    roots: tuple[str, ...]
    zh: str
    en: str
    ru: str
    pinyin: str
    misspelt: str


SKILLS: dict[str, SkillWords] = {
    "law": SkillWords(("law",), "律师", "lawyer", "юрист", "lvshi", "laywer"),
    "translation": SkillWords(("translation", "interpretation"), "翻译", "translator", "переводчик", "fanyi",
                              "translater"),
    "medicine": SkillWords(("medicine",), "医生", "doctor", "врач", "yisheng", "docter"),
    "nursing": SkillWords(("nursing",), "护士", "nurse", "медсестра", "hushi", "nurce"),
    "teaching": SkillWords(("teaching", "tutoring", "language_teaching"), "老师", "teacher", "учитель", "laoshi",
                           "techer"),
    "piano": SkillWords(("music.piano",), "钢琴", "piano", "фортепиано", "gangqin", "paino"),
    "cooking": SkillWords(("cooking",), "烹饪", "cooking", "кулинария", "pengren", "cookng"),
    "software": SkillWords(("it.software",), "程序员", "programmer", "программист", "chengxuyuan", "programer"),
    "accounting": SkillWords(("finance.accounting",), "会计", "accountant", "бухгалтер", "kuaiji", "acountant"),
    "calligraphy": SkillWords(("arts.calligraphy",), "书法", "calligraphy", "каллиграфия", "shufa", "caligraphy"),
    "tai_chi": SkillWords(("sports.tai_chi",), "太极拳", "tai chi", "тайцзицюань", "taijiquan", "tai chii"),
    "counselling": SkillWords(("psychology",), "心理咨询", "counselling", "психолог", "xinli zixun", "councelling"),
    "engineering": SkillWords(("engineering",), "工程师", "engineer", "инженер", "gongchengshi", "enginer"),
    "photography": SkillWords(("arts.photography",), "摄影", "photography", "фотограф", "sheying", "fotography"),
}


@dataclass(frozen=True)
class LanguageWords:
    code: str
    zh: str
    en: str
    ru: str  # adverb: говорит по-…
    pinyin: str
    misspelt: str


LANGUAGES: dict[str, LanguageWords] = {
    "ru": LanguageWords("ru", "俄语", "Russian", "по-русски", "eyu", "Rusian"),
    "en": LanguageWords("en", "英语", "English", "по-английски", "yingyu", "Englsh"),
    "ja": LanguageWords("ja", "日语", "Japanese", "по-японски", "riyu", "Japanse"),
    "ko": LanguageWords("ko", "韩语", "Korean", "по-корейски", "hanguoyu", "Korian"),
    "fr": LanguageWords("fr", "法语", "French", "по-французски", "fayu", "Frensh"),
    "de": LanguageWords("de", "德语", "German", "по-немецки", "deyu", "Germen"),
    "es": LanguageWords("es", "西班牙语", "Spanish", "по-испански", "xibanyayu", "Spanich"),
}

# Nationality code → (Chinese, English, Russian): the way staff ask for people of a country.
NATIONALITIES: dict[str, tuple[str, str, str]] = {
    "RU": ("俄罗斯籍", "Russian nationals", "граждане России"),
    "JP": ("日本籍", "Japanese citizens", "граждане Японии"),
    "KR": ("韩国籍", "South Korean nationals", "граждане Кореи"),
    "US": ("美国籍", "American citizens", "граждане США"),
    "FR": ("法国籍", "French nationals", "граждане Франции"),
    "DE": ("德国籍", "German nationals", "граждане Германии"),
    "GB": ("英国籍", "British citizens", "граждане Великобритании"),
    "IT": ("意大利籍", "Italian nationals", "граждане Италии"),
    "ES": ("西班牙籍", "people from Spain", "граждане Испании"),
    "IN": ("印度籍", "Indian nationals", "граждане Индии"),
    "UA": ("乌克兰籍", "Ukrainian citizens", "граждане Украины"),
    "KZ": ("哈萨克斯坦籍", "people from Kazakhstan", "граждане Казахстана"),
}


def _skill(k: str) -> Concept:
    return Concept("skill", SKILLS[k].roots)


def _lang(code: str) -> Concept:
    return Concept("language", (code,))


VOLUNTEER = Concept("volunteer")
PARTY_MEMBER = Concept("party")

# Written by hand: compound terms (issue 10's examples among them), natural phrasing, roles.
COMPOUND: tuple[tuple[str, tuple[Concept, ...]], ...] = (
    ("俄语翻译", (_lang("ru"), _skill("translation"))), ("Russian translator", (_lang("ru"), _skill("translation"))),
    ("日语钢琴老师", (_lang("ja"), _skill("piano"))), ("日语翻译", (_lang("ja"), _skill("translation"))),
    ("Japanese interpreter", (_lang("ja"), _skill("translation"))), ("韩语翻译", (_lang("ko"), _skill("translation"))),
    ("英语老师", (_lang("en"), _skill("teaching"))), ("English teacher", (_lang("en"), _skill("teaching"))),
    ("法语翻译", (_lang("fr"), _skill("translation"))), ("德语翻译", (_lang("de"), _skill("translation"))),
    ("俄语律师", (_lang("ru"), _skill("law"))), ("French tutor", (_lang("fr"), _skill("teaching"))),
    ("俄语老师", (_lang("ru"), _skill("teaching"))), ("英语钢琴老师", (_lang("en"), _skill("piano"))),
)
NATURAL: tuple[tuple[str, tuple[Concept, ...]], ...] = (
    ("会说法语的志愿者", (_lang("fr"), VOLUNTEER)),
    ("someone who speaks Korean and teaches cooking", (_lang("ko"), _skill("cooking"))),
    ("能用俄语提供法律咨询的人", (_lang("ru"), _skill("law"))),
    ("懂日语的医生", (_lang("ja"), _skill("medicine"))),
    ("找一位会英语的护士", (_lang("en"), _skill("nursing"))),
    ("a volunteer who speaks Spanish", (_lang("es"), VOLUNTEER)),
    ("会弹钢琴的党员", (_skill("piano"), PARTY_MEMBER)),
    ("someone who speaks Japanese and can translate", (_lang("ja"), _skill("translation"))),
    ("会说韩语的程序员", (_lang("ko"), _skill("software"))),
    ("English-speaking lawyer who volunteers", (_lang("en"), _skill("law"), VOLUNTEER)),
    ("谁会说俄语", (_lang("ru"),)),
    ("a doctor who speaks German", (_lang("de"), _skill("medicine"))),
    ("会说英语的会计", (_lang("en"), _skill("accounting"))),
    ("who can teach calligraphy", (_skill("calligraphy"),)),
)
ROLES: tuple[tuple[str, tuple[Concept, ...]], ...] = (
    ("志愿者", (VOLUNTEER,)), ("volunteer", (VOLUNTEER,)), ("党员", (PARTY_MEMBER,)),
    ("party member", (PARTY_MEMBER,)), ("志愿者 医生", (VOLUNTEER, _skill("medicine"))),
    ("党员 律师", (PARTY_MEMBER, _skill("law"))), ("volunteer nurse", (VOLUNTEER, _skill("nursing"))),
    ("英语 志愿者", (_lang("en"), VOLUNTEER)), ("党员 书法", (PARTY_MEMBER, _skill("calligraphy"))),
    ("volunteer translator", (VOLUNTEER, _skill("translation"))), ("中共党员 老师", (PARTY_MEMBER, _skill("teaching"))),
    ("волонтёр", (VOLUNTEER,)),
)

PER_CLASS = 12  # concept queries kept per generated class (drawn with the seed from every candidate that has answers)
PER_NAME_FORM = 6  # name look-ups per form


# --- grading ----------------------------------------------------------------------------------------------


def concept_grades(people: Iterable[Person], concepts: Sequence[Concept]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in people:
        held = sum(c.held_by(p) for c in concepts)
        if held == len(concepts):
            out[p.key] = 2
        elif held and len(concepts) > 1:
            out[p.key] = 1
    return out


def _strip(text: str) -> str:
    return "".join(c for c in text if c not in " -'’·.\u00b7")


def own_key(family: str, given: str) -> tuple[str, str]:
    """A name pair in its own script, order-free: case, spaces and hyphens do not count."""
    a, b = (_strip(unicodedata.normalize("NFC", x).casefold()) for x in (family, given))
    return (a, b) if a <= b else (b, a)


def latin_key(family: str, given: str) -> tuple[str, str]:
    """A name pair in Latin letters, order-free: also diacritics and tone marks do not count."""
    return own_key(latin_spelling(family), latin_spelling(given))


_READING: dict[str, str] = {c: py.lower() for c, py, _ in SURNAMES} | {c: py for c, py in GIVEN_MALE + GIVEN_FEMALE}


def toned(chars: str, toneless: str) -> str:
    """Tone-marked pinyin of name characters, each read as ``names.py`` reads it (曾 zēng, not céng).
    Falls back to ``toneless`` where no tone-marked reading spells it (吕 is written Lyu, pypinyin has lǚ)."""
    out = []
    for ch in chars:
        want = latin_spelling(_READING.get(ch, "")).lower()
        options = pinyin(ch, style=Style.TONE, heteronym=True)[0]
        out.append(next((o for o in options if latin_spelling(o).lower() == want), options[0]))
    text = "".join(out)
    return text if latin_spelling(text).lower() == _strip(toneless).lower() else toneless


@dataclass(frozen=True)
class NameForm:
    """One way of writing a name: which people can be written so, the query text, and the keys that match."""

    name: str
    eligible: Callable[[Person], bool]
    text: Callable[[Person, random.Random], tuple[str, tuple[str, str]]]  # query text, its key
    keys: Callable[[Person], set[tuple[str, str]]]  # every key the person's name has in this form
    partial_keys: Callable[[Person], set[tuple[str, str]]] | None = None  # grade 1 (toned pinyin: toneless)
    partial_of: Callable[[tuple[str, str]], tuple[str, str]] | None = None


def _own_keys(p: Person) -> set[tuple[str, str]]:
    n = p.name
    return {own_key(f, g) for f in n.family for g in n.given}


def _latin_keys(p: Person) -> set[tuple[str, str]]:
    n = p.name
    return {latin_key(f, g) for f in n.family_latin for g in n.given_latin}


def _toned_pair(p: Person) -> tuple[str, str]:
    n = p.name
    return toned(n.family[0], n.family_latin[0]), toned(n.given[0], n.given_latin[0])


def _toned_keys(p: Person) -> set[tuple[str, str]]:
    return {own_key(*_toned_pair(p))}


def _ordered(p: Person, family: str, given: str, sep: str = " ") -> str:
    return f"{family}{sep}{given}" if p.name.family_first else f"{given}{sep}{family}"


def _script(p: Person, lo: int, hi: int) -> bool:
    return any(lo <= ord(c) <= hi for c in p.name.name)


_CYRILLIC_CULTURES = {"ru", "uk", "kk", "mn"}
_OTHER_SCRIPTS = {"ar", "fa", "th", "hi", "el"}
_LATIN_CULTURES = {"fr", "de", "es", "pt", "it", "pl", "cs", "sv", "nl", "tr", "vi", "id", "ms", "tl", "en"}


def _own_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    n = p.name
    sep = "" if n.culture in ("zh", "ko") else " "
    return _ordered(p, n.family[0], n.given[0], sep), own_key(n.family[0], n.given[0])


def _second_script_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    n = p.name
    sep = "" if n.culture == "ko" else " "
    return _ordered(p, n.family[1], n.given[1], sep), own_key(n.family[1], n.given[1])


def _pinyin_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    n = p.name
    text = f"{n.family_latin[0]} {n.given_latin[0]}"
    return (text.lower() if rng.random() < 0.5 else text), latin_key(n.family_latin[0], n.given_latin[0])


def _toned_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    f, g = _toned_pair(p)
    return f"{f.capitalize()} {g.capitalize()}", own_key(f, g)


def _passport_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    n = p.name
    return n.latin, latin_key(n.family_latin[0], n.given_latin[0])


def _alt_latin_text(p: Person, rng: random.Random) -> tuple[str, tuple[str, str]]:
    n = p.name
    f = rng.choice(n.family_latin[1:]) if len(n.family_latin) > 1 else n.family_latin[0]
    g = rng.choice(n.given_latin[1:]) if len(n.given_latin) > 1 else n.given_latin[0]
    return _ordered(p, f, g), latin_key(f, g)


NAME_FORMS: tuple[NameForm, ...] = (
    NameForm("hanzi", lambda p: p.name.culture == "zh", _own_text, _own_keys),
    NameForm("pinyin", lambda p: p.name.culture == "zh", _pinyin_text, _latin_keys),
    NameForm("pinyin_tones", lambda p: p.name.culture == "zh", _toned_text, _toned_keys,
             partial_keys=_latin_keys, partial_of=lambda k: own_key(latin_spelling(k[0]), latin_spelling(k[1]))),
    NameForm("latin_passport", lambda p: p.name.culture != "zh", _passport_text, _latin_keys),
    NameForm("latin_other_spelling", lambda p: p.name.culture != "zh" and (
        len(p.name.family_latin) > 1 or len(p.name.given_latin) > 1), _alt_latin_text, _latin_keys),
    NameForm("cyrillic", lambda p: p.name.culture in _CYRILLIC_CULTURES, _own_text, _own_keys),
    NameForm("hangul", lambda p: p.name.culture == "ko", _own_text, _own_keys),
    NameForm("hanja", lambda p: p.name.culture == "ko" and len(p.name.family) > 1 and len(p.name.given) > 1,
             _second_script_text, _own_keys),
    NameForm("kanji", lambda p: p.name.culture == "ja" and not all("\u3040" <= c <= "\u30ff" for c in p.name.given[0]),
             _own_text, _own_keys),
    NameForm("kana", lambda p: p.name.culture == "ja" and len(p.name.family) > 1 and len(p.name.given) > 1,
             _second_script_text, _own_keys),
    NameForm("latin_diacritics", lambda p: p.name.culture in _LATIN_CULTURES and p.name.name != latin_spelling(
        p.name.name), _own_text, _own_keys),
    NameForm("other_script", lambda p: p.name.culture in _OTHER_SCRIPTS, _own_text, _own_keys),
)


def _index(people: Sequence[Person], keys: Callable[[Person], set[tuple[str, str]]]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in people:
        for k in keys(p):
            out[k].add(p.key)
    return out


# --- the set ----------------------------------------------------------------------------------------------


def _concept_candidates() -> dict[str, list[tuple[str, tuple[Concept, ...]]]]:
    """Every phrasing per generated class; the builder keeps up to PER_CLASS that have answers."""
    pairs = [(lang, sk) for lang in LANGUAGES.values() for sk in SKILLS]
    out: dict[str, list[tuple[str, tuple[Concept, ...]]]] = defaultdict(list)
    for lang, sk in pairs:
        w = SKILLS[sk]
        cs = (_lang(lang.code), _skill(sk))
        out["skill_language_zh"].append((f"{lang.zh} {w.zh}", cs))
        out["skill_language_en"].append((f"{lang.en} {w.en}" if len(out["skill_language_en"]) % 2 == 0
                                         else f"{w.en} who speaks {lang.en}", cs))
        out["russian"].append((f"{w.ru}, говорящий {lang.ru}", cs))
        out["pinyin"].append((f"{lang.pinyin} {w.pinyin}", cs))
        out["misspelling"].append((f"{lang.misspelt} {w.misspelt}", cs))
    for sk, w in SKILLS.items():
        out["russian"].append((w.ru, (_skill(sk),)))
        out["pinyin"].append((w.pinyin, (_skill(sk),)))
        out["misspelling"].append((w.misspelt, (_skill(sk),)))
    for code, (zh, en, ru) in NATIONALITIES.items():
        c = Concept("nationality", (code,))
        out["nationality"] += [(zh, (c,)), (en, (c,))]
        out["russian"].append((ru, (c,)))
    for a in RESIDENTIAL_AREAS:
        ac = Concept("area", (a.key,))
        out["area"] += [(a.name, (ac,)), (f"{a.name} 志愿者", (ac, VOLUNTEER))]
        out["area"] += [(f"{a.name} {w.zh}", (ac, _skill(sk))) for sk, w in SKILLS.items()]
        out["area"] += [(f"{a.name} {lang.zh}", (ac, _lang(lang.code))) for lang in LANGUAGES.values()]
    return out


def build_queries(people: Mapping[str, Person], seed: int, *, per_class: int = PER_CLASS,
                  per_name_form: int = PER_NAME_FORM) -> list[Query]:
    """The judged set for this world: deterministic for (people, seed)."""
    rng = random.Random(f"{seed}/relevance")
    everyone = sorted(people.values(), key=lambda p: p.key)
    out: list[Query] = []

    def add(qclass: str, text: str, grades: dict[str, int], concepts: tuple[Concept, ...] = (),
            target: str = "") -> bool:
        if not any(g >= 2 for g in grades.values()):
            return False
        qid = f"{qclass}:{len([q for q in out if q.qclass == qclass]) + 1:02d}"
        out.append(Query(qid, qclass, text, grades, concepts, target, split_of(qclass, text)))
        return True

    for qclass, fixed in (("compound", COMPOUND), ("natural", NATURAL), ("role", ROLES)):
        for text, cs in fixed:
            add(qclass, text, concept_grades(everyone, cs), cs)
    for qclass, candidates in _concept_candidates().items():
        candidates = list(candidates)
        rng.shuffle(candidates)
        kept = 0
        for text, cs in candidates:
            if kept >= per_class:
                break
            kept += add(qclass, text, concept_grades(everyone, cs), cs)

    for form in NAME_FORMS:
        pool = [p for p in everyone if form.eligible(p)]
        index = _index(everyone, form.keys)
        partial = _index(everyone, form.partial_keys) if form.partial_keys else {}
        seen: set[str] = set()
        for p in rng.sample(pool, k=min(len(pool), 4 * per_name_form)):
            if len(seen) >= per_name_form:
                break
            text, key = form.text(p, rng)
            if text in seen:
                continue
            grades = {k: 1 for k in partial.get(form.partial_of(key), ())} if form.partial_of else {}
            grades.update({k: 2 for k in index.get(key, ())})
            if p.key not in grades or grades[p.key] != 2:
                raise RuntimeError(f"name/{form.name}: {text!r} does not judge its own resident {p.key} relevant; "
                                   "the name keys in bench/judged.py disagree with the generator's names.")
            seen.add(text)
            add(f"name/{form.name}", text, grades, target=p.key)
    return out


__all__ = ["Concept", "LANGUAGES", "NAME_FORMS", "NATIONALITIES", "Person", "Query", "SKILLS", "build_queries",
           "concept_grades", "implied_languages", "latin_key", "own_key", "split_of", "toned", "world_truth"]
