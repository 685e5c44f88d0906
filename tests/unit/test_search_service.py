"""Service pieces that need no documents: cursors, query plans, filter canonicalisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from talentgraph.errors import BadQueryError
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Term, Terms, walk
from talentgraph.search.service import SearchService, decode_cursor, encode_cursor
from talentgraph.search.tantivy import TantivyIndex


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[SearchService]:
    idx = TantivyIndex(tmp_path / "idx")
    yield SearchService(idx, max_page_size=50)
    idx.close()


def test_cursor_round_trip_and_garbage() -> None:
    for n in (0, 1, 20, 123456):
        assert decode_cursor(encode_cursor(n)) == n
    for bad in ("", "%%%", "b2Zmc2V0Oi0x", "aGVsbG8", "x" * 65):
        with pytest.raises(BadQueryError, match="cursor"):
            decode_cursor(bad)


def _terms(q: object) -> set[tuple[str, str]]:
    out = {(n.field, n.value) for n in walk(q) if isinstance(n, Term)}  # type: ignore[arg-type]
    return out | {(n.field, v) for n in walk(q) if isinstance(n, Terms) for v in n.values}  # type: ignore[arg-type]


def test_zh_and_en_plans_share_every_concept_clause(service: SearchService) -> None:
    zh = service.plan("俄语 律师", ["Person"])
    en = service.plan("Russian lawyer", ["Person"])
    assert isinstance(zh.query, Bool) and len(zh.query.must) == len(en.query.must) == 2
    zh_terms, en_terms = _terms(zh.query), _terms(en.query)
    assert {("languages", "ru"), ("skills", "law"), ("skills", "law.litigation")} <= zh_terms
    # The same concepts; "Russian" beside a skill is the language, not the nationality.
    assert {(f, v) for f, v in zh_terms - en_terms if f not in ("name", "latin_name", "other_names")} == set()
    assert ("nationality", "ru") not in en_terms
    assert ("nationality", "ru") in _terms(service.plan("Russian nationals", ["Person"]).query)


def _boosts(q: object, outer: float = 1.0, out: dict[str, set[float]] | None = None) -> dict[str, set[float]]:
    """Every leaf field with the product of the boosts above it (what a match there scores at most)."""
    out = {} if out is None else out
    if isinstance(q, Bool):
        for x in (*q.must, *q.should):
            _boosts(x, outer * q.boost, out)
    elif isinstance(q, (Term, Fuzzy)):
        out.setdefault(q.field, set()).add(outer * q.boost)
    elif isinstance(q, Terms):
        out.setdefault(q.field, set()).add(outer)
    return out


def test_boosts_order_keyword_name_text_bigram(service: SearchService) -> None:
    # A held concept (keyword) above a name, above free text, above the pair shadow.
    boosts = _boosts(service.plan("律师", ["Person"]).query)
    assert max(boosts["skills"]) > max(boosts["occupation"]) > max(boosts["bio__bigram"])
    names = _boosts(service.plan("张伟", ["Person"]).query)
    assert max(boosts["skills"]) > max(names["name"]) > max(names["occupation"]) > max(names["bio__bigram"])


def test_long_latin_words_get_fuzzy_clauses(service: SearchService) -> None:
    fuzzy = [n for n in walk(service.plan("neighbourhood", ["Person"]).query) if isinstance(n, Fuzzy)]
    assert fuzzy and all(f.distance == 1 for f in fuzzy)
    assert not [n for n in walk(service.plan("li", ["Person"]).query) if isinstance(n, Fuzzy)]
    # A vocabulary label is a concept, matched exactly rather than approximately.
    assert not [n for n in walk(service.plan("gardening", ["Person"]).query) if isinstance(n, Fuzzy)]


def test_empty_text_is_browse(service: SearchService) -> None:
    assert service.plan("", ["Person"]).query == MatchAll()


def test_filters_become_terms_through_vocabularies(service: SearchService) -> None:
    q = service.filter_query({"languages": ["俄语", "English"], "skills": ["律师"], "volunteer": ["yes"]}, ["Person"])
    terms = {n.field: n.values for n in walk(q) if isinstance(n, Terms)}
    assert terms["type"] == ("Person",)
    assert terms["languages__facet"] == ("ru", "en")
    assert terms["skills__facet"][0] == "law" and "law.litigation" in terms["skills__facet"]
    assert terms["volunteer__facet"] == ("true",)


def test_bad_filter_values_name_value_and_valid_ones(service: SearchService) -> None:
    with pytest.raises(BadQueryError, match="俄罗斯语言学") as e:
        service.filter_query({"languages": ["俄罗斯语言学"]}, ["Person"])
    assert "ru (俄语/Russian)" in str(e.value) or "ru" in str(e.value.hint)
    with pytest.raises(BadQueryError, match="yes/no"):
        service.filter_query({"volunteer": ["maybe"]}, ["Person"])
    with pytest.raises(BadQueryError, match="not a facet of Enterprise"):
        service.filter_query({"languages": ["ru"]}, ["Enterprise"])


def test_page_size_limit(service: SearchService) -> None:
    with pytest.raises(BadQueryError, match="0 to 50"):
        service.search("x", first=51)
    with pytest.raises(BadQueryError):
        service.search("x", first=-1)


def test_plans_are_kept_per_text_types_and_visibility(service: SearchService) -> None:
    from talentgraph.search.service import Visibility

    a = service._cached_plan("俄语 律师", ["Person"], None)
    assert service._cached_plan("俄语 律师", ["Person"], None) is a
    assert service._cached_plan("俄语", ["Person"], None) is not a
    vis = Visibility(read={("Person", "name"): "always"}, count={}, types=frozenset({"Person"}), k=1)
    narrow = service._cached_plan("俄语 律师", ["Person"], vis)
    assert narrow is not a and narrow.query != a.query  # fields the caller may not read are not matched
    same = Visibility(read={("Person", "name"): "always"}, count={}, types=frozenset({"Person"}), k=3)
    assert service._cached_plan("俄语 律师", ["Person"], same) is narrow


def test_lru_keeps_the_most_recent() -> None:
    from talentgraph.search.cache import LRU

    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert lru.get("b") is None and lru.get("a") == 1 and len(lru) == 2
    assert lru.get_or_make("d", lambda: 4) == 4 and lru.get_or_make("d", lambda: 5) == 4
    with pytest.raises(ValueError):
        LRU(0)


def _matches(q: object, doc: dict[str, set[str]]) -> bool:
    """A query tree evaluated on one document (field → tokens), as both engines read it."""
    if isinstance(q, Term):
        return q.value in doc.get(q.field, set())
    if isinstance(q, Terms):
        return bool(doc.get(q.field, set()) & set(q.values))
    if isinstance(q, Fuzzy):
        return q.value in doc.get(q.field, set())
    if isinstance(q, MatchAll):
        return True
    assert isinstance(q, Bool)
    if not all(_matches(x, doc) for x in (*q.must, *q.filter)) or any(_matches(x, doc) for x in q.must_not):
        return False
    hits = sum(_matches(x, doc) for x in q.should)
    need = q.minimum_should_match or (0 if (q.must or q.filter) else 1)
    return hits >= need if q.should else True


def _per_clause_guard(q: object, scoped: set[str], scope: object) -> object:
    """The reference: every clause on in-scope fields guarded on its own."""
    from talentgraph.search.service import _fields_of

    fields = _fields_of(q)  # type: ignore[arg-type]
    if fields and fields <= scoped:
        return Bool(must=(q,), filter=(scope,))  # type: ignore[arg-type]
    if isinstance(q, Bool) and fields & scoped:
        return Bool(must=tuple(_per_clause_guard(x, scoped, scope) for x in q.must),  # type: ignore[misc]
                    should=tuple(_per_clause_guard(x, scoped, scope) for x in q.should),  # type: ignore[misc]
                    must_not=q.must_not, filter=q.filter, minimum_should_match=q.minimum_should_match, boost=q.boost)
    return q


def test_in_scope_clauses_share_one_scope_guard_and_match_the_same_rows(service: SearchService) -> None:
    import random

    from talentgraph.access.policy import POLICY
    from talentgraph.search.service import Visibility, _guard

    grants, _rules = POLICY.view("staff").field_grants
    scope = Terms("residential_area__facet", ("area:RA01",))
    vis = Visibility(read={k: g.value for k, g in grants.items()}, count={}, types=frozenset({"Person"}), k=5,
                     scope=scope, places=frozenset({"area:RA01"}), place_fields=("residential_area",))
    plan = service.plan("俄语 律师 teacher", ["Person"], vis)
    guards = [n for n in walk(plan.query) if isinstance(n, Bool) and scope in n.filter]
    assert 0 < len(guards) <= 2 * 3  # at most one per bool (a segment, its concept pieces), not one per clause
    # Staff read every analysed field (always or in scope): unguarded, the plan is the plan without visibility.
    bare = service.plan("俄语 律师 teacher", ["Person"])
    scoped = {f.name for f in service._analysed if vis.read.get(("Person", f.property)) == "in_scope"}
    assert {"bio", "bio__bigram"} <= scoped
    assert _guard(bare.query, scoped, scope) == plan.query
    fields = sorted({n.field for n in walk(bare.query) if isinstance(n, (Term, Fuzzy))})
    reference = _per_clause_guard(bare.query, scoped, scope)
    assert isinstance(bare.query, Bool)
    per_segment = [sorted({(n.field, n.value) for n in walk(seg) if isinstance(n, (Term, Fuzzy))})
                   for seg in bare.query.must]
    rng = random.Random(7)
    seen = set()
    for _ in range(600):
        doc: dict[str, set[str]] = {f: set() for f in fields}
        for segment_tokens in per_segment:  # each segment's words in 0 to 2 of its fields
            for f, v in rng.sample(segment_tokens, k=rng.randint(0, 2)):
                doc[f].add(v)
        doc["residential_area__facet"] = {"area:RA01"} if rng.random() < 0.5 else {"area:RA02"}
        found = _matches(plan.query, doc)
        assert found == _matches(reference, doc), doc
        seen.add((found, "area:RA01" in doc["residential_area__facet"]))
    assert seen == {(True, True), (True, False), (False, True), (False, False)}
