"""The Starlette app around the API: playground (offline), static files, health (admin routes: test_access_http)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, client, load_world, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio

ASSET = re.compile(r"""<(script|link)\b[^>]*?\b(src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture(scope="module")
def graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-srv") / "graph", make_world())
    yield g
    g.close()


@pytest.fixture
def app(graph: Any, tmp_path: Any) -> Any:
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


async def test_graphql_over_get_and_root_page(app: Any) -> None:
    async with client(app) as c:
        r = await c.get("/graphql", params={"query": '{ person(id: "per:001") { id } }'})
        assert r.json() == {"data": {"person": {"id": "per:001"}}}
        # `/` is the staff page (web/staff.py): without a session, its sign-in form.
        home = await c.get("/")
        assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
        assert 'action="/signin"' in home.text and 'name="key"' in home.text


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


async def test_a_server_builds_every_role_schema_beside_serving(graph: Any, tmp_path: Any) -> None:
    """``serve`` prebuilds the roles' schemas in a thread once it starts: a request that comes first is
    answered (its role's schema built for it, or waited for), and every role's is built soon after."""
    import threading

    import anyio

    from talentgraph.access.policy import POLICY

    app = create_app(graph, None, Settings(data_dir=tmp_path), gate=OPEN_ADMIN, prebuild=True)
    router = app.state.router
    assert not router._apps  # nothing built before the server starts: start-up does not wait for it
    async with app.router.lifespan_context(app), client(app) as c:
        r = await c.post("/graphql", json={"query": '{ person(id: "per:001") { id } }'})
        assert r.json() == {"data": {"person": {"id": "per:001"}}}
        with anyio.fail_after(60):
            while any(t.name == "schema-prebuild" for t in threading.enumerate()):
                await anyio.sleep(0.05)
        assert set(router._apps) == set(POLICY.roles)
        assert (await c.post("/graphql", json={"query": '{ person(id: "per:001") { id } }'})).status_code == 200


async def test_health_and_reads_answer_while_a_write_is_open(app: Any, graph: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin ingest holds a write transaction open for seconds per batch at scale: a load balancer's
    /health and the readers' requests are answered meanwhile, with the head as last committed."""
    import anyio
    from graph_world import write_held_open

    seq = graph.last_seq()
    with write_held_open(graph, monkeypatch, "grp:held-open"):
        async with client(app) as c:
            with anyio.fail_after(10):
                health = await c.get("/health")
                read = await c.post("/graphql", json={"query": '{ person(id: "per:001") { id } }'})
        assert health.status_code == 200 and health.json()["last_seq"] == seq
        assert read.json() == {"data": {"person": {"id": "per:001"}}}
    assert graph.last_seq() == seq + 1
