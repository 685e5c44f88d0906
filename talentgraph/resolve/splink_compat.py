"""One accommodation for Splink 5.0's EM, kept in one place.

Splink 5.0 refuses an m or u probability below 1e-300 when a comparison level's parameter is set,
and its own expectation maximisation produces exactly 0.0 for a level at which every pair scores as a
certain non-match (a level seen only among non-matches: "dates differ" when no duplicate mistyped a
date). The weights Splink derives clamp such values anyway (``ComparisonLevel._match_weight`` takes
``max(m, 1e-300)``), so during training a zero is let through and only a negative or NaN value is
refused. Remove this when Splink accepts an unobserved-among-matches level from its own EM.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()


def _validate(value: Any, param_name: str, level_not_observed_text: str) -> None:
    if value is None or value == level_not_observed_text:
        return
    if isinstance(value, (int, float)) and (math.isnan(value) or value < 0):
        raise ValueError(f"{param_name} value {value} is not a probability.")


@contextmanager
def zero_probabilities_allowed() -> Iterator[None]:
    from splink.internals import comparison_level

    with _lock:
        original = comparison_level._validate_m_u_probability
        comparison_level._validate_m_u_probability = _validate
        try:
            yield
        finally:
            comparison_level._validate_m_u_probability = original
