"""Query-time vocabulary expansion and query segmentation."""

from __future__ import annotations

import pytest

from talentgraph.search import synonyms


@pytest.mark.parametrize("label", ["俄语", "Russian", "ru", "русский", "RUS", "俄文", "Russian language"])
def test_every_spelling_of_russian_reaches_languages_ru(label: str) -> None:
    assert ("languages", "ru") in [(e.field, e.term_id) for e in synonyms.expand(label)]


@pytest.mark.parametrize("label", ["律师", "lawyer", "Lawyer", "法律", "law"])
def test_lawyer_reaches_law_and_its_specialisms(label: str) -> None:
    pairs = [(e.field, e.term_id) for e in synonyms.expand(label)]
    assert pairs[0] == ("skills", "law")
    assert ("skills", "law.litigation") in pairs and all(f == "skills" for f, _ in pairs)


def test_specialism_does_not_expand_upwards() -> None:
    assert [e.term_id for e in synonyms.expand("诉讼")] == ["law.litigation"]


def test_russian_is_language_and_nationality_but_eyu_only_language() -> None:
    assert {(e.field, e.term_id) for e in synonyms.expand("Russian")} == {("languages", "ru"), ("nationality", "RU")}
    assert {(e.field, e.term_id) for e in synonyms.expand("俄语")} == {("languages", "ru")}


def test_non_labels_do_not_expand() -> None:
    assert synonyms.expand("张伟") == [] and synonyms.expand("zzqx") == []


def test_types_without_keyword_fields_expand_nothing() -> None:
    assert synonyms.expand("俄语", types=["Enterprise"]) == []


def _shape(text: str) -> list[tuple[str, str]]:
    return [(s.text, s.kind) for s in synonyms.parse(text)]


def test_parse_zh_and_en_give_the_same_concepts() -> None:
    zh = synonyms.parse("俄语 律师")
    en = synonyms.parse("Russian lawyer")
    assert [s.kind for s in zh] == [s.kind for s in en] == ["concept", "concept"]
    assert set(zh[1].terms) == set(en[1].terms)


def test_parse_longest_multiword_label_wins() -> None:
    assert _shape("immigration lawyer Ivan") == [("immigration lawyer", "concept"), ("ivan", "word")]
    assert _shape("russian language teacher")[0] == ("russian language", "concept")


def test_parse_unspaced_chinese_query() -> None:
    shape = _shape("会说俄语的张伟律师")
    assert ("俄语", "concept") in shape and ("律师", "concept") in shape and ("张伟", "word") in shape
    assert all(text not in ("的", "会", "会说") for text, _ in shape)


def test_parse_keeps_short_chinese_runs_whole() -> None:
    assert _shape("欧阳娜娜") == [("欧阳娜娜", "word")]
    assert _shape("") == [] and _shape("的") == []


def test_a_concept_typed_apart_keeps_its_pieces_as_another_reading() -> None:
    joined, flag = synonyms.parse("英语 翻译 志愿者", types=["Person"])
    assert (joined.text, joined.terms) == ("英语翻译", [("skills", "translation.en")])
    assert [p.text for p in joined.parts] == ["英语", "翻译"]
    assert joined.parts[0].terms == [("languages", "en")] and ("skills", "translation.ru") in joined.parts[1].terms
    assert (flag.kind, flag.terms) == ("concept", [("volunteer", "true")])
    # Typed as one word, or in Latin script, there is one reading only.
    assert synonyms.parse("英语翻译")[0].parts == ()
    assert all(not s.parts for s in synonyms.parse("Russian lawyer"))


@pytest.mark.parametrize("word", ["志愿者", "volunteer", "Volunteers", "义工"])
def test_yes_no_facet_words_are_concepts(word: str) -> None:
    [seg] = synonyms.parse(word, types=["Person"])
    assert seg.kind == "concept" and seg.terms == [("volunteer", "true")]


def test_yes_no_concepts_only_on_types_that_have_the_facet() -> None:
    assert synonyms.flags("志愿者", types=["Enterprise"]) == []
    assert [s.kind for s in synonyms.parse("志愿者", types=["Enterprise"])] == ["word"]
