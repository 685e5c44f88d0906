"""A small community with two residential areas, for the access tests: every property of every type is
set on some row, so the permission matrix can check each cell against real values.

Staff keys in these tests are scoped to RA1: residents of building B1 (in RA1) are in scope, those
of B2 (in RA2) are not. All names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from talentgraph.access.audit import AuditLog
from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.server import create_app
from talentgraph.types import NodeRecord, Provenance, RelRecord

PROV = Provenance(job="access-test", source="party_members.csv", row=1, ingested_at="2024-01-01T00:00:00Z")
SURNAMES = "王李张刘陈杨赵黄周吴孙马"
ROLES = tuple(POLICY.roles)
STAFF_AREA = "area:RA1"


@dataclass
class AccessWorld:
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    rels: list[RelRecord] = field(default_factory=list)
    in_scope: set[str] = field(default_factory=set)  # person ids living inside STAFF_AREA

    def add(self, type_name: str, node_id: str, props: dict[str, Any]) -> None:
        # Absent, not None: the matrix compares stored values, and a missing value reads back as absent.
        self.nodes[node_id] = NodeRecord(type_name, node_id, {k: v for k, v in props.items() if v is not None}, PROV)

    def of_type(self, type_name: str) -> list[NodeRecord]:
        return [n for n in self.nodes.values() if n.type == type_name]


def make_access_world() -> AccessWorld:
    w = AccessWorld()
    w.add("Area", "area:C", {"name": "联洋社区", "level": "community", "lat": 31.2235, "lon": 121.5578})
    for ra, b, name in (("RA1", "B1", "联洋新苑"), ("RA2", "B2", "仁恒河滨城")):
        w.add("Area", f"area:{ra}", {"name": name, "level": "residential_area", "households": 800, "population": 2000,
                                     "address": f"{name}路1号", "lat": 31.22, "lon": 121.55})
        w.add("Area", f"area:{b}", {"name": f"{name}{b[-1]}号楼", "level": "building", "lat": 31.221, "lon": 121.551})
        w.rels += [RelRecord("PART_OF", f"area:{ra}", "area:C"), RelRecord("PART_OF", f"area:{b}", f"area:{ra}")]
    w.add("Enterprise", "ent:E1", {"name": "联洋科技有限公司", "latin_name": "Lianyang Tech", "uscc": "91310115MA1H7X2K3L",
                                   "industry": "information_technology", "ownership": "private", "employees": 120, "address": "芳甸路1号",
                                   "description": "软件开发"})
    w.add("PartyOrganization", "org:O1", {"name": "联洋第一党支部", "level": "branch", "established": "2010-07-01",
                                          "secretary": "王书记", "description": "居民区党支部"})
    w.add("Venue", "ven:V1", {"name": "联洋市民中心", "kind": "activity_centre", "address": "长柳路1号", "lat": 31.2231,
                              "lon": 121.5566, "capacity": 300, "parking_spaces": 40, "opening_hours": "9-21",
                              "description": "社区活动中心"})
    w.add("Project", "prj:P1", {"name": "睦邻书法课", "menu": "six_category", "year": 2024, "beneficiaries": 60,
                                "description": "书法公益课"})
    w.add("Group", "grp:G1", {"name": "联洋志愿服务队", "kind": "volunteer_corps", "founded": 2015,
                              "description": "志愿者队伍"})
    w.add("Document", "doc:D1", {"title": "联洋社区年度报告", "text": "联洋市民中心举办书法课。", "language": "zh",
                                 "published": "2024-12-31", "source": "report.txt", "doc_kind": "report",
                                 "text_hash": "0" * 64, "pipeline": "test"})
    # What text-to-graph adds (text/store.py): a candidate entity and a numeric fact the report states.
    w.add("Candidate", "cand:C1", {"name": "联洋新苑楼组党小组", "candidate_type": "PartyOrganization",
                                   "confidence": 0.8, "review": "pending"})
    w.add("Fact", "fact:F1", {"statement": "800户", "measure": "households", "quantity": 800.0, "unit": "户",
                              "approximate": False, "sentence": "联洋新苑共有800户。", "span_start": 4,
                              "span_end": 8, "graph_value": 800.0, "disagrees": False})
    w.rels += [RelRecord("LOCATED_IN", "ent:E1", "area:RA1"), RelRecord("LOCATED_IN", "ven:V1", "area:RA1"),
               RelRecord("SPONSORS", "ent:E1", "prj:P1", {"year": 2024}), RelRecord("HELD_AT", "prj:P1", "ven:V1"),
               RelRecord("CO_BUILDS_WITH", "org:O1", "ent:E1", {"since": "2020-01-01"}),
               RelRecord("ANCHORED_AT", "org:O1", "ent:E1"), RelRecord("MENTIONS", "doc:D1", "ven:V1", {"count": 1}),
               RelRecord("MENTIONS", "doc:D1", "cand:C1", {"count": 1, "surface": "联洋新苑楼组党小组",
                                                          "sentence": "联洋新苑楼组党小组成立。", "score": 0.8,
                                                          "method": "form", "spans": "[[0,9]]"}),
               RelRecord("STATES", "doc:D1", "fact:F1"), RelRecord("ABOUT", "fact:F1", "area:RA1")]
    for i in range(12):
        pid = f"per:{i:02d}"
        building = "area:B1" if i % 2 == 0 else "area:B2"
        if building == "area:B1":
            w.in_scope.add(pid)
        w.add("Person", pid, {
            "name": SURNAMES[i] + "晓" + "明亮"[i % 2], "latin_name": f"Xiao {i:02d}", "gender": "female" if i % 3 else "male",
            "birth_year": 1950 + i, "nationality": "CN" if i % 4 else "RU", "languages": ["zh", "ru"] if i % 4 == 0 else ["zh"],
            "language_levels": ["zh:native"], "skills": ["law"] if i % 2 else ["translation"], "occupation": "律师",
            "education": "primary", "political_status": "party_member" if i % 3 == 0 else "masses",
            "phone": f"+86138000000{i:02d}", "id_kind": "resident_id", "id_hash": f"hash-{i}", "id_last4": f"{i:04d}",
            "volunteer": i % 2 == 0, "bio": f"擅长书法 marker{i:02d}word",
            "other_names": [f"Alias{i:02d}"], "birth_date": f"{1950 + i}-03-{1 + i:02d}",
            "registered_on": f"2020-01-{1 + i:02d}", "arrived_on": f"2019-06-{1 + i:02d}",
            # Every list property on every person: the matrix's truth for `contains` expects them.
            "skills_unreviewed": ["红酒品鉴"] if i % 2 else ["茶艺表演"], "languages_unreviewed": [f"方言{i % 3}"],
            "nationality_unreviewed": ["Atlantis"], "education_unreviewed": ["私塾" if i % 2 else "夜校"],
        })
        w.rels += [RelRecord("LIVES_IN", pid, building),
                   RelRecord("MEMBER_OF", pid, "org:O1", {"role": "member", "since": "2019-01-01"}),
                   RelRecord("WORKS_AT", pid, "ent:E1", {"title": "engineer", "since": "2018-01-01"})]
    w.rels += [RelRecord("LEADS", "per:00", "grp:G1", {"role": "captain"}),
               RelRecord("MEMBER_OF", "per:01", "grp:G1", {"role": "volunteer"}),
               RelRecord("PARTICIPATES_IN", "per:02", "prj:P1", {"role": "volunteer"}),
               RelRecord("LEADS", "per:03", "area:B2", {"role": "building_leader"}),
               RelRecord("MENTIONS", "doc:D1", "per:00", {"count": 2})]
    return w


def load_access_world(graph: GraphStore, w: AccessWorld) -> None:
    graph.upsert_nodes(list(w.nodes.values()))
    result = graph.upsert_relationships(w.rels)
    assert not result.rejected, result.rejected


@dataclass
class Served:
    app: Any
    keys: dict[str, str]  # role → raw key
    audit: AuditLog
    store: KeyStore


def serve(graph: GraphStore, search: SearchService | None, data_dir: Path, **settings: Any) -> Served:
    store = KeyStore(data_dir / "keys.json", POLICY.roles)
    keys = {role: store.create(f"test-{role}", role, [STAFF_AREA] if POLICY.role(role).scoped else [])[0]
            for role in ROLES}
    audit = AuditLog(data_dir / "audit")
    app = create_app(graph, search, Settings(data_dir=data_dir, **settings), gate=Gate(keys=store), audit=audit)
    return Served(app, keys, audit, store)


def project(graph: GraphStore, index: Any) -> SearchService:
    SearchProjector(graph, index).sync()
    return SearchService(index)


def client(app: Any, host: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 50000)), base_url="http://localhost")


async def ask(c: httpx.AsyncClient, key: str | None, query: str, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = await c.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body: dict[str, Any] = r.json()
    body["_status"] = r.status_code
    return body
