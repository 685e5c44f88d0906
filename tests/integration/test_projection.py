"""The search projection follows the graph's change log, including changes around a node.

A person's place facets (building → residential area → community) are derived from the graph; when
a building moves to another residential area, the people living there must be re-projected even
though their own records did not change.
"""

from __future__ import annotations

from pathlib import Path

from talentgraph.graph.ladybug.store import LadybugGraphStore
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy.index import TantivyIndex
from talentgraph.types import NodeRecord, RelRecord, rel_key


def _area(key: str, name: str, level: str) -> NodeRecord:
    return NodeRecord("Area", f"area:{key}", {"name": name, "level": level})


def test_moving_a_building_moves_its_residents_facets(tmp_path: Path) -> None:
    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    index = TantivyIndex(tmp_path / "search")
    projector = SearchProjector(graph, index)
    search = SearchService(index)
    graph.upsert_nodes([_area("RA1", "联洋新苑", "residential_area"), _area("RA2", "仁恒河滨城", "residential_area"),
                        _area("B1", "1号楼", "building"),
                        NodeRecord("Person", "per:1", {"name": "林晓", "languages": ["ru"]})])
    graph.upsert_relationships([RelRecord("PART_OF", "area:B1", "area:RA1"), RelRecord("LIVES_IN", "per:1", "area:B1")])
    projector.sync()

    def ids(area: str) -> set[str]:
        return {h.id for h in search.search("", filters={"residential_area": [area]}).hits}

    assert ids("area:RA1") == {"per:1"} and ids("area:RA2") == set()
    graph.delete_relationships([rel_key("PART_OF", "area:B1", "area:RA1")])
    graph.upsert_relationships([RelRecord("PART_OF", "area:B1", "area:RA2")])
    report = projector.sync()
    assert report.indexed >= 1 and report.cursor == graph.last_seq()
    assert ids("area:RA1") == set() and ids("area:RA2") == {"per:1"}
    index.close()
    graph.close()


def test_a_query_only_process_segments_entity_names_like_the_indexer(tmp_path: Path) -> None:
    from talentgraph.search import analysis

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    name = "联洋晨曦睦邻汇"  # an invented venue name jieba does not know
    assert name not in analysis.segment(name)
    graph.upsert_nodes([NodeRecord("Venue", "ven:X1", {"name": name})])
    index = TantivyIndex(tmp_path / "search")
    assert SearchProjector(graph, index).learn_entity_names() == 1
    assert name in analysis.segment(name)
    index.close()
    graph.close()
