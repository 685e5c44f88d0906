"""A staff key's area scope is worked out once per state of the graph, and follows the graph at once:
a building moved into the staff member's residential area brings its residents into scope on the
very next request; moved out again, they leave it.

Synthetic world (invented people and buildings).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from access_world import AccessWorld, Served, ask, client, load_access_world, make_access_world, serve

from talentgraph.types import RelRecord, rel_key

pytestmark = pytest.mark.anyio

RESIDENTS_OF_B2 = '{ area(id: "area:B2") { livesInIn(first: 100) { nodes { id } } } }'


@pytest.fixture()
def world() -> AccessWorld:
    return make_access_world()


@pytest.fixture()
def served(graph_backend: Any, tmp_path: Any, world: AccessWorld) -> Iterator[tuple[Served, Any]]:
    graph = graph_backend.fresh(tmp_path / "graph")
    load_access_world(graph, world)
    try:
        yield serve(graph, None, tmp_path), graph
    finally:
        graph.close()


async def test_a_building_moved_into_the_area_is_in_scope_on_the_next_request(
        served: tuple[Served, Any], world: AccessWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    app, graph = served
    key = app.keys["staff"]
    calls: list[str] = []
    edges = graph.edges

    def counted(ids: Any, rel_type: str, direction: str, **kw: Any) -> Any:
        calls.append(rel_type)
        return edges(ids, rel_type, direction, **kw)

    monkeypatch.setattr(graph, "edges", counted)
    async with client(app.app) as c:
        before = await ask(c, key, RESIDENTS_OF_B2)
        assert before["data"]["area"]["livesInIn"]["nodes"] == []  # B2 lies in RA2, outside the key's RA1
        walked = calls.count("PART_OF")
        await ask(c, key, RESIDENTS_OF_B2)
        assert calls.count("PART_OF") == walked  # the same graph: the areas were not walked again

        graph.delete_relationships([rel_key("PART_OF", "area:B2", "area:RA2")])
        graph.upsert_relationships([RelRecord("PART_OF", "area:B2", "area:RA1")])
        moved = await ask(c, key, RESIDENTS_OF_B2)
        b2 = {r.from_id for r in world.rels if r.type == "LIVES_IN" and r.to_id == "area:B2"}
        assert {n["id"] for n in moved["data"]["area"]["livesInIn"]["nodes"]} == b2 != set()

        graph.delete_relationships([rel_key("PART_OF", "area:B2", "area:RA1")])
        graph.upsert_relationships([RelRecord("PART_OF", "area:B2", "area:RA2")])
        back = await ask(c, key, RESIDENTS_OF_B2)
        assert back["data"]["area"]["livesInIn"]["nodes"] == []
