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
    assert q.text.count("collect({rel: ") == len(far) + 1 and "CASE" not in q.text  # the reader skips null items
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


@pytest.mark.parametrize("dialect", [cypher.LADYBUG, cypher.NEO4J])
def test_a_walk_by_id_reading_columns_is_one_union_branch_per_chain_of_flat_columns(dialect: cypher.Dialect) -> None:
    steps = (Step("0", "MEMBER_OF", "out", ("Person",), limit=21, node_props=("name",),
                  steps=(Step("1", "CO_BUILDS_WITH", "out", ("PartyOrganization",), node_props=("name",),
                              other_types=("Enterprise",)),)),)
    q = walk_query(dialect, ONTOLOGY, Walk(steps, node_id="per:1", root_props=("name",)))
    party, group = q.text.split(" UNION ALL ")
    head = "MATCH (n0:`Person` {`id`: $p0})" + dialect.id_seek("n0", "`Person`")
    # PartyOrganization then its enterprises, one row per path; the Group memberships a branch of their own.
    assert party.startswith(f"{head} OPTIONAL MATCH (n0)-[r1_0:`MEMBER_OF`]->"
                            "(n1_0:`PartyOrganization`) OPTIONAL MATCH (n1_0)-[r2_0:`CO_BUILDS_WITH`]->"
                            "(n2_0:`Enterprise`) RETURN n0.`id` AS id, $p1 AS type, n0.`name` AS r0_1, 0 AS b, ")
    assert group.startswith(f"{head} OPTIONAL MATCH (n0)-[r1_1:`MEMBER_OF`]->(n1_1:`Group`) "
                            "RETURN n0.`id` AS id, $p1 AS type, n0.`name` AS r0_1, 1 AS b, ")
    assert " WITH " not in q.text and "collect(" not in q.text and "{`id`: k0}" not in q.text
    assert q.params == {"p0": "per:1", "p1": "Person"}
    # The same columns in both branches, in the same order: values where the branch matched them, typed
    # nulls where it did not (LadybugDB's UNION ALL binds each column's type; an untyped NULL is ANY).
    null = {"ladybug": "CAST(NULL AS {})", "neo4j": "NULL"}[dialect.name]
    assert "n2_0.`name` AS c2_0_n1" in party and f"{null.format('STRING')} AS c2_0_n1" in group
    assert "r1_0.`since` AS c1_0_r2" in party and f"{null.format('DATE')} AS c1_0_r2" in group
    assert f"{dialect.label_of('n1_1')} AS c1_1_t" in group and f"{null.format('STRING')} AS c1_1_t" in party
    assert [c.split(" AS ")[-1] for c in party.split(" RETURN ")[1].split(", ")] == \
        [c.split(" AS ")[-1] for c in group.split(" RETURN ")[1].split(", ")]
    assert q.shape is not None and q.shape.above == {"c1_0": None, "c2_0": "c1_0", "c1_1": None}
    assert q.shape.branches == (frozenset({"c1_0", "c2_0"}), frozenset({"c1_1"}))
    assert q.shape.root == (("name", "r0_1"),)  # and the id from the ``id`` column
    # Whole far nodes anywhere: collected, the root bound again by id (LadybugDB lost later steps' rows otherwise).
    whole = walk_query(dialect, ONTOLOGY, Walk((MEMBER_OF,), node_id="per:1", root_props=("name",)))
    assert whole.text.count("MATCH (n0:`Person` {`id`: k0})") >= 3 and whole.shape is None


@pytest.mark.parametrize("dialect", [cypher.LADYBUG, cypher.NEO4J])
def test_a_counted_page_counts_in_its_statement(dialect: cypher.Dialect) -> None:
    page = PageRoot("Person", where=Cmp("volunteer", "eq", True), first=5, count=True)
    q = walk_query(dialect, ONTOLOGY, Walk((CO,), page=page))
    assert q.text.startswith("MATCH (c:`Person`) WHERE c.`volunteer` = $p2 WITH count(c) AS total MATCH (n:`Person`)")
    assert "WITH total, n.`id` AS s0 ORDER BY s0 LIMIT" in q.text and ", total ORDER BY" in q.text
    text, params, _ = cypher.list_nodes(dialect, ONTOLOGY, "Person", where=Cmp("volunteer", "eq", True), count=True)
    assert text.startswith("MATCH (c:`Person`) WHERE c.`volunteer` = $k1 WITH count(c) AS total MATCH (n:`Person`)")
    assert " RETURN total, " in text and params["k1"] is True


def test_every_chain_from_the_root_to_a_leaf_is_a_branch_and_nothing_is_collected() -> None:
    # Person -> MEMBER_OF (Group: 1 level; PartyOrganization: its enterprises, and 2 levels up and back
    # down PART_OF / MEMBER_OF) and WORKS_AT (1 level).
    deep = Step("2", "PART_OF", "out", ("PartyOrganization",), node_props=("name",), steps=(
        Step("3", "MEMBER_OF", "in", ("PartyOrganization",), node_props=("name",), other_types=("Person",)),))
    side = Step("4", "CO_BUILDS_WITH", "out", ("PartyOrganization",), node_props=("name",), other_types=("Enterprise",))
    steps = (Step("1", "MEMBER_OF", "out", ("Person",), node_props=("name",), steps=(side, deep)),
             Step("5", "WORKS_AT", "out", ("Person",), node_props=("name",)))
    q = walk_query(cypher.LADYBUG, ONTOLOGY, Walk(steps, node_id="per:1", root_props=("name",)))
    assert q.shape is not None and "collect(" not in q.text
    branches = q.text.split(" UNION ALL ")
    assert len(branches) == len(q.shape.branches)
    above = q.shape.above
    leaves = [c for c in above if c not in above.values()]
    assert sorted(leaves) == sorted(c for b in q.shape.branches for c in b if c in leaves)  # a branch per leaf
    assert len(leaves) == len(q.shape.branches) == 4  # Group; co-building; PART_OF then members; WORKS_AT
    for text, arms in zip(branches, q.shape.branches):
        assert text.count("OPTIONAL MATCH") == len(arms)
        chain = [c for c in above if c in arms]  # top down, each below the one before
        assert [above[c] for c in chain] == [None, *chain[:-1]]


@pytest.mark.parametrize("dialect", [cypher.LADYBUG, cypher.NEO4J])
def test_the_same_steps_by_another_id_reuse_the_statement_with_that_id(dialect: cypher.Dialect) -> None:
    from talentgraph.graph import walk as walk_module

    steps = (MEMBER_OF, Step("2", "WORKS_AT", "out", ("Person",), node_props=("name",)))
    first = walk_query(dialect, ONTOLOGY, Walk(steps, node_id="per:1", root_props=("name",)))
    again = walk_query(dialect, ONTOLOGY, Walk(steps, node_id="per:2", root_props=("name",)))
    fresh = walk_module._walk_query(dialect, ONTOLOGY, Walk(steps, node_id="per:2", root_props=("name",)))
    assert (again.text, again.params, again.keys, again.shape) == (fresh.text, fresh.params, fresh.keys, fresh.shape)
    assert again.collections == fresh.collections == first.collections  # by id(step): the same steps
    assert first.params["p0"] == "per:1" and again.params["p0"] == "per:2"
    assert "第" in again.params.values()  # the step's filter value travels with the statement
    # Other root columns, another root type, equal steps that are other objects: statements of their own.
    other = walk_query(dialect, ONTOLOGY, Walk(steps, node_id="per:2", root_props=None))
    assert other.text != again.text
    copy = tuple(Step(**{f: getattr(s, f) for f in s.__dataclass_fields__}) for s in steps)
    rebuilt = walk_query(dialect, ONTOLOGY, Walk(copy, node_id="per:3", root_props=("name",)))
    copied = {id(s) for s in walk_module.steps_of(Walk(copy, node_id="per:3"))}
    assert rebuilt.text == again.text and set(rebuilt.collections) == copied  # the reader finds the copies
