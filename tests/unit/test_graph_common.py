"""Shared write-row checks of the graph adapters (graph/common.py): one answer on every engine."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from talentgraph.errors import StoreError
from talentgraph.graph.common import (
    UnstorableValueError,
    change_row,
    check_storable,
    chunks,
    node_row,
    short_query,
)
from talentgraph.schema.ontology import ONTOLOGY, PropType


PERSON = ONTOLOGY.node("Person")
DECLARED = {p.name: p for p in PERSON.properties}


def test_valid_values_pass_as_given_and_tuples_become_lists() -> None:
    given = {"name": "甲", "birth_year": 1980, "volunteer": False, "gender": None}
    assert check_storable("Person", "per:1", DECLARED, given) is given  # no copy on the bulk path
    listed = {"name": "甲", "languages": ("zh", "en")}
    out = check_storable("Person", "per:1", DECLARED, listed)
    assert out == {"name": "甲", "languages": ["zh", "en"]} and listed["languages"] == ("zh", "en")


def test_ints_in_float_properties_are_widened() -> None:
    floats = [p for n in ONTOLOGY.node_types for p in n.properties if p.type is PropType.FLOAT]
    assert floats, "the ontology has float properties (coordinates)"
    widened = check_storable("X", "x:1", {floats[0].name: floats[0]}, {floats[0].name: 31})
    assert widened[floats[0].name] == 31.0 and isinstance(widened[floats[0].name], float)


def test_dates_may_be_iso_text_or_dates_but_not_datetimes() -> None:
    org = ONTOLOGY.node("PartyOrganization")
    declared = {p.name: p for p in org.properties}
    for value in ("2001-07-01", dt.date(2001, 7, 1)):
        props = check_storable(org.name, "org:1", declared, {"name": "支部", "established": value})
        assert node_row(org, "org:1", props, {})["established"] == dt.date(2001, 7, 1)
    for bad in (dt.datetime(2001, 7, 1, 8), 20010701):
        with pytest.raises(UnstorableValueError, match=re.escape(f"established is {bad!r}")):
            check_storable(org.name, "org:1", declared, {"established": bad})


def test_names_not_declared_are_left_to_check_props() -> None:
    assert check_storable("Person", "per:1", DECLARED, {"nickname": 7}) == {"nickname": 7}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("birth_year", "nineteen", "int"),
        ("birth_year", True, "int"),  # bool is an int in Python, never in the ontology
        ("birth_year", 1980.0, "int"),
        ("volunteer", "yes", "bool"),
        ("languages", "zh", "string_list"),
        ("languages", ["zh", 1], "string_list"),
        ("name", {"zh": "甲"}, "string"),
    ],
)
def test_wrong_types_are_refused_naming_record_field_value_and_fix(field: str, value: object, expected: str) -> None:
    with pytest.raises(StoreError) as info:
        check_storable("Person", "per:9", DECLARED, {"name": "乙", field: value})
    error = info.value
    assert isinstance(error, UnstorableValueError) and error.code == "INVALID_VALUE"
    assert (error.field, error.value, error.expected) == (field, value, expected)
    message = str(error)
    assert f"Person per:9: {field} is {value!r} ({type(value).__name__})" in message
    assert f"holds {expected} values" in message and "nothing in this batch was written" in message
    assert "schema.validation" in message and "bug in talentgraph" not in message


def test_relationship_rows_are_checked_by_their_own_properties() -> None:
    member_of = ONTOLOGY.rel("MEMBER_OF")
    declared = {p.name: p for p in member_of.properties}
    assert check_storable("MEMBER_OF", "k", declared, {"role": "captain", "since": "2020-03-01"})
    with pytest.raises(UnstorableValueError, match=r"MEMBER_OF per:1\|MEMBER_OF\|grp:1: role is 7"):
        check_storable("MEMBER_OF", "per:1|MEMBER_OF|grp:1", declared, {"role": 7})


def test_small_helpers() -> None:
    assert change_row("delete", "rel", "LIVES_IN", "a|LIVES_IN|b", 3, "t", "a", "b") == {
        "seq": 0, "op": "delete", "kind": "rel", "type": "LIVES_IN", "id": "a|LIVES_IN|b", "version": 3,
        "ts": "t", "from_id": "a", "to_id": "b"}
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]] and list(chunks([], 3)) == []
    assert short_query("x" * 10) == "x" * 10
    assert len(short_query("x" * 500)) == 160 and short_query("x" * 500).endswith("...")
