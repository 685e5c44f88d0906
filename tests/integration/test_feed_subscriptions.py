"""NGSI-LD subscriptions: created over HTTP, notified to a real HTTP endpoint, retried, kept across restarts."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

from talentgraph.feed.notifier import Notifier
from talentgraph.feed.subscriptions import SubscriptionStore
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import NodeRecord, Provenance, RelRecord

from access_world import client, load_access_world, make_access_world, serve

pytestmark = pytest.mark.anyio

PROV = Provenance(job="sub-test", source="venues.csv", row=1, ingested_at="2024-01-01T00:00:00Z")
SUBS = "/ngsi-ld/v1/subscriptions"


@dataclass
class Receiver:
    """A real HTTP endpoint on a loopback port that records notifications; can be told to fail."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0
    event: threading.Event = field(default_factory=threading.Event)

    def venue_caps(self) -> list[tuple[str, Any]]:
        return [(e["id"], e.get("capacity", {}).get("value") if "capacity" in e else e.get("deletedAt") and "deleted")
                for n in self.received for e in n["data"]]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rec = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if rec.fail_next > 0:
                rec.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            rec.received.append(json.loads(body))
            rec.headers.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()
            rec.event.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def world_graph(fresh_graph: GraphStore) -> GraphStore:
    load_access_world(fresh_graph, make_access_world())
    return fresh_graph


def subscription(url: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Subscription", "entities": [{"type": "Venue"}],
                            "notification": {"endpoint": {"uri": url, "accept": "application/json"}}}
    body.update(extra)
    return body


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def notifier_for(graph: GraphStore, store: SubscriptionStore, clock: Clock, keys: Any = None) -> Notifier:
    """A notifier on ``store`` with a clock the test moves (the server's own runs in its lifespan)."""
    return Notifier(graph, ONTOLOGY, store, retention=dt.timedelta(days=30), keys=keys,
                    base_url="http://127.0.0.1:8000", clock=clock)


async def test_a_round_with_no_subscription_due_leaves_the_graph_alone(
        world_graph: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server runs a round ten times a second: with nothing to deliver, none reads the change log's head."""
    heads: list[int] = []
    last_seq = world_graph.last_seq
    monkeypatch.setattr(world_graph, "last_seq", lambda: heads.append(last_seq()) or heads[-1])
    notifier = notifier_for(world_graph, SubscriptionStore(tmp_path), Clock())
    async with httpx.AsyncClient() as http:
        assert [await notifier.round(http) for _ in range(3)] == [0, 0, 0]
    assert heads == []


async def test_a_subscription_is_notified_retried_and_survives_a_restart(
        world_graph: GraphStore, tmp_path: Path, receiver: Receiver) -> None:
    data_dir = tmp_path / "srv"
    served = serve(world_graph, None, data_dir)
    key = {"Authorization": f"Bearer {served.keys['platform']}"}
    async with client(served.app) as c:
        r = await c.post(SUBS, json=subscription(receiver.url, id="urn:ngsi-ld:Subscription:venues"), headers=key)
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"{SUBS}/urn:ngsi-ld:Subscription:venues"
        r = await c.post(SUBS, json=subscription(receiver.url, id="urn:ngsi-ld:Subscription:venues"), headers=key)
        assert r.status_code == 409 and r.json()["type"].endswith("/AlreadyExists")
    clock = Clock()
    notifier = notifier_for(world_graph, served.app.state.notifier.store, clock, served.store)
    async with httpx.AsyncClient() as http:
        assert await notifier.round(http) == 0  # nothing changed since the subscription was made
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 150}, PROV)])
        world_graph.upsert_nodes([NodeRecord("Person", "per:00", {"phone": "13900000000"}, PROV)])  # not asked
        assert await notifier.round(http) == 1
        note = receiver.received[-1]
        assert note["type"] == "Notification" and note["subscriptionId"] == "urn:ngsi-ld:Subscription:venues"
        [entity] = note["data"]
        assert entity["id"] == "urn:ngsi-ld:Venue:V1" and entity["capacity"] == {
            "type": "Property", "value": 150, "observedAt": entity["capacity"]["observedAt"]}
        assert entity["location"]["type"] == "GeoProperty"
        assert "Link" in receiver.headers[-1] or "link" in receiver.headers[-1]

        # the endpoint fails twice: retried with backoff, the same notification id, no gap, no loss
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 160}, PROV)])
        receiver.fail_next = 2
        assert await notifier.round(http) == 0
        sub = notifier.store.all()[0]
        assert sub.delivery.status == "failed" and sub.delivery.times_failed == 1
        assert await notifier.round(http) == 0  # still inside the backoff: not even tried
        assert sub.delivery.times_failed == 1
        clock.t += 1.5
        assert await notifier.round(http) == 0 and sub.delivery.times_failed == 2
        clock.t += 3
        assert await notifier.round(http) == 1
        assert receiver.received[-1]["data"][0]["capacity"]["value"] == 160
        assert sub.delivery.status == "ok" and sub.delivery.times_sent == 2

        async with client(served.app) as c:
            r = await c.get(f"{SUBS}/urn:ngsi-ld:Subscription:venues", headers=key)
            shown = r.json()
            assert shown["notification"]["timesSent"] == 2 and shown["notification"]["timesFailed"] == 2
            assert shown["notification"]["lag"]["changes"] == 0 and shown["notification"]["status"] == "ok"
            world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 170}, PROV)])
            shown = (await c.get(f"{SUBS}/urn:ngsi-ld:Subscription:venues", headers=key)).json()
            assert shown["notification"]["lag"]["changes"] == 1

        # changes while the service is down are delivered after a restart, from the cursor on disk
        world_graph.delete_nodes(["ven:V1"])
        restarted = notifier_for(world_graph, SubscriptionStore(data_dir), Clock(), served.store)
        assert await restarted.round(http) == 1
        assert receiver.received[-1]["data"] == [{"id": "urn:ngsi-ld:Venue:V1", "type": "Venue",
                                                  "deletedAt": receiver.received[-1]["data"][0]["deletedAt"]}]
        assert await restarted.round(http) == 0
        assert len(receiver.received) == 3
        assert restarted.store.all()[0].delivery.times_sent == 3
    async with client(served.app) as c:
        assert (await c.delete(f"{SUBS}/urn:ngsi-ld:Subscription:venues", headers=key)).status_code == 204
        assert (await c.get(f"{SUBS}/urn:ngsi-ld:Subscription:venues", headers=key)).status_code == 404
    assert SubscriptionStore(data_dir).all() == []


async def test_q_relationships_and_the_owner_role_shape_notifications(
        world_graph: GraphStore, tmp_path: Path, receiver: Receiver) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    async with client(served.app) as c:
        for role, body in (("platform", subscription(receiver.url, q="capacity>100")),
                           ("platform", subscription(receiver.url, entities=[{"type": "Area"}]))):
            r = await c.post(SUBS, json=body, headers={"Authorization": f"Bearer {served.keys[role]}"})
            assert r.status_code == 201, r.text
    notifier = notifier_for(world_graph, served.app.state.notifier.store, Clock(), served.store)
    async with httpx.AsyncClient() as http:
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 50}, PROV),
                                  NodeRecord("Venue", "ven:V9", {"name": "大拇指广场", "capacity": 500}, PROV)])
        world_graph.upsert_relationships([RelRecord("LOCATED_IN", "ven:V9", "area:RA1", {}, PROV),
                                          RelRecord("LIVES_IN", "per:00", "area:RA2", {}, PROV)])
        await notifier.round(http)
    ids = [e["id"] for n in receiver.received for e in n["data"]]
    assert "urn:ngsi-ld:Venue:V9" in ids and "urn:ngsi-ld:Venue:V1" not in ids  # q: capacity>100
    v9 = [e for n in receiver.received for e in n["data"] if e["id"] == "urn:ngsi-ld:Venue:V9"][-1]
    assert v9["locatedIn"]["object"] == "urn:ngsi-ld:Area:RA1"
    blob = json.dumps(receiver.received, ensure_ascii=False)
    assert "per:" not in blob and "Person" not in blob  # a LIVES_IN change never reaches the platform


async def test_subscriptions_refuse_what_they_must(world_graph: GraphStore, tmp_path: Path) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    key = {"Authorization": f"Bearer {served.keys['platform']}"}
    ok = "http://127.0.0.1:9/n"
    cases: list[tuple[Any, int, str]] = [
        (subscription("http://10.0.0.5/steal"), 400, "BadRequestData"),  # not an allowed endpoint
        (subscription("file:///etc/passwd"), 400, "BadRequestData"),
        (subscription("http://user:pw@127.0.0.1/x"), 400, "BadRequestData"),
        (subscription(ok, entities=[{"type": "Person"}]), 403, "about:blank"),
        (subscription(ok, entities=[{"type": "Nope"}]), 400, "BadRequestData"),
        (subscription(ok, q="capacity=="), 400, "BadRequestData"),
        (subscription(ok, colour="red"), 400, "BadRequestData"),
        (subscription(ok, entities=[{"type": "Venue", "idPattern": "(a+)+b"}]), 400, "BadRequestData"),
        (subscription(ok, expiresAt="tomorrow"), 400, "BadRequestData"),
        ({**subscription(ok), "type": "Entity"}, 400, "BadRequestData"),
        ([1, 2], 400, "BadRequestData"),
    ]
    async with client(served.app) as c:
        for body, status, kind in cases:
            r = await c.post(SUBS, json=body, headers=key)
            assert r.status_code == status, (body, r.text)
            assert r.json()["type"].endswith(kind), r.text
            assert r.headers["content-type"].startswith("application/json")
        r = await c.post(SUBS, content=b"{", headers={**key, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["type"].endswith("InvalidRequest")
        r = await c.post(SUBS, content=b"{}", headers={**key, "Content-Type": "text/plain"})
        assert r.status_code == 415
        r = await c.post(SUBS, content=b" " * 70_000, headers={**key, "Content-Type": "application/json"})
        assert r.status_code == 400
        assert (await c.put(SUBS, json={}, headers=key)).status_code == 405
        assert (await c.get(SUBS, params={"limit": "5000"}, headers=key)).status_code == 403
        assert (await c.get(SUBS)).status_code == 401
        # one owner's subscriptions are not another's to read or delete
        r = await c.post(SUBS, json=subscription(ok, id="urn:ngsi-ld:Subscription:mine"), headers=key)
        assert r.status_code == 201
        other = {"Authorization": f"Bearer {served.keys['analyst']}"}
        assert (await c.get(f"{SUBS}/urn:ngsi-ld:Subscription:mine", headers=other)).status_code == 404
        assert (await c.delete(f"{SUBS}/urn:ngsi-ld:Subscription:mine", headers=other)).status_code == 404
        assert [s["id"] for s in (await c.get(SUBS, headers=other)).json()] == []
        admin = {"Authorization": f"Bearer {served.keys['admin']}"}
        assert [s["id"] for s in (await c.get(SUBS, headers=admin)).json()] == ["urn:ngsi-ld:Subscription:mine"]
        assert (await c.get("/health")).json()["status"] == "ok"


async def test_a_revoked_owner_key_stops_its_notifications(
        world_graph: GraphStore, tmp_path: Path, receiver: Receiver) -> None:
    served = serve(world_graph, None, tmp_path / "srv")
    async with client(served.app) as c:
        r = await c.post(SUBS, json=subscription(receiver.url),
                         headers={"Authorization": f"Bearer {served.keys['platform']}"})
        assert r.status_code == 201
    served.store.revoke("test-platform")
    notifier = notifier_for(world_graph, served.app.state.notifier.store, Clock(), served.store)
    async with httpx.AsyncClient() as http:
        world_graph.upsert_nodes([NodeRecord("Venue", "ven:V1", {"capacity": 11}, PROV)])
        assert await notifier.round(http) == 0
    assert receiver.received == []
    [sub] = notifier.store.all()
    assert not sub.active and "revoked" in (sub.delivery.last_error or "")


async def test_the_server_notifies_while_it_runs(world_graph: GraphStore, tmp_path: Path,
                                                receiver: Receiver) -> None:
    """The notifier runs in the server's lifespan: commit → notification without anyone polling."""
    served = serve(world_graph, None, tmp_path / "srv")
    key = {"Authorization": f"Bearer {served.keys['platform']}"}
    async with served.app.router.lifespan_context(served.app), client(served.app) as c:
        assert (await c.post(SUBS, json=subscription(receiver.url), headers=key)).status_code == 201
        started = time.monotonic()
        await anyio.to_thread.run_sync(lambda: world_graph.upsert_nodes(
            [NodeRecord("Venue", "ven:V1", {"capacity": 42}, PROV)]))
        assert await anyio.to_thread.run_sync(receiver.event.wait, 10), "no notification within 10 s"
        assert time.monotonic() - started < 10
    assert receiver.received[-1]["data"][0]["capacity"]["value"] == 42
