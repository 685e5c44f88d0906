"""The change feed's snapshot read from the tables (feed/changes.py), on both graph engines.

A read without a cursor takes the log's position S, reads each type's table in pages and leaves out what
changed after S; the log read from S delivers that. These tests write between and inside the snapshot's
pages and check that every record arrives exactly as often as it should: once if it existed unchanged,
once (from the log) if it was written or deleted after S before its page was read.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from talentgraph.access.policy import POLICY
from talentgraph.errors import BadQueryError
from talentgraph.feed.changes import ChangeFeed, Cursor, Event
from talentgraph.graph.port import GraphStore, NodeScan, RelScan
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import NodeRecord, RelRecord

from access_world import client, load_access_world, make_access_world, serve
from test_feed_changes import PROV, RETENTION, Copy, _ndjson, apply, service_state

pytestmark = pytest.mark.anyio


@pytest.fixture()
def world_graph(fresh_graph: GraphStore) -> GraphStore:
    load_access_world(fresh_graph, make_access_world())
    return fresh_graph


def read_all(feed: ChangeFeed, role: str, cursor: Cursor | None, first: int) -> tuple[list[Event], Cursor]:
    view = POLICY.view(role)
    events: list[Event] = []
    for _ in range(10_000):
        page = feed.page(view, cursor, first=first)
        assert len(page.events) <= first
        events += page.events
        cursor = page.cursor
        if not page.has_more:
            return events, cursor
    raise AssertionError("the feed did not end")


@pytest.mark.parametrize("role", ["admin", "analyst", "platform"])
def test_a_snapshot_pages_across_every_type_once_at_one_seq_under_the_role(world_graph: GraphStore,
                                                                            role: str) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    head = g.last_seq()
    view = POLICY.view(role)
    events: list[Event] = []
    cursor: Cursor | None = None
    while True:
        page = feed.page(view, cursor, first=2)
        assert page.snapshot and len(page.events) <= 2
        if page.has_more:  # inside the snapshot the cursor names the table and the position in it
            assert page.cursor.scan is not None and page.cursor.seq == head
            assert Cursor.decode(page.cursor.encode()) == page.cursor
        events += page.events
        cursor = page.cursor
        if not page.has_more:
            break
    assert cursor.scan is None and cursor.seq == head  # the snapshot ends on a log cursor at S
    assert all(e.op == "upsert" and e.seq == head for e in events)
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    # one table after the other: node types first, each type's events together
    order = [e.type for e in events]
    runs = [t for i, t in enumerate(order) if i == 0 or order[i - 1] != t]
    first_rel = min(i for i, e in enumerate(events) if e.kind == "rel")
    assert len(runs) == len(set(runs)) and order.index("Venue") < first_rel
    copy: Copy = {}
    apply(copy, events)
    assert copy == service_state(g, role)
    blob = json.dumps([e.data for e in events], ensure_ascii=False)
    assert "hash-1" not in blob  # identity documents: never
    if role == "platform":
        assert not [i for i in ids if "per:" in i]
    if role != "admin":
        assert "+86138" not in blob  # phone numbers are the admin's
    # every event's cursor continues right after it
    middle = events[len(events) // 2]
    rest, _ = read_all(feed, role, Cursor.decode(middle.cursor), first=5)
    assert [e.id for e in rest] == ids[len(events) // 2 + 1:]


@pytest.mark.parametrize("role", ["admin", "platform"])
def test_writes_between_snapshot_pages_arrive_exactly_once(world_graph: GraphStore, role: str) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    view = POLICY.view(role)
    first = feed.page(view, None, first=3)  # the first Areas: the Venue, the Project and every relationship wait
    assert first.has_more and {e.type for e in first.events} == {"Area"}
    scanned = first.events[0].id
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 555}, PROV),
                    NodeRecord("Venue", "ven:NEW", {"name": "新场所"}, PROV),
                    NodeRecord("Area", scanned, {"name": "改名小区"}, PROV)])
    g.delete_nodes(["prj:P1"])  # with its SPONSORS, HELD_AT and PARTICIPATES_IN
    g.delete_relationships(["ven:V1|LOCATED_IN|area:RA1"])
    rest, _ = read_all(feed, role, first.cursor, first=4)
    events = first.events + rest
    count = Counter(e.id for e in events)
    assert count["ven:V1"] == 1 and [e.data["capacity"] for e in events if e.id == "ven:V1"] == [555]
    assert count["ven:NEW"] == 1
    assert [e.op for e in events if e.id == "prj:P1"] == ["delete"]  # never in the snapshot: only its tombstone
    assert [e.op for e in events if e.id == "ven:V1|LOCATED_IN|area:RA1"] == ["delete"]
    assert [e.op for e in events if e.id == "ent:E1|SPONSORS|prj:P1"] == ["delete"]
    assert [e.data["name"] for e in events if e.id == scanned] == [first.events[0].data["name"], "改名小区"]
    assert all(n == 1 for i, n in count.items() if i != scanned)
    copy: Copy = {}
    apply(copy, events)
    assert copy == service_state(g, role)


def test_a_write_committing_while_a_table_page_is_read_is_delivered_from_the_log_once(
        world_graph: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write lands after the page read the old state and before the feed looks at the log: the feed
    must see it changed after S, leave the stale row out and deliver the write from the log."""
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    scan_nodes, scan_relationships = g.scan_nodes, g.scan_relationships
    done: set[str] = set()

    def nodes_then_write(type_name: str, after: str | None, limit: int, **kw: Any) -> NodeScan:
        page = scan_nodes(type_name, after, limit, **kw)
        if type_name == "Venue" and "venue" not in done and any(n.id == "ven:V1" for _, n in page.items):
            done.add("venue")
            g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 999}, PROV)])
        return page

    def rels_then_write(rel_type: str, from_type: str, after: str | None, limit: int, **kw: Any) -> RelScan:
        page = scan_relationships(rel_type, from_type, after, limit, **kw)
        if rel_type == "PART_OF" and "rel" not in done and page.items:
            done.add("rel")
            g.delete_relationships([page.items[0][1].key])
            done.add(page.items[0][1].key)
        return page

    monkeypatch.setattr(g, "scan_nodes", nodes_then_write)
    monkeypatch.setattr(g, "scan_relationships", rels_then_write)
    events, _ = read_all(feed, "admin", None, first=1000)
    assert {"venue", "rel"} <= done
    gone = next(k for k in done if "|" in k)
    assert [(e.op, e.data["capacity"] if e.data else None) for e in events if e.id == "ven:V1"] == [("upsert", 999)]
    assert [e.op for e in events if e.id == gone] == ["delete"]
    assert all(n == 1 for n in Counter(e.id for e in events).values())
    copy: Copy = {}
    apply(copy, events)
    assert copy == service_state(g, "admin")


def test_tombstones_after_the_snapshot_and_the_feed_after_it(world_graph: GraphStore) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    snapshot, cursor = read_all(feed, "admin", None, first=50)
    assert "ent:E1" in {e.id for e in snapshot}
    g.delete_nodes(["ent:E1"])
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 1}, PROV)])
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 2}, PROV)])
    after, end = read_all(feed, "admin", cursor, first=3)
    assert all(not e.cursor or Cursor.decode(e.cursor).scan is None for e in after)
    deleted = {e.id for e in after if e.op == "delete"}
    assert "ent:E1" in deleted and "ent:E1|SPONSORS|prj:P1" in deleted and "per:00|WORKS_AT|ent:E1" in deleted
    assert [e.data["capacity"] for e in after if e.id == "ven:V1"] == [2]
    assert all(n == 1 for n in Counter(e.id for e in after).values())
    copy: Copy = {}
    apply(copy, snapshot + after)
    assert copy == service_state(g, "admin")
    assert read_all(feed, "admin", end, first=3)[0] == []


def test_cursors_old_and_new() -> None:
    old = base64.urlsafe_b64encode(json.dumps(["c1", 42, "2026-01-01T00:00:00Z"]).encode()).decode().rstrip("=")
    assert Cursor.decode(old) == Cursor(42, "2026-01-01T00:00:00Z")  # a c1 cursor handed out before c2 existed
    assert Cursor(42, "2026-01-01T00:00:00Z").encode() == base64.urlsafe_b64encode(
        b'["c1",42,"2026-01-01T00:00:00Z"]').decode().rstrip("=")
    for body in (["c2", 1, "", [], None, None], ["c2", 1, "", ["Person"], None, "k"],
                 ["c2", 1, "", ["A", "B", "C"], "1", None], ["c2", 1, "", ["Person"], 5, None],
                 ["c1", 1, "", ["Person"], None, None], ["c3", 1, ""]):
        with pytest.raises(BadQueryError):
            Cursor.decode(base64.urlsafe_b64encode(json.dumps(body).encode()).decode())


async def test_a_snapshot_over_http_resumes_from_its_checkpoint(world_graph: GraphStore, tmp_path: Path) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    key = {"Authorization": f"Bearer {served.keys['admin']}"}
    async with client(served.app) as c:
        lines = _ndjson((await c.get("/feed", params={"limit": "7"}, headers=key)).text)
        check = lines[-1]
        assert len(lines) == 8 and check["snapshot"] and not check["complete"]
        assert Cursor.decode(check["cursor"]).scan is not None
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 4321}, PROV)])
        more = _ndjson((await c.get("/feed", params={"after": check["cursor"]}, headers=key)).text)
        assert more[-1]["complete"] and more[-1]["snapshot"]
        events: list[dict[str, Any]] = lines[:-1] + more[:-1]
        assert [e["data"]["capacity"] for e in events if e["id"] == "ven:V1"] == [4321]
        assert all(n == 1 for n in Counter(e["id"] for e in events).values())
        copy: Copy = {}
        apply(copy, events)
        assert copy == service_state(world_graph, "admin")


def test_log_pages_read_windows_that_widen_for_sparse_types_and_stop_at_the_page(world_graph: GraphStore) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    _, cursor = read_all(feed, "admin", None, first=1000)
    g.upsert_nodes([NodeRecord("Person", f"per:L{i:03d}", {"name": f"居民{i}"}, PROV) for i in range(150)])
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 11}, PROV)])
    g.upsert_nodes([NodeRecord("Person", f"per:L{i:03d}", {"name": f"新居民{i}"}, PROV) for i in range(0, 150, 2)])
    view = POLICY.view("admin")
    venues = feed.page(view, cursor, types=["Venue"], first=5)  # one Venue among 226 entries: one page
    assert [(e.id, e.data["capacity"]) for e in venues.events if e.data] == [("ven:V1", 11)]
    assert not venues.has_more and venues.cursor.seq == g.last_seq()
    pages: list[int] = []
    events: list[Event] = []
    while True:
        page = feed.page(view, cursor, first=7)
        pages.append(len(page.events))
        events += page.events
        cursor = page.cursor
        if not page.has_more:
            break
    assert all(n == 7 for n in pages[:-1]) and sum(pages) == 151
    assert all(n == 1 for n in Counter(e.id for e in events).values())
    assert [e.data["name"] for e in events if e.id == "per:L004"] == ["新居民4"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
