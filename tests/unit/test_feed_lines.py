"""``GET /feed`` formats its NDJSON lines by hand (feed/stream.py ``_event_lines``): the same text the encoder
makes of ``Event.as_json()``, for every shape of event; and a snapshot built from the stores' columnar scans
(only the role's fields read, data made per table) carries what the role reads of each whole stored record."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import pytest

from talentgraph.access import records
from talentgraph.access.policy import POLICY
from talentgraph.feed import changes, stream
from talentgraph.feed.changes import ChangeFeed, Cursor, Event, FeedPage
from talentgraph.feed.stream import _JSON, _event_line, _page_bytes
from talentgraph.graph.port import GraphStore
from talentgraph.types import NodeRecord, Provenance, RelRecord

EVENTS = [
    Event(7, "upsert", "node", "Person", "per:1", "2026-01-01T00:00:00.000001Z", 3,
          {"name": "王小明 \"Ming\"\n", "lat": 31.2, "skills": ["中文", "\u2028"], "volunteer": True, "none": None},
          "Y2Vyc29y"),
    Event(8, "delete", "node", "Venue", "ven:2", "", 0, None, ""),
    Event(9, "upsert", "rel", "LIVES_IN", "per:1|LIVES_IN|are:2", "t", 1, {}, "c", "per:1", "are:2"),
    Event(10, "delete", "rel", "WORKS_AT", "k", "t", 2, None, "c", None, None),
]


@pytest.mark.parametrize("event", EVENTS)
def test_an_event_line_is_what_the_encoder_makes_of_the_event(event: Event) -> None:
    assert _event_line(event) == _JSON.encode(event.as_json()) + "\n"


# --- a snapshot's events from the columnar scans are what the role reads of each whole stored record ------

ROLES = ["admin", "staff", "analyst", "platform"]
PROV = Provenance(job="lines-test", source="lines.csv", row=1, ingested_at="2024-01-01T00:00:00Z")


def _world(g: GraphStore) -> tuple[list[str], list[str]]:
    """Residents with and without personal fields, places, and relationships with props, with nulls and none."""
    people = [NodeRecord("Person", f"per:L{i:02d}", {
        "name": f"居民{i} \"{i}\"", "gender": "女" if i % 2 else None, "birth_date": "1970-01-02" if i % 3 else None,
        "phone": f"1380000{i:04d}" if i % 4 else None, "skills": ["中文", f"技能{i}"] if i % 5 else None,
        "volunteer": bool(i % 2), "bio": "line\nbreak\u2028" if i == 7 else None}, PROV) for i in range(23)]
    places = ([NodeRecord("Enterprise", f"ent:L{j}", {"name": f"企业{j}"}, PROV) for j in range(3)]
              + [NodeRecord("Area", f"area:L{k}", {"name": f"楼{k}", "level": "building"}, PROV) for k in range(2)]
              + [NodeRecord("Venue", "ven:L1", {"name": "场所", "capacity": 120}, PROV)])
    rels = ([RelRecord("WORKS_AT", f"per:L{i:02d}", f"ent:L{i % 3}",
                       {"title": "工程师" if i % 4 else None, "since": "2020-02-03" if i % 3 else None}, PROV)
             for i in range(0, 23, 2)]
            + [RelRecord("LIVES_IN", f"per:L{i:02d}", f"area:L{i % 2}", {}, PROV) for i in range(23)]
            + [RelRecord("LOCATED_IN", "ven:L1", "area:L0", {}, PROV),
               RelRecord("LOCATED_IN", "ent:L1", "area:L1", {}, PROV)])
    g.upsert_nodes(people + places)
    assert not g.upsert_relationships(rels).rejected
    return [n.id for n in people + places], [r.key for r in rels]


@pytest.mark.parametrize("role", ROLES)
def test_snapshot_events_are_the_role_s_view_of_each_stored_record(fresh_graph: GraphStore, role: str) -> None:
    g = fresh_graph
    ids, keys = _world(g)
    o = g.ontology  # type: ignore[attr-defined]
    view = POLICY.view(role)
    feed = ChangeFeed(g, o, dt.timedelta(days=30))
    events: list[Event] = []
    cursor: Cursor | None = None
    for _ in range(1000):  # small pages: every table continued inside, relationships inside a start node
        page = feed.page(view, cursor, first=4, bulk=True)
        events += page.events
        cursor = page.cursor
        if not page.has_more:
            break
    # the lines of a page: what the encoder makes of each event
    assert _page_bytes(FeedPage(events, Cursor(0, ""), 0, True)).decode() == \
        "".join(_JSON.encode(e.as_json()) + "\n" for e in events)
    # the data: what the role reads of the whole stored record (records.node_props / rel_props), in that order
    nodes, rels = g.get_nodes(ids), g.get_relationships(keys)
    want: dict[str, dict[str, Any]] = {}
    for node in nodes.values():
        data = records.node_props(view, o.node(node.type), node.props)
        if data is not None:
            want[node.id] = data
    for rel in rels.values():
        ends = o.type_of_id(rel.from_id).name, o.type_of_id(rel.to_id).name
        data = records.rel_props(view, o.rel(rel.type), *ends, rel.props)
        if data is not None:
            want[rel.key] = data
    got = {e.id: e for e in events}
    assert len(got) == len(events) and set(got) == set(want)
    for rid, e in got.items():
        assert e.data is not None and list(e.data.items()) == list(want[rid].items()), rid
        stored = (nodes[rid] if e.kind == "node" else rels[rid]).props
        assert (e.version, e.at) == (stored["version"], stored["updated_at"])
        if e.kind == "rel":
            assert (e.from_id, e.to_id) == (rels[rid].from_id, rels[rid].to_id)
    shown = {k for e in events for k in (e.data or {})}
    assert ("phone" in shown) == (role == "admin")  # masked for every other role (staff: only in its areas)
    assert ("since" in shown and "title" in shown) == (role != "platform")  # platform sees no resident's links
    assert any(e.type == "LOCATED_IN" for e in events)


# --- GET /feed's stream of many pages: each next page read while the one before is sent -----------------------


class _Access:
    def __init__(self) -> None:
        self.ids: list[tuple[str, str]] = []

    def returned_ids(self, ids: Iterable[tuple[str, str]]) -> None:
        self.ids += ids


async def _stream(feed: ChangeFeed, limit: int | None) -> list[dict[str, Any]]:
    view = POLICY.view("admin")
    first = feed.page(view, None, first=stream._page_size(limit, 0), bulk=True)
    access = _Access()
    body = b"".join([chunk async for chunk in stream._lines(feed, view, access, first, True, None,  # type: ignore[arg-type]
                                                            limit)])
    return [json.loads(line) for line in body.decode().split("\n") if line]  # not splitlines(): U+2028 is no end


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_stream_of_many_pages_sends_each_page_once_in_order(fresh_graph: GraphStore, anyio_backend: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    g = fresh_graph
    _world(g)
    o = g.ontology  # type: ignore[attr-defined]
    monkeypatch.setattr(changes, "_now", lambda: dt.datetime(2026, 12, 1, tzinfo=dt.UTC))  # the same cursors
    monkeypatch.setattr(stream, "BULK_FIRST", 5)
    view = POLICY.view("admin")
    want: list[Event] = []
    cursor: Cursor | None = None
    feed = ChangeFeed(g, o, dt.timedelta(days=30))
    while True:  # pages of 5, one after another
        page = feed.page(view, cursor, first=5, bulk=True)
        want += page.events
        cursor = page.cursor
        if not page.has_more:
            break
    assert len(want) > 20
    lines = await _stream(ChangeFeed(g, o, dt.timedelta(days=30)), None)
    assert lines[:-1] == [e.as_json() for e in want]
    assert lines[-1]["op"] == "checkpoint" and lines[-1]["complete"] and lines[-1]["events"] == len(want)
    assert lines[-1]["cursor"] == cursor.encode()
    lines = await _stream(ChangeFeed(g, o, dt.timedelta(days=30)), 7)  # a limit across pages: 5, then 2
    assert lines[:-1] == [e.as_json() for e in want[:7]]
    assert lines[-1]["events"] == 7 and not lines[-1]["complete"]
    assert Cursor.decode(lines[-1]["cursor"]) == Cursor.decode(want[6].cursor)
    # a page that cannot be read: an error line after the last good page, with that page's cursor
    broken = ChangeFeed(g, o, dt.timedelta(days=30))
    read = broken.page
    calls: list[int] = []

    def page_then_fail(*args: Any, **kwargs: Any) -> FeedPage:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk gone")
        return read(*args, **kwargs)

    monkeypatch.setattr(broken, "page", page_then_fail)
    lines = await _stream(broken, None)
    assert lines[:-1] == [e.as_json() for e in want[:10]]
    assert lines[-1]["op"] == "error" and lines[-1]["events"] == 10
    assert Cursor.decode(lines[-1]["cursor"]) == Cursor.decode(want[9].cursor)
