"""Pairwise precision/recall of a clustering against the demo's ground truth, on hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from talentgraph.demo.truth import Scores, load_truth, pairwise_scores
from talentgraph.errors import TalentgraphError

# Person A has three records, B two, C one: true pairs = C(3,2) + C(2,2) = 4.
TRUTH = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}


def test_perfect_clustering() -> None:
    s = pairwise_scores({r: f"k-{p}" for r, p in TRUTH.items()}, TRUTH)
    assert s == Scores(1.0, 1.0, 1.0, true_positives=4, false_positives=0, false_negatives=4 - 4,
                       predicted_pairs=4, true_pairs=4)


def test_all_singletons_claim_nothing() -> None:
    for clusters in ({}, {r: r for r in TRUTH}):  # missing from clusters = singleton
        s = pairwise_scores(clusters, TRUTH)
        assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)
        assert (s.true_positives, s.false_positives, s.false_negatives, s.predicted_pairs, s.true_pairs) == \
            (0, 0, 4, 0, 4)


def test_everything_in_one_cluster() -> None:
    s = pairwise_scores({r: "x" for r in TRUTH}, TRUTH)
    # C(6,2) = 15 predicted pairs, 4 of them true.
    assert (s.predicted_pairs, s.true_positives, s.false_positives, s.false_negatives) == (15, 4, 11, 0)
    assert s.precision == pytest.approx(4 / 15) and s.recall == 1.0
    assert s.f1 == pytest.approx(2 * (4 / 15) / (4 / 15 + 1))


def test_split_and_wrong_merge() -> None:
    # {a1,a2} {a3,b1} {b2} {c1 missing}: predicted pairs 2, true positive 1 (a1-a2).
    s = pairwise_scores({"a1": "1", "a2": "1", "a3": "2", "b1": "2", "b2": "3"}, TRUTH)
    assert (s.predicted_pairs, s.true_positives, s.false_positives, s.false_negatives) == (2, 1, 1, 3)
    assert (s.precision, s.recall) == (0.5, 0.25)
    assert s.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)


def test_records_truth_does_not_know_are_ignored() -> None:
    s = pairwise_scores({"a1": "1", "a2": "1", "zz": "1"}, TRUTH)
    assert (s.predicted_pairs, s.true_positives) == (1, 1)


def test_no_true_pairs() -> None:
    s = pairwise_scores({"x": "1", "y": "1"}, {"x": "X", "y": "Y"})
    assert (s.precision, s.recall, s.f1, s.false_positives) == (0.0, 1.0, 0.0, 1)


def test_load_truth_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text("record,person\r\nper:LY000001,LY000001\r\nper:VT000001,LY000001\r\n", encoding="utf-8")
    assert load_truth(path) == {"per:LY000001": "LY000001", "per:VT000001": "LY000001"}
    path.write_text("id,who\r\nx,y\r\n", encoding="utf-8")
    with pytest.raises(TalentgraphError, match="record,person"):
        load_truth(path)
