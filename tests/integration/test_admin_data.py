"""``/admin/stats`` and ``/admin/vocab``: what ``talentgraph stats`` and ``talentgraph vocab`` send to a running
server that owns the data dir. Admin only, JSON only, one error shape; the operations run on the server's own
stores (a real LadybugDB + Tantivy data dir here) and the search index catches up from the change log."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_world import client

from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.admin import AdminOps
from talentgraph.cli import rebuild_index, stats_of
from talentgraph.config import Settings
from talentgraph.ingest.job import run_job
from talentgraph.ingest.mapping import load_job
from talentgraph.schema.vocabularies import use_overlay
from talentgraph.server import create_app
from talentgraph.stores import Stores, open_stores
from talentgraph.vocab_cli import server_ops

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the app runs under uvicorn's asyncio loop

JOB = """
job: volunteers
source: {path: v.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties:
      name: 姓名
      skills: {column: 技能, split: "[、]"}
"""
ROWS = "编号,姓名,技能\nV1,林晓,律师、红酒品鉴\nV2,王芳,红酒品鉴\nV3,赵磊,厨师\n"


class Env:
    def __init__(self, root: Path) -> None:
        (root / "v.csv").write_text(ROWS, encoding="utf-8")
        (root / "v.yaml").write_text(JOB, encoding="utf-8")
        self.settings = Settings(data_dir=root / "data")
        self.stores: Stores = open_stores(self.settings)
        run_job(load_job(root / "v.yaml"), self.stores.graph, id_hash_key=b"k", quarantine_dir=root / "q")
        self.stores.projector.sync()
        self.keys = KeyStore(root / "keys.json", POLICY.roles)
        self.raw = {r: self.keys.create(f"k-{r}", r, ["area:X"] if POLICY.role(r).scoped else [])[0]
                    for r in POLICY.roles}
        ops = AdminOps(stats=lambda: stats_of(self.stores), reindex=lambda: rebuild_index(self.stores),
                       vocab=server_ops(self.stores, self.settings, threading.Lock()))
        self.app = create_app(self.stores.graph, self.stores.search, self.settings, gate=Gate(keys=self.keys),
                              admin=ops)

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw[role]}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("admin-data"))
    yield e
    e.stores.close()
    use_overlay(None)


def _error(r: Any) -> tuple[int, str]:
    body = r.json()
    assert set(body) == {"errors"} and isinstance(body["errors"][0]["message"], str)
    return r.status_code, body["errors"][0]["extensions"]["code"]


async def test_stats_through_the_server(env: Env) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/stats", json={}, headers=env.auth())
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["nodes"]["Person"] == 3 and stats["graph"] == env.stores.graph.capabilities.name
    assert stats["search_cursor"] == stats["change_log_seq"] > 0


async def test_reindex_through_the_server(env: Env) -> None:
    """``talentgraph reindex`` while a server owns the data dir: the server rebuilds its index and swaps it in."""
    from talentgraph.search.service import SearchService

    before = [h.id for h in SearchService(env.stores.index).search("红酒品鉴").hits]
    async with client(env.app) as c:
        r = await c.post("/admin/reindex", json={}, headers=env.auth())
        assert r.status_code == 200, r.text
        assert r.json()["documents"] == 3 and r.json()["seconds"] >= 0
        refused = await c.post("/admin/reindex", json={"full": True}, headers=env.auth())
        assert _error(refused) == (400, "BAD_QUERY")
    assert [h.id for h in SearchService(env.stores.index).search("红酒品鉴").hits] == before
    assert len(before) == 2
    stats = stats_of(env.stores)
    assert stats["search_cursor"] == stats["change_log_seq"]


@pytest.mark.parametrize("path,body", [("/admin/stats", {}), ("/admin/reindex", {}), ("/admin/vocab", {"action": "pending"}),
                                       ("/admin/vocab", {"action": "renormalise"}),
                                       ("/admin/vocab", {"action": "alias", "vocabulary": "skills",
                                                         "term_id": "law", "text": "讼师"})])
async def test_only_admin_may_read_stats_or_review_the_vocabulary(env: Env, path: str, body: dict[str, Any]) -> None:
    seq = env.stores.graph.last_seq()
    async with client(env.app) as c:
        for role in ("staff", "analyst", "platform"):
            r = await c.post(path, json=body, headers=env.auth(role))
            assert _error(r) == (403, "FORBIDDEN"), (role, path)
        anonymous = await c.post(path, json=body)
        assert _error(anonymous) == (401, "UNAUTHENTICATED")
    assert env.stores.graph.last_seq() == seq
    assert not env.settings.data_dir.joinpath("vocab-overlay.yaml").exists() or \
        "讼师" not in env.settings.data_dir.joinpath("vocab-overlay.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("body,code", [
    ({"action": "drop"}, "BAD_QUERY"),
    ({}, "BAD_QUERY"),
    ({"action": "alias", "vocabulary": "skills", "term_id": "law"}, "BAD_QUERY"),
    ({"action": "alias", "vocabulary": "skills", "term_id": "law", "text": 7}, "BAD_QUERY"),
    ({"action": "add", "vocabulary": "skills", "term": "cooking.wine_tasting"}, "BAD_QUERY"),
    ({"action": "add", "vocabulary": "skills", "term": {"id": "x", "zh": "x", "en": "x", "evil": 1}}, "BAD_QUERY"),
    ({"action": "add", "vocabulary": "skills", "term": {"id": "x", "zh": "x", "en": "x", "synonyms": "y"}},
     "BAD_QUERY"),
    ({"action": "pending", "renormalise": "yes"}, "BAD_QUERY"),
])
async def test_bad_vocab_bodies_are_refused_in_the_error_shape(env: Env, body: dict[str, Any], code: str) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/vocab", json=body, headers=env.auth())
    assert _error(r) == (400, code)


async def test_admin_data_routes_take_json_only(env: Env) -> None:
    async with client(env.app) as c:
        for path in ("/admin/stats", "/admin/reindex", "/admin/vocab"):
            r = await c.post(path, content="action=pending", headers={**env.auth(), "Content-Type":
                                                                      "application/x-www-form-urlencoded"})
            assert _error(r) == (400, "BAD_QUERY")


async def test_an_alias_for_a_term_that_does_not_exist_names_it(env: Env) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/vocab", json={"action": "alias", "vocabulary": "skills", "term_id": "nope",
                                               "text": "不存在"}, headers=env.auth())
    assert r.status_code == 400 and "'nope'" in r.json()["errors"][0]["message"]


async def test_vocab_review_through_the_server_renormalises_and_reindexes(env: Env) -> None:
    async with client(env.app) as c:
        queue = (await c.post("/admin/vocab", json={"action": "pending"}, headers=env.auth())).json()["pending"]
        assert [(q["vocabulary"], q["value"], q["count"]) for q in queue] == [("skills", "红酒品鉴", 2)]
        assert {e["id"] for e in queue[0]["examples"]} == {"per:V1", "per:V2"}
        r = await c.post("/admin/vocab", json={"action": "add", "vocabulary": "skills", "term": {
            "id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting", "parent": "cooking"}},
            headers=env.auth())
        assert r.status_code == 200, r.text
        assert r.json() == {"renormalised": 2, "indexed": 2}
        again = await c.post("/admin/vocab", json={"action": "add", "vocabulary": "skills", "term": {
            "id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting"}}, headers=env.auth())
        assert _error(again)[0] == 400
        assert (await c.post("/admin/vocab", json={"action": "pending"}, headers=env.auth())).json() == {"pending": []}
        assert (await c.post("/admin/vocab", json={"action": "renormalise"}, headers=env.auth())).json() == \
            {"renormalised": 0, "indexed": 0}
        stats = (await c.post("/admin/stats", json={}, headers=env.auth())).json()
    v1 = env.stores.graph.get_nodes(["per:V1"])["per:V1"].props
    assert v1["skills"] == ["law", "cooking.wine_tasting"] and v1.get("skills_unreviewed") is None
    assert stats["search_cursor"] == stats["change_log_seq"]
