"""Cypher builders as strings, for both dialects: what each engine is sent, without an engine."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from talentgraph.errors import BadQueryError, OntologyError
from talentgraph.graph import cypher
from talentgraph.graph.base import _same_value
from talentgraph.graph.common import content_hash, node_from_props, parse_rel_key
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType
from talentgraph.types import And, Cmp, Not, Or, SortKey
from tests.statements import matches_by_id

LB, NEO = cypher.LADYBUG, cypher.NEO4J


def where(f, dialect=LB, type_name="Person"):
    params = cypher.Params("w")
    nt = ONTOLOGY.node(type_name)
    text = cypher.compile_filter(f, "n", lambda name: cypher.node_field([nt], name), params, dialect)
    return text, params.values


# --- DDL ----------------------------------------------------------------------------------------


def test_ladybug_ddl_has_every_ontology_and_system_column_with_types():
    stmts = LB.schema(ONTOLOGY)
    person = next(s for s in stmts if "TABLE IF NOT EXISTS `Person`" in s)
    assert person.startswith("CREATE NODE TABLE IF NOT EXISTS `Person`(`id` STRING PRIMARY KEY, ")
    for p in ONTOLOGY.node("Person").properties:
        assert f"`{p.name}` " in person
    assert "`languages` STRING[]" in person and "`birth_year` INT64" in person and "`volunteer` BOOLEAN" in person
    assert "`version` INT64" in person and "`content_hash` STRING" in person and "`src_row` INT64" in person
    org = next(s for s in stmts if "TABLE IF NOT EXISTS `PartyOrganization`" in s)
    assert "`established` DATE" in org
    member = next(s for s in stmts if "REL TABLE IF NOT EXISTS `MEMBER_OF`" in s)
    assert "FROM `Person` TO `PartyOrganization`, FROM `Person` TO `Group`" in member
    assert "`role` STRING" in member and "`since` DATE" in member and "`key` STRING" in member
    log = stmts[-1]
    assert log.startswith("CREATE NODE TABLE IF NOT EXISTS `ChangeLog`(`seq` INT64 PRIMARY KEY, `op` STRING")
    assert "`from_id` STRING, `to_id` STRING)" in log
    assert len(stmts) == len(ONTOLOGY.node_types) + len(ONTOLOGY.rel_types) + 1


def test_ddl_follows_an_added_property():
    extended = ONTOLOGY.with_property("Venue", Property("wheelchair", PropType.BOOL, "Step-free.", facet=True))
    venue = next(s for s in LB.schema(extended) if "`Venue`(" in s)
    assert "`wheelchair` BOOLEAN" in venue
    assert "CREATE INDEX venue_wheelchair IF NOT EXISTS FOR (n:`Venue`) ON (n.`wheelchair`)" in NEO.schema(extended)
    assert LB.add_column("Venue", extended.node("Venue").prop("wheelchair")) == (
        "ALTER TABLE `Venue` ADD IF NOT EXISTS `wheelchair` BOOLEAN"
    )


def test_neo4j_ddl_constraints_and_indexes():
    stmts = NEO.schema(ONTOLOGY)
    assert "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:`Person`) REQUIRE n.`id` IS UNIQUE" in stmts
    assert ("CREATE CONSTRAINT party_organization_id IF NOT EXISTS FOR (n:`PartyOrganization`) "
            "REQUIRE n.`id` IS UNIQUE") in stmts
    assert "CREATE INDEX person_gender IF NOT EXISTS FOR (n:`Person`) ON (n.`gender`)" in stmts  # facet
    assert "CREATE INDEX person_name IF NOT EXISTS FOR (n:`Person`) ON (n.`name`)" in stmts  # sortable
    # A list facet gets no range index (no filter can use one), and one an earlier version made is dropped.
    assert not any(s.startswith("CREATE INDEX person_languages") for s in stmts)
    assert "DROP INDEX person_languages IF EXISTS" in stmts and "DROP INDEX person_skills IF EXISTS" in stmts
    assert not any("person_phone" in s for s in stmts)  # neither facet nor sortable
    # Relationships are found from their ends, never by key: no key index, and one an earlier version made is dropped.
    assert not any("-[r:" in s for s in stmts) and "DROP INDEX member_of_key IF EXISTS" in stmts
    assert stmts[-1].startswith("CREATE CONSTRAINT change_log_seq IF NOT EXISTS FOR (c:`ChangeLog`)")
    assert all("IF NOT EXISTS" in s if s.startswith("CREATE") else s.endswith("IF EXISTS") for s in stmts)


# --- filters ------------------------------------------------------------------------------------


def test_scalar_comparisons_are_parameterised():
    text, params = where(And((Cmp("name", "starts_with", "王"), Cmp("birth_year", "gte", 1980),
                              Cmp("birth_year", "lt", 1990), Cmp("gender", "in", ["female"]))))
    assert text == ("(n.`name` STARTS WITH $w0 AND n.`birth_year` >= $w1 AND n.`birth_year` < $w2 "
                    "AND n.`gender` IN $w3)")
    assert params == {"w0": "王", "w1": 1980, "w2": 1990, "w3": ["female"]}


def test_list_property_membership_per_dialect():
    f = Or((Cmp("languages", "eq", "fr"), Cmp("skills", "in", ["python", "law"]), Cmp("languages", "contains", "en")))
    text, params = where(f, LB)
    assert text == ("(list_contains(n.`languages`, $w0) OR list_has_any(n.`skills`, $w1) "
                    "OR list_contains(n.`languages`, $w2))")
    assert params == {"w0": "fr", "w1": ["python", "law"], "w2": "en"}
    text, _ = where(f, NEO)
    assert text == "($w0 IN n.`languages` OR any(x IN n.`skills` WHERE x IN $w1) OR $w2 IN n.`languages`)"


def test_ne_not_null_and_empty_groups():
    assert where(Cmp("gender", "ne", "male"))[0] == "(n.`gender` IS NULL OR NOT (n.`gender` = $w0))"
    assert where(Cmp("phone", "is_null", True))[0] == "n.`phone` IS NULL"
    assert where(Cmp("phone", "is_null", False))[0] == "n.`phone` IS NOT NULL"
    assert where(Cmp("phone", "eq", None))[0] == "n.`phone` IS NULL"
    assert where(Not(Cmp("volunteer", "eq", True)))[0] == "(NOT n.`volunteer` = $w0)"
    assert where(And(()))[0] == "true" and where(Or(()))[0] == "false"


def test_date_values_become_dates_and_system_fields_are_allowed():
    text, params = where(Cmp("established", "gte", "2019-05-01"), type_name="PartyOrganization")
    assert text == "n.`established` >= $w0" and params == {"w0": dt.date(2019, 5, 1)}
    assert where(Cmp("version", "gt", 1))[0] == "n.`version` > $w0"
    assert where(Cmp("id", "in", ["per:1"]))[0] == "n.`id` IN $w0"


def test_unknown_field_names_the_type_and_known_fields():
    with pytest.raises(OntologyError) as err:
        where(Cmp("shoe_size", "eq", 42))
    assert "Person has no field 'shoe_size'" in str(err.value)
    assert "languages" in err.value.hint and "birth_year" in err.value.hint


@pytest.mark.parametrize("f, fragment", [
    (Cmp("birth_year", "eq", "1980"), "not a int"),
    (Cmp("gender", "in", "female"), "takes a list"),
    (Cmp("birth_year", "contains", 19), "'contains' works on text"),
    (Cmp("languages", "starts_with", "e"), "'starts_with' works on text"),
    (Cmp("languages", "gt", "a"), "Range comparisons"),
    (Cmp("name", "like", "x"), "unknown operator"),
])
def test_bad_filters_are_bad_queries(f, fragment):
    with pytest.raises(BadQueryError) as err:
        where(f)
    assert fragment in str(err.value)


def test_a_bad_date_names_field_and_format():
    with pytest.raises(BadQueryError, match="established: '2019-13-01' is not a date"):
        where(Cmp("established", "eq", "2019-13-01"), type_name="PartyOrganization")


# --- sort and keyset ----------------------------------------------------------------------------


def test_list_query_orders_nulls_last_and_adds_id_tiebreak():
    text, params, keys = cypher.list_nodes(LB, ONTOLOGY, "Person", sort=[SortKey("name", descending=True)], first=10)
    # Ids first: LadybugDB sorts and cuts the id and sort keys only, then looks the page's ids up.
    # The page's nodes come back as named columns (Arrow on LadybugDB), as get_nodes reads them.
    props = cypher.node_fields_map(ONTOLOGY.node("Person"), None, "m")
    assert text == ("MATCH (n:`Person`) WITH n.`name` AS s0, n.`id` AS s1 ORDER BY s0 IS NULL, s0 DESC, s1 "
                    "LIMIT $limit MATCH (m:`Person` {`id`: s1}) RETURN m.`id` AS id, label(m) AS type, "
                    f"{props} AS props ORDER BY s0 IS NULL, s0 DESC, s1")
    assert params == {"limit": 11}
    assert [(p.name, d) for p, d in keys] == [("name", True), ("id", False)]
    # Neo4j reads properties lazily: the page is cut before any is projected.
    neo, _, _ = cypher.list_nodes(NEO, ONTOLOGY, "Person", first=5)
    assert neo == ("MATCH (n:`Person`) WITH n ORDER BY n.`id` LIMIT $limit "
                   "RETURN n.`id` AS id, labels(n)[0] AS type, "
                   f"{cypher.node_fields_map(ONTOLOGY.node('Person'), None)} AS props ORDER BY n.`id`")


def test_keyset_predicate_after_a_cursor():
    keys = cypher.sort_keys(ONTOLOGY.node("Person"), [SortKey("name", True), SortKey("birth_year")])
    cursor = cypher.encode_cursor(keys, ["李", 1980, "per:9"])
    text, params, _ = cypher.list_nodes(LB, ONTOLOGY, "Person", where=Cmp("volunteer", "eq", True),
                                        sort=[SortKey("name", True), SortKey("birth_year")], after=cursor)
    assert (" WHERE n.`volunteer` = $w0 AND (((n.`name` IS NULL OR n.`name` < $c1)) "
            "OR (n.`name` = $c1 AND (n.`birth_year` IS NULL OR n.`birth_year` > $c2)) "
            "OR (n.`name` = $c1 AND n.`birth_year` = $c2 AND n.`id` > $c3)) WITH") in text
    assert params == {"w0": True, "c1": "李", "c2": 1980, "c3": "per:9", "limit": 21}


def test_keyset_after_a_null_value_stays_inside_the_null_group():
    keys = cypher.sort_keys(ONTOLOGY.node("Person"), [SortKey("birth_year")])
    params = cypher.Params("c")
    text = cypher.keyset_predicate("n", keys, [None, "per:3"], params)
    assert text == "((n.`birth_year` IS NULL AND n.`id` > $c0))"
    assert params.values == {"c0": "per:3"}


def test_cursor_round_trip_and_garbage():
    keys = cypher.sort_keys(ONTOLOGY.node("PartyOrganization"), [SortKey("established")])
    cur = cypher.encode_cursor(keys, [dt.date(2001, 7, 1), "org:1"])
    assert cypher.decode_cursor(cur, keys) == [dt.date(2001, 7, 1), "org:1"]
    with pytest.raises(BadQueryError, match="not a cursor"):
        cypher.decode_cursor("%%%not-base64", keys)
    with pytest.raises(BadQueryError, match="not a cursor"):
        cypher.decode_cursor("bm90IGpzb24", keys)  # base64 of "not json"
    other = cypher.sort_keys(ONTOLOGY.node("PartyOrganization"), [SortKey("name")])
    with pytest.raises(BadQueryError, match="different sort"):
        cypher.decode_cursor(cur, other)


def test_sorting_by_a_list_is_refused():
    with pytest.raises(BadQueryError, match="it is a list"):
        cypher.sort_keys(ONTOLOGY.node("Person"), [SortKey("languages")])


# --- edges, facets, paths, writes ---------------------------------------------------------------


def test_batched_edges_with_filters_on_both_sides():
    text, params = cypher.edges(LB, ONTOLOGY, ["per:1", "per:2"], "MEMBER_OF", "out", parent_type="Person",
                                where=Cmp("kind", "eq", "volunteer_corps"), edge_where=Cmp("role", "eq", "captain"))
    assert text == ("UNWIND $ids AS a_id MATCH (a:`Person` {`id`: a_id})-[r:`MEMBER_OF`]->(b) "
                    "WHERE b.`kind` = $w0 AND r.`role` = $e1 "
                    "RETURN a.`id` AS src, r AS rel, label(b) AS type, b AS node ORDER BY src, b.`id`")
    assert params == {"w0": "volunteer_corps", "e1": "captain", "ids": ["per:1", "per:2"]}
    text, _ = cypher.edges(NEO, ONTOLOGY, ["grp:1", "grp:2"], "MEMBER_OF", "in", parent_type="Group")
    assert text.startswith("UNWIND $ids AS a_id MATCH (a:`Group` {`id`: a_id})<-[r:`MEMBER_OF`]-(b) "
                           "USING INDEX SEEK a:`Group`(`id`) RETURN a.`id` AS src, properties(r) AS rel, "
                           "labels(b)[0] AS type, properties(b) AS node")


def test_edges_of_one_parent_use_a_plain_parameter_and_may_label_the_far_end():
    text, params = cypher.edges(LB, ONTOLOGY, ["per:1"], "MEMBER_OF", "out", parent_type="Person",
                                other_type="PartyOrganization")
    assert text == ("MATCH (a:`Person` {`id`: $a_id})-[r:`MEMBER_OF`]->(b:`PartyOrganization`) "
                    "RETURN a.`id` AS src, r AS rel, label(b) AS type, b AS node ORDER BY src, b.`id`")
    assert params == {"a_id": "per:1"}


def test_edges_other_node_fields_come_from_any_reachable_type():
    # MEMBER_OF reaches PartyOrganization (has level) and Group (has kind): both are valid filters.
    cypher.edges(LB, ONTOLOGY, ["per:1"], "MEMBER_OF", "out", where=Cmp("level", "eq", "branch"))
    with pytest.raises(OntologyError, match="PartyOrganization / Group has no field 'birth_year'"):
        cypher.edges(LB, ONTOLOGY, ["per:1"], "MEMBER_OF", "out", where=Cmp("birth_year", "eq", 1))
    with pytest.raises(OntologyError, match="MEMBER_OF has no property 'weight'"):
        cypher.edges(LB, ONTOLOGY, ["per:1"], "MEMBER_OF", "out", edge_where=Cmp("weight", "eq", 1))


def test_edges_per_node_limit_per_dialect():
    text, params = cypher.edges(LB, ONTOLOGY, ["grp:1", "grp:2"], "MEMBER_OF", "in", limit_per_node=3)
    assert "WITH a, r, b ORDER BY a.`id`, b.`id` SKIP 0 WITH a.`id` AS src, collect({rel: r" in text
    assert text.endswith("RETURN src, list_slice(items, 1, $limit) AS items") and params["limit"] == 3
    text, _ = cypher.edges(NEO, ONTOLOGY, ["grp:1", "grp:2"], "MEMBER_OF", "in", limit_per_node=3)
    assert "ORDER BY a.`id`, b.`id` WITH" in text and text.endswith("RETURN src, items[0..$limit] AS items")


def test_one_parents_limit_is_the_statements():
    for dialect in (LB, NEO):
        text, params = cypher.edges(dialect, ONTOLOGY, ["grp:1"], "MEMBER_OF", "in", limit_per_node=3)
        assert "collect(" not in text and text.endswith("ORDER BY b.`id` LIMIT $limit") and params["limit"] == 3


def test_facets_unwind_list_properties_only():
    text, _ = cypher.facet_counts(LB, ONTOLOGY, "Person", "languages", Cmp("volunteer", "eq", True))
    assert text == ("MATCH (n:`Person`) WHERE n.`volunteer` = $w0 UNWIND n.`languages` AS value WITH value "
                    "WHERE value IS NOT NULL RETURN value, count(*) AS count ORDER BY count DESC, value")
    text, _ = cypher.facet_counts(LB, ONTOLOGY, "Person", "gender")
    assert "WITH n.`gender` AS value WHERE value IS NOT NULL" in text


def test_shortest_path_per_dialect():
    text, params = cypher.shortest_path(LB, ONTOLOGY, "per:1", "org:2", 4)
    assert text == ("MATCH (a:`Person` {`id`: $from_id}), (b:`PartyOrganization` {`id`: $to_id}) "
                    "MATCH p = (a)-[* SHORTEST 1..4]-(b) RETURN nodes(p) AS nodes, rels(p) AS rels")
    assert params == {"from_id": "per:1", "to_id": "org:2"}
    text, _ = cypher.shortest_path(NEO, ONTOLOGY, "per:1", "org:2")
    assert "MATCH p = shortestPath((a)-[*..6]-(b)) RETURN nodes(p) AS nodes, relationships(p) AS rels" in text
    with pytest.raises(BadQueryError, match="max_hops is 7"):
        cypher.shortest_path(LB, ONTOLOGY, "per:1", "org:2", 7)


def test_neighbours_one_branch_per_label():
    text = cypher.neighbours(NEO, ONTOLOGY, ["Person", "Group"])
    assert text.count(" UNION ALL ") == 1
    assert ("UNWIND $ids_0 AS a_id MATCH (a:`Person` {`id`: a_id}) USING INDEX SEEK a:`Person`(`id`) "
            "MATCH (a)-[r]-(b) RETURN a.`id` AS src, type(r) AS rel_type") in text
    assert "UNWIND $ids_1 AS a_id MATCH (a:`Group` {`id`: a_id}) USING INDEX SEEK a:`Group`(`id`)" in text
    assert "label(r) AS rel_type" in cypher.neighbours(LB, ONTOLOGY, ["Person"])


def test_updates_match_stored_nodes_and_set_only_the_columns_named():
    text = cypher.update_nodes(LB, ONTOLOGY, "Person", {"canonical", "version", "languages", "not_a_column"})
    assert text == ("UNWIND $rows AS r MATCH (n:`Person` {`id`: r.`id`}) SET n.`languages` = "
                    "CAST(r.`languages` AS STRING[]), n.`canonical` = r.`canonical`, "
                    "n.`version` = CAST(r.`version` AS INT64)")
    assert cypher.update_nodes(NEO, ONTOLOGY, "Person", None).count(" = r.") == \
        cypher.upsert_nodes(NEO, ONTOLOGY, "Person").count(" = r.")  # None: every column
    with pytest.raises(ValueError, match="no column to set"):
        cypher.update_nodes(LB, ONTOLOGY, "Person", {"id"})


@pytest.mark.parametrize(("new", "stored", "same"), [
    ("a", "a", True), (None, None, True), (["zh", "en"], ["zh", "en"], True), (3, 3, True),
    ("a", "b", False), (None, "a", False), ("a", None, False), (["zh"], ["zh", "en"], False),
    (1, True, False), (True, 1, False), (1.0, 1, False), ([1], [True], False),
    ("2020-01-01", dt.date(2020, 1, 1), False),
])
def test_a_column_is_left_alone_only_when_its_value_and_type_are_the_stored_ones(new, stored, same):
    assert _same_value(new, stored) is same


def test_upserts_set_every_column_typed_for_ladybug():
    text = cypher.upsert_nodes(LB, ONTOLOGY, "Person")
    assert text.startswith("UNWIND $rows AS r MERGE (n:`Person` {`id`: r.`id`}) SET n.`name` = r.`name`, ")
    assert "n.`languages` = CAST(r.`languages` AS STRING[])" in text
    assert "n.`version` = CAST(r.`version` AS INT64)" in text and "n.`updated_at` = r.`updated_at`" in text
    assert "CAST" not in cypher.upsert_nodes(NEO, ONTOLOGY, "Person")
    rel = cypher.upsert_rels(LB, ONTOLOGY, "MEMBER_OF", "Person", "Group")
    assert rel.startswith("UNWIND $rows AS r MATCH (a:`Person` {`id`: r.from_id}), (b:`Group` {`id`: r.to_id}) "
                          "MERGE (a)-[x:`MEMBER_OF`]->(b) SET x.`role` = r.`role`")
    assert "x.`key` = r.`key`" in rel  # merged on its ends (a key is made of them), the key set like the rest
    with pytest.raises(OntologyError, match="does not connect Group to Person"):
        cypher.upsert_rels(LB, ONTOLOGY, "MEMBER_OF", "Group", "Person")


def test_unknown_labels_never_reach_query_text():
    with pytest.raises(OntologyError, match=r"Unknown node type 'Person`\) DETACH"):
        cypher.delete_nodes(LB, ONTOLOGY, "Person`) DETACH")
    with pytest.raises(OntologyError, match="Unknown relationship type"):
        cypher.existing_rels(LB, ONTOLOGY, "KNOWS", "Person")


def test_id_lookups_unwind_into_key_matches():
    text, params = cypher.get_nodes(LB, ONTOLOGY, "Person", ["per:1", "per:2"])
    # Every stored column as a named column (LadybugDB hands those over as Arrow), not the node value.
    head = "UNWIND $ids AS n_id MATCH (n:`Person` {`id`: n_id}) RETURN n.`id` AS id, label(n) AS type, {`id`: n.`id`, "
    assert text.startswith(head) and text.endswith("} AS props") and " n AS props" not in text
    assert "`name`: n.`name`" in text and "`prov`: n.`prov`" in text
    assert params == {"ids": ["per:1", "per:2"]}
    read, delete = cypher.delete_rels(LB, ONTOLOGY, "MEMBER_OF", "Person")
    # Between its ends, not by key (Neo4j could plan that as a scan of the relationship key index).
    assert read.startswith("UNWIND $rows AS k MATCH (a:`Person` {`id`: k.from_id})-[r:`MEMBER_OF`]->(b) "
                           "WHERE b.`id` = k.to_id RETURN")
    assert delete.endswith("WHERE b.`id` = k.to_id DELETE r") and "r.`key` =" not in read + delete
    assert cypher.delete_nodes(LB, ONTOLOGY, "Group") == \
        "UNWIND $ids AS n_id MATCH (n:`Group` {`id`: n_id}) DETACH DELETE n"


_BY_ID = re.compile(r"(?:MATCH |, )\((\w+):(`\w+`) \{`id`: ")


def test_neo4j_seeks_every_node_it_matches_by_id_whatever_its_statistics_say() -> None:
    """Planned while a label's id index looked empty (a new database, just after a wipe), Neo4j scanned the whole
    index once per id of an ``UNWIND $ids … MATCH (a:Person {id: a_id})`` and kept that plan cached; the hint
    makes every match by id a seek. LadybugDB's id is its primary key: its statements carry no hint."""
    for text in matches_by_id(NEO):
        found = _BY_ID.findall(text)
        assert found, text
        for var, label in found:
            assert f"USING INDEX SEEK {var}:{label}(`id`)" in text, (var, label, text)
    for text in matches_by_id(LB):
        assert _BY_ID.findall(text) and "USING" not in text, text


def test_change_log_queries():
    text, params = cypher.read_changes(10, 50)
    assert text.startswith("MATCH (c:`ChangeLog`) WHERE c.`seq` > $after RETURN c.`seq` AS `seq`")
    assert text.endswith("ORDER BY c.`seq` LIMIT $limit") and params == {"after": 10, "limit": 50}
    assert cypher.insert_changes(LB).startswith("UNWIND $rows AS r CREATE (:`ChangeLog` {`seq`: CAST(r.`seq` AS INT64)")


# --- common -------------------------------------------------------------------------------------


def test_content_hash_is_canonical():
    assert content_hash({"a": 1, "b": ["x", "y"]}) == content_hash({"b": ["x", "y"], "a": 1, "c": None})
    assert content_hash({"b": ["x", "y"]}) != content_hash({"b": ["y", "x"]})
    assert content_hash({"a": 1}) != content_hash({"a": "1"})


def test_rows_become_nodes_with_only_declared_fields():
    raw = {"_ID": {"offset": 1}, "_LABEL": "Group", "id": "grp:1", "name": "G", "birth_year": None, "level": None,
           "founded": 2001, "version": 2, "kind": None}
    node = node_from_props(ONTOLOGY, "Group", raw)
    assert node.id == "grp:1" and node.type == "Group"
    assert node.props == {"name": "G", "founded": 2001, "version": 2}
    org = node_from_props(ONTOLOGY, "PartyOrganization", {"id": "org:1", "established": dt.date(2001, 7, 1)})
    assert org.props == {"established": "2001-07-01"}
    assert parse_rel_key("per:1|MEMBER_OF|grp:2") == ("MEMBER_OF", "per:1", "grp:2")
    with pytest.raises(OntologyError, match="is not 'from|TYPE|to'"):
        parse_rel_key("per:1->grp:2")


def test_filter_fields_names_every_compared_field() -> None:
    f = And((Cmp("name", "eq", "甲"), Or((Cmp("level", "eq", "branch"), Not(Cmp("birth_year", "lt", 1960)))),
             Cmp("name", "starts_with", "张")))
    assert cypher.filter_fields(f) == {"name", "level", "birth_year"}
    assert cypher.filter_fields(And(())) == set()


def test_what_a_source_owns_is_found_by_its_name_as_parameters():
    nodes = cypher.nodes_claimed_by(ONTOLOGY, "Person")
    assert nodes == ("MATCH (n:`Person`) WHERE (n.`prov` IS NULL AND n.`src_job` = $job) "
                     "OR n.`prov` STARTS WITH $first OR n.`prov` CONTAINS $later RETURN n.`id` AS id")
    assert cypher.rels_written_by(ONTOLOGY, "LIVES_IN", "Person") == (
        "MATCH (a:`Person`)-[r:`LIVES_IN`]->() WHERE r.`src_job` = $job RETURN r.`key` AS key")
    read, delete = cypher.delete_rels_written_by(LB, ONTOLOGY, "LIVES_IN", "Person")
    assert read.endswith("AND r.`src_job` = $job RETURN r.`key` AS key, r.`version` AS version")
    assert delete.endswith("AND r.`src_job` = $job DELETE r") and read.split(" RETURN ")[0] == delete[:-9]
