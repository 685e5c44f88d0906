"""Numeric facts a text states ("2,136名党员", "about 170 parking spaces"), attached to the entity they describe.

What is counted is read from a small table (``COUNTS``: measure → Chinese nouns and classifiers, English
nouns; ``AREA_UNITS``; ``YEAR_VERBS``) turned into regular expressions once; nothing below names a measure
word. Forms recognised, each with an optional approximate marker (约 近 逾 超过 … 余 多 左右 以上; about, around,
nearly, over, more than …) and 万/亿 or thousand/million multipliers:

- zh count: ``[约]2,136[余]名党员`` (number, classifier, noun) and ``党员[共有][约]2136[余]名`` (noun first: the
  classifier is then required, so 居民3200户 is households, not residents); a classifier that names the measure
  alone (户) needs no noun; Chinese numerals (三十六家共建单位) are read too;
- en count: ``[about] 5,000 [foreign] residents``, ``a population of about 50,000``;
- area: ``面积3.2平方公里``, ``1,200平方米``, ``3.2 square kilometres`` → value in m², unit "m2";
- members: ``共有队员62名``, ``(17 members)`` → what they count follows from the subject (``MEMBERS_OF``: a
  party organisation's are party members, a group's its volunteers); about nothing that fits, not kept;
- year: ``成立于2016年``, ``2016年成立``, ``2011年，编织社正式组建``, ``founded in 2016`` → unit "year".

Overlapping statements keep the longest (外籍居民5000名 over 居民5000名). The subject is the nearest mention
before the statement in its sentence whose type can carry the measure (``SUBJECT_TYPES``), else the nearest after
it in the sentence, else the last fitting mention of the previous sentence (该广场…, "The plaza has …"), else the
document's main subject for that measure: the fitting entity mentioned most often (first on a tie); else None.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from talentgraph.text.model import Fact, Mention, Sentence


MEMBERS = "members"  # a count whose measure is decided by its subject's type


@dataclass(frozen=True)
class CountWords:
    measure: str
    zh_nouns: tuple[str, ...]
    zh_units: tuple[str, ...]  # classifiers that may stand between the number and the noun
    en_nouns: tuple[str, ...]
    zh_unit_alone: tuple[str, ...] = ()  # classifiers that say the measure without a noun (户)


COUNTS: tuple[CountWords, ...] = (
    CountWords("party_members", ("在册党员", "正式党员", "党员"), ("名", "位", "人"),
               ("party members", "Party members", "CPC members", "party member")),
    CountWords("co_building_units", ("区域化党建共建单位", "共建单位", "共建伙伴", "结对单位", "成员单位"), ("家", "个"),
               ("co-building units", "co-building partners", "co-building unit", "partner units")),
    CountWords("parking_spaces", ("停车泊位", "停车位", "车位", "泊位"), ("个", "只", "处"),
               ("parking spaces", "parking spots", "parking places", "car parking spaces", "parking space")),
    CountWords("foreign_residents", ("外籍人士", "外籍居民", "外籍人员", "境外人士", "境外居民", "境外人员", "外国居民",
                                      "外籍友人", "外国人"),
               ("名", "位", "人"),
               ("foreign residents", "foreign nationals", "international residents", "foreigners", "expats",
                "expatriates")),
    CountWords("residents", ("常住人口", "实有人口", "户籍人口", "常住居民", "居民", "人口"), ("名", "位", "人"),
               ("residents", "inhabitants")),
    CountWords("households", ("居民户", "住户", "家庭", "居民"), ("户",), ("households", "homes", "families"),
               zh_unit_alone=("户",)),
    CountWords("volunteers", ("志愿服务者", "志愿者"), ("名", "位", "人"), ("volunteers", "volunteer")),
    # Members of whatever the statement is about: what they count follows from the subject (MEMBERS_OF).
    CountWords(MEMBERS, ("队员", "成员", "会员"), ("名", "位", "人"), ("members", "member")),
)

# The noun "population" states residents with the number after it (a population of about 50,000).
EN_NOUN_FIRST: tuple[tuple[str, str], ...] = (("population of", "residents"), ("membership of", "party_members"))

AREA_UNITS: tuple[tuple[str, float], ...] = (  # as written → square metres (longest first in the regex)
    ("平方公里", 1e6), ("平方千米", 1e6), ("平方米", 1.0), ("平米", 1.0), ("㎡", 1.0), ("公顷", 1e4), ("亩", 666.67),
    ("square kilometres", 1e6), ("square kilometers", 1e6), ("square kilometre", 1e6), ("square kilometer", 1e6),
    ("sq km", 1e6), ("km2", 1e6), ("km²", 1e6), ("square metres", 1.0), ("square meters", 1.0),
    ("square metre", 1.0), ("square meter", 1.0), ("sq m", 1.0), ("m2", 1.0), ("m²", 1.0), ("hectares", 1e4),
    ("hectare", 1e4),
)
AREA_NOUNS_ZH = ("辖区面积", "占地面积", "建筑面积", "总面积", "面积", "占地")

YEAR_VERBS_ZH = ("成立", "组建", "创建", "创立", "建立", "始建", "建成", "落成", "揭牌", "启用", "开馆", "开放", "注册")
YEAR_VERBS_EN = ("founded", "established", "set up", "opened", "created", "formed", "launched", "built",
                 "registered", "inaugurated")

APPROX_ZH_BEFORE = ("大约", "将近", "接近", "超过", "约", "近", "逾", "超", "多达")
APPROX_ZH_AFTER = ("余", "多", "左右", "以上", "之多", "来")
APPROX_EN_BEFORE = ("more than", "close to", "upwards of", "at least", "approximately", "about", "around", "nearly",
                    "over", "almost", "roughly", "some", "over")

SUBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "party_members": ("PartyOrganization", "Area"),
    "co_building_units": ("PartyOrganization", "Area"),
    "parking_spaces": ("Venue", "Area", "Enterprise"),
    "residents": ("Area",),
    "households": ("Area",),
    "foreign_residents": ("Area", "Venue"),
    "volunteers": ("Group", "Project", "Venue", "Area", "PartyOrganization"),
    "area_m2": ("Area", "Venue", "Enterprise"),
    "year": ("PartyOrganization", "Group", "Venue", "Enterprise", "Project", "Area"),
    MEMBERS: ("PartyOrganization", "Group"),
}
# "(17 members)", 共有队员62名: a party organisation's members are party members, a group's are its volunteers.
# A members count about nothing that fits is not kept: what it counts is unknown.
MEMBERS_OF: dict[str, str] = {"PartyOrganization": "party_members", "Group": "volunteers"}

# --- regular expressions built from the tables -----------------------------------------------------------


def _alt(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_CN_DIGITS = "零〇一二两三四五六七八九十百千"
_NUM = rf"(?P<num>\d{{1,3}}(?:[,，]\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|[{_CN_DIGITS}]+)"
# 约 of 签约/预约 and 近 of 附近/最近 are no approximate markers: a one-character marker must not end a word.
_NOT_AFTER = {"约": "签预节制契合条公邀相特", "近": "附最靠邻亲贴"}
_ZH_PRE = "(?P<pre>(?:" + "|".join(
    (f"(?<![{_NOT_AFTER[w]}])" if w in _NOT_AFTER else "") + re.escape(w)
    for w in sorted(APPROX_ZH_BEFORE, key=len, reverse=True)) + ")?)"
_ZH_MULT = r"(?P<mult>万|亿)?"
_ZH_POST = r"(?P<post>余|多|来)?"
_ZH_TAIL = r"(?P<tail>左右|以上|之多)?"
_ZH_LINK = r"(?:(?:总数|人数|数量|总量|共有|共计|总计|合计|有|达到|达|为|计|约为|共)\s*)*"
_EN_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_EN_PRE = rf"(?P<pre>(?:(?:{_alt(APPROX_EN_BEFORE)})\s+)?)"
_EN_MULT = r"(?:\s*(?P<mult>thousand|million))?"
_EN_ADJ = r"(?i:(?:registered|permanent|local|active|new|elderly|young|more)\s+)?"


@dataclass(frozen=True)
class _Rule:
    measure: str
    rx: re.Pattern[str]
    kind: str  # "count", "area", "year"


def _count_rules() -> list[_Rule]:
    rules: list[_Rule] = []
    for c in COUNTS:
        nouns, units = _alt(c.zh_nouns), _alt(c.zh_units)
        # number first: [约]2,136[余]名党员 / 5万居民 / 3200户
        noun_after = f"(?:的)?(?:{nouns})" + ("?" if c.zh_unit_alone else "")
        unit = f"(?P<unit>{units})" + ("" if c.zh_unit_alone else "?")
        rules.append(_Rule(c.measure, re.compile(f"{_ZH_PRE}{_NUM}{_ZH_MULT}{_ZH_POST}{unit}{noun_after}"), "count"))
        # noun first: 党员2136名 / 居民约5万人 (classifier required)
        rules.append(_Rule(c.measure, re.compile(
            f"(?:{nouns}){_ZH_LINK}{_ZH_PRE}{_NUM}{_ZH_MULT}{_ZH_POST}(?P<unit>{units}){_ZH_TAIL}"), "count"))
        # English: [about] 5,000 [more] foreign residents
        rules.append(_Rule(c.measure, re.compile(
            rf"(?i:{_EN_PRE}){_EN_NUM}{_EN_MULT}(?P<post>\+)?\s+{_EN_ADJ}(?:{_alt(c.en_nouns)})\b"), "count"))
    for noun, measure in EN_NOUN_FIRST:
        rules.append(_Rule(measure, re.compile(
            rf"(?i:{re.escape(noun)})\s+(?i:{_EN_PRE}){_EN_NUM}{_EN_MULT}(?P<post>\+)?(?!\s*(?:%|percent))"), "count"))
    return rules


def _area_rules() -> list[_Rule]:
    units = _alt([u for u, _ in AREA_UNITS])
    zh = re.compile(f"(?:(?:{_alt(AREA_NOUNS_ZH)}){_ZH_LINK})?{_ZH_PRE}{_NUM}{_ZH_MULT}{_ZH_POST}"
                    f"(?P<unit>{units}){_ZH_TAIL}")
    en = re.compile(rf"(?i:{_EN_PRE}){_EN_NUM}\s*(?P<unit>(?i:{units}))\b")
    return [_Rule("area_m2", zh, "area"), _Rule("area_m2", en, "area")]


def _year_rules() -> list[_Rule]:
    year = r"(?P<num>(?:19|20)\d\d)"
    zh_verbs = _alt(YEAR_VERBS_ZH)
    return [
        _Rule("year", re.compile(f"(?:{zh_verbs})(?:于|在)?{year}年"), "year"),
        _Rule("year", re.compile(rf"{year}年(?:\d{{1,2}}月(?:\d{{1,2}}[日号])?)?(?:正式)?(?:{zh_verbs})"), "year"),
        # 2011年，编织社正式组建: the year opens the clause, the verb closes it (no other year or clause break between).
        _Rule("year", re.compile(rf"(?<![\d年]){year}年[，,]\s*[^。；！？，,\n\d]{{1,30}}?(?:正式)?(?:{zh_verbs})"), "year"),
        _Rule("year", re.compile(rf"(?i:\b(?:{_alt(YEAR_VERBS_EN)})\s+(?:in\s+)?(?:[A-Z][a-z]+\s+)?){year}\b"), "year"),
    ]


RULES: tuple[_Rule, ...] = (*_count_rules(), *_area_rules(), *_year_rules())
_AREA_FACTOR = {u.casefold(): f for u, f in AREA_UNITS}
_EN_MULTS = {"thousand": 1e3, "million": 1e6}
_ZH_MULTS = {"万": 1e4, "亿": 1e8}

# --- numbers ------------------------------------------------------------------------------------------------

_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SCALE = {"十": 10, "百": 100, "千": 1000}


def chinese_number(s: str) -> int | None:
    """三十六 → 36, 一百七十 → 170, 两千 → 2000, 二〇一六 → 2016; None when it is not a number."""
    if not s or any(c not in _CN_VALUE and c not in _CN_SCALE for c in s):
        return None
    if not any(c in _CN_SCALE for c in s):  # digit by digit (二〇一六)
        return int("".join(str(_CN_VALUE[c]) for c in s))
    total, digit = 0, None
    for c in s:
        if c in _CN_VALUE:
            digit = _CN_VALUE[c]
        else:
            total += (1 if digit is None else digit) * _CN_SCALE[c]
            digit = None
    return total + (digit or 0)


def parse_number(s: str) -> float | None:
    t = s.replace(",", "").replace("，", "")
    try:
        return float(t)
    except ValueError:
        n = chinese_number(s)
        return float(n) if n is not None else None


# --- extraction ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    measure: str
    value: float
    unit: str
    approximate: bool


def find_statements(text: str) -> list[_Hit]:
    """Every numeric statement in ``text`` (overlaps resolved: the longest, then the first rule)."""
    hits: list[tuple[int, _Hit]] = []
    for rank, rule in enumerate(RULES):
        for m in rule.rx.finditer(text):
            hit = _hit(rule, m)
            if hit is not None:
                hits.append((rank, hit))
    hits.sort(key=lambda rh: (-(rh[1].end - rh[1].start), rh[0], rh[1].start))
    taken: list[_Hit] = []
    used = bytearray(len(text) + 1)
    for _rank, h in hits:
        if 1 not in used[h.start:h.end]:
            taken.append(h)
            used[h.start:h.end] = b"\x01" * (h.end - h.start)
    return sorted(taken, key=lambda h: h.start)


def _hit(rule: _Rule, m: re.Match[str]) -> _Hit | None:
    g = m.groupdict()
    raw = g.get("num") or ""
    value = parse_number(raw)
    if value is None:
        return None
    start, end = m.start(), m.end()
    pre = (g.get("pre") or "").strip()
    approximate = bool(pre) or bool(g.get("post")) or bool(g.get("tail"))
    mult = g.get("mult")
    if mult:
        value *= _ZH_MULTS.get(mult, 0) or _EN_MULTS.get(mult.casefold(), 1.0)
    if rule.kind == "year":
        if not 1900 <= value <= 2100:
            return None
        return _Hit(start, end, rule.measure, value, "year", False)
    if rule.kind == "area":
        unit = (g.get("unit") or "").casefold()
        factor = _AREA_FACTOR.get(unit)
        if factor is None:
            return None
        return _Hit(start, end, rule.measure, round(value * factor, 2), "m2", approximate)
    # A count is whole: "2.5 volunteers" is a misreading (a version number, a ratio), not a count.
    if value != int(value) or value <= 0:
        return None
    unit = g.get("unit") or ""
    return _Hit(start, end, rule.measure, value, unit, approximate)


def extract_facts(text: str, sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> list[Fact]:
    """The numeric facts of a document, each with its sentence and subject (module docstring)."""
    facts: list[Fact] = []
    ordered = sorted(mentions, key=lambda m: m.start)
    sents = sorted(sentences, key=lambda x: x.start)
    starts = [x.start for x in sents]
    # The rules run once over the whole text (not once per sentence); a statement must lie within one sentence.
    for h in find_statements(text):
        i = bisect.bisect_right(starts, h.start) - 1
        if i < 0 or h.end > sents[i].end:
            continue
        sent = sents[i]
        previous = sents[i - 1] if i > 0 else None
        subject = subject_of(ordered, h.measure, sent, h.start, h.end, previous)
        measure = h.measure
        if measure == MEMBERS:
            if subject is None or subject.type not in MEMBERS_OF:
                continue
            measure = MEMBERS_OF[subject.type]
        facts.append(Fact(measure, h.value, h.unit, h.approximate, h.start, h.end, sent, subject))
    return facts


def subject_of(mentions: Sequence[Mention], measure: str, sent: Sentence, start: int, end: int,
               previous: Sentence | None = None) -> Mention | None:
    """Who a statement is about: the nearest fitting mention before it in its sentence, else after it in the
    sentence, else the last one of the previous sentence ("该广场有约170个停车位" after naming the plaza), else the
    document's main subject for the measure. ``mentions`` in text order."""
    types = SUBJECT_TYPES.get(measure, ())
    found = _last_in(mentions, sent.start, start, types)
    if found is None:
        found = next((m for m in mentions if m.start >= end and m.end <= sent.end and m.type in types), None)
    if found is None and previous is not None:
        found = _last_in(mentions, previous.start, previous.end, types)
    return found if found is not None else main_subject(mentions, types)


def _last_in(mentions: Sequence[Mention], lo: int, hi: int, types: Sequence[str]) -> Mention | None:
    best: Mention | None = None
    for m in mentions:
        if m.start >= hi:
            break
        if m.start >= lo and m.end <= hi and m.type in types:
            best = m
    return best


def _key(m: Mention) -> str:
    return m.node_id or m.candidate_key or f"{m.type}:{m.text}"


def main_subject(mentions: Sequence[Mention], types: Sequence[str]) -> Mention | None:
    """The fitting entity the document mentions most often (the first mentioned on a tie), at its first mention."""
    counts: dict[str, int] = {}
    first: dict[str, Mention] = {}
    for m in mentions:
        if m.type not in types:
            continue
        k = _key(m)
        counts[k] = counts.get(k, 0) + 1
        first.setdefault(k, m)
    if not counts:
        return None
    best = max(counts, key=lambda k: (counts[k], -first[k].start))
    return first[best]
