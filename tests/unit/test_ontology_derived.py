"""Derived search fields are declared as paths through the ontology, and checked when it is built.

The projection computes a person's building, groups and party flag from the ``DerivedField``
paths alone; renaming a relationship (or a property a path reads) must fail when the ontology is
constructed — at import — instead of leaving the facets silently empty after the next sync.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from talentgraph.errors import OntologyError
from talentgraph.schema.ontology import (
    DERIVED_FIELDS, NODE_TYPES, ONTOLOGY, REL_TYPES, DerivedField, Flag, Hop, Linked, Ontology, Within,
)
from talentgraph.search import projection


def _renamed(old: str, new: str) -> tuple:  # type: ignore[type-arg]
    return tuple(replace(r, name=new) if r.name == old else r for r in REL_TYPES)


def test_every_stock_derived_field_has_a_checked_path() -> None:
    assert ONTOLOGY.derived and all(d.path is not None for d in ONTOLOGY.derived)
    kinds = {d.name: type(d.path) for d in ONTOLOGY.derived}
    assert kinds["groups"] is Linked and kinds["building"] is Within and kinds["party_member"] is Flag


@pytest.mark.parametrize("rel", ["MEMBER_OF", "LIVES_IN", "PART_OF"])
def test_renaming_a_relationship_a_path_follows_fails_at_construction(rel: str) -> None:
    with pytest.raises(OntologyError) as e:
        Ontology(NODE_TYPES, _renamed(rel, rel + "_X"), DERIVED_FIELDS)
    assert "Derived field Person." in e.value.message and rel in e.value.message


def test_a_hop_must_match_the_relationship_endpoints() -> None:
    wrong = DerivedField("Person", "employers", "works_at:Group", "Wrong end type.",
                         path=Linked(Hop("WORKS_AT", "Group")))
    with pytest.raises(OntologyError, match="WORKS_AT does not link Person to Group"):
        Ontology(NODE_TYPES, REL_TYPES, DERIVED_FIELDS + (wrong,))
    backwards = replace(wrong, path=Linked(Hop("WORKS_AT", "Enterprise", "in")))
    with pytest.raises(OntologyError, match="does not link Enterprise to Person"):
        Ontology(NODE_TYPES, REL_TYPES, DERIVED_FIELDS + (backwards,))


def test_a_within_path_needs_a_containment_relationship_and_a_level_property() -> None:
    building = next(d for d in DERIVED_FIELDS if d.name == "building")
    assert isinstance(building.path, Within)
    for bad, message in (
        (replace(building.path, up="LIVES_IN"), "LIVES_IN does not link Area to Area"),
        (replace(building.path, level_prop="storey"), "no property 'storey'"),
        (replace(building.path, level="floor"), "level 'floor' is not one of"),
    ):
        field = replace(building, name="b2", path=bad)
        with pytest.raises(OntologyError, match=message):
            Ontology(NODE_TYPES, REL_TYPES, DERIVED_FIELDS + (field,))


def test_a_flag_reads_a_declared_property_and_a_field_without_path_is_refused() -> None:
    party = next(d for d in DERIVED_FIELDS if d.name == "party_member")
    assert isinstance(party.path, Flag)
    with pytest.raises(OntologyError, match="no property 'party_status'"):
        Ontology(NODE_TYPES, REL_TYPES, (replace(party, path=replace(party.path, prop="party_status")),))
    with pytest.raises(OntologyError, match="declares no path"):
        Ontology(NODE_TYPES, REL_TYPES, (replace(party, path=None),))


def test_the_projection_spells_no_relationship_or_node_type() -> None:
    """Everything the projection follows comes from the declarations: no names in its string literals."""
    source = Path(projection.__file__).read_text(encoding="utf-8")
    literals = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    spelled = literals & ({r.name for r in ONTOLOGY.rel_types if r.name != "SAME_AS"} | set(ONTOLOGY.node_names))
    assert not spelled, f"projection.py names {sorted(spelled)} by hand; declare a DerivedField path instead"


def test_a_display_name_must_be_a_property_of_its_type() -> None:
    venue = ONTOLOGY.node("Venue")
    assert venue.latin_title == "name_en" and ONTOLOGY.node("Person").latin_title == "latin_name"
    types = tuple(replace(t, latin_title="english") if t.name == "Venue" else t for t in ONTOLOGY.node_types)
    with pytest.raises(OntologyError, match="english"):
        Ontology(types, ONTOLOGY.rel_types, ONTOLOGY.derived)
