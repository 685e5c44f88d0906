"""Which columns a bulk read returns, read off its Cypher text, and the statement that packs its rows."""

from __future__ import annotations

import pytest

from talentgraph.graph import cypher
from talentgraph.graph.neo4j.packing import PACK_PARAM, packed, return_columns
from talentgraph.schema.ontology import ONTOLOGY


@pytest.mark.parametrize(("text", "columns"), [
    ("MATCH (n:`Person`) WHERE n.`id` > $after RETURN n.`id` AS id, {`id`: n.`id`, `name`: n.`name`} AS props "
     "ORDER BY n.`id` LIMIT $limit", ("id", "props")),
    ("MATCH (c:`ChangeLog`) RETURN c.`seq` AS `seq`, c.`op` AS `op`", ("`seq`", "`op`")),
    ("MATCH (c) WITH count(c) AS total MATCH (n) WITH total, n ORDER BY n.id LIMIT $limit RETURN total, n.id AS id",
     ("total", "id")),
    ("UNWIND $ids AS a_id MATCH (a {id: a_id}) RETURN DISTINCT a.id AS src, [x IN a.tags WHERE x <> ',' | x] AS tags",
     ("src", "tags")),
    # An inner RETURN, words inside strings and comments, and a function named like a clause are not the columns.
    ("CALL { MATCH (n) RETURN n LIMIT 1 } WITH n WHERE n.note <> 'RETURN x AS y' "
     "// RETURN z AS w\nRETURN n.id AS id, coalesce(n.a, 'ORDER BY') AS `odd ``name`` `", ("id", "`odd ``name`` `")),
    ("MATCH (n) RETURN n.id AS id SKIP 2", ("id",)),
    ("MATCH (n) RETURN n.id AS id UNION MATCH (m) RETURN m.id AS id", ("id",)),
])
def test_columns_are_the_names_of_the_last_return(text: str, columns: tuple[str, ...]) -> None:
    assert return_columns(text) == columns


@pytest.mark.parametrize("text", [
    "MATCH (n) RETURN *",
    "MATCH (n) RETURN n.id",  # an unnamed expression: the driver names it by its text
    "MATCH (n) RETURN n.id AS id, n.name AS id",
    "MATCH (n) SET n.x = 1",
    "MATCH (n) RETURN n.id AS id, {a: (n.b AS c",  # a bracket left open
    "MATCH (n) RETURN count(n) AS c, 'open string AS d",
])
def test_columns_not_read_with_certainty_are_none(text: str) -> None:
    assert return_columns(text) is None
    assert packed(text) is None


def test_packed_wraps_the_statement_and_names_columns_as_the_driver_would() -> None:
    text = "MATCH (c:`ChangeLog`) RETURN c.`seq` AS `seq`, c.`op` AS op ORDER BY c.`seq`"
    wrapped, columns = packed(text) or ("", ())
    assert columns == ("seq", "op")
    assert wrapped == (f"CALL {{ {text} }} WITH collect([`seq`, op]) AS rows "
                       f"UNWIND range(0, size(rows) - 1, ${PACK_PARAM}) AS i RETURN rows[i..i + ${PACK_PARAM}] AS packed")
    assert packed(f"MATCH (n) WHERE n.x = ${PACK_PARAM} RETURN n.id AS id") is None  # the parameter is taken


def test_every_bulk_read_the_store_builds_is_packed() -> None:
    fields = ["name", "languages"]
    for text in (cypher.scan_nodes(ONTOLOGY, "Person", fields), cypher.scan_nodes(ONTOLOGY, "Area", None),
                 cypher.links(cypher.NEO4J, ONTOLOGY, "MEMBER_OF", "out", "Person", "Group", "kind"),
                 cypher.read_change_window(0, 10, None)[0], cypher.read_change_window(0, 10, ["Person"])[0]):
        assert packed(text) is not None, text
