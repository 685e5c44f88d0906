"""The text pipeline: sentences, gazetteer/model/form mentions with overlaps resolved, links and facts, per language."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.training import Example

from talentgraph.errors import ConfigError
from talentgraph.text.gazetteer import Gazetteer
from talentgraph.text.language import blank
from talentgraph.text.model import DocumentText, Extraction
from talentgraph.text.patterns import FormMatcher, gazetteer_patterns
from talentgraph.text.pipeline import PIPELINE_VERSION, TextPipeline, TextPipelines, build_pipeline
from text_world import PLACES_AND_PEOPLE

WORLD = Gazetteer.from_entries(PLACES_AND_PEOPLE)

ZH = """花木街道联洋社区2025年工作报告
今年，在联洋居委会和联洋社区党委的带领下，拇指广场志愿服务队开展活动30余次。联洋居民区党总支共有党员2,136名，36家共建单位！
上海图书馆东馆与外籍人士服务站合作，新增约170个停车位。张伟表示，社区居民约5万人。联洋新苑1号楼党小组成立于2016年。
前往图书馆，馆长介绍了中文长廊。"""

EN = ("Shanghai Library East opened in 2016. The Lianyang Volunteer Team, with about 120 volunteers, meets at "
      "Thumb Plaza.\nThe plaza has about 170 parking spaces. Zhang Wei said 5,000 foreign residents live in the "
      "Lianyang Community.")


@pytest.fixture(scope="module")
def zh() -> TextPipeline:
    return build_pipeline("zh", WORLD, use_model=False)  # shipped models change; these tests pin the rules


@pytest.fixture(scope="module")
def en() -> TextPipeline:
    return build_pipeline("en", WORLD, use_model=False)


def doc(text: str, language: str, path: str = "d.txt") -> DocumentText:
    return DocumentText(path, "t", text, language)


def spans(ex: Extraction) -> list[tuple[str, str, str]]:
    return [(m.text, m.type, m.source) for m in ex.mentions]


def test_zh_sentences(zh: TextPipeline) -> None:
    ex = zh.extract(doc(ZH, "zh"))
    sents = [ZH[s.start:s.end] for s in ex.sentences]
    assert sents[0] == "花木街道联洋社区2025年工作报告"
    assert sents[1].startswith("今年，") and sents[1].endswith("30余次。")
    assert sents[2].endswith("36家共建单位！")
    assert "前往图书馆，馆长介绍了中文长廊。" == sents[-1]
    assert len(sents) == 7


def test_zh_mentions_sources_and_overlaps(zh: TextPipeline) -> None:
    ex = zh.extract(doc(ZH, "zh"))
    got = spans(ex)
    assert ("花木街道", "Area", "ruler") in got and ("联洋社区", "Area", "ruler") in got
    assert ("上海图书馆东馆", "Venue", "ruler") in got and ("外籍人士服务站", "Venue", "ruler") in got
    assert ("中文长廊", "Venue", "ruler") in got
    # Forms: names no register has, the longest span winning over the gazetteer names inside it.
    assert ("联洋社区党委", "PartyOrganization", "form") in got  # not 今年/在 (stop words)
    assert ("拇指广场志愿服务队", "Group", "form") in got  # not the Venue 拇指广场 inside it
    assert ("联洋居民区党总支", "PartyOrganization", "form") in got
    assert ("联洋新苑1号楼党小组", "PartyOrganization", "form") in got
    assert ("联洋居委会", "Area", "form") in got
    # Common nouns are no names: 图书馆 alone, 馆 of 馆长.
    assert not any(t in ("图书馆", "馆长", "图书馆，馆") for t, _, _ in got)
    starts = [m.start for m in ex.mentions]
    assert starts == sorted(starts)
    ends = [(m.start, m.end) for m in ex.mentions]
    assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:]))  # no overlaps
    assert all(ZH[m.start:m.end] == m.text for m in ex.mentions)


def test_zh_links_candidates_and_facts(zh: TextPipeline) -> None:
    ex = zh.extract(doc(ZH, "zh"))
    by_text = {m.text: m for m in ex.mentions}
    assert by_text["联洋居委会"].node_id == "area:lyjmq" and by_text["联洋居委会"].method == "normalised"
    assert by_text["上海图书馆东馆"].node_id == "ven:lib" and by_text["上海图书馆东馆"].method == "exact"
    party = by_text["联洋新苑1号楼党小组"]
    assert party.node_id is None and party.candidate_key == "PartyOrganization:联洋新苑1号楼党小组"
    assert party.method == "form" and party.score > by_text["联洋社区党委"].score  # longer name part: surer
    assert by_text["张伟"].alternatives == ("per:1", "per:2") and by_text["张伟"].node_id is None
    facts = {(f.measure, f.value, f.approximate, f.subject.text if f.subject else None) for f in ex.facts}
    assert facts == {
        ("party_members", 2136, False, "联洋居民区党总支"),
        ("co_building_units", 36, False, "联洋居民区党总支"),
        ("parking_spaces", 170, True, "外籍人士服务站"),
        ("residents", 50_000, True, "花木街道"),  # no Area near: the main subject (a tie: the first mentioned)
        ("year", 2016, False, "联洋新苑1号楼党小组"),
    }
    assert ex.pipeline == f"talentgraph-text/{PIPELINE_VERSION}+no-model" and not zh.has_model


def test_gazetteer_names_are_whole_tokens(zh: TextPipeline) -> None:
    words = [t.text for t in zh.nlp.make_doc("在上海图书馆东馆和外籍人士服务站")]
    assert "上海图书馆东馆" in words and "外籍人士服务站" in words


def test_en(en: TextPipeline) -> None:
    ex = en.extract(doc(EN, "en"))
    got = spans(ex)
    assert got == [("Shanghai Library East", "Venue", "ruler"), ("Lianyang Volunteer Team", "Group", "form"),
                   ("Thumb Plaza", "Venue", "ruler"), ("Zhang Wei", "Person", "ruler"),
                   ("Lianyang Community", "Area", "form")]
    assert [EN[s.start:s.end][:12] for s in ex.sentences] == ["Shanghai Lib", "The Lianyang", "The plaza ha",
                                                               "Zhang Wei sa"]
    assert ex.mentions[3].node_id == "per:1"  # the alias is unique
    facts = [(f.measure, f.value, f.subject.text if f.subject else None) for f in ex.facts]
    assert facts == [("year", 2016, "Shanghai Library East"), ("volunteers", 120, "Lianyang Volunteer Team"),
                     ("parking_spaces", 170, "Thumb Plaza"), ("foreign_residents", 5000, "Lianyang Community")]


def test_en_links_the_english_names_registers_give() -> None:
    # The graph holds Chinese titles and the registers' English names (name_en, an alias): an English report
    # naming a venue, a residential area and its party branch links each to its node.
    g = Gazetteer.from_entries([
        ("大拇指广场", "ven:V04", "Venue"), ("Thumb Plaza", "ven:V04", "Venue", "alias"),
        ("联洋新苑", "area:RA01", "Area"), ("Lianyang Xinyuan", "area:RA01", "Area", "alias"),
        ("联洋新苑居民区党总支", "org:A01", "PartyOrganization"),
        ("Lianyang Xinyuan General Party Branch", "org:A01", "PartyOrganization", "alias"),
    ])
    text = ("The Lianyang Xinyuan General Party Branch has 320 party members. Residents of Lianyang Xinyuan "
            "Residential Area met at the THUMB PLAZA. Thumb Plaza has about 170 parking spaces.")
    ex = build_pipeline("en", g, use_model=False).extract(doc(text, "en"))
    assert [(m.text, m.node_id, m.method) for m in ex.mentions] == [
        ("Lianyang Xinyuan General Party Branch", "org:A01", "alias"),
        ("Lianyang Xinyuan Residential Area", "area:RA01", "normalised"),  # the level word dropped
        ("THUMB PLAZA", "ven:V04", "normalised"),
        ("Thumb Plaza", "ven:V04", "alias"),
    ]


def test_extract_many_keeps_order_and_equals_extract(zh: TextPipeline) -> None:
    docs = [doc(ZH, "zh", "a"), doc("拇指广场新增约170个停车位。", "zh", "b"), doc("", "zh", "c")]
    many = list(zh.extract_many(docs, batch_size=2))
    assert [e.document.path for e in many] == ["a", "b", "c"]
    assert many[0].mentions == zh.extract(docs[0]).mentions
    assert many[2].mentions == [] and many[2].sentences == []


def test_language_mismatch_and_routing(zh: TextPipeline) -> None:
    with pytest.raises(ValueError, match="route documents by language"):
        zh.extract(doc(EN, "en"))
    pipes = TextPipelines(WORLD, use_model=False)
    out = list(pipes.extract_many([doc(ZH, "zh", "1"), doc(EN, "en", "2"), doc("拇指广场", "zh", "3")]))
    assert [(e.document.path, e.document.language) for e in out] == [("1", "zh"), ("2", "en"), ("3", "zh")]
    assert out[1].mentions[0].node_id == "ven:lib"


def test_unknown_language_and_missing_model() -> None:
    with pytest.raises(ConfigError):
        build_pipeline("fr", WORLD)
    with pytest.raises(ConfigError, match="No trained text model"):
        build_pipeline("zh", WORLD, model_dir=Path("/nonexistent/model"))


def test_trained_ner_is_used_and_versioned(tmp_path: Path) -> None:
    nlp = blank("zh")
    nlp.add_pipe("ner")
    data = [("王小明参加了活动。", [(0, 3, "Person")]), ("王小明和居民聊天。", [(0, 3, "Person")]),
            ("今天天气很好。", [(0, 4, "Weather")])]  # a label that is no ontology type: ignored
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in data]
    nlp.initialize(lambda: examples)
    for _ in range(25):
        nlp.update(examples, drop=0.0)
    nlp.meta["name"], nlp.meta["version"] = "tiny", "0.0.1"
    nlp.to_disk(tmp_path)
    p = build_pipeline("zh", WORLD, model_dir=tmp_path)
    assert p.has_model and p.version.startswith(f"talentgraph-text/{PIPELINE_VERSION}+tiny-0.0.1@")
    assert p.nlp.pipe_names == ["tg_gazetteer", "tg_sentences", "ner"]
    ex = p.extract(doc("王小明参加了活动。今天天气很好。在拇指广场。", "zh"))
    assert spans(ex) == [("王小明", "Person", "model"), ("拇指广场", "Venue", "ruler")]
    assert ex.mentions[0].candidate_key == "Person:王小明" and ex.mentions[0].method == "model"
    with pytest.raises(ConfigError, match="is for 'zh'"):
        build_pipeline("en", WORLD, model_dir=tmp_path)


def test_patterns_from_gazetteer_and_ontology() -> None:
    pats = gazetteer_patterns(WORLD)
    assert {"label": "Venue", "pattern": "Thumb Plaza", "id": "ruler"} in pats
    assert sum(1 for p in pats if p["pattern"] == "张伟") == 1  # one pattern per (surface, type)
    fm = FormMatcher()
    nlp = blank("zh")
    d = nlp("与中文长廊和拇指广场。")
    assert [d.text[f.start:f.end] for f in fm.find(d)] == ["中文长廊", "拇指广场"]
    assert fm.find(nlp("外籍人士服务站开放。")) == []  # an ending alone is no name


def test_an_empty_graph_still_reads_documents_without_warnings() -> None:
    # A fresh data dir has no names yet: documents are still read (name forms, facts), and nothing warns
    # (pytest turns warnings into errors, so a W036 per document would fail here).
    from talentgraph.text.gazetteer import Gazetteer
    from talentgraph.text.model import DocumentText
    from talentgraph.text.pipeline import build_pipeline

    text = "联洋居民区党总支共有党员2,136名。"
    doc = DocumentText(path="a.txt", title="t", text=text, language="zh")
    out = build_pipeline("zh", Gazetteer.from_entries([]), use_model=False).extract(doc)
    assert out.sentences
    assert [(f.measure, f.value) for f in out.facts] == [("party_members", 2136)]
