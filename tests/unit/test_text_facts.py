"""Numeric facts: the Chinese and English forms, multipliers, approximate markers, and the subject they attach to."""

from __future__ import annotations

import pytest

from talentgraph.text.facts import chinese_number, extract_facts, find_statements
from talentgraph.text.model import Mention, Sentence


@pytest.mark.parametrize(("text", "statement", "measure", "value", "unit", "approx"), [
    ("联洋居民区党总支共有2,136名党员。", "2,136名党员", "party_members", 2136, "名", False),
    ("党员2136名", "党员2136名", "party_members", 2136, "名", False),
    ("签约36家共建单位", "36家共建单位", "co_building_units", 36, "家", False),
    ("三十六家共建单位", "三十六家共建单位", "co_building_units", 36, "家", False),
    ("新增约170个停车位", "约170个停车位", "parking_spaces", 170, "个", True),
    ("停车位170个左右", "停车位170个左右", "parking_spaces", 170, "个", True),
    ("there are about 170 parking spaces", "about 170 parking spaces", "parking_spaces", 170, "", True),
    ("居民约5万人", "居民约5万人", "residents", 50_000, "人", True),
    ("常住人口5.2万人", "常住人口5.2万人", "residents", 52_000, "人", False),
    ("a population of about 50,000", "population of about 50,000", "residents", 50_000, "", True),
    ("5,000 foreign residents", "5,000 foreign residents", "foreign_residents", 5000, "", False),
    ("外籍居民5000余名", "外籍居民5000余名", "foreign_residents", 5000, "名", True),  # not 居民5000名
    ("逾3,200户居民", "逾3,200户居民", "households", 3200, "户", True),
    ("居民3200户", "居民3200户", "households", 3200, "户", False),  # 户: households, not residents
    ("more than 300 volunteers", "more than 300 volunteers", "volunteers", 300, "", True),
    ("志愿者近百名", "志愿者近百名", "volunteers", 100, "名", True),
    ("nearly 1.2 thousand volunteers", "nearly 1.2 thousand volunteers", "volunteers", 1200, "", True),
    ("辖区面积3.2平方公里", "辖区面积3.2平方公里", "area_m2", 3_200_000, "m2", False),
    ("建筑面积约1,200平方米", "建筑面积约1,200平方米", "area_m2", 1200, "m2", True),
    ("over 1,200 square metres", "over 1,200 square metres", "area_m2", 1200, "m2", True),
    ("成立于2016年", "成立于2016年", "year", 2016, "year", False),
    ("2016年3月揭牌", "2016年3月揭牌", "year", 2016, "year", False),
    ("The team was founded in 2016.", "founded in 2016", "year", 2016, "year", False),
    ("2011年，编织社正式组建", "2011年，编织社正式组建", "year", 2011, "year", False),  # the year opens the clause
    ("2011年，编织社在樱花苑活动，后来成立", None, None, None, None, None),  # the verb is in another clause
    ("共享车位26只", "车位26只", "parking_spaces", 26, "只", False),
    ("设有157只停车位", "157只停车位", "parking_spaces", 157, "只", False),
    ("服务境外居民4,829余名", "境外居民4,829余名", "foreign_residents", 4829, "名", True),
    ("共有队员62名", "队员62名", "members", 62, "名", False),  # what they count follows from the subject
    ("the Party Branch (nearly 13 members)", "nearly 13 members", "members", 13, "", True),
    ("成立于1850年", None, None, None, None, None),  # out of range
    ("2.5 volunteers", None, None, None, None, None),  # a count is whole
])
def test_statements(text: str, statement: str | None, measure: str | None, value: float | None,
                    unit: str | None, approx: bool | None) -> None:
    hits = find_statements(text)
    if statement is None:
        assert hits == []
        return
    assert len(hits) == 1, [text[h.start:h.end] for h in hits]
    h = hits[0]
    assert (text[h.start:h.end], h.measure, h.value, h.unit, h.approximate) == (statement, measure, value, unit, approx)


def test_two_statements_in_one_sentence() -> None:
    text = "辖区面积约3.2平方公里，常住人口5.2万人，外籍人士5,000余名。"
    got = [(text[h.start:h.end], h.measure) for h in find_statements(text)]
    assert got == [("辖区面积约3.2平方公里", "area_m2"), ("常住人口5.2万人", "residents"),
                   ("外籍人士5,000余名", "foreign_residents")]


def test_dates_are_not_years_or_counts() -> None:
    assert find_statements("2025年3月12日，居民代表开会。") == []


@pytest.mark.parametrize(("s", "n"), [("三十六", 36), ("一百七十", 170), ("两千", 2000), ("二〇一六", 2016),
                                      ("十二", 12), ("三", 3), ("abc", None)])
def test_chinese_numbers(s: str, n: int | None) -> None:
    assert chinese_number(s) == n


def mention(text: str, doc: str, type_: str, node_id: str | None = None, nth: int = 0) -> Mention:
    start = -1
    for _ in range(nth + 1):
        start = doc.index(text, start + 1)
    return Mention(start, start + len(text), text, type_, "ruler", node_id=node_id)


def sentences(doc: str) -> list[Sentence]:
    out, start = [], 0
    for i, ch in enumerate(doc):
        if ch in "。\n":
            out.append(Sentence(start, i + 1))
            start = i + 1
    if start < len(doc):
        out.append(Sentence(start, len(doc)))
    return out


def test_subject_is_the_nearest_fitting_mention_before_in_the_sentence() -> None:
    doc = "联洋社区居民约5万人，联洋居民区党总支有党员2,136名，拇指广场新增约170个停车位。"
    ms = [mention("联洋社区", doc, "Area", "area:1"), mention("联洋居民区党总支", doc, "PartyOrganization", "org:1"),
          mention("拇指广场", doc, "Venue", "ven:1")]
    facts = extract_facts(doc, sentences(doc), ms)
    assert [(f.measure, f.subject.node_id if f.subject else None) for f in facts] == [
        ("residents", "area:1"), ("party_members", "org:1"), ("parking_spaces", "ven:1")]
    assert all(f.sentence == Sentence(0, len(doc)) for f in facts)


def test_subject_type_must_carry_the_measure() -> None:
    doc = "联洋社区有居民约5万人，张伟表示：共有党员2,136名。"
    ms = [mention("联洋社区", doc, "Area", "area:1"), mention("张伟", doc, "Person", "per:1")]
    facts = extract_facts(doc, sentences(doc), ms)
    assert [f.subject.node_id if f.subject else None for f in facts] == ["area:1", "area:1"]  # never the person


def test_subject_after_in_sentence_then_previous_sentence_then_main_subject() -> None:
    doc = ("Zhang Wei said 5,000 foreign residents live in the Lianyang Community.\n"
           "Thumb Plaza opened.\nThe plaza has about 170 parking spaces.\n"
           "The Shanghai Library East and Thumb Plaza are busy.\nToday\n1,200 square metres were added.")
    ms = [mention("Zhang Wei", doc, "Person", "per:1"), mention("Lianyang Community", doc, "Area", "area:1"),
          mention("Thumb Plaza", doc, "Venue", "ven:1"), mention("Shanghai Library East", doc, "Venue", "ven:2"),
          mention("Thumb Plaza", doc, "Venue", "ven:1", nth=1)]
    facts = extract_facts(doc, sentences(doc), ms)
    assert [(f.measure, f.subject.node_id if f.subject else None) for f in facts] == [
        ("foreign_residents", "area:1"),  # after it, same sentence
        ("parking_spaces", "ven:1"),  # the previous sentence's plaza
        ("area_m2", "ven:1"),  # nothing near: the venue mentioned most (Thumb Plaza twice)
    ]


def test_no_fitting_mention_no_subject() -> None:
    doc = "张伟说共有党员2,136名。"
    facts = extract_facts(doc, sentences(doc), [mention("张伟", doc, "Person")])
    assert len(facts) == 1 and facts[0].subject is None


def test_statement_across_sentences_is_dropped() -> None:
    doc = "Residents: 120\nvolunteers came."
    assert extract_facts(doc, sentences(doc), []) == []


def test_members_count_what_their_subject_is() -> None:
    doc = "助老志愿分队共有队员62名。The Party Branch of Lianyang School was set up with 5 members."
    ms = [mention("助老志愿分队", doc, "Group", "grp:1"),
          mention("Party Branch of Lianyang School", doc, "PartyOrganization", "org:1")]
    facts = extract_facts(doc, sentences(doc), ms)
    # A group's members are its volunteers, a party branch's its party members.
    assert [(f.measure, f.value, f.subject.node_id if f.subject else None) for f in facts] == [
        ("volunteers", 62, "grp:1"), ("party_members", 5, "org:1")]
    # Members of nothing a members count fits (a person, a venue) are not kept: what they count is unknown.
    doc = "张伟在拇指广场说，共有队员3名。"
    ms = [mention("张伟", doc, "Person", "per:1"), mention("拇指广场", doc, "Venue", "ven:1")]
    assert extract_facts(doc, sentences(doc), ms) == []
