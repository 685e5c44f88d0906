"""Neo4j adapter of the ``GraphStore`` port (Neo4j 5, official ``neo4j`` driver 5.x or 6.x)."""

from talentgraph.graph.neo4j.store import Neo4jGraphStore

__all__ = ["Neo4jGraphStore"]
