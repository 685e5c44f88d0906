"""``graph/walk.py`` as strings: the shape of a walk's one statement on both dialects."""

from __future__ import annotations

import pytest

from talentgraph.errors import BadQueryError
from talentgraph.graph import cypher
from talentgraph.graph.walk import MAX_DEPTH, PageRoot, Step, Walk, depth, walk_query
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import Cmp, SortKey

CO = Step("1", "CO_BUILDS_WITH", "out", ("PartyOrganization",), limit=21, other_types=("Enterprise",))
MEMBER_OF = Step("0", "MEMBER_OF", "out", ("Person",), limit=21, steps=(CO,), where=Cmp("name", "starts_with", "第"))


@pytest.mark.parametrize("dialect", [cypher.LADYBUG, cypher.NEO4J])
def test_one_labelled_optional_match_per_far_type_and_no_order_before_collect(dialect: cypher.Dialect) -> None:
    q = walk_query(dialect, ONTOLOGY, Walk((MEMBER_OF,), node_id="per:1"))
    assert q.text.startswith("MATCH (n0:`Person` {`id`: $p0})") and q.params["p0"] == "per:1"
    far = sorted(t for _, t in ONTOLOGY.rel("MEMBER_OF").endpoints)
    for t in far:  # one match per far-end type, labelled
        assert f"->(n1_{far.index(t)}:`{t}`)" in q.text or f":`{t}`)" in q.text
    assert q.text.count("OPTIONAL MATCH") == len(far) + 1  # CO_BUILDS_WITH only under PartyOrganization
    assert "ORDER BY" not in q.text and "SKIP" not in q.text  # the reader orders and cuts
    assert q.text.count("collect(CASE WHEN") == len(far) + 1
    assert sum(len(v) for v in q.collections.values()) == len(far) + 1


def test_a_page_root_sorts_ids_and_keys_first_and_orders_the_rows() -> None:
    page = PageRoot("Person", where=Cmp("volunteer", "eq", True), sort=(SortKey("name", True),), first=5)
    q = walk_query(cypher.LADYBUG, ONTOLOGY, Walk((CO,), page=page))
    assert "WITH n.`name` AS s0, n.`id` AS s1 ORDER BY s0 IS NULL, s0 DESC, s1 LIMIT" in q.text
    assert q.text.endswith("ORDER BY n0.`name` IS NULL, n0.`name` DESC, n0.`id`")
    assert 6 in q.params.values() and True in q.params.values()
    assert [p.name for p, _ in q.keys] == ["name", "id"]


def test_the_root_node_is_bound_again_by_id_and_never_aggregated() -> None:
    q = walk_query(cypher.LADYBUG, ONTOLOGY, Walk((MEMBER_OF, Step("2", "WORKS_AT", "out", ("Person",))),
                                                  node_id="per:1"))
    for clause in q.text.split(" WITH ")[1:]:
        assert not clause.startswith("n0,") and " n0, " not in clause.split(" MATCH ")[0]
    assert q.text.count("MATCH (n0:`Person` {`id`: k0})") >= 3  # before each step's match and the RETURN


def test_depth_is_capped() -> None:
    assert depth((MEMBER_OF,)) == 2
    deep = CO
    for _ in range(MAX_DEPTH):
        deep = Step("x", "PART_OF", "out", ("PartyOrganization",), steps=(deep,))
    with pytest.raises(BadQueryError, match="steps deep"):
        Walk((deep,), node_id="org:1")
