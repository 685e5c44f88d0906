"""Ladybug-specific read queries used while writing (the shared ones live in ``graph/cypher.py``): whether a table
holds anything yet, so a first load skips looking records up."""

from __future__ import annotations

from talentgraph.graph.cypher import q
from talentgraph.schema.ontology import Ontology


def any_rel(ontology: Ontology, rel_type: str) -> str:
    """One row when a relationship table holds anything (a first load skips the lookups)."""
    return f"MATCH ()-[r:{q(ontology.rel(rel_type).name)}]->() RETURN r.{q('key')} AS key LIMIT 1"


def any_node(ontology: Ontology, type_name: str) -> str:
    """One row when a node table holds anything."""
    return f"MATCH (n:{q(ontology.node(type_name).name)}) RETURN n.{q('id')} AS id LIMIT 1"


__all__ = ["any_node", "any_rel"]
