"""Query trees rewritten for the engine: ``without_absent`` (clauses on tokens no document holds) and ``flattened``
(nested groups of alternatives), each matching what the tree matched."""

from __future__ import annotations

from talentgraph.search.query import Bool, Fuzzy, MatchAll, Range, Term, Terms, flattened, without_absent

HELD = {("name", "wang"), ("skills", "law"), ("skills", "nursing"), ("languages", "ru")}


def present(field: str, token: str) -> bool:
    return (field, token) in HELD


def test_a_term_or_terms_no_document_holds_is_dropped_and_partial_terms_keep_what_is_held() -> None:
    assert without_absent(Term("name", "wang", 2.0), present) == Term("name", "wang", 2.0)
    assert without_absent(Term("name", "li"), present) is None
    assert without_absent(Terms("skills", ("law", "chess", "nursing")), present) == Terms("skills", ("law", "nursing"))
    assert without_absent(Terms("skills", ("chess",)), present) is None
    for kept in (Fuzzy("name", "wnag"), MatchAll(), Range("age", gte=3)):  # they name no single token
        assert without_absent(kept, present) is kept


def test_optional_clauses_go_and_a_required_one_that_cannot_match_takes_its_bool() -> None:
    q = Bool(should=(Term("name", "wang"), Term("name", "li"), Bool(must=(Term("skills", "law"), Term("x", "y")))),
             boost=3.0)
    assert without_absent(q, present) == Bool(should=(Term("name", "wang"),), boost=3.0)
    assert without_absent(Bool(must=(Term("skills", "law"),), filter=(Term("languages", "en"),)), present) is None
    assert without_absent(Bool(must=(Term("skills", "chess"),), should=(Term("name", "wang"),)), present) is None
    # With a required clause left the optional ones may all go: the bool still matches what it did.
    assert without_absent(Bool(must=(Term("skills", "law"),), should=(Term("name", "li"),)), present) == \
        Bool(must=(Term("skills", "law"),))


def test_only_optional_clauses_none_held_is_nothing_not_everything_and_exclusions_stay_meaningful() -> None:
    assert without_absent(Bool(should=(Term("name", "li"),), must_not=(Term("skills", "law"),)), present) is None
    # Only exclusions mean "everything except": an exclusion nobody matches leaves "everything".
    assert without_absent(Bool(must_not=(Term("skills", "chess"),)), present) == Bool()
    assert without_absent(Bool(must_not=(Term("skills", "law"),)), present) == Bool(must_not=(Term("skills", "law"),))


def test_minimum_should_match_is_kept_and_a_bool_that_can_no_longer_reach_it_matches_nothing() -> None:
    q = Bool(should=(Term("name", "wang"), Term("skills", "law"), Term("skills", "chess")), minimum_should_match=2)
    assert without_absent(q, present) == Bool(should=(Term("name", "wang"), Term("skills", "law")),
                                              minimum_should_match=2)
    assert without_absent(Bool(should=(Term("name", "wang"), Term("skills", "chess")), minimum_should_match=2),
                          present) is None


def test_optional_bools_of_optional_clauses_fold_into_their_parent_with_their_boost_carried_in() -> None:
    inner = Bool(should=(Term("name", "wang", 2.0), Terms("skills", ("law",)), Fuzzy("name", "wnag", boost=0.5),
                         Bool(must=(Term("skills", "law"),), boost=3.0)), boost=10.0)
    q = Bool(must=(Term("languages", "ru"),), should=(inner, Term("name", "li")))
    assert flattened(q) == Bool(must=(Term("languages", "ru"),), should=(
        Term("name", "wang", 20.0), Bool(should=(Terms("skills", ("law",)),), boost=10.0),
        Fuzzy("name", "wnag", boost=5.0), Bool(must=(Term("skills", "law"),), boost=30.0), Term("name", "li")))
    # Folded from the inside out: a chain of optional groups becomes one.
    chain = Bool(should=(Bool(should=(Bool(should=(Term("a", "x", 1.5),), boost=2.0),), boost=3.0),))
    assert flattened(chain) == Bool(should=(Term("a", "x", 9.0),))


def test_bools_that_count_or_require_their_clauses_are_not_folded() -> None:
    counted = Bool(should=(Bool(should=(Term("a", "x"), Term("a", "y"))), Term("a", "z")), minimum_should_match=2)
    assert flattened(counted) == counted  # the group counts as one of the two required
    needs_two = Bool(should=(Bool(should=(Term("a", "x"), Term("a", "y")), minimum_should_match=2),))
    assert flattened(needs_two) == needs_two
    required = Bool(should=(Bool(must=(Term("a", "x"),), should=(Term("a", "y"),)),))
    assert flattened(required) == required
    everything_but = Bool(should=(Bool(must_not=(Term("a", "x"),)),))  # "all but x" is no group of alternatives
    assert flattened(everything_but) == everything_but
    nested_in_must = Bool(must=(Bool(should=(Bool(should=(Term("a", "x"),), boost=2.0),)),))
    assert flattened(nested_in_must) == Bool(must=(Bool(should=(Term("a", "x", 2.0),)),))
