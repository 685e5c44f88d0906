"""A small mapped community for the GeoJSON and area-statistics tests: the access world (two residential
areas, persons in buildings B1 and B2) plus outlines, a grid of venues for paging and bbox tests,
party organisations with coordinates, and a third residential area whose counts are made to need
complementary suppression. All names are invented.
"""

from __future__ import annotations

import json
from typing import Any

from access_world import PROV, AccessWorld, make_access_world

from talentgraph.types import NodeRecord, RelRecord

GRID = 5  # GRID x GRID venues, 0.002° apart, from (121.540, 31.210)
GRID_LON, GRID_LAT, GRID_STEP = 121.540, 31.210, 0.002


def square(lon: float, lat: float, half: float) -> str:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]
    return json.dumps({"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]})


def _add(w: AccessWorld, type_name: str, node_id: str, props: dict[str, Any]) -> None:
    w.nodes[node_id] = NodeRecord(type_name, node_id, props, PROV)


def _person(w: AccessWorld, pid: str, building: str, *, nationality: str = "CN", volunteer: bool = False,
            party: bool = False, skills: tuple[str, ...] = ("law",), languages: tuple[str, ...] = ("zh",)) -> None:
    _add(w, "Person", pid, {"name": f"居民{pid[-3:]}", "nationality": nationality, "volunteer": volunteer,
                            "political_status": "party_member" if party else "masses", "skills": list(skills),
                            "languages": list(languages), "phone": "+8613800000000", "birth_year": 1980})
    w.rels.append(RelRecord("LIVES_IN", pid, building))


def make_geo_world() -> AccessWorld:
    w = make_access_world()
    # Outlines: RA1 is a large square around (121.55, 31.22); B1 a small one inside it.
    for area_id, lon, lat, half in (("area:RA1", 121.55, 31.22, 0.004), ("area:B1", 121.551, 31.221, 0.0004)):
        rec = w.nodes[area_id]
        w.nodes[area_id] = NodeRecord("Area", area_id, {**rec.props, "outline": square(lon, lat, half)}, PROV)
    for i in range(GRID * GRID):
        lon, lat = GRID_LON + (i % GRID) * GRID_STEP, GRID_LAT + (i // GRID) * GRID_STEP
        _add(w, "Venue", f"ven:G{i:02d}", {"name": f"网格场所{i:02d}", "kind": "plaza", "lon": lon, "lat": lat,
                                            "capacity": 10 + i})
    _add(w, "Venue", "ven:NOWHERE", {"name": "无坐标场所", "kind": "other"})
    ent = w.nodes["ent:E1"]
    w.nodes["ent:E1"] = NodeRecord("Enterprise", "ent:E1", {**ent.props, "lon": 121.5531, "lat": 31.2214}, PROV)
    org = w.nodes["org:O1"]
    w.nodes["org:O1"] = NodeRecord("PartyOrganization", "org:O1", {**org.props, "lon": 121.5512, "lat": 31.2209}, PROV)

    # RA3: B3 has 7 residents of whom 6 volunteer (the 1 who does not must not follow from 7 - 6);
    # B4 has 8 residents, 5 American and 1 French (foreign 6 = 5 + the hidden French one).
    _add(w, "Area", "area:RA3", {"name": "测试花园", "level": "residential_area", "lon": 121.56, "lat": 31.23,
                                 "outline": square(121.56, 31.23, 0.002)})
    w.rels.append(RelRecord("PART_OF", "area:RA3", "area:C"))
    for b, lon in (("area:B3", 121.559), ("area:B4", 121.561)):
        _add(w, "Area", b, {"name": f"测试花园{b[-1]}号楼", "level": "building", "lon": lon, "lat": 31.23,
                            "outline": square(lon, 31.23, 0.0004)})
        w.rels.append(RelRecord("PART_OF", b, "area:RA3"))
    for i in range(7):
        _person(w, f"per:B3{i:02d}", "area:B3", volunteer=i < 6, languages=("zh", "en") if i < 2 else ("zh",))
    for i in range(8):
        nationality = "US" if i < 5 else "FR" if i == 5 else "CN"
        _person(w, f"per:B4{i:02d}", "area:B4", nationality=nationality, party=i == 7,
                skills=("medicine",) if i < 3 else ("law",))
    return w
