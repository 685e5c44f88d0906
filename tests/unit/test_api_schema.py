"""The GraphQL schema is derived from the ontology: names, exposure, and a property added later."""

from __future__ import annotations

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from talentgraph.api.naming import camel, plural, rel_field
from talentgraph.api.schema import build_schema
from talentgraph.errors import OntologyError
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, Sensitivity


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def obj(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    t = schema.get_type(name)
    assert isinstance(t, GraphQLObjectType), name
    return t


@pytest.mark.parametrize(("name", "expected"), [
    ("MEMBER_OF", "memberOf"), ("CO_BUILDS_WITH", "coBuildsWith"), ("latin_name", "latinName"),
    ("PartyOrganization", "partyOrganization"), ("id_last4", "idLast4"), ("HELD_AT", "heldAt"),
])
def test_camel(name: str, expected: str) -> None:
    assert camel(name) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("Person", "persons"), ("PartyOrganization", "partyOrganizations"), ("Category", "categories"),
    ("Address", "addresses"), ("Day", "days"), ("Branch", "branches"),
])
def test_plural(name: str, expected: str) -> None:
    assert plural(name) == expected


def test_every_node_type_has_object_queries_and_inputs(schema: GraphQLSchema) -> None:
    query = obj(schema, "Query")
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    for t in ONTOLOGY.node_types:
        o = obj(schema, t.name)
        assert node in o.interfaces
        assert {"id", "type", "title", "version", "updatedAt", "provenance"} <= set(o.fields)
        assert camel(t.name) in query.fields and plural(t.name) in query.fields
        assert set(query.fields[plural(t.name)].args) >= {"where", "orderBy", "first", "after"}
        assert isinstance(schema.get_type(f"{t.name}Where"), GraphQLInputObjectType)


def test_exposure_follows_sensitivity(schema: GraphQLSchema) -> None:
    person = obj(schema, "Person")
    where = schema.get_type("PersonWhere")
    assert isinstance(where, GraphQLInputObjectType)
    for p in ONTOLOGY.node("Person").properties:
        shown = p.sensitivity is not Sensitivity.SENSITIVE
        assert (camel(p.name) in person.fields) is shown, p.name
        assert (camel(p.name) in where.fields) is shown, p.name
    assert "idHash" not in person.fields and "phone" in person.fields


def test_relationship_fields_on_both_ends(schema: GraphQLSchema) -> None:
    for rel in ONTOLOGY.rel_types:
        for a, b in rel.endpoints:
            assert rel_field(rel.name, "out") in obj(schema, a).fields, (a, rel.name)
            assert rel_field(rel.name, "in", rel.inverse) in obj(schema, b).fields, (b, rel.name)
    # A declared inverse names the incoming side (MENTIONS → mentionedIn), not the relationship + "In".
    assert "mentionedIn" in obj(schema, "Venue").fields and "mentionsIn" not in obj(schema, "Venue").fields
    member_of = obj(schema, "Person").fields["memberOf"]
    assert set(member_of.args) == {"where", "edgeWhere", "first"}
    edge = obj(schema, "MemberOfNodeEdge")
    assert str(edge.fields["node"].type) == "Node!"  # PartyOrganization | Group
    assert set(obj(schema, "MemberOfProperties").fields) == {"role", "since"}
    assert str(obj(schema, "WorksAtEnterpriseEdge").fields["node"].type) == "Enterprise!"
    # LIVES_IN has no properties: no properties field and no edgeWhere argument.
    assert "properties" not in obj(schema, "LivesInAreaEdge").fields
    assert "edgeWhere" not in obj(schema, "Person").fields["livesIn"].args


def test_sort_enum_lists_sortable_properties_only(schema: GraphQLSchema) -> None:
    enum = schema.get_type("PersonSortField")
    assert isinstance(enum, GraphQLEnumType)
    assert set(enum.values) == {"NAME", "LATIN_NAME", "BIRTH_YEAR"}


def test_a_property_added_to_the_ontology_appears_everywhere() -> None:
    extended = ONTOLOGY.with_property(
        "Person", Property("shoe_size", PropType.INT, "Shoe size (EU).", sortable=True, facet=True))
    schema = build_schema(extended)._schema
    assert str(obj(schema, "Person").fields["shoeSize"].type) == "Int"
    where = schema.get_type("PersonWhere")
    assert isinstance(where, GraphQLInputObjectType) and str(where.fields["shoeSize"].type) == "IntFilter"
    enum = schema.get_type("PersonSortField")
    assert isinstance(enum, GraphQLEnumType) and "SHOE_SIZE" in enum.values
    # The original schema is untouched: each build has its own generated types.
    assert "shoeSize" not in obj(build_schema()._schema, "Person").fields


def test_a_sensitive_property_added_later_stays_hidden() -> None:
    extended = ONTOLOGY.with_property(
        "Person", Property("passport_no", PropType.STRING, "Never shown.", sensitivity=Sensitivity.SENSITIVE))
    schema = build_schema(extended)._schema
    assert "passportNo" not in obj(schema, "Person").fields


def test_a_property_clashing_with_a_system_field_is_refused() -> None:
    clash = ONTOLOGY.with_property("Group", Property("version", PropType.STRING, "Clashes with the system field."))
    with pytest.raises(OntologyError, match="version"):
        build_schema(clash)
