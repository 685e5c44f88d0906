"""Which engines the suite runs on, captured once, and fresh empty stores on each of them.

The engine settings (``TALENTGRAPH_GRAPH_*``, ``TALENTGRAPH_SEARCH_*``; ``scripts/test`` sources them
from ``.services/state.env``) are read here at import and then every ``TALENTGRAPH_*`` variable is
removed from the environment: unit tests, CLI tests and anything calling ``Settings.load()`` see the
embedded defaults unless a test asks for an engine through a fixture below.

Fixtures ``graph_backend`` ("ladybug", "neo4j") and ``search_backend`` ("tantivy", "opensearch") are
module-scoped and parametrised, so a module's world is built once per backend and pytest runs all
of one backend's tests before the next. A real-engine param whose service is not configured is
skipped, with a reason that says how to start it.

Neo4j holds one database per server: a fresh store is the shared database wiped, so tests must run
one at a time against it (pytest runs serially) and a store loaded for a whole module must be
reloaded after a test wiped it (``SharedGraph``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.search.port import SearchIndex

# --- engine settings, captured at import -----------------------------------------------------------

ENGINE_ENV: dict[str, str] = {k: os.environ.pop(k) for k in sorted(os.environ) if k.startswith("TALENTGRAPH_")}

GRAPH_URL = ENGINE_ENV.get("TALENTGRAPH_GRAPH_URL", "")
GRAPH_USER = ENGINE_ENV.get("TALENTGRAPH_GRAPH_USER", "neo4j")
GRAPH_PASSWORD = ENGINE_ENV.get("TALENTGRAPH_GRAPH_PASSWORD", "")
GRAPH_DATABASE = ENGINE_ENV.get("TALENTGRAPH_GRAPH_DATABASE", "neo4j")
SEARCH_URL = ENGINE_ENV.get("TALENTGRAPH_SEARCH_URL", "")
SEARCH_ENGINE = ENGINE_ENV.get("TALENTGRAPH_SEARCH_ENGINE", "opensearch")
SEARCH_USER = ENGINE_ENV.get("TALENTGRAPH_SEARCH_USER", "")
SEARCH_PASSWORD = ENGINE_ENV.get("TALENTGRAPH_SEARCH_PASSWORD", "")

NEO4J_MISSING = "Neo4j is not configured (TALENTGRAPH_GRAPH_URL unset): start it with services/up (scripts/test does)"
OPENSEARCH_MISSING = ("OpenSearch is not configured (TALENTGRAPH_SEARCH_URL unset or not opensearch): "
                      "start it with services/up (scripts/test does)")

# Modules written to read the engine settings from the environment themselves (at import and in
# fixtures); they get them back for their own collection and tests only.
READS_ENGINE_ENV = frozenset({"test_services_smoke.py"})


@contextmanager
def engine_env() -> Iterator[None]:
    before = {k: os.environ.get(k) for k in ENGINE_ENV}
    os.environ.update(ENGINE_ENV)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    if isinstance(collector, pytest.Module) and collector.path.name in READS_ENGINE_ENV:
        with engine_env():
            return (yield)
    return (yield)


@pytest.fixture(autouse=True)
def _engine_env_for_modules_that_read_it(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.path.name in READS_ENGINE_ENV:
        for k, v in ENGINE_ENV.items():
            monkeypatch.setenv(k, v)


def neo4j_settings(**overrides: Any) -> Settings:
    """Settings pointing at the configured Neo4j (skips the test when there is none)."""
    if not GRAPH_URL:
        pytest.skip(NEO4J_MISSING)
    return Settings(**{"graph_url": GRAPH_URL, "graph_user": GRAPH_USER, "graph_password": GRAPH_PASSWORD,
                       "graph_database": GRAPH_DATABASE, **overrides})


def opensearch_settings(alias: str | None = None, **overrides: Any) -> Settings:
    """Settings pointing at the configured OpenSearch with a unique alias (skips when there is none)."""
    if not SEARCH_URL or SEARCH_ENGINE != "opensearch":
        pytest.skip(OPENSEARCH_MISSING)
    return Settings(**{"search_url": SEARCH_URL, "search_engine": SEARCH_ENGINE, "search_user": SEARCH_USER,
                       "search_password": SEARCH_PASSWORD, "search_index": alias or f"tg-test-{uuid.uuid4().hex}",
                       **overrides})


# --- graph backends ------------------------------------------------------------------------------


class LadybugBackend:
    name = "ladybug"
    generation = 0  # every store lives in its own directory: nothing is ever wiped under another

    def open(self, path: Path, **options: Any) -> GraphStore:
        """The store at ``path`` as it is (a reopen); the schema ensured."""
        from talentgraph.graph.ladybug import LadybugGraphStore

        store = LadybugGraphStore(path, **options)
        store.ensure_schema()
        return store

    def fresh(self, path: Path, **options: Any) -> GraphStore:
        """An empty store; ``path`` must not hold one yet."""
        assert not path.exists() or not any(path.iterdir()), f"{path} is not empty"
        return self.open(path, **options)

    def wipe(self, store: GraphStore) -> None:
        raise AssertionError("LadybugDB stores are never wiped: make a fresh one in a new directory")


class Neo4jBackend:
    name = "neo4j"
    generation = 0  # bumped by every wipe of the one database
    used = False

    def open(self, path: Path, **options: Any) -> GraphStore:
        from talentgraph.graph.neo4j import Neo4jGraphStore

        s = neo4j_settings()
        store = Neo4jGraphStore(s.graph_url, **{"user": s.graph_user, "password": s.graph_password,
                                                "database": s.graph_database, **options})
        Neo4jBackend.used = True
        store.ensure_schema()
        return store

    def fresh(self, path: Path, **options: Any) -> GraphStore:
        store = self.open(path, **options)
        self.wipe(store)
        return store

    def wipe(self, store: GraphStore) -> None:
        store.wipe()  # type: ignore[attr-defined]
        Neo4jBackend.generation += 1
        assert store.last_seq() == 0 and store.count_nodes("Person") == 0


GraphBackend = LadybugBackend | Neo4jBackend


def _graph_backend(name: str) -> GraphBackend:
    if name == "neo4j":
        if not GRAPH_URL:
            pytest.skip(NEO4J_MISSING)
        return Neo4jBackend()
    return LadybugBackend()


@pytest.fixture(scope="module", params=["ladybug", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def graph_backend(request: pytest.FixtureRequest) -> GraphBackend:
    return _graph_backend(request.param)


@pytest.fixture()
def fresh_graph(graph_backend: GraphBackend, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty graph store with the schema in place, closed afterwards."""
    store = graph_backend.fresh(tmp_path / "graph")
    try:
        yield store
    finally:
        store.close()


class SharedGraph:
    """A graph loaded once for a module; on Neo4j reloaded whenever a test has wiped the database since."""

    def __init__(self, backend: GraphBackend, path: Path, load: Callable[[GraphStore], Any]) -> None:
        self.backend = backend
        self.load = load
        self.store = backend.fresh(path)
        self.loaded: Any = load(self.store)
        self.generation = backend.generation
        self.loads = 1

    def get(self) -> GraphStore:
        if self.backend.generation != self.generation:
            self.backend.wipe(self.store)
            self.loaded = self.load(self.store)
            self.generation = self.backend.generation
            self.loads += 1
        return self.store

    def close(self) -> None:
        self.store.close()


@pytest.fixture(scope="session", autouse=True)
def _leave_neo4j_empty() -> Iterator[None]:
    yield
    if Neo4jBackend.used:  # the server is shared: leave it as empty as a fresh start would
        store = Neo4jBackend().open(Path("."))
        try:
            store.wipe()  # type: ignore[attr-defined]
        finally:
            store.close()


# --- search backends -----------------------------------------------------------------------------


class TantivyBackend:
    name = "tantivy"

    def fresh(self, path: Path, **options: Any) -> SearchIndex:
        from talentgraph.search.tantivy import TantivyIndex

        assert not path.exists() or not any(path.iterdir()), f"{path} is not empty"
        return TantivyIndex(path, **options)

    def reopen(self, index: SearchIndex, **options: Any) -> SearchIndex:
        """Another handle on the same index, as a new process would open it."""
        from talentgraph.search.tantivy import TantivyIndex

        return TantivyIndex(index.path, **options)  # type: ignore[attr-defined]

    def discard(self, index: SearchIndex) -> None:
        index.close()


class OpenSearchBackend:
    name = "opensearch"

    def fresh(self, path: Path, **options: Any) -> SearchIndex:
        from talentgraph.search.opensearch import OpenSearchIndex

        return OpenSearchIndex.from_settings(opensearch_settings(), **options)

    def reopen(self, index: SearchIndex, **options: Any) -> SearchIndex:
        from talentgraph.search.opensearch import OpenSearchIndex

        return OpenSearchIndex.from_settings(opensearch_settings(index.alias), **options)  # type: ignore[attr-defined]

    def discard(self, index: SearchIndex) -> None:
        try:
            index.drop()  # type: ignore[attr-defined]
        finally:
            index.close()


SearchBackend = TantivyBackend | OpenSearchBackend


@pytest.fixture(scope="module", params=["tantivy", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def search_backend(request: pytest.FixtureRequest) -> SearchBackend:
    if request.param == "opensearch":
        if not SEARCH_URL or SEARCH_ENGINE != "opensearch":
            pytest.skip(OPENSEARCH_MISSING)
        return OpenSearchBackend()
    return TantivyBackend()


@pytest.fixture()
def fresh_index(search_backend: SearchBackend, tmp_path: Path) -> Iterator[SearchIndex]:
    """An empty search index (its own directory or alias), deleted afterwards."""
    index = search_backend.fresh(tmp_path / "idx")
    try:
        yield index
    finally:
        search_backend.discard(index)


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[Path]:
    """A data dir's vocabulary overlay file (not written yet), merged over the package's vocabularies."""
    from talentgraph.schema.overlay import overlay_path
    from talentgraph.schema.vocabularies import use_overlay

    path = overlay_path(tmp_path)
    use_overlay(path)
    yield path
    use_overlay(None)  # later tests see the package vocabularies only
