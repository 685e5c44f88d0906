"""Highlights: spans from any script, HTML always escaped."""

from __future__ import annotations

from talentgraph.search.highlight import Needles, find_spans, highlight, within_one_edit


def test_cjk_substring_marked_and_rest_escaped() -> None:
    out = highlight("<script>alert(1)</script> 诉讼律师 & 俄语", Needles(cjk={"律师", "俄语"}))
    assert out == ["&lt;script&gt;alert(1)&lt;/script&gt; 诉讼<mark>律师</mark> &amp; <mark>俄语</mark>"]


def test_marked_text_itself_is_escaped() -> None:
    assert highlight("a<b>c", Needles(words={"b"})) == ["a&lt;<mark>b</mark>&gt;c"]


def test_words_match_whole_words_through_plain_and_latin_forms() -> None:
    assert highlight("José García", Needles(words={"jose"})) == ["<mark>José</mark> García"]
    assert highlight("Иван Петров", Needles(words={"ivan"})) == ["<mark>Иван</mark> Петров"]
    assert highlight("lawyers", Needles(words={"lawyer"})) == []


def test_full_width_text_maps_back_to_original_offsets() -> None:
    assert highlight("ＩＶＡＮ", Needles(words={"ivan"})) == ["<mark>ＩＶＡＮ</mark>"]


def test_phrases_and_fuzzy() -> None:
    assert highlight("Russian  Language tutor", Needles(words={"russian language"})) == [
        "<mark>Russian  Language</mark> tutor"]
    assert highlight("a lawyer", Needles(fuzzy={"lawer"})) == ["a <mark>lawyer</mark>"]


def test_pinyin_marks_characters() -> None:
    assert highlight("张伟", Needles(pinyin={"zhang"})) == ["<mark>张</mark>伟"]
    assert highlight("张伟", Needles(pinyin={"zw"})) == ["<mark>张伟</mark>"]
    assert highlight("曾伟", Needles(pinyin={"zeng"}), surname=True) == ["<mark>曾</mark>伟"]


def test_no_match_no_highlight() -> None:
    assert highlight("张伟", Needles(cjk={"李"})) == [] and highlight("", Needles(cjk={"李"})) == []


def test_long_text_fragments_with_ellipsis() -> None:
    text = "甲" * 300 + "律师" + "乙" * 300
    (frag,) = highlight(text, Needles(cjk={"律师"}), max_chars=60)
    assert frag.startswith("…") and frag.endswith("…") and "<mark>律师</mark>" in frag
    assert len(frag) < 90


def test_overlapping_spans_merge() -> None:
    assert find_spans("诉讼律师", Needles(cjk={"诉讼", "讼律", "律师"})) == [(0, 4)]


def test_edit_distance_one() -> None:
    assert within_one_edit("lawer", "lawyer") and within_one_edit("lawyre", "lawyer")
    assert not within_one_edit("lwyre", "lawyer")
