"""``GET /geo/{Type}``: RFC 7946 FeatureCollections (validated with geojson-pydantic), role masking,
bbox filtering, keyset paging and hostile parameters, through the in-process app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from access_world import Served, client, load_access_world, serve
from geo_world import GRID, GRID_LAT, GRID_LON, GRID_STEP, make_geo_world
from geojson_pydantic import FeatureCollection

from talentgraph.access.policy import POLICY
from talentgraph.graph.port import GraphStore

pytestmark = pytest.mark.anyio
FEATURE_TYPES = ("Enterprise", "PartyOrganization", "Venue", "Area")


@pytest.fixture(scope="module")
def geo_graph(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    store = graph_backend.fresh(tmp_path_factory.mktemp("geo") / "graph")
    load_access_world(store, make_geo_world())
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(geo_graph: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Served:
    return serve(geo_graph, None, tmp_path_factory.mktemp("geo-data"))


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with client(served.app) as c:
        yield c


async def get(http: httpx.AsyncClient, served: Served, role: str, url: str) -> httpx.Response:
    return await http.get(url, headers={"Authorization": f"Bearer {served.keys[role]}"})


def collection(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body: dict[str, Any] = r.json()
    FeatureCollection.model_validate(body)  # RFC 7946, checked by a library, not by hand
    return body


async def all_pages(http: httpx.AsyncClient, served: Served, role: str, url: str) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    for _ in range(100):
        body = collection(await get(http, served, role, url))
        assert body["numberReturned"] == len(body["features"])
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return features
        parts = urlsplit(nxt[0])
        url = f"{parts.path}?{parts.query}"
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("role", ["platform", "analyst", "admin"])
@pytest.mark.parametrize("type_name", FEATURE_TYPES)
async def test_every_feature_type_is_a_valid_feature_collection(http: httpx.AsyncClient, served: Served, role: str,
                                                                type_name: str) -> None:
    body = collection(await get(http, served, role, f"/geo/{type_name}?limit=1000"))
    assert body["features"], type_name
    for f in body["features"]:
        assert f["properties"]["type"] == type_name and ":" in f["id"]
        assert not {"lat", "lon", "outline"} & set(f["properties"])  # geometry is in `geometry` only
    shapes = [f["geometry"] for f in body["features"] if f["geometry"]]
    assert shapes, type_name
    assert body["bbox"][0] == min(c for g in shapes for c in _lons(g))


def _lons(g: dict[str, Any]) -> list[float]:
    return [g["coordinates"][0]] if g["type"] == "Point" else [p[0] for ring in g["coordinates"] for p in ring]


async def test_outlines_are_polygons_and_points_stay_points(http: httpx.AsyncClient, served: Served) -> None:
    areas = {f["id"]: f for f in collection(await get(http, served, "platform", "/geo/Area"))["features"]}
    assert areas["area:RA1"]["geometry"]["type"] == "Polygon"
    assert areas["area:C"]["geometry"]["type"] == "Point"
    venues = {f["id"]: f for f in collection(await get(http, served, "platform", "/geo/Venue?limit=1000"))["features"]}
    assert venues["ven:NOWHERE"]["geometry"] is None
    with_shape = collection(await get(http, served, "platform", "/geo/Venue?has_geometry=true&limit=1000"))
    assert "ven:NOWHERE" not in {f["id"] for f in with_shape["features"]}
    assert len(with_shape["features"]) == len(venues) - 1


async def test_properties_are_masked_by_role(http: httpx.AsyncClient, served: Served) -> None:
    def org(role_body: dict[str, Any]) -> dict[str, Any]:
        return next(f["properties"] for f in role_body["features"] if f["id"] == "org:O1")

    platform = org(collection(await get(http, served, "platform", "/geo/PartyOrganization")))
    analyst = org(collection(await get(http, served, "analyst", "/geo/PartyOrganization")))
    admin = org(collection(await get(http, served, "admin", "/geo/PartyOrganization")))
    assert "secretary" not in platform and analyst["secretary"] == admin["secretary"] == "王书记"  # a name: not public
    assert platform["name"] == analyst["name"] == "联洋第一党支部"
    for props in (platform, analyst, admin):
        assert not {"prov", "src_file", "content_hash"} & set(props)  # bookkeeping beyond version/updated_at


@pytest.mark.parametrize("role", ["platform", "analyst", "staff", "admin"])
async def test_no_person_row_or_coordinate_ever(http: httpx.AsyncClient, served: Served, role: str) -> None:
    r = await get(http, served, role, "/geo/Person")
    assert r.status_code == (403 if not POLICY.view(role).rows("Person") else 404)
    assert r.json()["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    for t in FEATURE_TYPES:
        body = collection(await get(http, served, role, f"/geo/{t}?limit=1000&stats=true" if t == "Area"
                                    else f"/geo/{t}?limit=1000"))
        text = str(body)
        assert "per:" not in text and "+86138" not in text  # no person id, no phone anywhere


async def test_paging_loses_and_repeats_nothing(http: httpx.AsyncClient, served: Served, geo_graph: GraphStore) -> None:
    every = {n.id for n in geo_graph.list_nodes("Venue", first=1000).items}
    for limit in (1, 4, 7, 1000):
        got = [f["id"] for f in await all_pages(http, served, "platform", f"/geo/Venue?limit={limit}")]
        assert len(got) == len(set(got)) and set(got) == every, limit
        assert got == sorted(got)
    areas = [f["id"] for f in await all_pages(http, served, "platform", "/geo/Area?limit=2&level=building")]
    assert areas == ["area:B1", "area:B2", "area:B3", "area:B4"]


async def test_bbox_keeps_exactly_the_features_that_meet_it(http: httpx.AsyncClient, served: Served) -> None:
    # The grid's 2x2 lower-left corner, edges included.
    box = f"{GRID_LON},{GRID_LAT},{GRID_LON + GRID_STEP},{GRID_LAT + GRID_STEP}"
    for limit in (1, 3, 100):
        got = [f["id"] for f in await all_pages(http, served, "platform", f"/geo/Venue?bbox={box}&limit={limit}")]
        assert got == ["ven:G00", "ven:G01", f"ven:G{GRID:02d}", f"ven:G{GRID + 1:02d}"]


async def test_bbox_finds_an_outline_whose_centre_lies_outside(http: httpx.AsyncClient, served: Served) -> None:
    # RA1's outline spans 121.546..121.554 / 31.216..31.224; its centre (121.55, 31.22) is not in this box.
    body = collection(await get(http, served, "platform", "/geo/Area?bbox=121.553,31.223,121.56,31.226"))
    ids = {f["id"] for f in body["features"]}
    assert "area:RA1" in ids and "area:B1" not in ids  # B1's small square lies elsewhere
    outside = collection(await get(http, served, "platform", "/geo/Area?bbox=121.5545,31.2245,121.556,31.226"))
    assert "area:RA1" not in {f["id"] for f in outside["features"]}  # the box is beyond the outline's corner


async def test_level_filter(http: httpx.AsyncClient, served: Served) -> None:
    body = collection(await get(http, served, "platform", "/geo/Area?level=residential_area"))
    assert {f["id"] for f in body["features"]} == {"area:RA1", "area:RA2", "area:RA3"}


@pytest.mark.parametrize(("url", "status", "needle"), [
    ("/geo/Nope", 404, "Nope"),
    ("/geo/Document", 404, "geometry"),
    ("/geo/Venue?bbox=1,2,3", 400, "bbox"),
    ("/geo/Venue?bbox=a,b,c,d", 400, "bbox"),
    ("/geo/Venue?bbox=121.6,31.2,121.5,31.3", 400, "minimum"),
    ("/geo/Venue?bbox=nan,31.2,121.5,31.3", 400, "finite"),
    ("/geo/Venue?bbox=121,31,inf,32", 400, "finite"),
    ("/geo/Venue?bbox=200,31,210,32", 400, "outside"),
    ("/geo/Venue?limit=100000000000000000000", 400, "limit"),
    ("/geo/Venue?limit=1001", 400, "1000"),
    ("/geo/Venue?limit=0", 400, "limit"),
    ("/geo/Venue?limit=ten", 400, "limit"),
    ("/geo/Venue?after=not-a-cursor", 400, "ursor"),
    ("/geo/Venue?after=eyJrIjpbWyJuYW1lIixmYWxzZV1dLCJ2IjpbMV19", 400, "ursor"),
    ("/geo/Venue?has_geometry=maybe", 400, "has_geometry"),
    ("/geo/Venue?level=building", 400, "Area"),
    ("/geo/Area?level=galaxy", 400, "level"),
    ("/geo/Venue?bbx=1,2,3,4", 400, "bbx"),
])
async def test_hostile_parameters_get_a_clear_error_in_the_one_shape(http: httpx.AsyncClient, served: Served, url: str,
                                                                    status: int, needle: str) -> None:
    r = await get(http, served, "platform", url)
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]
    assert needle in error["message"] and error["extensions"]["code"] and error["extensions"]["hint"]
    assert (await http.get("/health")).json()["status"] == "ok"


async def test_wrong_method_and_no_key(http: httpx.AsyncClient, served: Served) -> None:
    r = await http.post("/geo/Venue", headers={"Authorization": f"Bearer {served.keys['platform']}"})
    assert r.status_code == 405 and r.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    r = await http.get("/geo/Venue")
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_requests_are_audited(http: httpx.AsyncClient, served: Served) -> None:
    await get(http, served, "platform", "/geo/Venue?limit=2")
    entries = list(served.audit.read())
    assert any(e.operation == "geo.Venue" and e.role == "platform" for e in entries)
