"""Query understanding (``search/understanding.py``): concepts across the whole query, their roles and readings."""

from __future__ import annotations

import pytest

from talentgraph.errors import StoreError
from talentgraph.search import understanding as u
from talentgraph.search.understanding import Interpretation, Place, Places, interpret


def _read(text: str, **kw: object) -> list[tuple[str, str, bool]]:
    return [(x.segment.text, x.how, x.required) for x in interpret(text, types=["Person"], **kw).units]  # type: ignore[arg-type]


def _terms(it: Interpretation, i: int = 0) -> set[tuple[str, str]]:
    return set(it.units[i].segment.terms)


@pytest.mark.parametrize("text", ["俄语翻译", "俄语 翻译", "Russian translator", "russian  TRANSLATOR"])
def test_a_compound_is_the_skill_with_the_language(text: str) -> None:
    it = interpret(text, types=["Person"])
    [unit] = it.units
    assert unit.required and ("skills", "translation.ru") in unit.segment.terms
    # …or its pieces in their own fields: Russian among the languages, any translation skill.
    lang, skill = unit.segment.parts
    assert set(lang.terms) == {("languages", "ru")}  # the language, not the nationality, beside a skill
    assert ("skills", "translation") in skill.terms and ("skills", "translation.en") in skill.terms


def test_a_term_merely_named_after_a_language_is_not_split() -> None:
    [unit] = interpret("Chinese painting", types=["Person"]).units
    assert unit.segment.terms == [("skills", "arts.chinese_painting")] and unit.segment.parts == ()


@pytest.mark.parametrize("text, field", [
    ("Russian nationals", "nationality"), ("people from Kazakhstan", "nationality"), ("граждане России", "nationality"),
    ("哈萨克斯坦籍", "nationality"), ("speaks Russian", "languages"), ("Russian lawyer", "languages"),
])
def test_context_decides_language_or_nationality(text: str, field: str) -> None:
    it = interpret(text, types=["Person"])
    fields = {f for x in it.units for f, _ in x.segment.terms}
    assert field in fields and ({"languages", "nationality"} - {field}).isdisjoint(fields)


def test_alone_an_ambiguous_label_keeps_both_readings() -> None:
    assert {f for f, _ in interpret("Russian", types=["Person"]).units[0].segment.terms} == {"languages", "nationality"}


def test_filler_is_dropped_and_verb_forms_only_rank() -> None:
    it = interpret("someone who speaks Korean and teaches cooking", types=["Person"])
    assert [(x.segment.text, x.required) for x in it.units] == [("korean", True), ("teaches", False), ("cooking", True)]
    assert {"someone", "who", "speaks", "and"} <= set(it.fillers)
    assert _read("会说法语的志愿者") == [("法语", "label", True), ("志愿者", "flag", True)]


def test_unknown_words_are_optional_beside_concepts_and_required_alone() -> None:
    assert _read("张伟 律师") == [("律师", "label", True), ("张伟", "word", False)]
    assert _read("谁会说俄语") == [("俄语", "label", True)]
    assert _read("张伟") == [("张伟", "word", True)]


def test_a_language_is_held_through_a_skill_in_it() -> None:
    [unit] = interpret("俄语", types=["Person"]).units
    implied = {(e.field, e.term_id) for e in unit.segment.implied}
    assert {("skills", "translation.ru"), ("skills", "language_teaching.russian")} <= implied
    assert ("skills", "translation.ru") not in unit.segment.terms  # ranked below the language itself


def test_pinyin_of_labels_is_derived() -> None:
    assert u.pinyin_of("律师") == "lvshi" and u.pinyin_of("心理咨询") == "xinlizixun" and u.pinyin_of("law") == ""
    it = interpret("eyu lvshi", types=["Person"])
    assert [x.how for x in it.units] == ["pinyin", "pinyin"]
    assert ("languages", "ru") in _terms(it, 0) and ("skills", "law") in _terms(it, 1)
    assert ("skills", "psychology.counselling") in _terms(interpret("xinli zixun", types=["Person"]))


def test_russian_labels() -> None:
    it = interpret("врач, говорящий по-японски", types=["Person"])
    assert ("skills", "medicine") in _terms(it, 0) and ("languages", "ja") in _terms(it, 1)
    assert _read("волонтёр") == [("волонтёр", "flag", True)]


@pytest.mark.parametrize("typed, term", [("Spanich", ("languages", "es")), ("cookng", ("skills", "cooking")),
                                         ("councelling", ("skills", "psychology.counselling")),
                                         ("fotography", ("skills", "arts.photography")),
                                         ("tai chii", ("skills", "sports.tai_chi")), ("paino", ("skills", "music.piano"))])
def test_misspelt_labels_within_edits_relative_to_length(typed: str, term: tuple[str, str]) -> None:
    [unit] = interpret(typed, types=["Person"]).units
    assert unit.how == "fuzzy" and unit.required and term in unit.segment.terms


def test_edit_distance_and_allowance() -> None:
    assert u.edit_distance("paino", "piano", 2) == 1  # a transposition is one edit
    assert u.edit_distance("fotography", "photography", 2) == 2
    assert u.edit_distance("abcdef", "uvwxyz", 2) == 3  # past the limit: limit + 1
    assert [u.allowed_edits(w) for w in ("zhao", "nurce", "councelling")] == [0, 1, 2]


def test_names_are_not_read_as_codes_or_misspellings() -> None:
    assert _read("zhao fang") == [("zhao", "word", True), ("fang", "word", True)]
    # Three-letter codes (PAK Pakistan, hye Armenian) inside a name stay name words.
    assert [h for _t, h, _r in _read("Pak Su-bin")] == ["word"] * 3
    assert _read("rus") == [("rus", "label", True)]


def test_place_names_stand_for_their_residents() -> None:
    places = Places(lambda: [Place("area:ra01", "玉兰香苑", "residential_area"), Place("area:b1", "1号楼", "building")])
    it = interpret("玉兰香苑 俄语", types=["Person"], places=places,
                   place_field={"residential_area": "residential_area"})
    assert [x.how for x in it.units] == ["place", "label"]
    assert it.units[0].segment.terms == [("residential_area", "area:ra01")]
    # A level the searched rows carry no field for (or the caller may not read) is no place.
    assert {x.how for x in interpret("1号楼", types=["Person"], places=places,
                                     place_field={"residential_area": "residential_area"}).units} == {"word"}


def test_places_are_read_again_after_their_ttl_and_survive_a_failing_load() -> None:
    calls: list[int] = []

    def load() -> list[Place]:
        calls.append(1)
        if len(calls) > 1:
            raise StoreError("index closed")
        return [Place("area:x", "香梅花园", "residential_area")]

    places = Places(load, ttl_s=0.0)
    assert places.lookup("香梅花园")[0].id == "area:x"
    assert places.lookup("香梅花园") == [] and len(calls) == 2


def test_places_stay_the_same_object_until_their_names_change() -> None:
    # The service's plan cache is kept while this object is the same: a re-read that finds the same names must
    # not throw the cached plans away, a new area must.
    names = [Place("area:x", "香梅花园", "residential_area")]
    places = Places(lambda: list(names), ttl_s=0.0)
    first = places.current()
    assert places.current() is first
    names.append(Place("area:y", "玉兰香苑", "residential_area"))
    assert places.current() is not first and places.lookup("玉兰香苑")[0].id == "area:y"


def test_name_forms() -> None:
    assert u.hangul_readings("韓惠珍") == ["한혜진"]
    assert "이시우" in u.hangul_readings("李時雨") and u.hangul_readings("张") == []
    assert u.long_vowel_forms("いとう") == ["ito"] and u.long_vowel_forms("Yohko") == ["yoko"]
    assert u.long_vowel_forms("Ohio") == []
    assert u.joined_names(["Chang", "Eun-ji"])[:2] == ["changeunji", "eunjichang"]
    assert u.joined_names(["张伟"]) == []


def test_the_word_after_a_label_is_its_plural() -> None:
    assert _read("translators") == [("translators", "plural", True)]
    assert _read("translater") == [("translater", "plural", True)]  # an agent noun names the skill


def test_korean_surnames_in_another_romanisation_are_the_same_name() -> None:
    # 장은지 is indexed through her Hangul as jang eun ji; staff type the McCune–Reischauer "Chang".
    assert u.romanisation_forms("Chang") == ["jang"]
    assert set(u.romanisation_forms("Choe")) == {"choi", "chwe"}
    assert u.romanisation_forms("Smith") == []
    assert u.romanisation_forms("O") == []  # a lone letter is no surname
    joined = u.joined_names(["Chang", "Eun-ji"])
    assert joined[:2] == ["changeunji", "eunjichang"] and "jangeunji" in joined
    assert len(u.joined_names(["Lee", "Yoo", "Jin", "Kim"])) <= u.MAX_JOINED_SPELLINGS
