"""The engine-neutral half of compiling a query tree (``search/query.py``).

``QueryCompiler`` walks the tree once for every engine: it dispatches on the node kind, checks
fields and arguments, and applies the rules both engines must agree on — a ``Terms`` without values
or a ``minimum_should_match`` above the number of shoulds matches nothing, and a clause on a field
that an index built for an older mapping lacks matches nothing while that index is served. Engines
subclass it and build only the leaves and the boolean: ``tantivy/compile.py`` (``tantivy.Query``
objects) and ``opensearch/dsl.py`` (query DSL dicts).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Generic, Literal, TypeVar

from talentgraph.errors import BadQueryError
from talentgraph.search.mapping import FieldKind
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Query, Range, Term, Terms

# Fuzzy matching expands to every indexed term within the distance: Tantivy's automaton supports 2,
# and it is the most OpenSearch/Elasticsearch accept.
MAX_FUZZY_DISTANCE = 2

Unknown = Literal["raise", "empty"]
T = TypeVar("T")


class QueryCompiler(ABC, Generic[T]):
    """Compiles queries against one mapping; ``kinds`` maps engine field names to their kind.

    ``unknown="empty"`` makes a clause on a field the index lacks match nothing instead of failing:
    used while an index built for an older mapping is still being served, before its rebuild.
    """

    def __init__(self, kinds: Mapping[str, FieldKind], unknown: Unknown = "raise") -> None:
        self.kinds = dict(kinds)
        self.unknown = unknown

    def __call__(self, q: Query) -> T:
        return self.compile(q)

    def compile(self, q: Query) -> T:
        if isinstance(q, Bool):
            # Children first, so that a clause on an unknown field is reported even inside a bool
            # that could never match.
            must = [self.compile(x) for x in q.must]
            filter_ = [self.compile(x) for x in q.filter]
            should = [self.compile(x) for x in q.should]
            must_not = [self.compile(x) for x in q.must_not]
            if q.minimum_should_match > len(q.should):
                return self.match_none()
            return self.boolean(q, must=must, filter=filter_, should=should, must_not=must_not)
        if isinstance(q, MatchAll):
            return self.match_all()
        if not isinstance(q, (Term, Terms, Fuzzy, Range)):
            raise BadQueryError(f"Query node {q!r} is not part of the search query language.",
                                hint="Build queries from talentgraph.search.query.")
        if not self.searchable(q.field):
            return self.match_none()
        if isinstance(q, Term):
            return self.term(q)
        if isinstance(q, Terms):
            values = list(dict.fromkeys(q.values))
            return self.terms(q.field, values) if values else self.match_none()
        if isinstance(q, Fuzzy):
            if not 0 <= q.distance <= MAX_FUZZY_DISTANCE:
                raise BadQueryError(
                    f"Fuzzy query on {q.field!r} has distance {q.distance}.",
                    hint=f"Use a distance from 0 to {MAX_FUZZY_DISTANCE}.",
                )
            return self.fuzzy(q)
        # Every field the mapping produces is text or keyword: a range has nothing to compare (a
        # keyword range compares strings, "10" < "9", which is never what a caller means).
        raise BadQueryError(
            f"Range query on {q.field!r}, which is a {self.kinds[q.field]} field.",
            hint="Ranges need a numeric field; filter keyword facets with their values instead.",
        )

    def searchable(self, name: str) -> bool:
        """True when the field can be queried; False when it should match nothing; else raises."""
        kind = self.kinds.get(name)
        if kind is not None and kind is not FieldKind.SOURCE:
            return True
        if self.unknown == "empty" and kind is None:
            return False
        raise BadQueryError(
            f"Search field {name!r} is not searchable in this index.",
            hint="Known fields: " + ", ".join(sorted(n for n, k in self.kinds.items() if k is not FieldKind.SOURCE)) + ".",
        )

    # --- what each engine builds ----------------------------------------------------------------

    @abstractmethod
    def term(self, q: Term) -> T:
        """One exact token, scored, boosted by ``q.boost``."""

    @abstractmethod
    def terms(self, field: str, values: list[str]) -> T:
        """Any of ``values`` (deduplicated, never empty); a filter, so no boost."""

    @abstractmethod
    def fuzzy(self, q: Fuzzy) -> T:
        """Tokens within ``q.distance`` edits (already checked), every one scoring the boost."""

    @abstractmethod
    def match_all(self) -> T: ...

    @abstractmethod
    def match_none(self) -> T: ...

    @abstractmethod
    def boolean(self, q: Bool, *, must: list[T], filter: list[T], should: list[T], must_not: list[T]) -> T:
        """Compiled clauses combined as ``q`` says (``minimum_should_match`` is satisfiable here).

        ``filter`` clauses narrow without scoring; a bool with no must, filter or should means
        "everything except the must_nots", as in OpenSearch.
        """


def ranks(q: Query) -> bool:
    """Whether a query orders its matches by relevance (a term or fuzzy clause that scores).

    Browsing (match-all plus filters) does not, and is served in id order without scoring.
    """
    if isinstance(q, (Term, Fuzzy)):
        return True
    if isinstance(q, Bool):
        return any(ranks(x) for x in (*q.must, *q.should))
    return False


__all__ = ["MAX_FUZZY_DISTANCE", "QueryCompiler", "Unknown", "ranks"]
