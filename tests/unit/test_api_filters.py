"""where/orderBy/first compilation: pure functions, checked against the ports' filter types."""

from __future__ import annotations

import pytest

from talentgraph.access.policy import POLICY
from talentgraph.api.filters import check_first, common_fields, compile_sort, compile_where, node_fields
from talentgraph.errors import BadQueryError, OntologyError, ValidationError
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import And, Cmp, Not, Or, SortKey

ADMIN = POLICY.view("admin")
PERSON = node_fields(ONTOLOGY.node("Person"), ADMIN)


def test_empty_where_is_no_filter() -> None:
    assert compile_where(PERSON, None, owner="PersonWhere") is None
    assert compile_where(PERSON, {}, owner="PersonWhere") is None
    assert compile_where(PERSON, {"name": {"eq": None}}, owner="PersonWhere") is None


def test_operators_map_to_port_filters_with_ontology_names() -> None:
    f = compile_where(PERSON, {"latinName": {"startsWith": "Iv", "ne": "Ivan"}, "birthYear": {"gte": 1980}},
                      owner="PersonWhere")
    assert f == And((Cmp("latin_name", "starts_with", "Iv"), Cmp("latin_name", "ne", "Ivan"),
                     Cmp("birth_year", "gte", 1980)))


def test_in_values_become_a_hashable_tuple() -> None:
    f = compile_where(PERSON, {"languages": {"in": ["ru", "fr"]}}, owner="PersonWhere")
    assert f == Cmp("languages", "in", ("ru", "fr"))
    hash(f)  # loaders key batches by the compiled filter


def test_boolean_logic_and_is_null() -> None:
    f = compile_where(PERSON, {
        "OR": [{"volunteer": {"eq": True}}, {"birthYear": {"isNull": True}}],
        "NOT": {"phone": {"isNull": False}},
    }, owner="PersonWhere")
    assert f == And((
        Or((Cmp("volunteer", "eq", True), Cmp("birth_year", "is_null", True))),
        Not(Not(Cmp("phone", "is_null", True))),
    ))


def test_an_or_with_an_empty_alternative_matches_everything_and_empty_or_is_refused() -> None:
    assert compile_where(PERSON, {"OR": [{}, {"name": {"eq": "x"}}]}, owner="W") is None
    with pytest.raises(BadQueryError, match="OR"):
        compile_where(PERSON, {"OR": []}, owner="W")


def test_unknown_and_sensitive_fields_are_named_with_the_known_ones() -> None:
    for field in ("shoeSize", "idHash"):
        with pytest.raises(OntologyError) as info:
            compile_where(PERSON, {field: {"eq": "x"}}, owner="PersonWhere")
        assert field in info.value.message and "latinName" in (info.value.hint or "")


def test_operator_must_suit_the_property_type() -> None:
    with pytest.raises(BadQueryError, match="startsWith"):
        compile_where(PERSON, {"birthYear": {"startsWith": "19"}}, owner="PersonWhere")
    with pytest.raises(ValidationError, match="birthYear"):
        compile_where(PERSON, {"birthYear": {"gt": "1980"}}, owner="PersonWhere")
    with pytest.raises(ValidationError):
        compile_where(PERSON, {"volunteer": {"eq": 1}}, owner="PersonWhere")


def test_common_fields_of_a_mixed_end() -> None:
    both = common_fields([ONTOLOGY.node("PartyOrganization"), ONTOLOGY.node("Group")], ADMIN)
    assert set(both) == {"name", "nameEn", "description"}  # both have an English name (bilingual signage)


def test_sort_keys() -> None:
    assert compile_sort(PERSON, [{"field": "name", "direction": "DESC"}, {"field": "birth_year"}], owner="O") == (
        SortKey("name", True), SortKey("birth_year", False))
    with pytest.raises(OntologyError, match="phone"):
        compile_sort(PERSON, [{"field": "phone"}], owner="PersonOrderBy")


def test_page_size_is_checked_not_clamped() -> None:
    assert check_first(0, 10) == 0 and check_first(10, 10) == 10
    for bad in (-1, 11):
        with pytest.raises(BadQueryError, match=str(bad)):
            check_first(bad, 10)
