"""The Fellegi–Sunter model (Splink) that scores pairs of person records.

Comparisons and blocking are declared here; every m/u parameter and the prior are estimated from
the data at hand (direct estimation of the prior from near-certain rules, u by random sampling, m
by expectation maximisation over two blockings), so no weight is set by hand. The model runs on
DuckDB in process; the same settings run on Spark (``splink.SparkAPI``) for a city-wide population.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from talentgraph.resolve.splink_compat import zero_probabilities_allowed

# Splink's comparison names are the ones shown to users in explanations (SAME_AS.weights).
NAME, BIRTH, PHONE, DOCUMENT, NATIONALITY, GENDER = "name", "birth", "phone", "document", "nationality", "gender"
COMPARISONS = (NAME, BIRTH, PHONE, DOCUMENT, NATIONALITY, GENDER)

# Levels (Splink's gamma: the highest number is the first non-null level) that are evidence other
# than a name. A pair is linked only with at least one: never a merge on name alone.
_EVIDENCE = {DOCUMENT: {1}, PHONE: {1}, BIRTH: {4, 3}}  # same document; same phone; same or mistyped date


@dataclass(frozen=True)
class ScoredPair:
    a: str
    b: str
    probability: float
    weights: dict[str, float]  # per comparison: match weight incl. term-frequency adjustment
    levels: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a < self.b else (self.b, self.a)

    @property
    def corroborated(self) -> bool:
        """Some comparison other than the name agrees."""
        return any(self.levels.get(c, -1) in lv for c, lv in _EVIDENCE.items())

    def weights_json(self) -> str:
        return json.dumps({k: round(v, 2) for k, v in self.weights.items()}, ensure_ascii=False, sort_keys=True)


@dataclass
class Trained:
    """A scored run: pairs at or above the review floor, the model as Splink's JSON, timings."""

    pairs: list[ScoredPair]
    model: dict[str, Any]
    seconds: dict[str, float]
    note: str = ""


def _settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name=NAME,
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_key", term_frequency_adjustments=True),
            cll.ArrayIntersectLevel("name_keys", min_intersection=1),
            cll.JaroWinklerLevel("name_key", 0.92),
            cll.JaroWinklerLevel("name_key", 0.80),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name=BIRTH,
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel('damerau_levenshtein("birth_date_l", "birth_date_r") <= 1', "date mistyped"),
            cll.CustomLevel('"birth_date_l" IS NOT NULL AND "birth_date_r" IS NOT NULL', "dates differ"),
            cll.ExactMatchLevel("birth_year"),
            cll.ElseLevel(),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name=PHONE,
        comparison_levels=[cll.NullLevel("phone"), cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
                           cll.ElseLevel()],
    )
    document = cl.CustomComparison(
        output_column_name=DOCUMENT,
        comparison_levels=[cll.NullLevel("id_hash"), cll.ExactMatchLevel("id_hash"), cll.ElseLevel()],
    )
    nationality = cl.CustomComparison(
        output_column_name=NATIONALITY,
        comparison_levels=[cll.NullLevel("nationality"), cll.ExactMatchLevel("nationality"), cll.ElseLevel()],
    )
    gender = cl.CustomComparison(
        output_column_name=GENDER,
        comparison_levels=[cll.NullLevel("gender"), cll.ExactMatchLevel("gender"), cll.ElseLevel()],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[name, birth, phone, document, nationality, gender],
        blocking_rules_to_generate_predictions=[
            block_on("id_hash"),
            block_on("phone"),
            block_on("name_keys", arrays_to_explode=["name_keys"]),
            block_on("birth_date"),
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def score(records: Any, *, review_floor: float, seed: int = 7, sample_pairs: float = 1e6,  # Splink's default
          db_api: Any = None) -> Trained:
    """Train on ``records`` (``records.SCHEMA``) and return every blocked pair scoring ≥ ``review_floor``.

    ``db_api`` is Splink's backend: DuckDB in process by default; for a population beyond one machine pass
    ``splink.SparkAPI(spark_session=spark)`` and a Spark DataFrame of the same columns (same settings, same
    training steps, the pairs come back the same way).
    """
    import time

    from splink import DuckDBAPI, Linker, block_on

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(records, pa.Table) and records.num_rows < 2:
        return Trained([], {}, {"train": 0.0, "predict": 0.0})
    db = db_api if db_api is not None else DuckDBAPI()
    linker = Linker(db.register(records), _settings(), log_level=logging.ERROR)
    t = linker.training
    # The prior from near-certain rules: the same identity document, or the same phone and birth date.
    t.estimate_probability_two_random_records_match(
        [block_on("id_hash"), block_on("phone", "birth_date")], recall=0.6)
    if not linker._settings_obj._probability_two_random_records_match > 0:
        # No two records share a document or a phone and birth date: nothing to learn matches from,
        # and a model that never saw one would only invent them.
        return Trained([], {}, {"train": time.perf_counter() - t0, "predict": 0.0},
                       note="no two records share an identity document or a phone and birth date; no links made")
    t.estimate_u_using_random_sampling(max_pairs=sample_pairs, seed=seed)
    # m by EM on two blockings, each training the comparisons the other holds fixed.
    from splink.internals.exceptions import EMTrainingException

    skipped: list[str] = []
    for rule in ("name_key", "birth_date"):
        try:
            with zero_probabilities_allowed():
                t.estimate_parameters_using_expectation_maximisation(block_on(rule))
        except EMTrainingException:  # no two records share this key: the other session still trains
            skipped.append(rule)
        except (ValueError, ZeroDivisionError) as exc:  # EM collapsed: too few matching pairs
            return Trained([], {}, {"train": time.perf_counter() - t0, "predict": 0.0},
                           note=f"the model could not be trained on these records ({exc}); no links made")
    if len(skipped) == 2:
        return Trained([], {}, {"train": time.perf_counter() - t0, "predict": 0.0},
                       note="no two records share a name key or a birth date to train on; no links made")
    note = f"trained without the {skipped[0]} session (no two records share one)" if skipped else ""
    seconds["train"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    predicted = linker.inference.predict(threshold_match_probability=review_floor)
    pairs = _pairs(predicted.as_pyarrow_table())  # type: ignore[no-untyped-call]
    seconds["predict"] = time.perf_counter() - t1
    return Trained(pairs, linker.misc.save_model_to_json(), seconds, note)


def _pairs(table: pa.Table) -> list[ScoredPair]:
    cols = table.to_pydict()
    out: list[ScoredPair] = []
    for i in range(table.num_rows):
        weights: dict[str, float] = {}
        levels: dict[str, int] = {}
        for c in COMPARISONS:
            mw = cols.get(f"mw_{c}", [0.0] * (i + 1))[i] or 0.0
            tf = cols.get(f"mw_tf_adj_{c}", [None] * (i + 1))[i] or 0.0
            weights[c] = float(mw) + float(tf)
            levels[c] = int(cols[f"gamma_{c}"][i])
        out.append(ScoredPair(cols["unique_id_l"][i], cols["unique_id_r"][i], float(cols["match_probability"][i]),
                              weights, levels))
    return out


def deterministic_pairs(records: pa.Table) -> list[tuple[str, str]]:
    """The blocking-only baseline: pairs sharing an identity document, a phone, or a name and birth date."""
    rows = records.to_pylist()
    out: set[tuple[str, str]] = set()
    for cols in (("id_hash",), ("phone",), ("name_key", "birth_date")):
        groups: dict[tuple[Any, ...], list[str]] = {}
        for r in rows:
            k = tuple(r[c] for c in cols)
            if all(v is not None for v in k):
                groups.setdefault(k, []).append(r["unique_id"])
        for ids in groups.values():
            ids.sort()
            out.update((ids[0], other) for other in ids[1:])  # a star spans the group: enough for clusters
    return sorted(out)
