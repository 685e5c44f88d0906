"""The change feed's bulk reads on every graph engine: snapshot scans of the tables and change-log windows.

Part of the contract suite (``fresh_graph`` runs each test on LadybugDB and, when it runs, Neo4j): the
positions differ per engine (LadybugDB's internal offsets, Neo4j's ids), what a scan promises does not.
"""

from __future__ import annotations

import pytest

from talentgraph.errors import BadQueryError
from talentgraph.graph.port import GraphStore
from talentgraph.types import Node, NodeRecord, Provenance, Relationship, RelRecord

PROV = Provenance(job="scan-test", source="scan.csv", row=1, ingested_at="2024-01-01T00:00:00Z")


def _people(n: int, start: int = 0) -> list[NodeRecord]:
    return [NodeRecord("Person", f"per:S{i:03d}", {"name": f"居民{i}", "birth_year": 1950 + i % 50,
                                                   "birth_date": "1970-01-02", "phone": f"1380000{i:04d}"}, PROV)
            for i in range(start, start + n)]


def _scan_all_nodes(g: GraphStore, type_name: str, limit: int, fields: list[str] | None = None) -> list[Node]:
    out: list[Node] = []
    after = None
    for _ in range(10_000):
        page = g.scan_nodes(type_name, after, limit, fields=fields)
        assert len(page.items) <= limit
        out += [node for _, node in page.items]
        if page.next is None:
            return out
        after = page.next
    raise AssertionError("the scan did not end")


def test_scan_nodes_reads_each_node_once_in_pages_with_only_the_fields_asked(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    assert g.scan_nodes("Person", None, 10).items == [] and g.scan_nodes("Person", None, 10).next is None
    g.upsert_nodes(_people(23))
    g.upsert_nodes([NodeRecord("Venue", "ven:S1", {"name": "场所"}, PROV)])
    nodes = _scan_all_nodes(g, "Person", 5, fields=["name", "birth_date", "version", "updated_at"])
    assert sorted(n.id for n in nodes) == [f"per:S{i:03d}" for i in range(23)]
    one = next(n for n in nodes if n.id == "per:S007")
    assert one.type == "Person"
    assert one.props["name"] == "居民7" and one.props["version"] == 1 and one.props["birth_date"] == "1970-01-02"
    assert "phone" not in one.props and "prov" not in one.props and "birth_year" not in one.props
    # in the order asked, nulls left out: the change feed sends these props as they are
    assert list(one.props) == ["name", "birth_date", "version", "updated_at"]
    odd = _scan_all_nodes(g, "Person", 50, fields=["updated_at", "bio", "phone", "name"])[0]
    assert list(odd.props) == ["updated_at", "phone", "name"]  # no bio stored: absent, not None
    # positions are the store's: each item's position continues after that item
    page = g.scan_nodes("Person", None, 4)
    rest = g.scan_nodes("Person", page.items[1][0], 100)
    assert [n.id for _, n in rest.items][:2] == [n.id for _, n in page.items[2:4]]
    assert rest.next is None
    assert {n.id for n in _scan_all_nodes(g, "Person", 1000)} == {n.id for n in nodes}
    with pytest.raises(BadQueryError):
        g.scan_nodes("Person", None, 0)


def test_a_scan_returns_nodes_that_exist_throughout_once_while_others_come_and_go(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes(_people(30))
    seen: list[str] = []
    after = None
    step = 0
    while True:
        page = g.scan_nodes("Person", after, 4)
        seen += [n.id for _, n in page.items]
        step += 1
        if step == 2:  # between pages: deletes ahead of and behind the scan, new nodes, an update
            g.delete_nodes(["per:S001", "per:S028"])
            g.upsert_nodes(_people(5, start=100))
            g.upsert_nodes([NodeRecord("Person", "per:S020", {"name": "改名"}, PROV)])
        if page.next is None:
            break
        after = page.next
    stayed = {f"per:S{i:03d}" for i in range(30)} - {"per:S001", "per:S028"}
    assert len(seen) == len(set(seen)), "a node came twice"
    assert stayed <= set(seen)
    assert set(seen) <= stayed | {"per:S001", "per:S028"} | {f"per:S{i:03d}" for i in range(100, 105)}


def test_scan_relationships_by_start_node_and_key_continuing_inside_a_start_node(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes(_people(6) + [NodeRecord("Enterprise", f"ent:S{j}", {"name": f"企业{j}"}, PROV) for j in range(3)]
                   + [NodeRecord("Area", "area:S1", {"name": "楼", "level": "building"}, PROV)])
    rels = [RelRecord("WORKS_AT", f"per:S{i:03d}", f"ent:S{j}", {"since": "2020-02-03"} if j else {}, PROV)
            for i in range(6) for j in range(3) if (i + j) % 2 == 0 or i == 0]
    assert not g.upsert_relationships(rels + [RelRecord("LIVES_IN", "per:S000", "area:S1", {}, PROV)]).rejected
    want = {r.key for r in rels}
    # a page, then on from inside a start node: (position, key) of the last one read
    got: list[Relationship] = []
    after: str | None = None
    key: str | None = None
    for _ in range(100):
        page = g.scan_relationships("WORKS_AT", "Person", after, 1, after_key=key)
        if not page.items and page.next is None:
            break
        if page.items:
            first_pos, first = page.items[0]
            got.append(first)
            after, key = first_pos, first.key  # continue right after the first item only
        else:
            after, key = page.next, None
    keys = [r.key for r in got]
    assert len(keys) == len(set(keys)) and set(keys) == want
    by_start = [r.from_id for r in got]
    assert by_start == sorted(by_start, key=by_start.index)  # grouped by start node
    since = [r for r in got if r.to_id != "ent:S0"]
    assert since and all(r.props["since"] == "2020-02-03" and r.props["version"] == 1 for r in since)
    assert all(r.type == "WORKS_AT" and r.key == f"{r.from_id}|WORKS_AT|{r.to_id}" for r in got)
    whole = g.scan_relationships("WORKS_AT", "Person", None, 1000)
    assert {r.key for _, r in whole.items} == want and whole.next is None
    assert g.scan_relationships("WORKS_AT", "Area", None, 10).items == []  # no WORKS_AT leaves an Area


def test_scan_relationships_reads_only_the_fields_asked_and_what_was_written_between_pages(
        fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes(_people(12) + [NodeRecord("Enterprise", "ent:S0", {"name": "企业"}, PROV)])
    g.upsert_relationships([RelRecord("WORKS_AT", f"per:S{i:03d}", "ent:S0",
                                      {"title": "工程师" if i % 2 else None, "since": "2020-02-03"}, PROV)
                            for i in range(12)])
    fields = ["updated_at", "title", "since", "version", "no_such_prop"]
    first = g.scan_relationships("WORKS_AT", "Person", None, 2, fields=fields)
    assert first.items and first.next is not None
    one = first.items[0][1]
    assert list(one.props) == [f for f in fields if f in one.props]  # in the order asked, nulls left out
    assert set(one.props) <= {"updated_at", "title", "since", "version"} and "since" in one.props
    # a write between pages: the next page reads what is stored now (a read-ahead window is not reused)
    g.upsert_relationships([RelRecord("WORKS_AT", "per:S011", "ent:S0", {"title": "改", "since": "2021-01-01"}, PROV)])
    rest: list[Relationship] = []
    after: str | None = first.next
    while after is not None:
        page = g.scan_relationships("WORKS_AT", "Person", after, 2, fields=fields)
        rest += [r for _, r in page.items]
        after = page.next
    changed = next(r for r in rest if r.from_id == "per:S011")
    assert changed.props["title"] == "改" and changed.props["since"] == "2021-01-01" and changed.props["version"] == 2
    assert len({r.key for _, r in first.items} | {r.key for r in rest}) == 12


def test_change_window_reads_a_bounded_range_by_type(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes(_people(4))
    g.upsert_nodes([NodeRecord("Venue", "ven:S1", {"name": "场所"}, PROV)])
    g.delete_nodes(["per:S002"])
    head = g.last_seq()
    every = g.changes(0, limit=1000)
    assert g.change_window(0, head) == every
    assert g.change_window(2, 4) == [c for c in every if 2 < c.seq <= 4]
    assert g.change_window(head, head + 10) == [] and g.change_window(3, 3) == [] and g.change_window(4, 2) == []
    assert g.change_window(0, head, types=["Venue"]) == [c for c in every if c.type == "Venue"]
    assert g.change_window(0, head, types=[]) == []
    assert [c.op for c in g.change_window(0, head, types=["Person"])][-1] == "delete"
