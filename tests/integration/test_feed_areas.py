"""Area statistics (``feed/areas.py``) over GraphQL and as GeoJSON properties: the counts are right,
small ones never show, and no small one follows from the published sums (checked here by brute force
over every value the hidden cells could take, independently of the suppression code)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from access_world import Served, ask, client, load_access_world, serve
from geo_world import make_geo_world
from geojson_pydantic import FeatureCollection

from talentgraph.access.policy import POLICY
from talentgraph.graph.port import GraphStore
from talentgraph.types import NodeRecord, RelRecord

pytestmark = pytest.mark.anyio
K = POLICY.k_anonymity
SCALARS = ("residents", "foreign_residents", "party_members", "volunteers")
LISTS = ("nationalities", "skill_categories", "languages")


@pytest.fixture(scope="module")
def geo_graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    store = graph_backend.fresh(tmp_path_factory.mktemp("areas") / "graph")
    load_access_world(store, make_geo_world())
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(geo_graph: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Served:
    return serve(geo_graph, None, tmp_path_factory.mktemp("areas-data"))


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with client(served.app) as c:
        yield c


async def geo_stats(http: httpx.AsyncClient, served: Served, role: str) -> dict[str, dict[str, Any]]:
    r = await http.get("/geo/Area?stats=true&limit=1000", headers={"Authorization": f"Bearer {served.keys[role]}"})
    assert r.status_code == 200, r.text
    FeatureCollection.model_validate(r.json())
    return {f["id"]: f["properties"] for f in r.json()["features"]}


def cells(stats: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in SCALARS:
        if stats[name] is not None:
            yield name, "", stats[name]
    for name in LISTS:
        for v in stats[name] or ():
            yield name, v["value"], v


async def test_admin_sees_the_true_counts(http: httpx.AsyncClient, served: Served) -> None:
    areas = await geo_stats(http, served, "admin")
    b4 = areas["area:B4"]["stats"]
    assert b4["residents"]["count"] == 8 and b4["foreign_residents"]["count"] == 6
    assert {v["value"]: v["count"] for v in b4["nationalities"]} == {"US": 5, "FR": 1}
    assert {v["value"]: v["count"] for v in b4["skill_categories"]} == {"medicine": 3, "law": 5}
    ra3 = areas["area:RA3"]["stats"]
    assert ra3["residents"]["count"] == 15 and ra3["volunteers"]["count"] == 6 and ra3["party_members"]["count"] == 1
    assert {v["value"]: v["count"] for v in ra3["languages"]} == {"zh": 15, "en": 2}
    # Every person of the access world is in party organisation O1: counted through MEMBER_OF.
    assert areas["area:B1"]["stats"]["party_members"]["count"] == 6
    assert areas["area:C"]["stats"] is None  # statistics are made for residential areas and buildings


@pytest.mark.parametrize("role", ["platform", "analyst", "staff"])
async def test_small_counts_never_show(http: httpx.AsyncClient, served: Served, role: str) -> None:
    areas = await geo_stats(http, served, role)
    truth = await geo_stats(http, served, "admin")
    hidden = 0
    for area_id, props in areas.items():
        if props["stats"] is None:
            continue
        true_cells = {(n, v): c["count"] for n, v, c in cells(truth[area_id]["stats"])}
        for name, value, cell in cells(props["stats"]):
            true = true_cells[(name, value)]
            # Residential areas too: their counts are sums of their buildings' (a personal fact).
            assert cell["count"] is None or not 0 < cell["count"] < K, (area_id, name, value, cell)
            if cell["count"] is None:
                hidden += 1
                assert cell["display"] in (f"<{K}", f"≥{K}")
                assert (0 < true < K) == (cell["display"] == f"<{K}"), (area_id, name, value, true, cell)
            else:
                assert cell["count"] == true and cell["display"] == str(true)
    assert hidden


def _feasible(total: int, shown: list[int], hidden: list[str], offset: int = 0) -> list[tuple[int, ...]]:
    """Every assignment of the hidden cells (by marker) that makes ``offset + shown + hidden == total``."""
    rest = total - offset - sum(shown)
    ranges = [range(1, K) if m == f"<{K}" else range(K, max(K, rest) + 1) for m in hidden]
    return [combo for combo in itertools.product(*ranges) if sum(combo) == rest]


def _assert_not_derivable(total: int, shown: list[int], hidden: list[str], what: str, offset: int = 0) -> None:
    options = _feasible(total, shown, hidden, offset)
    assert options, f"{what}: the published cells contradict each other"
    for i, marker in enumerate(hidden):
        if marker == f"<{K}":
            assert len({o[i] for o in options}) > 1, f"{what}: hidden cell {i} follows from the sum"


@pytest.mark.parametrize("role", ["platform", "analyst"])
async def test_no_small_count_follows_from_a_sum(http: httpx.AsyncClient, served: Served, geo_graph: GraphStore,
                                                 role: str) -> None:
    areas = await geo_stats(http, served, role)
    for area_id, props in areas.items():
        s = props["stats"]
        if s is None:
            continue
        residents = s["residents"]["count"]
        # (b) residents = a statistic + the rest: with both shown, the rest must not be 1..k-1.
        for name in ("foreign_residents", "party_members", "volunteers"):
            if residents is not None and s[name]["count"] is not None:
                assert not 0 < residents - s[name]["count"] < K, (area_id, name)
        # (a) foreign residents = the sum of the nationality cells.
        foreign = s["foreign_residents"]["count"]
        if foreign is not None:
            shown = [v["count"] for v in s["nationalities"] if v["count"] is not None]
            hidden = [v["display"] for v in s["nationalities"] if v["count"] is None]
            _assert_not_derivable(foreign, shown, hidden, f"{area_id} nationalities")
    # (c) a residential area's count = the sum of its buildings' counts (all residents here live in one).
    for parent_id, parent in areas.items():
        if parent["stats"] is None or parent["level"] != "residential_area":
            continue
        kids = [areas[e.node.id] for e in geo_graph.edges([parent_id], "PART_OF", "in")[parent_id]]
        assert kids, parent_id
        for name, value, cell in cells(parent["stats"]):
            if cell["count"] is None:
                continue
            parts = [next((c for n, v, c in cells(k["stats"]) if (n, v) == (name, value)), None) for k in kids]
            shown = [c["count"] for c in parts if c is not None and c["count"] is not None]
            hidden = [c["display"] for c in parts if c is not None and c["count"] is None]
            _assert_not_derivable(cell["count"], shown, hidden, f"{parent_id} {name} {value}")


async def test_graphql_area_stats_match_geojson(http: httpx.AsyncClient, served: Served) -> None:
    geo = await geo_stats(http, served, "platform")
    query = """query($after: String) { areaStats(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id level parent residents { count display } foreignResidents { count display }
              partyMembers { count display } volunteers { count display }
              nationalities { value count display label labelEn } skillCategories { value count display }
              languages { value count display } } } }"""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await ask(http, served.keys["platform"], query, after=after)
        assert "errors" not in body, body
        page = body["data"]["areaStats"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n["id"] for n in nodes] == sorted(i for i, p in geo.items() if p["stats"] is not None)
    assert page["totalCount"] == len(nodes)
    for n in nodes:
        s = geo[n["id"]]["stats"]
        assert n["residents"] == s["residents"] and n["volunteers"] == s["volunteers"]
        assert [(v["value"], v["count"], v["display"]) for v in n["nationalities"]] == \
            [(v["value"], v["count"], v["display"]) for v in s["nationalities"]]
    b4 = next(n for n in nodes if n["id"] == "area:B4")
    assert b4["parent"] == "area:RA3"
    assert {v["value"]: v["label"] for v in b4["nationalities"]}["US"] == "美国"


async def test_graphql_bad_arguments(http: httpx.AsyncClient, served: Served) -> None:
    for query in ('{ areaStats(level: "galaxy") { totalCount } }', '{ areaStats(after: "zzz") { totalCount } }',
                  "{ areaStats(first: 100000) { totalCount } }"):
        body = await ask(http, served.keys["platform"], query)
        assert body["errors"][0]["extensions"]["code"] in ("BAD_QUERY", "QUERY_TOO_COMPLEX"), body


async def test_counts_follow_the_change_log(http: httpx.AsyncClient, served: Served, geo_graph: GraphStore) -> None:
    before = (await geo_stats(http, served, "admin"))["area:B3"]["stats"]["residents"]["count"]
    geo_graph.upsert_nodes([NodeRecord("Person", "per:NEW1", {"name": "新居民", "nationality": "CN"})])
    geo_graph.upsert_relationships([RelRecord("LIVES_IN", "per:NEW1", "area:B3")])
    try:
        after = (await geo_stats(http, served, "admin"))["area:B3"]["stats"]["residents"]["count"]
        assert after == before + 1
    finally:
        geo_graph.delete_nodes(["per:NEW1"])
    assert (await geo_stats(http, served, "admin"))["area:B3"]["stats"]["residents"]["count"] == before
