"""The engines `services/up` starts answer real clients the way talentgraph will use them.

Runs when the environment carries the state-file contract (`scripts/test` sources .services/state.env;
`scripts/test --engines` starts the services first); skipped otherwise. The state-file round trip needs no engine.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
GRAPH_URL = os.environ.get("TALENTGRAPH_GRAPH_URL", "")
SEARCH_URL = os.environ.get("TALENTGRAPH_SEARCH_URL", "")

needs_neo4j = pytest.mark.skipif(not GRAPH_URL, reason="TALENTGRAPH_GRAPH_URL unset: run services/up first")
needs_opensearch = pytest.mark.skipif(not SEARCH_URL, reason="TALENTGRAPH_SEARCH_URL unset: run services/up first")


def load_svc() -> ModuleType:
    # services/ is not a package (it must run before any venv exists), so load the script by path.
    spec = importlib.util.spec_from_file_location("services_svc", REPO / "services" / "svc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules, so the module must be registered first.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_state_file_round_trips_and_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = load_svc()
    monkeypatch.setattr(svc, "STATE_DIR", tmp_path)
    monkeypatch.setattr(svc, "STATE_FILE", tmp_path / "state.env")
    state = {
        "TALENTGRAPH_GRAPH_URL": "bolt://127.0.0.1:7687",
        "TALENTGRAPH_GRAPH_PASSWORD": "pa ss'word$",  # quoting must survive `. state.env` and our reader
        "SERVICES_NEO4J_PID": "123",
    }
    svc.write_state(state)
    assert svc.read_state() == state
    assert (tmp_path / "state.env").stat().st_mode & 0o777 == 0o600
    svc.write_state({})
    assert not (tmp_path / "state.env").exists()


def test_state_file_is_shell_sourceable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = load_svc()
    monkeypatch.setattr(svc, "STATE_DIR", tmp_path)
    monkeypatch.setattr(svc, "STATE_FILE", tmp_path / "state.env")
    svc.write_state({"TALENTGRAPH_GRAPH_PASSWORD": "a b'c$d"})
    out = subprocess.run(
        ["bash", "-c", f'set -a; . "{tmp_path / "state.env"}"; printf %s "$TALENTGRAPH_GRAPH_PASSWORD"'],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout == "a b'c$d"


@pytest.fixture
def neo4j_driver() -> Iterator[object]:
    import neo4j

    driver = neo4j.GraphDatabase.driver(
        GRAPH_URL,
        auth=(os.environ.get("TALENTGRAPH_GRAPH_USER", "neo4j"), os.environ.get("TALENTGRAPH_GRAPH_PASSWORD", "")),
    )
    try:
        driver.verify_connectivity()
        yield driver
    finally:
        driver.close()


@pytest.mark.neo4j
@needs_neo4j
def test_neo4j_creates_and_reads_a_node(neo4j_driver: object) -> None:
    import neo4j

    assert isinstance(neo4j_driver, neo4j.Driver)
    marker = f"smoke-{uuid.uuid4().hex}"
    with neo4j_driver.session(database=os.environ.get("TALENTGRAPH_GRAPH_DATABASE", "neo4j")) as session:
        session.run("CREATE (:ServicesSmoke {marker: $m, name: '志愿者 Volunteer'})", m=marker).consume()
        record = session.run("MATCH (n:ServicesSmoke {marker: $m}) RETURN n.name AS name, count(*) AS c", m=marker).single()
        session.run("MATCH (n:ServicesSmoke {marker: $m}) DELETE n", m=marker).consume()
        agent = session.run("CALL dbms.components() YIELD name, versions RETURN name, versions[0] AS v").single()
    assert record is not None and record["name"] == "志愿者 Volunteer" and record["c"] == 1
    assert agent is not None and agent["name"] == "Neo4j Kernel" and agent["v"].startswith("5.26.")


@pytest.mark.neo4j
@needs_neo4j
def test_neo4j_rejects_a_wrong_password() -> None:
    import neo4j
    from neo4j.exceptions import AuthError

    driver = neo4j.GraphDatabase.driver(GRAPH_URL, auth=("neo4j", "not-the-password"))
    try:
        with pytest.raises(AuthError):
            driver.verify_connectivity()
    finally:
        driver.close()


@pytest.mark.opensearch
@needs_opensearch
def test_opensearch_indexes_and_finds_a_document() -> None:
    from opensearchpy import OpenSearch

    client = OpenSearch(SEARCH_URL)
    index = f"services-smoke-{uuid.uuid4().hex}"
    try:
        info = client.info()
        assert info["version"]["distribution"] == "opensearch" and info["version"]["number"].startswith("2.19.")
        client.indices.create(index=index)  # no replica count: services/up makes 0 the cluster default
        client.index(index=index, id="1", body={"skills": ["first aid", "普通话"]}, refresh=True)
        hits = client.search(index=index, body={"query": {"match": {"skills": "aid"}}})["hits"]
        assert hits["total"]["value"] == 1 and hits["hits"][0]["_id"] == "1"
        assert client.cluster.health(index=index)["status"] == "green"
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()
