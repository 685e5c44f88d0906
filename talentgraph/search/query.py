"""Engine-neutral search query tree.

Built from user input by ``search/service.py`` after Python-side analysis; compiled to Tantivy
query objects (``search/tantivy/compile.py``) or to an OpenSearch/Elasticsearch query DSL body
(``search/opensearch/dsl.py``). User text never reaches an engine's query parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    boost: float = 1.0


@dataclass(frozen=True)
class Terms:
    """Any of ``values`` (a filter: no scoring intent)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Fuzzy:
    field: str
    value: str
    distance: int = 1
    prefix_length: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class Range:
    field: str
    gte: float | int | None = None
    lte: float | int | None = None


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Bool:
    must: tuple["Query", ...] = ()
    should: tuple["Query", ...] = ()
    must_not: tuple["Query", ...] = ()
    filter: tuple["Query", ...] = ()
    minimum_should_match: int = 0  # 0: shoulds are optional when there is a must/filter, else >= 1
    boost: float = 1.0


Query = Union[Term, Terms, Fuzzy, Range, MatchAll, Bool]


def walk(q: Query) -> list[Query]:
    """Every node of the tree, depth first (used for explanations and tests)."""
    out: list[Query] = [q]
    if isinstance(q, Bool):
        for part in (*q.must, *q.should, *q.must_not, *q.filter):
            out.extend(walk(part))
    return out


__all__ = ["Bool", "Fuzzy", "MatchAll", "Query", "Range", "Term", "Terms", "walk"]
