"""Open the configured backends behind their ports: the one place that knows which adapter to build.

Embedded (default): LadybugDB under ``<data_dir>/graph`` and Tantivy under ``<data_dir>/search``.
Real engines: ``graph_url`` (bolt:// or neo4j://) selects Neo4j; ``search_url`` selects
OpenSearch or Elasticsearch 8 (``search_engine``). Adapters are imported lazily so the embedded
path never imports a network driver.

The data dir holds personal data (the graph, the index, quarantined rows, the ID-hash key), so it
is kept private to its owner: ``private_data_dir`` makes it 0700 (and tightens a looser existing
mode, with a warning), and tightens talentgraph's files in it to 0600. LadybugDB and Tantivy create
their files themselves, without a mode we can pass, so opening the data dir also adds 0o077 to the
process umask: every file the process creates from then on is owner-only. The umask is only ever
tightened, never restored, because the stores keep writing files until the process exits.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.schema.overlay import overlay_path
from talentgraph.schema.vocabularies import use_overlay
from talentgraph.search.port import SearchIndex
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService


log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# Entries talentgraph writes in a data dir; only these are tightened (the dir could hold other things).
OWNED = ("graph", "search", "quarantine", "registers", "audit", "id-hash.key", "server.json", "keys.json",
         "vocab-overlay.yaml")


def private_data_dir(path: Path) -> Path:
    """Create ``path`` mode 0700, tighten what talentgraph keeps in it, and set the umask (see above)."""
    os.umask(os.umask(0o077) | 0o077)  # os.umask sets and returns the old mask: add 077 to the old one
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    loose = _tighten(path)
    for name in OWNED:
        entry = path / name
        if entry.is_dir() and not entry.is_symlink():
            loose += _tighten(entry)
            for root, dirs, files in os.walk(entry):
                loose += sum(_tighten(Path(root) / d) for d in dirs) + sum(_tighten(Path(root) / f) for f in files)
        elif entry.is_file() and not entry.is_symlink():
            loose += _tighten(entry)
    if loose:
        log.warning("Data dir %s: made %d entries private to their owner (they were readable by group or others); "
                    "the data dir holds personal data.", path, loose)
    return path


def _tighten(path: Path) -> int:
    """Remove group/other permission bits (0700 dirs, 0600 files); 1 when the mode was looser."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
            return 0
        path.chmod(stat.S_IMODE(st.st_mode) & 0o700)  # the owner's bits stay as they were
    except FileNotFoundError:  # an engine removed a temporary file meanwhile
        return 0
    return 1


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

        graph: GraphStore = LadybugGraphStore(settings.data_dir / "graph", ontology,
                                              buffer_pool_mb=settings.graph_memory_mb)
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


def lexicon_path(settings: Settings) -> Path:
    """The entity names the index was analysed with (``analysis.save_lexicon``), kept beside it."""
    from talentgraph.search.analysis import LEXICON_FILE

    if settings.embedded_search:
        return settings.data_dir / "search" / LEXICON_FILE
    return settings.data_dir / f"search-{settings.search_index}-{LEXICON_FILE}"


def open_index(settings: Settings, ontology: Ontology = ONTOLOGY) -> SearchIndex:
    """Open the search index and load the analysis vocabulary it was built with (every process)."""
    from talentgraph.search.analysis import load_lexicon

    if settings.embedded_search:
        from talentgraph.search.tantivy.index import TantivyIndex

        index: SearchIndex = TantivyIndex(settings.data_dir / "search", ontology)
    else:
        from talentgraph.search.opensearch.index import OpenSearchIndex

        index = OpenSearchIndex.from_settings(settings, ontology)
    load_lexicon(lexicon_path(settings))
    return index


def open_stores(settings: Settings, ontology: Ontology = ONTOLOGY) -> Stores:
    private_data_dir(settings.data_dir)
    # Ingest, search and the API read vocabularies with this data dir's terms and aliases merged in.
    use_overlay(overlay_path(settings.data_dir))
    graph = open_graph(settings, ontology)
    try:
        index = open_index(settings, ontology)
    except Exception:
        graph.close()
        raise
    search = SearchService(index, ontology, max_page_size=settings.max_page_size)
    projector = SearchProjector(graph, index, ontology, lexicon_path=lexicon_path(settings))
    projector.learn_entity_names()  # the lexicon open_index loaded, or (first run) the graph's names
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
    private_data_dir(settings.data_dir)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def quarantine_dir(settings: Settings) -> Path:
    path = settings.data_dir / "quarantine"
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


__all__ = ["DIR_MODE", "FILE_MODE", "Stores", "id_hash_key", "open_graph", "open_index", "open_stores",
           "private_data_dir", "quarantine_dir"]
