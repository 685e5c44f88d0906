"""The relevance benchmark's metrics against hand-computed values, and its judged set on a tiny generated world."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import judged  # noqa: E402
from judged import Concept, Person, Query, build_queries, concept_grades, world_truth  # noqa: E402
from relevance import Scored, by_class, ndcg, pick_worst, recall_at, reciprocal_rank, score  # noqa: E402

from talentgraph.demo.names import PersonName  # noqa: E402

LOG2_3 = math.log2(3)


# --- metrics -------------------------------------------------------------------------------------------------


def test_ndcg_uses_graded_exponential_gains_and_log_discount() -> None:
    grades = {"a": 2, "b": 1, "c": 2}
    # ranking b, a, x: gains 1, 3, 0 → DCG = 1/1 + 3/log2(3); ideal 2, 2, 1 → 3/1 + 3/log2(3) + 1/2
    expected = (1 + 3 / LOG2_3) / (3 + 3 / LOG2_3 + 0.5)
    assert ndcg(["b", "a", "x"], grades) == pytest.approx(expected)
    assert expected == pytest.approx(0.53642, abs=1e-5)
    assert ndcg(["a", "c", "b"], grades) == pytest.approx(1.0)
    assert ndcg(["x", "y"], grades) == 0.0


def test_ndcg_gives_a_repeated_person_and_an_unknown_hit_nothing() -> None:
    grades = {"a": 2, "c": 2}
    # a, a, c: gains 3, 0, 3 → 3 + 3/2 = 4.5; ideal 3 + 3/log2(3)
    assert ndcg(["a", "a", "c"], grades) == pytest.approx(4.5 / (3 + 3 / LOG2_3))
    assert ndcg([None, "a"], grades) == pytest.approx((3 / LOG2_3) / (3 + 3 / LOG2_3))


def test_ndcg_counts_only_the_first_k() -> None:
    grades = {"a": 2}
    assert ndcg(["x"] * 10 + ["a"], grades, k=10) == 0.0
    assert ndcg(["x"] * 9 + ["a"], grades, k=10) == pytest.approx(1 / math.log2(11))
    assert ndcg(["a"], {}) == 0.0  # nothing judged relevant: nothing to normalise by


def test_recall_is_capped_at_k() -> None:
    assert recall_at(["x", "a"], {"a", "c"}) == 0.5
    assert recall_at(["a", "a", "c"], {"a", "c"}) == 1.0  # a person found twice is found once
    many = {f"p{i}" for i in range(150)}
    assert recall_at(sorted(many)[:100], many, k=100) == 1.0  # 100 of 150 relevant in 100 slots: all one could find
    assert recall_at(sorted(many)[:100], many, k=10) == 1.0
    assert recall_at(["x"] * 100 + ["a"], {"a"}, k=100) == 0.0
    assert recall_at(["a"], set()) == 0.0


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(["x", None, "a", "c"], {"a", "c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], {"a"}) == 1.0
    assert reciprocal_rank(["x", "y"], {"a"}) == 0.0
    assert reciprocal_rank(["x"] * 100 + ["a"], {"a"}, k=100) == 0.0


def _name(n: str = "张伟") -> PersonName:
    return PersonName(n, "Zhang Wei", "zh", (n[0],), (n[1:],), ("Zhang",), ("Wei",))


def _person(key: str, languages: tuple[str, ...] = ("zh",), skills: tuple[str, ...] = (), *, area: str = "RA01",
            volunteer: bool = False, party: bool = False, nationality: str = "CN") -> Person:
    return Person(key, _name(), nationality != "CN", nationality, frozenset(languages), frozenset(skills), area,
                  volunteer, party, judged.implied_languages(skills))


def test_score_maps_hits_to_persons_and_aggregates_per_class_and_split() -> None:
    q = Query("compound:01", "compound", "俄语翻译", {"P1": 2, "P2": 1}, split="dev")
    name_q = Query("name/hanzi:01", "name/hanzi", "张伟", {"P3": 2}, target="P3", split="test")
    records = {"per:A": "P1", "per:B": "P2", "per:C": "P1", "per:D": "P3"}
    s = score(q, [{"id": "per:B"}, {"id": "per:C"}, {"id": "per:A"}, {"id": "per:Z"}], 4, records)
    assert [h["grade"] for h in s.hits] == [1, 2, 2, 0]  # per:C and per:A are both P1; per:Z is no one judged
    # gains 1, 3, 0 (P1 again), 0 → 1 + 3/log2(3); ideal 2, 1 → 3 + 1/log2(3)
    assert s.ndcg == pytest.approx((1 + 3 / LOG2_3) / (3 + 1 / LOG2_3)) and s.recall == 1.0 and s.rr is None
    n = score(name_q, [{"id": "per:B"}, {"id": "per:D"}], 2, records)
    assert n.rr == 0.5
    table = by_class([s, n])
    assert table["compound"]["n"] == 1 and table["compound"]["dev"]["n"] == 1 and table["compound"]["test"]["n"] == 0
    assert table["name (all forms)"]["mrr"] == 0.5 and table["overall"]["mrr"] == 0.5
    assert table["overall"]["ndcg10"] == pytest.approx(round((s.ndcg + n.ndcg) / 2, 3))


def test_pick_worst_spreads_over_classes_and_skips_perfect_queries() -> None:
    rows = [Scored(Query(f"{c}:{i}", c, f"{c}{i}", {"a": 2}), nd, 0.0, None, 0)
            for c, i, nd in (("area", 1, 0.0), ("area", 2, 0.0), ("pinyin", 1, 0.5), ("role", 1, 1.0))]
    worst = pick_worst(rows, n=2)
    assert [s.query.qid for s in worst] == ["area:1", "pinyin:1"]
    assert [s.query.qid for s in pick_worst(rows, n=10)] == ["area:1", "area:2", "pinyin:1"]


# --- grading -------------------------------------------------------------------------------------------------


def test_concept_grades_follow_the_rule() -> None:
    people = [_person("both", ("zh", "ru"), ("translation.en",)), _person("lang", ("zh", "ru"), ("music.piano",)),
              _person("skill", ("zh",), ("interpretation.escort",)), _person("none", ("zh",), ("music.piano",)),
              _person("implied", ("zh",), ("translation.ru",))]
    ru_translator = (Concept("language", ("ru",)), Concept("skill", ("translation", "interpretation")))
    assert concept_grades(people, ru_translator) == {"both": 2, "lang": 1, "skill": 1, "implied": 2}
    # One concept: holders 2, nobody 1.
    assert concept_grades(people, (Concept("skill", ("music.piano",)),)) == {"lang": 2, "none": 2}
    # A skill concept holds below its id, never beside it (music.piano is not music.pipa).
    assert concept_grades(people, (Concept("skill", ("music",)),)) == {"lang": 2, "none": 2}
    assert concept_grades(people, (Concept("skill", ("music.pipa",)),)) == {}


def test_a_query_nobody_answers_is_left_out() -> None:
    people = {p.key: p for p in [_person("t", ("zh", "en"), ("teaching.primary",), volunteer=True),
                                 _person("c", ("zh",), ("cooking.baking",), party=True)]}
    queries = build_queries(people, seed=1)
    texts = {q.text: q for q in queries}
    assert "俄语翻译" not in texts and "Russian translator" not in texts  # nobody here speaks Russian
    assert texts["English teacher"].grades == {"t": 2}
    assert texts["党员"].grades == {"c": 2}
    assert all(q.relevant for q in queries)


@pytest.fixture(scope="module")
def tiny() -> tuple[dict[str, Person], dict[str, str], list[Query]]:
    people, records = world_truth(residents=400, seed=7)
    return people, records, build_queries(people, seed=7)


def test_every_query_has_an_answer_and_both_splits_exist(tiny: tuple[dict[str, Person], dict[str, str],
                                                                      list[Query]]) -> None:
    people, records, queries = tiny
    assert len(queries) >= 100
    assert all(q.relevant for q in queries)
    assert all(set(q.grades) <= set(people) and set(q.grades.values()) <= {1, 2} for q in queries)
    assert {q.split for q in queries} == {"dev", "test"}
    assert all(q.split == judged.split_of(q.qclass, q.text) for q in queries)
    assert set(records.values()) <= set(people)  # every Person record is judged as someone
    classes = {q.qclass for q in queries}
    assert {"compound", "natural", "role", "skill_language_zh", "skill_language_en", "name/hanzi",
            "name/pinyin", "name/latin_passport"} <= classes


def test_concept_queries_are_graded_by_the_rule(tiny: tuple[dict[str, Person], dict[str, str], list[Query]]) -> None:
    people, _, queries = tiny
    for q in (q for q in queries if not q.is_name):
        assert q.concepts
        for p in people.values():
            held = sum(c.held_by(p) for c in q.concepts)
            want = 2 if held == len(q.concepts) else 1 if held and len(q.concepts) > 1 else 0
            assert q.grades.get(p.key, 0) == want, (q.text, p.key)


def test_name_queries_find_their_resident_and_namesakes(tiny: tuple[dict[str, Person], dict[str, str],
                                                                    list[Query]]) -> None:
    people, _, queries = tiny
    names = [q for q in queries if q.is_name]
    assert names and all(q.grades.get(q.target) == 2 for q in names)
    for q in names:
        if q.qclass == "name/hanzi":  # written as the register writes it: grade 2 is exactly the same name
            assert {k for k, g in q.grades.items() if g == 2} == {p.key for p in people.values()
                                                                   if p.name.name == q.text}
        if q.qclass == "name/pinyin_tones":  # grade 2: the same tones; grade 1: the same letters, other tones
            family, given = q.text.split(" ", 1)
            for k, g in q.grades.items():
                n = people[k].name
                same_tones = judged.own_key(judged.toned(n.family[0], n.family_latin[0]),
                                            judged.toned(n.given[0], n.given_latin[0])) == judged.own_key(family, given)
                assert same_tones == (g == 2), (q.text, k, g)
                assert judged.latin_key(n.family_latin[0], n.given_latin[0]) == judged.latin_key(family, given)


def test_the_set_is_deterministic(tiny: tuple[dict[str, Person], dict[str, str], list[Query]]) -> None:
    people, _, queries = tiny
    again = build_queries(people, seed=7)
    assert [(q.qid, q.text, dict(q.grades)) for q in again] == [(q.qid, q.text, dict(q.grades)) for q in queries]


def test_toned_pinyin_reads_names_as_the_generator_does() -> None:
    assert judged.toned("曾", "Zeng") == "zēng"  # the surname reading, not céng
    assert judged.toned("伟明", "Weiming") == "wěimíng"
    assert judged.toned("吕", "Lyu") == "Lyu"  # no tone-marked spelling of Lyu: left as written
