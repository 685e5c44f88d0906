"""``without_absent``: a query tree without the clauses on tokens no document holds, matching what it matched."""

from __future__ import annotations

from talentgraph.search.query import Bool, Fuzzy, MatchAll, Range, Term, Terms, without_absent

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
