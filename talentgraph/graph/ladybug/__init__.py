"""LadybugDB adapter (embedded graph, Kuzu Cypher dialect): the default ``GraphStore``."""

from talentgraph.graph.ladybug.store import LadybugGraphStore

__all__ = ["LadybugGraphStore"]
