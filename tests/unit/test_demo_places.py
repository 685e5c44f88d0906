"""Outlines and coordinates in the demo world, and the gcj02_outline transform that ingests them."""

from __future__ import annotations

import json

import pytest

from talentgraph.demo import build, places
from talentgraph.demo.generator import area_outline, ring_text
from talentgraph.errors import ValidationError
from talentgraph.ingest.transforms import Context, apply
from talentgraph.schema.geo import gcj02_to_wgs84
from talentgraph.schema.validators import polygon


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    ax, ay = [p[0] for p in a], [p[1] for p in a]
    bx, by = [p[0] for p in b], [p[1] for p in b]
    return min(ax) < max(bx) and min(bx) < max(ax) and min(ay) < max(by) and min(by) < max(ay)


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return build(residents=200, seed=7)


def test_area_outlines_do_not_overlap() -> None:
    outlines = [area_outline(a) for a in places.RESIDENTIAL_AREAS]
    for i, a in enumerate(outlines):
        for b in outlines[i + 1:]:
            assert not _overlap(a, b)


def test_buildings_lie_inside_their_area_and_apart(world) -> None:  # type: ignore[no-untyped-def]
    for area in places.RESIDENTIAL_AREAS:
        outer = area_outline(area)
        mine = [b for b in world.buildings if b.area.key == area.key]
        assert len(mine) == area.buildings
        for i, b in enumerate(mine):
            assert min(p[0] for p in outer) < min(p[0] for p in b.outline) < max(p[0] for p in b.outline) < \
                max(p[0] for p in outer)
            assert min(p[1] for p in outer) < min(p[1] for p in b.outline) < max(p[1] for p in b.outline) < \
                max(p[1] for p in outer)
            assert all(not _overlap(b.outline, c.outline) for c in mine[i + 1:])


def test_the_generator_stays_deterministic_and_every_enterprise_has_coordinates(world) -> None:  # type: ignore[no-untyped-def]
    again = build(residents=200, seed=7)
    assert [(b.lon, b.lat, b.outline) for b in again.buildings] == [(b.lon, b.lat, b.outline) for b in world.buildings]
    assert [(e.lon, e.lat) for e in again.enterprises] == [(e.lon, e.lat) for e in world.enterprises]
    assert all(e.lon is not None and e.lat is not None for e in world.enterprises)
    orgs = world.registers["party_orgs"]
    seated = [r for r in orgs.rows if r[orgs.columns.index("经度")] != ""]
    assert len(seated) > len(places.RESIDENTIAL_AREAS)


def test_the_real_public_places_carry_the_public_record() -> None:
    by_name = {v.name: v for v in places.VENUES}
    library = by_name["上海图书馆东馆"]
    assert library.address == "合欢路300号" and "2022" in library.description
    assert by_name["大拇指广场"].parking == 170 and "居委" in by_name["大拇指广场"].description
    assert by_name["汉语廊"].kind == "language_corner"
    station = by_name["联洋社区境外人员服务站"]
    assert "2012" in station.description and "上海首个" in station.description


def test_gcj02_outline_converts_each_vertex_and_closes_the_ring() -> None:
    ring = area_outline(places.RESIDENTIAL_AREAS[0])
    out = json.loads(apply("gcj02_outline", ring_text(ring), Context("outline")))
    coords = out["coordinates"][0]
    assert out["type"] == "Polygon" and coords[0] == coords[-1] and len(coords) == 5
    expected = {tuple(round(x, 7) for x in gcj02_to_wgs84(lon, lat)) for lon, lat in ring}
    assert {tuple(p) for p in coords} == expected
    assert polygon(json.dumps(out)) == json.dumps(out, separators=(",", ":"))  # valid and already normal


@pytest.mark.parametrize(("cell", "hint"), [
    ("121.55,31.22;121.556", "Position 2"),
    ("31.22,121.55;31.22,121.556;31.225,121.556", "swapped"),
    ("121.55,31.22;121.556,31.22", "three"),
    ("121.55,31.22;121.556,31.22;121.56,31.22", "line"),
    ("116.40,39.90;116.41,39.90;116.41,39.91", "outside Shanghai"),
    ("a,b;c,d;e,f", "number"),
])
def test_gcj02_outline_refuses_bad_rings(cell: str, hint: str) -> None:
    with pytest.raises(ValidationError) as e:
        apply("gcj02_outline", cell, Context("outline"))
    assert hint in str(e.value)
