"""Text to graph: documents read into mentions, candidate entities and numeric facts, linked to the graph.

``readers`` (files → text) → ``pipeline`` (spaCy per language: sentences, entity ruler from the graph and the
ontology's name forms, a trained recogniser) → ``facts`` (numbers stated about entities) → ``linking`` (mention →
node or candidate) → ``store`` (Documents, MENTIONS, Candidates, Facts through the graph port). The shapes passed
between them are in ``model``.
"""
