"""The Starlette app around the API: playground (offline), static files, health, loopback-only ingest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, client, load_world, make_world

from talentgraph.config import Settings
from talentgraph.errors import IngestError
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio

ASSET = re.compile(r"""<(script|link)\b[^>]*?\b(src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture(scope="module")
def graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-srv") / "graph", make_world())
    yield g
    g.close()


@pytest.fixture
def ingests() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
def app(graph: Any, tmp_path: Any, ingests: list[tuple[Any, ...]]) -> Any:
    def on_ingest(job: str, input_dir: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
        if job.endswith("broken.yaml"):
            raise IngestError(f"Job {job} has no 'source'.", hint="Add source: path/to/file.csv.")
        ingests.append((job, input_dir, dry_run))
        return [{"job": job, "inserted": 3, "dry_run": dry_run}]

    return create_app(graph, None, Settings(data_dir=tmp_path), gate=OPEN_ADMIN)


async def test_playground_is_served_to_browsers_and_loads_only_local_assets(app: Any) -> None:
    async with client(app) as c:
        r = await c.get("/graphql", headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        page = r.text
        assets = [m.group(3) for m in ASSET.finditer(page)]
        assert len(assets) == 4, assets  # graphiql css + react, react-dom, graphiql js
        for url in assets:
            assert not re.match(r"^(https?:)?//", url), f"{url} leaves the host"
            assert url.startswith("/static/")
            got = await c.get(url)
            assert got.status_code == 200 and len(got.content) > 1000, url
        # The default query walks person → party organisation → co-building enterprise.
        assert "memberOf" in page and "coBuildsWith" in page and "defaultTabs" in page
        assert "http://" not in page and "https://" not in page


async def test_graphql_over_get_and_root_redirect(app: Any) -> None:
    async with client(app) as c:
        r = await c.get("/graphql", params={"query": '{ person(id: "per:001") { id } }'})
        assert r.json() == {"data": {"person": {"id": "per:001"}}}
        home = await c.get("/")
        assert home.status_code in (302, 307) and home.headers["location"] == "/graphql"


async def test_vendored_licences_are_shipped(app: Any) -> None:
    async with client(app) as c:
        for name in ("graphiql", "react", "react-dom"):
            r = await c.get(f"/static/graphiql/licenses/{name}-LICENSE")
            assert r.status_code == 200 and "MIT License" in r.text


async def test_health_names_backends_and_change_log_position(app: Any, graph: Any, graph_backend: Any) -> None:
    async with client(app) as c:
        r = await c.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "graph": graph_backend.name, "search": None, "last_seq": graph.last_seq()}
    assert graph.last_seq() > 0


async def test_ingest_runs_the_hook_for_loopback_clients(app: Any, ingests: list[tuple[Any, ...]]) -> None:
    async with client(app) as c:
        r = await c.post("/admin/ingest", json={"job": "/jobs/people.yaml", "input_dir": "/regs", "dry_run": True})
    assert r.status_code == 200
    assert r.json() == {"summaries": [{"job": "/jobs/people.yaml", "inserted": 3, "dry_run": True}]}
    assert ingests == [("/jobs/people.yaml", "/regs", True)]


async def test_ingest_refuses_other_hosts(app: Any, ingests: list[tuple[Any, ...]]) -> None:
    async with client(app, host="10.1.2.3") as c:
        r = await c.post("/admin/ingest", json={"job": "/jobs/people.yaml"})
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    assert ingests == []


async def test_ingest_errors_are_json_with_code_and_hint(app: Any) -> None:
    async with client(app, host="::1") as c:
        bad_body = await c.post("/admin/ingest", json={"jobs": "x"})
        failing = await c.post("/admin/ingest", json={"job": "/jobs/broken.yaml"})
    assert bad_body.status_code == 400 and bad_body.json()["code"] == "BAD_QUERY"
    assert failing.status_code == 400
    assert failing.json() == {"error": "Job /jobs/broken.yaml has no 'source'.",
                              "hint": "Add source: path/to/file.csv.", "code": "BAD_JOB"}


async def test_ingest_without_a_runner_is_not_found(graph: Any, tmp_path: Any) -> None:
    app = create_app(graph, None, Settings(data_dir=tmp_path), gate=OPEN_ADMIN)
    async with client(app) as c:
        r = await c.post("/admin/ingest", json={"job": "/jobs/people.yaml"})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
