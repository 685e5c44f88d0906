"""Embedded Tantivy adapter of the ``SearchIndex`` port (the default search backend)."""

from talentgraph.search.tantivy.index import TantivyIndex

__all__ = ["TantivyIndex"]
