"""Engine-neutral query tree (``search/query.py``) → ``tantivy.Query`` objects.

Only typed constructors are used (term, term set, fuzzy, boolean, boost, const score, all): user
text has already been analysed into tokens by ``search/service.py`` and never reaches Tantivy's
query parser, so no query syntax (``AND``, ``:``, ``*``) typed by a user can change a search.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import tantivy

from talentgraph.errors import BadQueryError
from talentgraph.search.mapping import ANALYSED, FieldKind
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Query, Range, Term, Terms

# Fuzzy matching expands to every indexed term within the distance: Tantivy's automaton supports 2.
MAX_FUZZY_DISTANCE = 2

Unknown = Literal["raise", "empty"]


class Compiler:
    """Compiles queries against one schema; ``fields`` maps engine field names to their kind.

    ``unknown="empty"`` makes a clause on a field the index lacks match nothing instead of failing:
    used while an index built for an older mapping is still being served, before its rebuild.
    """

    def __init__(self, schema: tantivy.Schema, fields: Mapping[str, FieldKind], unknown: Unknown = "raise") -> None:
        self.schema = schema
        self.fields = dict(fields)
        self.unknown = unknown

    def __call__(self, q: Query) -> tantivy.Query:
        return self.compile(q)

    def compile(self, q: Query) -> tantivy.Query:
        if isinstance(q, Term):
            out = self._field(q.field) or tantivy.Query.term_query(
                self.schema, q.field, q.value, index_option=self._option(q.field)
            )
            return _boost(out, q.boost)
        if isinstance(q, Terms):
            missing = self._field(q.field)
            if missing is not None:
                return missing
            if not q.values:
                return tantivy.Query.empty_query()
            return tantivy.Query.term_set_query(self.schema, q.field, list(dict.fromkeys(q.values)))
        if isinstance(q, Fuzzy):
            missing = self._field(q.field)
            if missing is not None:
                return missing
            if not 0 <= q.distance <= MAX_FUZZY_DISTANCE:
                raise BadQueryError(
                    f"Fuzzy query on {q.field!r} has distance {q.distance}.",
                    hint=f"Use a distance from 0 to {MAX_FUZZY_DISTANCE}.",
                )
            # Tantivy's fuzzy query has no prefix length; its results are constant-scored, so the
            # boost alone decides how a fuzzy match ranks against exact ones.
            out = tantivy.Query.fuzzy_term_query(self.schema, q.field, q.value, distance=q.distance,
                                                 transposition_cost_one=True, prefix=False)
            return _boost(out, q.boost)
        if isinstance(q, MatchAll):
            return tantivy.Query.all_query()
        if isinstance(q, Range):
            missing = self._field(q.field)
            if missing is not None:
                return missing
            # Every field the mapping produces is text or keyword: a range has nothing to compare.
            raise BadQueryError(
                f"Range query on {q.field!r}, which is a {self.fields[q.field]} field.",
                hint="Ranges need a numeric field; filter keyword facets with their values instead.",
            )
        if isinstance(q, Bool):
            return self._bool(q)
        raise BadQueryError(f"Query node {q!r} is not part of the search query language.",
                            hint="Build queries from talentgraph.search.query.")

    def _bool(self, q: Bool) -> tantivy.Query:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        clauses += [(tantivy.Occur.Must, self.compile(x)) for x in q.must]
        # Tantivy has no filter occur: a zero constant score keeps the clause out of ranking.
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(self.compile(x), 0.0)) for x in q.filter]
        clauses += [(tantivy.Occur.Should, self.compile(x)) for x in q.should]
        clauses += [(tantivy.Occur.MustNot, self.compile(x)) for x in q.must_not]
        if not (q.must or q.filter or q.should):
            # A bool of only exclusions means "everything except" (as in OpenSearch), not "nothing".
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        msm = q.minimum_should_match if q.minimum_should_match > 0 else None
        if msm is not None and msm > len(q.should):
            return tantivy.Query.empty_query()
        out = tantivy.Query.boolean_query(clauses, msm)
        return _boost(out, q.boost)

    def _field(self, name: str) -> tantivy.Query | None:
        """None when the field exists; otherwise an empty query or a BadQueryError."""
        if name in self.fields and self.fields[name] is not FieldKind.SOURCE:
            return None
        if self.unknown == "empty" and name not in self.fields:
            return tantivy.Query.empty_query()
        raise BadQueryError(
            f"Search field {name!r} is not searchable in this index.",
            hint="Known fields: " + ", ".join(sorted(n for n, k in self.fields.items() if k is not FieldKind.SOURCE)) + ".",
        )

    def _option(self, name: str) -> str:
        # Analysed fields are indexed with frequencies (for BM25), keyword fields with doc ids only.
        return "freq" if self.fields[name] in ANALYSED else "basic"


def ranks(q: Query) -> bool:
    """Whether a query orders its matches by relevance (a term or fuzzy clause that scores).

    Browsing (MatchAll plus filters) does not, and is served in id order without scoring.
    """
    if isinstance(q, (Term, Fuzzy)):
        return True
    if isinstance(q, Bool):
        return any(ranks(x) for x in (*q.must, *q.should))
    return False


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else tantivy.Query.boost_query(q, float(boost))


__all__ = ["Compiler", "MAX_FUZZY_DISTANCE", "ranks"]
