"""``feed/bbox.py``: the bbox parameter and exact geometry/box intersection."""

from __future__ import annotations

import pytest

from talentgraph.errors import BadQueryError
from talentgraph.feed.bbox import bounds, intersects, parse_bbox
from talentgraph.schema.geo import BBox

BOX = BBox(0.0, 0.0, 1.0, 1.0)


def poly(*rings: list[tuple[float, float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] + [list(ring[0])] for ring in rings]}


def test_parse_bbox() -> None:
    assert parse_bbox("121.54, 31.21,121.58,31.24") == BBox(121.54, 31.21, 121.58, 31.24)


@pytest.mark.parametrize("text", ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,0,1,1", "0,0,inf,1", "2,0,1,1",
                                  "0,1,1,1", "-181,0,1,1", "0,-91,1,1"])
def test_bad_bbox_is_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(BadQueryError) as e:
        parse_bbox(text)
    assert "bbox" in e.value.message and "minLon,minLat,maxLon,maxLat" in (e.value.hint or "")


@pytest.mark.parametrize(("geometry", "expected"), [
    ({"type": "Point", "coordinates": [0.5, 0.5]}, True),
    ({"type": "Point", "coordinates": [1.0, 1.0]}, True),  # on the edge
    ({"type": "Point", "coordinates": [1.5, 0.5]}, False),
    (poly([(0.8, 0.8), (3, 0.8), (3, 3), (0.8, 3)]), True),  # a corner inside, centre outside
    (poly([(-1, -1), (2, -1), (2, 2), (-1, 2)]), True),  # the box inside the polygon
    (poly([(-1, 0.4), (2, 0.4), (2, 0.6), (-1, 0.6)]), True),  # crossing, no vertex inside
    (poly([(1.5, 1.5), (3, 1.5), (3, 3)]), False),
    (poly([(0.5, 1.5), (2, 0.2), (2, 1.5)]), False),  # its bounding box meets the box, the triangle does not
    (poly([(-1, -1), (2, -1), (2, 2), (-1, 2)], [(-0.5, -0.5), (-0.5, 1.5), (1.5, 1.5), (1.5, -0.5)]), False),  # hole
    (None, False),
])
def test_intersects(geometry: dict[str, object] | None, expected: bool) -> None:
    assert intersects(geometry, BOX) is expected


def test_bounds() -> None:
    assert bounds([None, {"type": "Point", "coordinates": [2, 3]}, poly([(0, 1), (1, 1), (1, 5)])]) == [0, 1, 2, 5]
    assert bounds([None]) is None
