"""Entity resolution through the server (``/admin/resolve``, admin only, one error shape) and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_world import client

from talentgraph.access.audit import AuditLog
from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.admin import AdminOps
from talentgraph.cli import main
from talentgraph.config import Settings
from talentgraph.resolve.actions import perform
from talentgraph.server import create_app
from talentgraph.stores import Stores, open_stores
from tests.integration import resolve_world

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


class Env:
    def __init__(self, root: Path) -> None:
        self.settings = Settings(data_dir=root / "data")
        self.stores: Stores = open_stores(self.settings)
        self.world = resolve_world.build(self.stores.graph, people=300)
        self.stores.projector.sync()
        self.keys = KeyStore(root / "keys.json", POLICY.roles)
        self.raw = {r: self.keys.create(f"k-{r}", r, ["area:RA1"] if POLICY.role(r).scoped else [])[0]
                    for r in POLICY.roles}
        ops = AdminOps(keys=self.keys, resolve=lambda body, by: perform(self.stores.graph, self.stores.projector,
                                                                        self.settings.data_dir, body, by=by))
        self.app = create_app(self.stores.graph, self.stores.search, self.settings, gate=Gate(keys=self.keys),
                              audit=AuditLog(root / "audit"), admin=ops)

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw[role]}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("resolve-http"))
    yield e
    e.stores.close()


async def test_resolve_is_admin_only(env: Env) -> None:
    async with client(env.app) as c:
        for role in ("staff", "analyst", "platform"):
            r = await c.post("/admin/resolve", json={"action": "run"}, headers=env.headers(role))
            assert r.status_code == 403 and r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        r = await c.post("/admin/resolve", json={"action": "run"})
        assert r.status_code == 401
    assert not (env.settings.data_dir / "resolve" / "decisions.jsonl").exists()


@pytest.mark.parametrize("body,status,needle", [
    ({"action": "merge-everything"}, 400, "not one of"),
    ({"action": "run", "threshold": "high"}, 400, "not a number"),
    ({"action": "run", "threshold": 2}, 400, "threshold"),
    ({"action": "run", "threshold": 0.9, "review_floor": 0.99}, 400, "review floor"),
    ({"action": "accept", "a": "per:A00001"}, 400, "b is missing"),
    ({"action": "accept", "a": "per:A00001", "b": ["x"]}, 400, "not a record id"),
    ({"action": "reject", "a": "per:A00001", "b": "per:nobody"}, 404, "per:nobody"),
    ({"action": "split", "cluster": "per:A00001"}, 404, "No cluster"),
    ({"action": "accept", "a": "per:A00001", "b": "per:A00002", "note": "x" * 5000}, 400, "note"),
])
async def test_hostile_requests_get_one_error_shape(env: Env, body: dict[str, Any], status: int, needle: str) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/resolve", json=body, headers=env.headers())
    assert r.status_code == status, r.text
    err = r.json()["errors"][0]
    assert needle in err["message"] and err["extensions"]["code"] in ("BAD_QUERY", "NOT_FOUND")
    async with client(env.app) as c:
        assert (await c.get("/health")).status_code == 200


async def test_run_review_and_decide_through_the_server(env: Env) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/resolve", json={"action": "run", "threshold": 0.99, "review_floor": 0.2},
                         headers=env.headers())
        assert r.status_code == 200, r.text
        report = r.json()["report"]
        assert report["records"] == len(env.world.truth) and report["clusters"] > 0
        pending = (await c.post("/admin/resolve", json={"action": "pending"}, headers=env.headers())).json()["pending"]
        assert len(pending) == report["pending_pairs"]
        if pending:
            top = pending[0]
            assert set(top["weights"]) >= {"name", "birth", "phone"}
            r = await c.post("/admin/resolve", json={"action": "accept", "a": top["a"], "b": top["b"],
                                                     "note": "same passport photo"}, headers=env.headers())
            assert r.json()["report"]["accepted_pairs"] >= 1
    decisions = (env.settings.data_dir / "resolve" / "decisions.jsonl").read_text().splitlines()
    assert not pending or json.loads(decisions[-1])["by"] == "k-admin"


def test_cli_resolves_a_data_dir_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    stores = open_stores(settings)
    try:
        resolve_world.build(stores.graph, people=300)
    finally:
        stores.close()
    assert main(["resolve", "--data-dir", str(settings.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "clusters of" in out and "matched" in out
    assert main(["resolve", "--data-dir", str(settings.data_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert report["links_written"] == 0 and report["canonicals_written"] == 0  # a re-run writes nothing
    assert main(["resolve", "--data-dir", str(settings.data_dir), "--pending"]) == 0
    assert "pairs for review" in capsys.readouterr().out


def test_erasing_a_resolved_record_leaves_nothing_of_it_in_the_golden_record(tmp_path: Path) -> None:
    from talentgraph.cli import _access, _admin_ops
    from talentgraph.types import NodeRecord

    settings = Settings(data_dir=tmp_path / "data")
    stores = open_stores(settings)
    try:
        resolve_world.build(stores.graph, people=300)
        stores.graph.upsert_nodes([NodeRecord("Person", "per:Z1", {"name": "Zhivago Quillfeather",
                                                                    "other_names": ["Quillfeather Z."]})])
        stores.projector.sync()
        ops = _admin_ops(stores, settings, _access(settings))
        ops.resolve({"action": "accept", "a": "per:A00100", "b": "per:Z1"}, "steward")
        canonical = stores.graph.get_nodes(["per:Z1"])["per:Z1"].props["canonical"]
        assert canonical and canonical != "per:Z1"  # the fuller record stands for the person
        hits = stores.search.search("Quillfeather", types=("Person",), first=20).hits
        assert [h.id for h in hits] == [canonical]  # one person, found through the member's name
        ops.erase_person("per:Z1", False)
        assert stores.search.search("Quillfeather", types=("Person",), first=20).hits == []
        assert stores.search.search("Zhivago", types=("Person",), first=20).hits == []
    finally:
        stores.close()
