"""Pure value conversions of the Neo4j adapter (no server needed)."""

from __future__ import annotations

import datetime as dt

import pytest
from neo4j.time import Date, DateTime

from talentgraph.errors import ConfigError, StoreError
from talentgraph.graph.common import node_row
from talentgraph.graph.neo4j import Neo4jGraphStore
from talentgraph.graph.neo4j.values import check_storable, to_native
from talentgraph.schema.ontology import ONTOLOGY


def test_driver_dates_become_python_dates_inside_lists_and_maps() -> None:
    value = {"d": Date(2001, 7, 1), "xs": [Date(2020, 3, 1), None, "a"], "t": DateTime(2024, 1, 2, 3, 4, 5)}
    assert to_native(value) == {"d": dt.date(2001, 7, 1), "xs": [dt.date(2020, 3, 1), None, "a"],
                                "t": dt.datetime(2024, 1, 2, 3, 4, 5)}
    assert to_native(7) == 7 and to_native(True) is True and to_native(None) is None


def test_a_valid_person_row_passes_and_floats_are_widened() -> None:
    person = ONTOLOGY.node("Person")
    row = node_row(person, "per:1", {"name": "甲", "birth_year": 1980, "languages": ("zh", "en")}, {"version": 1})
    out = check_storable("Person", "per:1", person.properties, row)
    assert out["birth_year"] == 1980 and out["languages"] == ["zh", "en"] and out["id"] == "per:1"
    floats = [p for n in ONTOLOGY.node_types for p in n.properties if p.type.value == "float"]
    assert floats, "the ontology has float properties (coordinates)"
    owner = next(n for n in ONTOLOGY.node_types if floats[0] in n.properties)
    widened = check_storable(owner.name, "x:1", (floats[0],), {floats[0].name: 31})
    assert widened[floats[0].name] == 31.0 and isinstance(widened[floats[0].name], float)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("birth_year", "nineteen", "int"),
        ("birth_year", True, "int"),  # bool is an int in Python, never in the ontology
        ("volunteer", "yes", "bool"),
        ("languages", "zh", "string_list"),
        ("languages", ["zh", 1], "string_list"),
        ("name", {"zh": "甲"}, "string"),
    ],
)
def test_wrong_types_are_refused_naming_record_field_value_and_fix(field: str, value: object, expected: str) -> None:
    person = ONTOLOGY.node("Person")
    with pytest.raises(StoreError) as info:
        check_storable("Person", "per:9", person.properties, {"id": "per:9", field: value})
    message = str(info.value)
    assert f"Person per:9: {field} is {value!r}" in message and f"holds {expected} values" in message
    assert "schema.validation" in message


def test_only_bolt_urls_are_accepted_before_any_connection() -> None:
    with pytest.raises(ConfigError, match="not a Neo4j Bolt URL"):
        Neo4jGraphStore("http://127.0.0.1:7474")
