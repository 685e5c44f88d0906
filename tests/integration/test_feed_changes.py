"""The change feed (feed/changes.py, GET /feed, GraphQL `changes`) on both graph engines.

The consumer tests keep a copy by applying events exactly as a twin platform would (upsert: put the
data, delete: drop the record) and compare it with what the service holds, while a writer thread
creates, changes and deletes records underneath them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from talentgraph.access.policy import POLICY
from talentgraph.access.records import node_props, rel_props
from talentgraph.errors import BadQueryError, ForbiddenError, ResyncRequiredError
from talentgraph.feed import changes as feedmod
from talentgraph.feed.changes import ChangeFeed, Cursor
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import NodeRecord, Provenance, RelRecord

from access_world import client, load_access_world, make_access_world, serve

RETENTION = dt.timedelta(days=30)
PROV = Provenance(job="feed-test", source="feed.csv", row=1, ingested_at="2024-01-01T00:00:00Z")

Copy = dict[str, dict[str, Any]]

pytestmark = pytest.mark.anyio  # record id or key -> data


def apply(copy: Copy, events: list[Any]) -> None:
    for e in events:
        ident = e["id"] if isinstance(e, dict) else e.id
        op = e["op"] if isinstance(e, dict) else e.op
        data = e["data"] if isinstance(e, dict) else e.data
        if op == "delete":
            copy.pop(ident, None)
        else:
            copy[ident] = data


def service_state(graph: GraphStore, role: str) -> Copy:
    """What the role may read of every record the service holds, as the feed would show it."""
    view = POLICY.view(role)
    out: Copy = {}
    for t in ONTOLOGY.node_types:
        if not view.rows(t.name):
            continue
        after = None
        while True:
            page = graph.list_nodes(t.name, first=500, after=after)
            nodes = graph.get_nodes([n.id for n in page.items])
            for node in nodes.values():
                data = node_props(view, t, node.props)
                assert data is not None
                out[node.id] = data
            if not page.has_next_page:
                break
            after = page.end_cursor
    ids = list(out)
    for r in ONTOLOGY.rel_types:
        edges = graph.edges([i for i in ids if ONTOLOGY.type_of_id(i).name in r.from_types], r.name, "out")
        for src, items in edges.items():
            for e in items:
                key = f"{e.from_id}|{r.name}|{e.to_id}"
                f, t = ONTOLOGY.type_of_id(e.from_id).name, ONTOLOGY.type_of_id(e.to_id).name
                rels = graph.get_relationships([key])
                props = rel_props(view, r, f, t, rels[key].props) if key in rels else None
                if props is not None:
                    out[key] = props
    return out


def follow(feed: ChangeFeed, role: str, cursor: Cursor | None, copy: Copy, first: int = 7) -> Cursor:
    view = POLICY.view(role)
    while True:
        page = feed.page(view, cursor, first=first)
        ids = [e.id for e in page.events]
        assert len(ids) == len(set(ids)), "a page delivered one record twice"
        apply(copy, page.events)
        cursor = page.cursor
        if not page.has_more:
            return cursor


@pytest.fixture()
def world_graph(fresh_graph: GraphStore) -> GraphStore:
    load_access_world(fresh_graph, make_access_world())
    return fresh_graph


# --- the port -------------------------------------------------------------------------------------


def test_relationships_are_read_by_key_and_changes_by_type(world_graph: GraphStore) -> None:
    g = world_graph
    keys = ["per:00|MEMBER_OF|org:O1", "area:B1|PART_OF|area:RA1", "per:99|MEMBER_OF|org:O1", "nonsense", "a|B|c"]
    rels = g.get_relationships(keys)
    assert set(rels) == {"area:B1|PART_OF|area:RA1"} | ({"per:00|MEMBER_OF|org:O1"} & set(rels))
    part = rels["area:B1|PART_OF|area:RA1"]
    assert (part.type, part.from_id, part.to_id, part.props["version"]) == ("PART_OF", "area:B1", "area:RA1", 1)
    only = g.changes(0, limit=1000, types=["Area", "PART_OF"])
    assert only and {c.type for c in only} == {"Area", "PART_OF"}
    assert [c.seq for c in only] == sorted(c.seq for c in only)
    everything = g.changes(0, limit=10_000)
    assert [c for c in everything if c.type in ("Area", "PART_OF")] == only


def test_pruning_drops_tombstones_and_superseded_entries_only(world_graph: GraphStore) -> None:
    g = world_graph
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 999}, PROV)])
    g.delete_nodes(["prj:P1"])
    before = g.changes(0, limit=10_000)
    newest = g.last_seq()
    future = "9999-01-01T00:00:00Z"
    assert g.prune_changes("1970-01-01T00:00:00Z", newest) == 0  # nothing is that old
    pruned = g.prune_changes(future, newest)
    after = g.changes(0, limit=10_000)
    assert pruned == len(before) - len(after) > 0
    assert after[-1].seq == newest == g.last_seq()  # the newest entry stays
    kept = {(c.kind, c.id) for c in after}
    assert all(c.op == "upsert" for c in after[:-1])
    # every record still stored keeps its newest entry; the venue's first entry went, its update stayed
    venue = [c for c in after if c.id == "ven:V1"]
    assert len(venue) == 1 and venue[0].version == 2
    assert ("node", "prj:P1") not in kept or after[-1].id == "prj:P1" or after[-1].kind == "rel"
    assert g.prune_changes(future, newest) == 0  # idempotent


# --- compaction and snapshot ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "analyst", "platform"])
def test_snapshot_then_changes_reproduce_the_service_state(world_graph: GraphStore, role: str) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    copy: Copy = {}
    cursor = follow(feed, role, None, copy)
    assert copy == service_state(g, role)
    if role == "platform":
        assert not [i for i in copy if i.startswith("per:") or "|LIVES_IN|" in i or "|MEMBER_OF|" in i]
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 321}, PROV),
                    NodeRecord("Person", "per:00", {"phone": "13800000000"}, PROV)])
    g.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 322}, PROV)])
    g.delete_relationships(["area:B1|PART_OF|area:RA1"])
    g.delete_nodes(["ent:E1", "per:01"])
    seen: list[Any] = []
    view = POLICY.view(role)
    while True:
        page = feed.page(view, cursor, first=3)
        seen += page.events
        apply(copy, page.events)
        cursor = page.cursor
        if not page.has_more:
            break
    assert copy == service_state(g, role)
    ids = [e.id for e in seen]
    assert len(ids) == len(set(ids)), "a record was delivered twice after the snapshot"
    assert [e.data["capacity"] for e in seen if e.id == "ven:V1"] == [322]  # the newest state only
    assert {e.id for e in seen if e.op == "delete"} >= {"area:B1|PART_OF|area:RA1", "ent:E1"}
    assert ("per:01" in {e.id for e in seen}) == (role != "platform")


def test_cursors_are_checked(world_graph: GraphStore) -> None:
    feed = ChangeFeed(world_graph, ONTOLOGY, RETENTION)
    view = POLICY.view("platform")
    head = world_graph.last_seq()
    for bad in ("", "x" * 300, "not-a-cursor", Cursor(-1, "").encode().replace("-", "")):
        with pytest.raises(BadQueryError):
            Cursor.decode(bad)
    with pytest.raises(ResyncRequiredError, match="ends at"):
        feed.page(view, Cursor(head + 10, "2099-01-01T00:00:00Z"))
    with pytest.raises(ResyncRequiredError, match="retention"):
        feed.page(view, Cursor(1, "2000-01-01T00:00:00Z"))
    with pytest.raises(ForbiddenError, match="Person"):
        feed.page(view, None, types=["Person"])
    with pytest.raises(BadQueryError, match="no node or relationship type"):
        feed.page(view, None, types=["Nope"])
    with pytest.raises(BadQueryError):
        feed.page(view, None, first=0)
    # an idle consumer at the head keeps a valid cursor however long nothing happens
    page = feed.page(view, None)
    assert feed.page(view, page.cursor).events == []


def test_the_platform_never_receives_a_person(world_graph: GraphStore) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    view = POLICY.view("platform")
    g.upsert_nodes([NodeRecord("Person", f"per:9{i}", {"name": f"测试{i}"}, PROV) for i in range(5)])
    g.upsert_relationships([RelRecord("LIVES_IN", "per:90", "area:B1", {}, PROV)])
    g.delete_nodes(["per:91"])
    copy: Copy = {}
    follow(feed, "platform", None, copy)
    assert not [k for k in copy if "per:" in k]
    blob = json.dumps(copy, ensure_ascii=False)
    assert "测试" not in blob and "phone" not in blob


# --- HTTP -----------------------------------------------------------------------------------------


def _ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_feed_over_http_snapshot_follow_and_errors(world_graph: GraphStore, tmp_path: Path) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    key = {"Authorization": f"Bearer {served.keys['platform']}"}
    async with client(served.app) as c:
        r = await c.get("/feed", headers=key)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        lines = _ndjson(r.text)
        check = lines[-1]
        assert check["op"] == "checkpoint" and check["snapshot"] and check["complete"]
        copy: Copy = {}
        apply(copy, lines[:-1])
        assert copy == service_state(world_graph, "platform")
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 77}, PROV)])
        r = await c.get("/feed", params={"after": check["cursor"]}, headers=key)
        lines = _ndjson(r.text)
        assert [(e["op"], e["id"], e["data"]["capacity"]) for e in lines[:-1]] == [("upsert", "ven:V1", 77)]
        assert not lines[-1]["snapshot"]
        # limit and types
        r = await c.get("/feed", params={"limit": "2", "types": "Area"}, headers=key)
        lines = _ndjson(r.text)
        assert len(lines) == 3 and {e["type"] for e in lines[:-1]} == {"Area"} and not lines[-1]["complete"]
        # errors: one shape, a status, the service still answers
        for params, status, code in (({"after": "garbage"}, 400, "BAD_QUERY"),
                                     ({"types": "Person"}, 403, "FORBIDDEN"),
                                     ({"limit": "0"}, 400, "BAD_QUERY"), ({"limit": "x"}, 400, "BAD_QUERY"),
                                     ({"wait": "nan"}, 400, "BAD_QUERY"), ({"wait": "9999"}, 400, "BAD_QUERY"),
                                     ({"colour": "red"}, 400, "BAD_QUERY"),
                                     ({"after": Cursor(1, "2001-01-01T00:00:00Z").encode()}, 410, "RESYNC_REQUIRED"),
                                     ({"after": Cursor(10**9, "").encode()}, 410, "RESYNC_REQUIRED")):
            r = await c.get("/feed", params=params, headers=key)
            assert r.status_code == status, (params, r.text)
            assert r.json()["errors"][0]["extensions"]["code"] == code
        assert (await c.get("/feed")).status_code == 401
        assert (await c.get("/health")).json()["status"] == "ok"
    assert any(e.operation == "feed" and e.role == "platform" for e in served.audit.read(limit=1000))


async def test_a_long_pull_answers_when_a_change_commits(world_graph: GraphStore, tmp_path: Path) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    key = {"Authorization": f"Bearer {served.keys['platform']}"}
    async with client(served.app) as c:
        head = _ndjson((await c.get("/feed", headers=key)).text)[-1]["cursor"]
        r = await c.get("/feed", params={"after": head, "wait": "0.3"}, headers=key)  # nothing happens: empty
        assert [x["op"] for x in _ndjson(r.text)] == ["checkpoint"]
        timer = threading.Timer(0.4, lambda: world_graph.upsert_nodes(
            [NodeRecord("Venue", "ven:V1", {"capacity": 5}, PROV)]))
        timer.start()
        try:
            r = await c.get("/feed", params={"after": head, "wait": "10"}, headers=key)
        finally:
            timer.join()
        events = _ndjson(r.text)[:-1]
        assert [(e["id"], e["data"]["capacity"]) for e in events] == [("ven:V1", 5)]


async def test_graphql_changes_follows_the_same_feed(world_graph: GraphStore, tmp_path: Path) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    query = ("query($after: String, $types: [String!]) { changes(after: $after, types: $types, first: 4) "
             "{ events { seq op kind type id from to data cursor } cursor seq headSeq hasMore snapshot } }")
    async with client(served.app) as c:
        copy: Copy = {}
        after = None
        for _ in range(50):
            r = await c.post("/graphql", json={"query": query, "variables": {"after": after}},
                             headers={"Authorization": f"Bearer {served.keys['analyst']}"})
            page = r.json()["data"]["changes"]
            apply(copy, page["events"])
            after = page["cursor"]
            if not page["hasMore"]:
                break
        assert copy == service_state(world_graph, "analyst")
        r = await c.post("/graphql", json={"query": query, "variables": {"after": "bogus"}},
                         headers={"Authorization": f"Bearer {served.keys['analyst']}"})
        assert r.json()["errors"][0]["extensions"]["code"] == "BAD_QUERY"
        r = await c.post("/graphql", json={"query": query, "variables": {"types": ["Person"]}},
                         headers={"Authorization": f"Bearer {served.keys['platform']}"})
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    persons = {p for e in served.audit.read(limit=1000) if e.role == "analyst" for p in e.person_ids}
    assert "per:00" in persons  # the persons the analyst's feed showed are on the access record


# --- a consumer against a concurrent writer ------------------------------------------------------


@pytest.mark.parametrize("first", [2, 50])
def test_a_record_deleted_twice_is_one_tombstone_in_a_page(world_graph: GraphStore, first: int) -> None:
    # Written, deleted, written again and deleted again after the cursor: both tombstones say "gone", the page
    # carries the later one once (a consumer asserting one event per record per page found the earlier one too).
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    cursor = follow(feed, "admin", None, {})
    key = "ven:V9|LOCATED_IN|area:RA1"
    g.upsert_nodes([NodeRecord("Venue", "ven:V9", {"name": "场所9"}, PROV)])
    for _ in range(2):
        g.upsert_relationships([RelRecord("LOCATED_IN", "ven:V9", "area:RA1", {}, PROV)])
        g.delete_relationships([key])
    copy: Copy = {}
    pages: list[list[Any]] = []
    while True:
        page = feed.page(POLICY.view("admin"), cursor, first=first)
        pages.append(page.events)
        apply(copy, page.events)
        cursor = page.cursor
        if not page.has_more:
            break
    assert all(len({e.id for e in p}) == len(p) for p in pages)
    tombstones = [e for p in pages for e in p if e.id == key]
    assert tombstones[-1].op == "delete" and tombstones[-1].seq == g.last_seq()  # the later deletion stands
    if first == 50:  # both in one page: the earlier one is not sent (across pages each is; applying it twice is safe)
        assert len(tombstones) == 1
    assert key not in copy and "ven:V9" in copy


@pytest.mark.parametrize("role", ["admin", "platform"])
def test_a_consumer_following_a_concurrent_writer_ends_with_the_service_state(
        world_graph: GraphStore, role: str) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    rng = random.Random(7)
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set() and n < 120:
                n += 1
                i = rng.randrange(12)
                pick = rng.random()
                if pick < 0.45:
                    g.upsert_nodes([NodeRecord("Venue", f"ven:W{i}", {"name": f"场所{i}", "capacity": n}, PROV),
                                    NodeRecord("Person", f"per:W{i}", {"name": f"居民{i}", "birth_year": 1950 + n},
                                               PROV)])
                elif pick < 0.7:
                    g.upsert_relationships([RelRecord("LOCATED_IN", f"ven:W{i}", "area:RA1", {}, PROV),
                                            RelRecord("LIVES_IN", f"per:W{i}", "area:B1", {}, PROV)])
                elif pick < 0.85:
                    g.delete_nodes([f"ven:W{i}", f"per:W{i}"])  # erasure, a venue closed
                else:
                    g.delete_relationships([f"ven:W{i}|LOCATED_IN|area:RA1"])
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    thread = threading.Thread(target=writer)
    copy: Copy = {}
    thread.start()
    try:
        cursor = follow(feed, role, None, copy, first=5)  # the snapshot, read while the writer runs
        while thread.is_alive():
            cursor = follow(feed, role, cursor, copy, first=5)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    follow(feed, role, cursor, copy, first=5)
    assert copy == service_state(g, role)
    if role == "platform":
        assert not [k for k in copy if "per:" in k]


def test_pruned_tombstones_make_old_cursors_resync(world_graph: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    g = world_graph
    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    view = POLICY.view("platform")
    cursor = feed.page(view, None).cursor
    g.delete_nodes(["ven:V1"])
    g.upsert_nodes([NodeRecord("Venue", "ven:V2", {"name": "新场所"}, PROV)])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    monkeypatch.setattr(feedmod, "_now", lambda: later)
    assert feedmod.prune(g, RETENTION) >= 1
    assert "ven:V1" not in {c.id for c in g.changes(0, limit=10_000)}
    with pytest.raises(ResyncRequiredError):
        feed.page(view, cursor)
    copy: Copy = {}
    follow(feed, "platform", None, copy)  # a new snapshot still gives the whole state
    assert copy == service_state(g, "platform") and "ven:V1" not in copy and "ven:V2" in copy


# --- the consumer: snapshot + changes while ingest writes, erases and snapshot-deletes ----------


def test_a_consumer_following_ingest_erasure_and_snapshot_deletes_ends_with_the_service_state(
        fresh_graph: GraphStore, tmp_path: Path) -> None:
    """Real jobs (a snapshot register among them) and a PIPL erasure run in a thread while a consumer
    takes the snapshot and follows the feed; at the end its copy is the service's state, for admin
    and platform alike, with every event delivered once per change."""
    from test_ingest_snapshot import (AREA_ROWS, AREAS, ENTERPRISE_HEADER, ENTERPRISE_ROWS, ENTERPRISES,
                                      RESIDENT_HEADER, RESIDENT_ROWS, RESIDENTS, write_csv)

    from talentgraph.access.subject import erase_person
    from talentgraph.ingest.job import run_job
    from talentgraph.ingest.mapping import load_job
    from talentgraph.search.tantivy import TantivyIndex

    g = fresh_graph
    regs = tmp_path / "registers"
    regs.mkdir()
    for name, text in (("areas", AREAS), ("residents", RESIDENTS), ("enterprises", ENTERPRISES)):
        (regs / f"{name}.yaml").write_text(text, encoding="utf-8")
    write_csv(regs / "areas.csv", AREA_ROWS)
    write_csv(regs / "enterprises.csv", [ENTERPRISE_HEADER, *ENTERPRISE_ROWS])
    write_csv(regs / "residents.csv", [RESIDENT_HEADER, *RESIDENT_ROWS])
    index = TantivyIndex(tmp_path / "idx")

    def run(job: str) -> Any:
        return run_job(load_job(regs / f"{job}.yaml"), g, id_hash_key=b"k", quarantine_dir=tmp_path / "q",
                       force=True)  # the last residents file ends more than half of what the job owns

    for job in ("areas", "enterprises", "residents"):
        run(job)
    failures: list[BaseException] = []

    def ingest() -> None:
        try:
            more = [[f"P{i}", f"居民{i}", "工程师", "B1" if i % 2 else "B2", "E1"] for i in range(6, 30)]
            write_csv(regs / "residents.csv", [RESIDENT_HEADER, *RESIDENT_ROWS, *more])
            run("residents")  # 24 people move in
            write_csv(regs / "enterprises.csv", [ENTERPRISE_HEADER, *ENTERPRISE_ROWS[:3],
                                                 ["E5", "新开药店", "B2"]])
            run("enterprises")  # a snapshot: E4 leaves, E5 opens
            erase_person(g, index, "per:P3", quarantine_dir=tmp_path / "q")  # PIPL erasure
            moved = [[k, n, o, "B2" if b == "B1" else "B1", e] for k, n, o, b, e in [*RESIDENT_ROWS, *more][:20]]
            write_csv(regs / "residents.csv", [RESIDENT_HEADER, *moved])
            summary = run("residents")  # a snapshot: 10 move out (nodes deleted), 20 move buildings
            assert summary.deleted >= 9, summary
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    feed = ChangeFeed(g, ONTOLOGY, RETENTION)
    copies: dict[str, Copy] = {"admin": {}, "platform": {}}
    cursors: dict[str, Cursor | None] = {"admin": None, "platform": None}
    thread = threading.Thread(target=ingest)
    thread.start()
    try:
        while True:
            alive = thread.is_alive()
            for role in copies:
                cursors[role] = follow(feed, role, cursors[role], copies[role], first=4)
            if not alive:
                break
    finally:
        thread.join()
        index.close()
    assert not failures, failures
    for role, copy in copies.items():
        assert copy == service_state(g, role), role
    # P25 moved out (the last snapshot no longer lists them); P3, erased, was listed again by that register
    assert "per:P25" not in copies["admin"] and "per:P3" in copies["admin"]
    assert "ent:E4" not in copies["admin"] and "ent:E5" in copies["platform"]
    assert not [k for k in copies["platform"] if "per:" in k]
