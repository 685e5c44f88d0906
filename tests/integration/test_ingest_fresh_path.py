"""The bulk path of a first load gives exactly what the general claim merge gives.

A node no source has written yet is stored from its values in one pass (``claims.fresh``), or from
what a row-building worker worked out for it (``PreparedNode``: content hash and claims text built
on another core). Either must store the very ``prov`` text, hash and shown values that
``claims.merge`` + ``claims.dump`` store, and a later write by another source must merge into it
as into any node. Checked on every graph backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from talentgraph.graph import claims
from talentgraph.graph.common import PreparedNode, content_hash, split_props
from talentgraph.graph.ladybug.bulk import arrow_rows
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import _blank, _blank_row
from talentgraph.types import NodeRecord, Provenance

RESIDENTS = Provenance("residents", "居民.csv", 12, "2026-01-01T00:00:00Z")
VOLUNTEERS = Provenance("volunteers", "volunteers.csv", 7, "2026-02-01T00:00:00Z", 1)
TS = "2026-11-30T09:00:01.250Z"
VALUES: list[dict[str, Any]] = [
    {"name": "王芳", "phone": "13912345678", "languages": ["en", "ja"], "birth_date": dt.date(1990, 1, 2)},
    {"name": "Zhang \"Wei\"", "phone": None, "languages": ("fr",)},
    {"name": None},
    {},
]


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("source", [RESIDENTS, VOLUNTEERS, None])
def test_fresh_is_merge_then_dump(values: dict[str, Any], source: Provenance | None) -> None:
    merged = claims.merge({}, {}, values, ["name", "phone", "gender"], source, TS)
    props, prov = claims.fresh(values, source, TS, dates={"birth_date"})
    assert props == merged.props
    assert prov == claims.dump(merged.claims, merged.props, dates={"birth_date"})
    # Read back with the values the node shows, as a store gives it.
    assert (claims.load({**props, claims.PROV: prov}, []) if prov else {}) == merged.claims


@pytest.mark.parametrize("values", VALUES)
def test_a_prepared_node_carries_what_fresh_gives(values: dict[str, Any]) -> None:
    rec = PreparedNode.of(NodeRecord("Person", "per:X1", values, RESIDENTS, frozenset(values)))
    props, prov = claims.fresh(values, RESIDENTS, TS)
    assert rec.fresh_hash == content_hash(props)
    assert (claims.fresh_prov(RESIDENTS, TS, rec.fresh_claims) if props else None) == prov
    assert NodeRecord("Person", "per:X1", values, RESIDENTS, frozenset(values)) == NodeRecord(
        rec.type, rec.id, rec.props, rec.provenance, rec.names)


def test_prepared_and_plain_records_store_the_same_node(fresh_graph: GraphStore) -> None:
    values = {"name": "王芳", "phone": "13912345678", "languages": ["en", "ja"], "birth_date": "1990-01-02"}
    names = frozenset({*values, "gender"})
    plain = NodeRecord("Person", "per:P1", values, RESIDENTS, names)
    prepared = PreparedNode.of(NodeRecord("Person", "per:P2", values, RESIDENTS, names))
    general = NodeRecord("Person", "per:P3", values, RESIDENTS, names)
    result = fresh_graph.upsert_nodes([plain, prepared])
    assert sorted(result.inserted) == ["per:P1", "per:P2"]
    fresh_graph.upsert_nodes([general])
    a, b, c = (dict(fresh_graph.get_nodes([i])[i].props) for i in ("per:P1", "per:P2", "per:P3"))
    for node in (a, b, c):
        ts = node.pop("updated_at")
        node[claims.PROV] = node[claims.PROV].replace(ts, "<ts>")
    assert a == b
    # A record written by a call of its own: the same node, but for the clock.
    assert {k: v for k, v in a.items() if k != "id"} == {k: v for k, v in c.items() if k != "id"}
    shown, _ = split_props(a)
    assert shown["name"] == "王芳" and shown["languages"] == ["en", "ja"]
    assert a["content_hash"] == content_hash({k: v for k, v in values.items()})

    # A second source merges into a node written by the bulk path as into any other.
    later = fresh_graph.upsert_nodes([NodeRecord("Person", "per:P2", {"phone": "13800000000"}, VOLUNTEERS,
                                                 frozenset({"phone"}))])
    assert later.updated == ["per:P2"]
    stored = claims.load(fresh_graph.get_nodes(["per:P2"])["per:P2"].props, [])
    assert {c["job"]: c["v"] for c in stored["phone"]} == {"residents": "13912345678", "volunteers": "13800000000"}
    assert {c["job"] for c in stored["name"]} == {"residents"}
    # Re-running the first source changes nothing.
    again = fresh_graph.upsert_nodes([PreparedNode.of(NodeRecord("Person", "per:P2", values, RESIDENTS, names))])
    assert again.unchanged == ["per:P2"]


@pytest.mark.parametrize("birth_date", ["1990-01-02", "19900102", dt.date(1990, 1, 2)])
def test_a_claim_stored_without_its_value_reads_back_as_written(fresh_graph: GraphStore, birth_date: Any) -> None:
    """``prov`` keeps a claim's value only where the node does not show it as the claim said (graph/claims.py):
    what is read back is what was claimed, on every path a node is written by, and a re-run changes nothing."""
    values = {"name": "王芳", "languages": ["en"], "birth_date": birth_date, "bio": "", "skills": []}
    names = frozenset(values)
    said = {k: claims.jsonable(v) for k, v in values.items()}
    for node_id, make in (("per:C1", lambda i: PreparedNode.of(NodeRecord("Person", i, values, RESIDENTS, names))),
                          ("per:C2", lambda i: NodeRecord("Person", i, values, RESIDENTS, names))):
        assert fresh_graph.upsert_nodes([make(node_id)]).inserted == [node_id]
        node = fresh_graph.get_nodes([node_id])[node_id]
        assert node.props["birth_date"] == "1990-01-02"
        held = claims.load(node.props, [])
        assert {k: [c["v"] for c in cs] for k, cs in held.items()} == {k: [v] for k, v in said.items()}
        assert fresh_graph.upsert_nodes([make(node_id)]).unchanged == [node_id]
        # Another source's value shown over it, then withdrawn: the first claim's own value shows again.
        other = NodeRecord("Person", node_id, {"name": "王芳芳", "birth_date": "1990-01-03"}, VOLUNTEERS)
        assert fresh_graph.upsert_nodes([other]).updated == [node_id]
        shown = fresh_graph.get_nodes([node_id])[node_id].props
        assert (shown["name"], shown["birth_date"]) == ("王芳芳", "1990-01-03")
        by_job = {c["job"]: c["v"] for c in claims.load(shown, [])["birth_date"]}
        assert by_job == {"residents": said["birth_date"], "volunteers": "1990-01-03"}
        fresh_graph.withdraw("volunteers", [node_id], [])
        back = fresh_graph.get_nodes([node_id])[node_id].props
        assert (back["name"], back["birth_date"]) == ("王芳", "1990-01-02")
        assert fresh_graph.upsert_nodes([make(node_id)]).unchanged == [node_id]


def test_relationship_ends_written_in_the_same_call_need_no_read(fresh_graph: GraphStore) -> None:
    from talentgraph.types import RelRecord

    nodes = [NodeRecord("Area", "area:A1", {"name": "联洋"}, RESIDENTS),
             PreparedNode.of(NodeRecord("Person", "per:R1", {"name": "王芳"}, RESIDENTS))]
    rels = [RelRecord("LIVES_IN", "per:R1", "area:A1", {}, RESIDENTS),
            RelRecord("LIVES_IN", "per:R1", "area:NOPE", {}, RESIDENTS)]
    node_result, rel_result = fresh_graph.upsert_batch(nodes, rels)
    assert sorted(node_result.inserted) == ["area:A1", "per:R1"]
    assert len(rel_result.inserted) == 1
    assert len(rel_result.rejected) == 1 and "area:NOPE" in next(iter(rel_result.rejected.values()))


@pytest.mark.parametrize("row", [
    {"a": "x"}, {"a": "", "b": " x"}, {"a": None, "b": []}, {"a": "\u200b", "b": " \t"}, {"a": "\u200bx"},
    {"a": 0}, {"a": None, "b": 1.5}, {}, {"a": "\ufeff"}, {"a": " \u200b ", "b": "名"},
])
def test_blank_row_is_every_cell_blank(row: dict[str, Any]) -> None:
    assert _blank_row(row) == all(_blank(v) for v in row.values())


def test_arrow_rows_reads_columns_by_name_in_order() -> None:
    rows = [{"b": 1, "a": "x", "d": dt.date(2020, 1, 2), "l": ["p"], "extra": "ignored"}, {"a": None}]
    table = arrow_rows([("a", pa.string()), ("b", pa.float64()), ("d", pa.date32()), ("l", pa.list_(pa.string()))],
                       rows, lead=(("from", ["per:1", "per:2"]), ("to", ["area:1", "area:2"])))
    assert table.column_names == ["from", "to", "a", "b", "d", "l"]
    assert table.to_pylist() == [
        {"from": "per:1", "to": "area:1", "a": "x", "b": 1.0, "d": dt.date(2020, 1, 2), "l": ["p"]},
        {"from": "per:2", "to": "area:2", "a": None, "b": None, "d": None, "l": None},
    ]
