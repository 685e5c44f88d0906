"""Language analysis: names, free text, keywords, token-size guarantee."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from anyascii import anyascii

from talentgraph.errors import ValidationError
from talentgraph.search import analysis
from talentgraph.search.analysis import (
    MAX_TOKEN_BYTES,
    analyze_bigrams,
    analyze_keyword,
    analyze_name,
    analyze_text,
    normalize,
)


def _fits(tokens: list[str]) -> bool:
    return all(0 < len(t.encode("utf-8")) <= MAX_TOKEN_BYTES for t in tokens)


def test_normalize_folds_width_case_and_spaces() -> None:
    assert normalize("  ＲＵ\u3000Tai   Chi ") == "ru tai chi"


def test_chinese_name_chars_pairs_pinyin_initials() -> None:
    tokens = analyze_name("张伟")
    assert tokens[:3] == ["张", "伟", "张伟"]
    assert {"zhang", "wei", "zhangwei", "zw"} <= set(tokens)


def test_three_character_name_has_all_pairs() -> None:
    tokens = analyze_name("欧阳娜娜")
    assert {"欧阳", "阳娜", "娜娜", "ouyangnana", "oynn"} <= set(tokens)


@pytest.mark.parametrize(
    ("name", "reading"),
    [("曾小贤", "zeng"), ("单田芳", "shan"), ("解晓东", "xie"), ("区志明", "ou"), ("朴槿惠", "piao"),
     ("乐嘉", "yue"), ("翟天临", "zhai"), ("尉迟恭", "yuchi"), ("万俟卨", "moqi")],
)
def test_polyphonic_surnames_use_surname_reading(name: str, reading: str) -> None:
    tokens = analyze_name(name)
    full = [t for t in tokens if t.isascii() and t.startswith(reading) and len(t) > len(reading)]
    assert full, tokens


def test_surname_reading_only_at_the_start_and_only_for_person_names() -> None:
    # 曾 in the middle of a name keeps its dictionary reading; organisations get no override.
    assert "zeng" not in analyze_name("王曾", surname=True)[3:5]
    assert "zeng" not in analyze_name("曾经理事务所", surname=False)
    assert "zeng" in analyze_name("曾经理事务所", surname=True)


def test_latin_names_casefolded_with_plain_forms() -> None:
    tokens = analyze_name("José O'Brien-Smith")
    assert {"josé", "jose", "o", "brien", "smith", "obriensmith"} <= set(tokens)
    assert "zhangwei" in analyze_name("Zhang Wei")


def test_cyrillic_kept_and_transliterated() -> None:
    tokens = analyze_name("Иван Петров")
    assert {"иван", "петров", "ivan", "petrov"} <= set(tokens)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("김민준", {"김민준", "gim", "min", "jun", "gimminjun"}), ("たなか", {"たなか", "tanaka"}),
     ("Ελένη", {"ελένη", "eleni"}), ("สมชาย", {"สมชาย", "smchay"})],
)
def test_other_scripts_kept_and_transliterated(name: str, expected: set[str]) -> None:
    assert expected <= set(analyze_name(name))


def test_text_segments_chinese_and_casefolds_latin() -> None:
    tokens = analyze_text("我是律师，会说俄语和English。")
    assert {"律师", "俄语", "english"} <= set(tokens)
    assert "English" not in tokens and "，" not in tokens


def test_fed_entity_name_stays_one_token() -> None:
    name = "联洋新社区睦邻议事中心"
    sentence = f"周末在{name}举办活动"
    assert name not in analyze_text(sentence)
    assert analysis.add_words([name]) == 1
    assert analysis.add_words([name]) == 0  # already known
    assert name in analyze_text(sentence)


def test_bigram_shadow_covers_cjk_only() -> None:
    assert analyze_bigrams("联洋社区 abc 党") == ["联洋", "洋社", "社区", "党"]


def test_keywords_canonicalised_through_vocabulary() -> None:
    assert analyze_keyword("languages", ["俄语", "English", "ru"], "languages") == ["ru", "en"]
    assert analyze_keyword("skills", ["law.litigation"], "skills") == ["law.litigation"]
    assert analyze_keyword("uscc", ["91310115MA1K4XXXX1"]) == ["91310115ma1k4xxxx1"]
    # Codes are memoised per vocabulary: the same text means another code without one.
    assert analyze_keyword("note", ["English", "English", 7]) == ["english", "7"]
    assert analyze_keyword("languages", ["English"], "languages") == ["en"]
    assert analyze_keyword("code", ["x" * 50]) == ["x" * 40, "x" * 10]
    with pytest.raises(ValidationError, match="languages"):
        analyze_keyword("languages", [{"nested": 1}], "languages")


def test_long_chinese_paragraph_is_not_dropped() -> None:
    paragraph = ("联洋社区志愿者服务队每周组织居民开展邻里互助活动" * 25)[:500]
    for fn in (analyze_text, analyze_bigrams, analyze_name):
        tokens = fn(paragraph)
        assert tokens and _fits(tokens)
    # Every character of the paragraph is still covered by the pair shadow.
    assert set("".join(analyze_bigrams(paragraph))) == set(paragraph)


def test_long_latin_word_is_split_not_dropped() -> None:
    word = "".join(chr(97 + (i * 7) % 26) for i in range(200))
    for fn in (analyze_text, analyze_name):
        tokens = fn(word)
        assert _fits(tokens)
        assert "".join(tokens[:5]) == word  # five 40-byte pieces, nothing lost
    cyr = "ж" * 100  # 2 bytes a letter
    assert _fits(analyze_name(cyr)) and "ж" * 20 in analyze_name(cyr)


def test_fit_respects_character_boundaries() -> None:
    pieces = analysis.fit("é" * 30, 7)
    assert all(len(p.encode()) <= 7 for p in pieces) and "".join(pieces) == "é" * 30


def test_memoised_name_analysis_hands_out_fresh_lists() -> None:
    first = analysis.analyze_name("张伟")
    first.append("mutated")
    assert "mutated" not in analysis.analyze_name("张伟")


@pytest.mark.parametrize("run", ["张伟", "朝阳", "长孙无忌", "重庆银行", "乐乐", "行长曾行", "单于长", "𠀀好"])
def test_per_character_readings_equal_pypinyin_on_the_whole_run(run: str) -> None:
    """Readings are memoised per character unless the run holds one of pypinyin's phrases."""
    from pypinyin import Style, lazy_pinyin

    whole = tuple(s if s.isascii() else "" for s in lazy_pinyin(run, style=Style.NORMAL, errors=analysis._unreadable))
    assert analysis._readings(run) == whole


def test_a_lexicon_file_of_another_format_is_refused(tmp_path: Path) -> None:
    from talentgraph.errors import StoreError

    path = tmp_path / analysis.LEXICON_FILE
    assert analysis.read_lexicon(path) == {}
    version = analysis.save_lexicon(path, {"联洋晨曦": 9})
    assert analysis.read_lexicon(path) == {"联洋晨曦": 9} and len(version) == 16
    path.write_text('{"format": 0, "words": {}}', encoding="utf-8")
    with pytest.raises(StoreError, match="another format"):
        analysis.read_lexicon(path)


def test_a_label_aliased_in_the_overlay_is_indexed_by_its_id_from_then_on(overlay: Path) -> None:
    from talentgraph.schema.overlay import add_alias
    from talentgraph.schema.vocabularies import package_vocabularies, refresh

    assert analyze_keyword("languages", ["俄罗斯话"], "languages") == ["俄罗斯话"]  # not a label yet: kept as written
    add_alias(overlay, package_vocabularies(), "languages", "ru", "俄罗斯话")
    refresh()  # what the overlay's recheck does within a second in a running server
    assert analyze_keyword("languages", ["俄罗斯话"], "languages") == ["ru"]  # not the remembered answer


@pytest.mark.parametrize("word", ["zhang", "O'Brien", "José", "straße", "Søren", "Иван", "김민준", "x" * 12, "é" * 25])
def test_ascii_shortcuts_answer_as_the_character_walk_does(word: str) -> None:
    walked = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    assert analysis.strip_diacritics(word) == (walked if walked.isascii() else anyascii(walked).casefold())
    assert analysis.is_latin_word(word) == all(
        c.isascii() or unicodedata.category(c).startswith("M") or "LATIN" in unicodedata.name(c, "") for c in word)
    for limit in (4, 7, 10, 40):
        pieces = analysis.fit(word, limit)
        assert "".join(pieces) == word and all(len(p.encode()) <= limit for p in pieces)
        assert len(pieces) == 1 or len(pieces[0].encode()) + len(pieces[1][0].encode()) > limit  # pieces are full
