"""A small synthetic community for the API tests, written straight into a real graph store (any backend).

Deterministic (seeded), so tests can compute expected answers from ``WORLD`` in Python and compare
them with what the API returns. All names are invented.
"""

from __future__ import annotations

from collections import Counter

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from talentgraph.access.gate import Gate
from talentgraph.types import NodeRecord, Provenance, RelRecord

# The API tests below test what the API does, as an admin would see it; access itself (keys, roles,
# the permission matrix) is tested in test_access_*.py. Open mode only serves loopback clients.
OPEN_ADMIN = Gate(open_role="admin")

SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"]
LANGS = ["zh", "en", "ru", "fr", "ja", "de"]
N_PERSONS = 60
N_ORGS = 5


@dataclass
class World:
    persons: list[dict[str, Any]] = field(default_factory=list)
    member_of: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # person → (org, role, since)
    group_of: dict[str, str] = field(default_factory=dict)  # person → group
    works_at: dict[str, str] = field(default_factory=dict)
    co_builds: dict[str, list[str]] = field(default_factory=dict)  # org → enterprises
    nodes: list[NodeRecord] = field(default_factory=list)
    rels: list[RelRecord] = field(default_factory=list)


def make_world(seed: int = 11) -> World:
    rnd = random.Random(seed)
    w = World()
    prov = Provenance(job="api-test", source="synthetic.csv", row=0, ingested_at="2024-01-01T00:00:00Z")
    orgs = [f"org:{i}" for i in range(N_ORGS)]
    for i, oid in enumerate(orgs):
        w.nodes.append(NodeRecord("PartyOrganization", oid, {"name": f"第{i + 1}党支部", "level": "branch"}, prov))
    w.nodes.append(NodeRecord("PartyOrganization", "org:top", {"name": "联洋社区党委", "level": "committee"}, prov))
    for oid in orgs:
        w.rels.append(RelRecord("PART_OF", oid, "org:top"))
    ents = [f"ent:{i}" for i in range(6)]
    for i, eid in enumerate(ents):
        w.nodes.append(NodeRecord("Enterprise", eid, {"name": f"联洋企业{i}", "industry": "it" if i % 2 else "finance",
                                                      "employees": 10 * (i + 1)}, prov))
    for i, oid in enumerate(orgs):
        partners = [ents[i % 6], ents[(i + 1) % 6]]
        w.co_builds[oid] = partners
        for j, eid in enumerate(partners):
            w.rels.append(RelRecord("CO_BUILDS_WITH", oid, eid, {"since": f"202{j}-0{i + 1}-01"}))
    groups = ["grp:0", "grp:1"]
    for i, gid in enumerate(groups):
        w.nodes.append(NodeRecord("Group", gid, {"name": f"志愿者分队{i}", "kind": "volunteer_branch"}, prov))
    # A node with no relationships: paths to it do not exist.
    w.nodes.append(NodeRecord("Venue", "ven:lonely", {"name": "孤岛驿站", "kind": "station", "capacity": 5}, prov))
    for i in range(N_PERSONS):
        pid = f"per:{i:03d}"
        name = SURNAMES[i % 10] + GIVEN[rnd.randrange(len(GIVEN))] + ("" if i % 3 else GIVEN[i % 12])
        props: dict[str, Any] = {
            "name": name,
            "latin_name": f"Person {i:03d}",
            "birth_year": 1950 + rnd.randrange(55),
            "languages": sorted(set(["zh", *rnd.sample(LANGS, rnd.randrange(3))])),
            "volunteer": i % 4 == 0,
            "id_hash": f"secret-{i}",
        }
        if i % 7 == 0:
            del props["birth_year"]  # some people do not give their year
        w.persons.append({"id": pid, **props})
        w.nodes.append(NodeRecord("Person", pid, props, prov))
        org = orgs[i % N_ORGS]
        role = "secretary" if i < N_ORGS else "member"
        since = f"20{10 + i % 10}-01-01"
        w.member_of[pid] = (org, role, since)
        w.rels.append(RelRecord("MEMBER_OF", pid, org, {"role": role, "since": since}))
        if i % 5 == 0:
            gid = groups[i % 2]
            w.group_of[pid] = gid
            w.rels.append(RelRecord("MEMBER_OF", pid, gid, {"role": "volunteer"}))
        w.works_at[pid] = ents[i % 6]
        w.rels.append(RelRecord("WORKS_AT", pid, ents[i % 6], {"title": "engineer"}))
    return w


def load_world(backend: Any, path: Path, world: World) -> Any:
    """A fresh store on ``backend`` (conftest's graph_backend) holding ``world``."""
    graph = backend.fresh(path)
    graph.upsert_nodes(world.nodes)
    result = graph.upsert_relationships(world.rels)
    assert not result.rejected, result.rejected
    return graph


def client(app: Any, host: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 50000)), base_url="http://localhost")


async def gql(c: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    r = await c.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = r.json()
    return body


class CountingStore:
    """The real store, with every port call counted (and the edge calls' arguments recorded)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.edge_calls: list[tuple[str, str, int]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "edges":
                self.edge_calls.append((args[1], args[2], len(args[0])))
            return attr(*args, **kwargs)

        return counted


def loaders_only(monkeypatch: Any) -> None:
    """Root fields read nothing ahead (``api/prefetch.py``): every relationship level goes through the
    DataLoaders, one store call per level, whatever the engine's ``GraphCapabilities.walks``."""
    from talentgraph.api import prefetch

    async def no_node_walk(*args: Any, **kwargs: Any) -> None:
        return None

    def no_page_walker(*args: Any, **kwargs: Any) -> Any:
        async def walk(root: Any) -> None:
            return None

        return walk

    monkeypatch.setattr(prefetch, "node_walk", no_node_walk)
    monkeypatch.setattr(prefetch, "page_walker", no_page_walker)
