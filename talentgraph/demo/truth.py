"""Ground truth of the demo registers and pairwise scores of an entity-resolution result against it.

``generate`` writes ``truth.csv`` (columns ``record,person``): every Person node id the demo pipeline
creates, and the key of the person it describes. Two records are a true pair when they have the same
person. ``pairwise_scores`` compares predicted clusters with that, over record pairs, from the
cluster contingency counts (a sum of n·(n−1)/2 per cell): no pair is ever enumerated, so scoring
50,000 records costs one pass.

    truth = load_truth(regs.truth)
    scores = pairwise_scores({"per:VT000001": "per:LY000042", ...}, truth)   # record → cluster id
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from talentgraph.errors import TalentgraphError


@dataclass(frozen=True)
class Scores:
    """Pairwise precision and recall. With no predicted pairs precision is 1.0 (nothing claimed,
    nothing wrong); with no true pairs recall is 1.0; f1 is 0.0 when both are 0."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    predicted_pairs: int
    true_pairs: int


def load_truth(path: Path) -> dict[str, str]:
    """``truth.csv`` → {record id: person key}."""
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"record", "person"} <= set(reader.fieldnames):
            raise TalentgraphError(f"{path}: expected the columns record,person, found {reader.fieldnames}.",
                                   hint="Pass the truth.csv that talentgraph.demo.generate() wrote.")
        return {row["record"]: row["person"] for row in reader}


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_scores(clusters: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Score predicted ``clusters`` (record → cluster id) against ``truth`` (record → person).

    The records scored are those of ``truth``; one missing from ``clusters`` is a singleton, and
    records ``clusters`` names that ``truth`` does not know are ignored.
    """
    predicted: Counter[str] = Counter()
    cells: Counter[tuple[str, str]] = Counter()
    for record, person in truth.items():
        cluster = clusters.get(record)
        if cluster is None:
            continue  # a singleton: in no predicted pair, so it adds to no count below
        predicted[cluster] += 1
        cells[(cluster, person)] += 1
    true_pairs = _pairs(Counter(truth.values()).values())
    predicted_pairs = _pairs(predicted.values())
    tp = _pairs(cells.values())
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, predicted_pairs - tp, true_pairs - tp, predicted_pairs, true_pairs)
