"""Open the configured backends behind their ports: the one place that knows which adapter to build.

Embedded (default): LadybugDB under ``<data_dir>/graph`` and Tantivy under ``<data_dir>/search``.
Real engines: ``graph_url`` (bolt:// or neo4j://) selects Neo4j; ``search_url`` selects
OpenSearch or Elasticsearch 8 (``search_engine``). Adapters are imported lazily so the embedded
path never imports a network driver.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.search.port import SearchIndex
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService


@dataclass
class Stores:
    settings: Settings
    graph: GraphStore
    index: SearchIndex
    search: SearchService
    projector: SearchProjector

    def close(self) -> None:
        self.index.close()
        self.graph.close()


def open_graph(settings: Settings, ontology: Ontology = ONTOLOGY) -> GraphStore:
    if settings.embedded_graph:
        from talentgraph.graph.ladybug.store import LadybugGraphStore

        graph: GraphStore = LadybugGraphStore(settings.data_dir / "graph", ontology)
    else:
        from talentgraph.graph.neo4j.store import Neo4jGraphStore

        graph = Neo4jGraphStore(
            settings.graph_url,
            user=settings.graph_user,
            password=settings.graph_password,
            database=settings.graph_database,
            ontology=ontology,
        )
    graph.ensure_schema()
    return graph


def open_index(settings: Settings, ontology: Ontology = ONTOLOGY) -> SearchIndex:
    if settings.embedded_search:
        from talentgraph.search.tantivy.index import TantivyIndex

        return TantivyIndex(settings.data_dir / "search", ontology)
    from talentgraph.search.opensearch.index import OpenSearchIndex

    return OpenSearchIndex.from_settings(settings, ontology)


def open_stores(settings: Settings, ontology: Ontology = ONTOLOGY) -> Stores:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    graph = open_graph(settings, ontology)
    try:
        index = open_index(settings, ontology)
    except Exception:
        graph.close()
        raise
    search = SearchService(index, ontology, max_page_size=settings.max_page_size)
    projector = SearchProjector(graph, index, ontology)
    projector.learn_entity_names()
    return Stores(settings, graph, index, search, projector)


def id_hash_key(settings: Settings) -> bytes:
    """Key for hashing identity-document numbers: the setting, else a random key kept in the data dir.

    The key must stay the same across runs or re-ingesting the same person would look like a change;
    it lives beside the data (mode 0600) and is never printed.
    """
    if settings.id_hash_key:
        return settings.id_hash_key.encode()
    path = settings.data_dir / "id-hash.key"
    if path.exists():
        return path.read_bytes().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def quarantine_dir(settings: Settings) -> Path:
    path = settings.data_dir / "quarantine"
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["Stores", "id_hash_key", "open_graph", "open_index", "open_stores", "quarantine_dir"]
