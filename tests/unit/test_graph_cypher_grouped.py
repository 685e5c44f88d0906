"""``cypher.grouped_counts`` as text: the far end labelled, filters as parameters, lists unwound."""

from __future__ import annotations

import pytest

from talentgraph.errors import BadQueryError
from talentgraph.graph import cypher
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import Cmp


def test_counts_per_linked_node() -> None:
    text, params = cypher.grouped_counts(cypher.LADYBUG, ONTOLOGY, "Person", "LIVES_IN", "out")
    assert text == ("MATCH (n:`Person`)-[:`LIVES_IN`]->(g:`Area`) WHERE g.`id` IN $ids "
                    "RETURN g.`id` AS grp, count(*) AS count")
    assert params == {}


def test_counts_per_value_of_a_list_property_with_a_filter() -> None:
    text, params = cypher.grouped_counts(cypher.LADYBUG, ONTOLOGY, "Person", "LIVES_IN", "out", "languages",
                                         Cmp("volunteer", "eq", True))
    assert "AND n.`volunteer` = $w0 UNWIND n.`languages` AS value WITH g, value WHERE value IS NOT NULL" in text
    assert text.endswith("RETURN g.`id` AS grp, value, count(*) AS count") and params == {"w0": True}


def test_scalar_values_and_the_in_direction() -> None:
    text, _ = cypher.grouped_counts(cypher.LADYBUG, ONTOLOGY, "Group", "MEMBER_OF", "in", "kind")
    assert text.startswith("MATCH (n:`Group`)<-[:`MEMBER_OF`]-(g:`Person`)") and "WITH g, n.`kind` AS value" in text


@pytest.mark.parametrize(("type_name", "rel", "direction"), [("Venue", "LIVES_IN", "out"),
                                                             ("Person", "LIVES_IN", "sideways")])
def test_refused(type_name: str, rel: str, direction: str) -> None:
    with pytest.raises(BadQueryError):
        cypher.grouped_counts(cypher.LADYBUG, ONTOLOGY, type_name, rel, direction)  # type: ignore[arg-type]
