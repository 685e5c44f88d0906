"""Statements of the graph store's, built for tests on both engines (unit: their text; integration: their plans)."""

from __future__ import annotations

from talentgraph.graph import cypher
from talentgraph.graph.walk import PageRoot, Step, Walk, walk_query
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import SortKey


def matches_by_id(dialect: cypher.Dialect) -> list[str]:
    """Every statement of the store's that matches a node by its id, on ``dialect``."""
    co = Step("1", "CO_BUILDS_WITH", "out", ("PartyOrganization",), limit=21, other_types=("Enterprise",))
    member = Step("0", "MEMBER_OF", "out", ("Person",), limit=21, steps=(co,))
    flat = Step("0", "MEMBER_OF", "out", ("Person",), limit=21, node_props=("name",))
    page = PageRoot("Person", sort=(SortKey("name", False),), first=5, count=True)
    keys = cypher.sort_keys(ONTOLOGY.node("Person"), [SortKey("name", False)])
    return [
        cypher.get_nodes(dialect, ONTOLOGY, "Person", ["per:1"])[0],
        cypher.existing_nodes(dialect, ONTOLOGY, "Person", ["per:1"])[0],
        cypher.delete_nodes(dialect, ONTOLOGY, "Person"),
        cypher.rels_of_nodes(dialect, ONTOLOGY, "Person"),
        cypher.update_nodes(dialect, ONTOLOGY, "Person", None),
        cypher.existing_rels(dialect, ONTOLOGY, "LIVES_IN", "Person"),
        cypher.upsert_rels(dialect, ONTOLOGY, "LIVES_IN", "Person", "Area"),
        *cypher.delete_rels(dialect, ONTOLOGY, "MEMBER_OF", "Person"),
        *cypher.delete_rels_written_by(dialect, ONTOLOGY, "MEMBER_OF", "Person"),
        cypher.edges(dialect, ONTOLOGY, ["per:1"], "MEMBER_OF", "out", parent_type="Person")[0],
        cypher.edges(dialect, ONTOLOGY, ["per:1", "per:2"], "MEMBER_OF", "out", parent_type="Person",
                     limit_per_node=3)[0],
        cypher.links(dialect, ONTOLOGY, "LIVES_IN", "out", "Person", "Area", "level"),
        cypher.neighbours(dialect, ONTOLOGY, ["Person", "Group"]),
        cypher.shortest_path(dialect, ONTOLOGY, "per:1", "org:2")[0],
        cypher.get_rels(dialect, ONTOLOGY, "MEMBER_OF", "Person"),
        cypher.page_by_ids(dialect, "MATCH (n:`Person`)", ONTOLOGY.node("Person"), keys),
        walk_query(dialect, ONTOLOGY, Walk((member,), node_id="per:1")).text,
        walk_query(dialect, ONTOLOGY, Walk((flat,), node_id="per:1")).text,
        walk_query(dialect, ONTOLOGY, Walk((member,), page=page)).text,
    ]
