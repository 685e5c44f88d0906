"""Delivers NGSI-LD notifications: follows the change feed per subscription, posts, retries, remembers.

One background task in the server (``run``). Each round it reads the log's head (cheap) and, for every
active subscription behind it and not waiting out a backoff or its throttling, reads a page of the
change feed from the subscription's cursor *as the subscription's owner's role* (so a notification
never carries more than its owner could read), keeps the changes its entity selectors and ``q``
match, and posts them as one CIM 009 Notification. Only a 2xx answer moves the cursor on (and it is
saved to disk with the subscription): at least once, in order, across endpoint failures and restarts.
A failing endpoint is retried with exponential backoff (1 s doubling to ``MAX_BACKOFF``).

A relationship change notifies its start entity (its Relationship attribute changed); a deleted
entity is sent as ``{"id", "type", "deletedAt"}`` (CIM 009 1.8's entityDeleted form) whatever ``q``
says, as a deleted entity has no attributes left to test.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.access.records import node_props, readable_rel_types
from talentgraph.errors import ResyncRequiredError, TalentgraphError
from talentgraph.feed.changes import ChangeFeed, Cursor, Event
from talentgraph.feed.ngsild.context import CONTEXT_PATH, JSONLD_CONTEXT_REL
from talentgraph.feed.ngsild.entities import render
from talentgraph.feed.ngsild.ids import to_urn
from talentgraph.feed.ngsild.lookup import Lookup
from talentgraph.feed.ngsild.query import compile_q, parse_q
from talentgraph.feed.subscriptions import Subscription, SubscriptionStore, now_iso, selector_matches
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import Ontology
from talentgraph.types import And, Cmp, Node

log = logging.getLogger("talentgraph.notify")

BATCH = 200  # changes read per notification at most
POLL_SECONDS = 0.1
MAX_BACKOFF = 300.0
TIMEOUT_SECONDS = 10.0


class Notifier:
    def __init__(self, graph: GraphStore, ontology: Ontology, store: SubscriptionStore, *,
                 retention: dt.timedelta, keys: KeyStore | None, base_url: str,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.graph, self.ontology, self.store, self.keys = graph, ontology, store, keys
        self.feed = ChangeFeed(graph, ontology, retention)
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.clock = clock
        self._next_attempt: dict[str, float] = {}  # subscription id -> clock time of its next try
        self._last_sent: dict[str, float] = {}

    async def run(self) -> None:
        """Deliver until cancelled (the server's lifespan cancels it on shutdown)."""
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                                     transport=self.transport) as client:
            while True:
                try:
                    await self.round(client)
                except Exception:  # one bad round must not end delivery for everyone
                    log.exception("A notification round failed; retrying")
                await anyio.sleep(POLL_SECONDS)

    async def round(self, client: httpx.AsyncClient) -> int:
        """One pass over the subscriptions; how many notifications were posted."""
        now = dt.datetime.now(dt.UTC)
        due = [sub for sub in self.store.all() if sub.active and not sub.expired(now) and self._due(sub)]
        if not due:
            # Ten rounds a second for as long as the server runs: without a subscription to serve, a round
            # does not ask the graph for its head (on Neo4j a query each time, beside every request's).
            return 0
        head = await anyio.to_thread.run_sync(self.graph.last_seq)
        sent = 0
        for sub in due:
            cursor = Cursor.decode(sub.cursor) if sub.cursor else None
            if cursor is not None and cursor.seq >= head:
                continue
            sent += await self.deliver(client, sub)
        return sent

    def _due(self, sub: Subscription) -> bool:
        t = self.clock()
        if t < self._next_attempt.get(sub.id, 0.0):
            return False
        return not sub.throttling or t >= self._last_sent.get(sub.id, -1e18) + sub.throttling

    def _owner_may_read(self, sub: Subscription) -> str | None:
        """Why the owner may no longer be notified (a revoked or expired key), or None."""
        if sub.via != "key" or self.keys is None:
            return None
        for info in self.keys.list():
            if info.name == sub.owner:
                status = info.status()
                return None if status == "active" else f"the owner's API key is {status}"
        return "the owner's API key no longer exists"

    async def deliver(self, client: httpx.AsyncClient, sub: Subscription) -> int:
        stopped = self._owner_may_read(sub)
        if stopped:
            self.store.update(sub.id, active=False, delivery={"status": "failed", "last_error": stopped,
                                                              "last_failure": now_iso()})
            return 0
        cursor = Cursor.decode(sub.cursor) if sub.cursor else None
        view = POLICY.view(sub.role)
        try:
            page = await anyio.to_thread.run_sync(
                lambda: self.feed.page(view, cursor, types=_feed_types(self.ontology, sub), first=BATCH))
        except ResyncRequiredError as exc:
            self.store.update(sub.id, active=False, delivery={"status": "failed", "last_error": exc.message,
                                                              "last_failure": now_iso()})
            return 0
        data = await anyio.to_thread.run_sync(lambda: self._entities(sub, page.events))
        if not data:  # nothing this subscription asked about: move on without posting
            self.store.update(sub.id, cursor=page.cursor.encode())
            return 0
        notified_at = now_iso()
        body = {"id": f"urn:ngsi-ld:Notification:{uuid.uuid5(uuid.NAMESPACE_URL, sub.id + sub.cursor)}",
                "type": "Notification", "subscriptionId": sub.id, "notifiedAt": notified_at, "data": data}
        headers = {"Content-Type": sub.accept}
        context = self.base_url + CONTEXT_PATH
        if sub.accept == "application/ld+json":
            body["@context"] = context
        else:
            headers["Link"] = f'<{context}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'
        try:
            response = await client.post(sub.endpoint, json=body, headers=headers)
            ok, reason = 200 <= response.status_code < 300, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, f"{type(exc).__name__}: {exc}"[:300]
        d = sub.delivery
        if ok:
            self._next_attempt.pop(sub.id, None)
            self._last_sent[sub.id] = self.clock()
            self.store.update(sub.id, cursor=page.cursor.encode(), delivery={
                "status": "ok", "times_sent": d.times_sent + 1, "last_notification": notified_at,
                "last_success": notified_at, "attempts": 0})
            return 1
        attempts = d.attempts + 1
        delay = min(MAX_BACKOFF, 2.0 ** (attempts - 1)) * random.uniform(0.8, 1.2)
        self._next_attempt[sub.id] = self.clock() + delay
        log.warning("Notification for %s to %s failed (%s); retry in %.1f s", sub.id, sub.endpoint, reason, delay)
        self.store.update(sub.id, delivery={"status": "failed", "times_failed": d.times_failed + 1,
                                            "last_notification": notified_at, "last_failure": notified_at,
                                            "last_error": reason, "attempts": attempts})
        return 0

    def _entities(self, sub: Subscription, events: list[Event]) -> list[dict[str, Any]]:
        """The notification's data: each matching entity once, in the order of its newest change."""
        wanted: dict[str, tuple[str, Event]] = {}  # node id -> (type, the change that names it)
        for e in events:
            node_id, type_name = (e.id, e.type) if e.kind == "node" else (e.from_id or "", "")
            if e.kind == "rel":
                try:
                    type_name = self.ontology.type_of_id(node_id).name
                except TalentgraphError:
                    continue
            if not selector_matches(sub.entities, type_name, to_urn(self.ontology, node_id)):
                continue
            wanted.pop(node_id, None)
            wanted[node_id] = (type_name, e)
        if not wanted:
            return []
        view = POLICY.view(sub.role)
        lookup = Lookup(self.graph, self.ontology, view)
        deleted = {i for i, (_, e) in wanted.items() if e.kind == "node" and e.op == "delete"}
        live = [i for i in wanted if i not in deleted]
        nodes = self.graph.get_nodes(live) if live else {}
        matching = self._q_matches(sub, lookup, nodes) if sub.q else set(nodes)
        page = []
        for node_id in live:
            node = nodes.get(node_id)
            if node is None or node_id not in matching:
                continue  # gone since (its tombstone comes later) or not matching q
            node_type = self.ontology.node(node.type)
            props = node_props(view, node_type, node.props)
            if props is not None:
                page.append((node_type, node, props))
        edges = lookup.edges(page) if page else {}
        out: list[dict[str, Any]] = []
        for node_id, (type_name, e) in wanted.items():
            if node_id in deleted:
                out.append({"id": to_urn(self.ontology, node_id), "type": type_name, "deletedAt": e.at})
        for node_type, node, props in page:
            out.append(render(self.ontology, node_type, node, props, edges.get(node.id, []), attrs=sub.attributes,
                              key_values=sub.format == "keyValues"))
        return out

    def _q_matches(self, sub: Subscription, lookup: Lookup, nodes: dict[str, Node]) -> set[str]:
        expr = parse_q(sub.q or "")
        by_type: dict[str, list[str]] = {}
        for node in nodes.values():
            by_type.setdefault(node.type, []).append(node.id)
        out: set[str] = set()
        for type_name, ids in by_type.items():
            compiled = compile_q(expr, self.ontology, lookup.readable(self.ontology.node(type_name)))
            if compiled is False:
                continue
            where = Cmp("id", "in", ids) if compiled is True else And((compiled, Cmp("id", "in", ids)))
            page = self.graph.list_nodes(type_name, where=where, first=len(ids))
            out.update(n.id for n in page.items)
        return out


def _feed_types(ontology: Ontology, sub: Subscription) -> list[str]:
    """The node types a subscription names and the relationships starting at them that the role reads."""
    view = POLICY.view(sub.role)
    types = set(sub.types)
    rels = {r.name for r in readable_rel_types(view) if any(frm in types for frm, _ in r.endpoints)}
    return sorted(types | rels)
