"""Overlapping spans from the gazetteer ruler, the trained model and the name forms: which one a mention is."""

from __future__ import annotations

from talentgraph.text.pipeline import _Span, resolve


def kept(*spans: _Span) -> list[tuple[int, int, str, str]]:
    return [(s.start, s.end, s.type, s.source) for s in resolve(spans)]


def test_longest_span_wins_then_ruler_over_model_over_form() -> None:
    assert kept(_Span(0, 4, "Venue", "form", 0.6), _Span(0, 6, "Venue", "model", 0.8)) == [(0, 6, "Venue", "model")]
    assert kept(_Span(0, 6, "Group", "model", 0.8), _Span(0, 6, "Group", "ruler", 1.0)) == [(0, 6, "Group", "ruler")]


def test_a_name_form_decides_the_type_of_the_span_the_model_found_too() -> None:
    # 玉兰香苑读书会党支部: the model reads a Group from context, the form's suffix 党支部 says PartyOrganization.
    got = kept(_Span(0, 10, "Group", "model", 0.8), _Span(0, 10, "PartyOrganization", "form", 0.7))
    assert got == [(0, 10, "PartyOrganization", "form")]
    # Same type: the model's span stands (it ranks above a form).
    assert kept(_Span(0, 10, "Venue", "model", 0.8), _Span(0, 10, "Venue", "form", 0.7)) == [(0, 10, "Venue", "model")]
    # A longer model span is not overruled by a shorter form inside it.
    assert kept(_Span(0, 12, "Group", "model", 0.8), _Span(2, 12, "PartyOrganization", "form", 0.7)) == [
        (0, 12, "Group", "model")]


def test_a_form_made_of_two_known_names_is_no_new_name() -> None:
    got = kept(_Span(0, 4, "Area", "ruler", 1.0), _Span(4, 8, "Area", "ruler", 1.0), _Span(0, 8, "Area", "form", 0.6))
    assert got == [(0, 4, "Area", "ruler"), (4, 8, "Area", "ruler")]


def test_a_name_form_does_not_take_the_verb_or_preposition_before_it() -> None:
    from talentgraph.text.language import blank
    from talentgraph.text.patterns import FormMatcher

    nlp = blank("zh")
    text = ("经玉兰香苑居民区党支部批准，据统计梧桐书房今年开放。活动阵地设在梧桐体育公园。"
            "王芳同志当选海桐舞蹈队队长。社区主动对接海桐苑小区。")
    names = [text[f.start:f.end] for f in FormMatcher().find(nlp(text))]
    assert names and all(not n.startswith(("经", "据", "阵地", "设在", "同志", "当选", "主动", "对接")) for n in names), names
    assert {"梧桐体育公园", "海桐舞蹈队", "海桐苑小区"} <= set(names), names
