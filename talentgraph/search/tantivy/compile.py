"""Engine-neutral query tree (``search/query.py``) → ``tantivy.Query`` objects.

Only typed constructors are used (term, term set, fuzzy, boolean, boost, const score, all): user
text has already been analysed into tokens by ``search/service.py`` and never reaches Tantivy's
query parser, so no query syntax (``AND``, ``:``, ``*``) typed by a user can change a search. The
walk and its checks are shared with OpenSearch (``search/compiler.py``); this module builds leaves.
"""

from __future__ import annotations

from collections.abc import Mapping

import tantivy

from talentgraph.search.compiler import MAX_FUZZY_DISTANCE, QueryCompiler, Unknown, ranks
from talentgraph.search.mapping import ANALYSED, FieldKind
from talentgraph.search.query import Bool, Fuzzy, Term

MAX_TERMS_AS_UNION = 64  # values up to which a Terms clause is a lazy union of term queries


class Compiler(QueryCompiler[tantivy.Query]):
    """Compiles queries against one schema; ``fields`` maps engine field names to their kind."""

    def __init__(self, schema: tantivy.Schema, fields: Mapping[str, FieldKind], unknown: Unknown = "raise") -> None:
        super().__init__(fields, unknown)
        self.schema = schema

    def term(self, q: Term) -> tantivy.Query:
        out = tantivy.Query.term_query(self.schema, q.field, q.value, index_option=self._option(q.field))
        return _boost(out, q.boost)

    def terms(self, field: str, values: list[str]) -> tantivy.Query:
        if len(values) > MAX_TERMS_AS_UNION:
            return tantivy.Query.term_set_query(self.schema, field, values)
        # A term set reads every value's postings into a bitset before the first match; a union of
        # term queries is read lazily, so a selective clause beside it (a staff search's scope
        # guards a rare word) skips most of them. Constant score 1, as a term set scores.
        option = self._option(field)
        union = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, field, v, index_option=option))
                 for v in values]
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(union), 1.0)

    def fuzzy(self, q: Fuzzy) -> tantivy.Query:
        # Tantivy's fuzzy query has no prefix length; its results are constant-scored, so the
        # boost alone decides how a fuzzy match ranks against exact ones.
        out = tantivy.Query.fuzzy_term_query(self.schema, q.field, q.value, distance=q.distance,
                                             transposition_cost_one=True, prefix=False)
        return _boost(out, q.boost)

    def match_all(self) -> tantivy.Query:
        return tantivy.Query.all_query()

    def match_none(self) -> tantivy.Query:
        return tantivy.Query.empty_query()

    def boolean(self, q: Bool, *, must: list[tantivy.Query], filter: list[tantivy.Query],
                should: list[tantivy.Query], must_not: list[tantivy.Query]) -> tantivy.Query:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(tantivy.Occur.Must, x) for x in must]
        # Tantivy has no filter occur: a zero constant score keeps the clause out of ranking.
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(x, 0.0)) for x in filter]
        clauses += [(tantivy.Occur.Should, x) for x in should]
        clauses += [(tantivy.Occur.MustNot, x) for x in must_not]
        if not (must or filter or should):
            # A bool of only exclusions means "everything except" (as in OpenSearch), not "nothing".
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        msm = q.minimum_should_match if q.minimum_should_match > 0 else None
        return _boost(tantivy.Query.boolean_query(clauses, msm), q.boost)

    def _option(self, name: str) -> str:
        # Analysed fields are indexed with frequencies (for BM25), keyword fields with doc ids only.
        return "freq" if self.kinds[name] in ANALYSED else "basic"


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else tantivy.Query.boost_query(q, float(boost))


__all__ = ["Compiler", "MAX_FUZZY_DISTANCE", "ranks"]
