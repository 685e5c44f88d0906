"""The change feed: the graph's change log read out as events a consumer can apply, under the role policy.

A consumer keeps its own copy of the community's entities. It starts without a cursor (the
**snapshot**: every current record once) and then asks for what happened after the cursor it was
given last. Three rules make that exact — no gap, no duplicate — even while writes commit during
the read:

- **Compaction.** An entry is delivered only if it is still the newest state of its record: an
  upsert only while the stored record has that entry's version and timestamp, a tombstone only while
  the record is absent. Older entries of a record are skipped because a newer one lies further on.
  So a read from the start is the snapshot (each live record once, with its current data) and a read
  from a cursor delivers each changed record once, with its newest data.
- **Data read with the check.** The data sent with an upsert is the stored record the check was
  made on, so a record that changes between the log read and the record read is skipped here and
  delivered at its newer entry.
- **Cursors are log positions** (``seq``), never timestamps; the cursor of a page is the last entry
  *scanned*, delivered or not (entries the role may not see still move it on).

Retention: tombstones and superseded entries older than ``feed_retention_days`` are pruned
(``prune``). A cursor also records a time (``as_of``) at or after which every tombstone its holder may
still need was written; once that is older than the retention such a tombstone may be gone, so the
cursor gets ``RESYNC_REQUIRED`` instead of silence. A consumer that keeps polling keeps a fresh cursor.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from talentgraph.access import records
from talentgraph.access.policy import Grant, RoleView
from talentgraph.errors import BadQueryError, ForbiddenError, OntologyError, ResyncRequiredError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import Ontology
from talentgraph.types import Change

CURSOR_VERSION = "c1"
MAX_FIRST = 1000
SCAN_ROWS = 5000  # change-log entries read per statement while filling a page
# Writers stamp entries when their transaction starts, so an entry may commit up to a transaction's
# length after a later-stamped one; a cursor's "complete up to" time is moved back by this much.
CLOCK_MARGIN = dt.timedelta(minutes=5)


# --- cursors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in the change log: ``seq`` read, and the time up to which the log was complete there."""

    seq: int
    as_of: str  # ISO 8601 UTC; "" for the start

    def encode(self) -> str:
        raw = json.dumps([CURSOR_VERSION, self.seq, self.as_of], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(text: str, what: str = "after") -> "Cursor":
        hint = "Pass a cursor exactly as a page or event gave it, or none to start with a snapshot."
        if len(text) > 200:
            raise BadQueryError(f"{what}: the cursor is {len(text)} characters long; no cursor is.", hint=hint)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, seq, as_of = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise BadQueryError(f"{what}: {text!r} is not a change-feed cursor.", hint=hint) from None
        if version != CURSOR_VERSION or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 \
                or not isinstance(as_of, str):
            raise BadQueryError(f"{what}: {text!r} is not a change-feed cursor.", hint=hint)
        return Cursor(seq, as_of)


START = Cursor(0, "")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(ts: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    seq: int
    op: str  # upsert | delete
    kind: str  # node | rel
    type: str
    id: str
    at: str
    version: int
    data: dict[str, Any] | None  # what the role may read; None for a delete
    cursor: str
    from_id: str | None = None
    to_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "op": self.op, "kind": self.kind, "type": self.type, "id": self.id,
                               "at": self.at, "version": self.version}
        if self.kind == "rel":
            out["from"], out["to"] = self.from_id, self.to_id
        out["data"] = self.data
        out["cursor"] = self.cursor
        return out


@dataclass
class FeedPage:
    events: list[Event]
    cursor: Cursor  # continue after this
    head_seq: int  # the log's newest seq when the page was read
    snapshot: bool  # read from the start: every current record the role sees, once
    has_more: bool = False
    skipped: int = field(default=0)  # entries scanned but not delivered (superseded, or not the role's)

    @property
    def seq(self) -> int:
        return self.cursor.seq


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedTypes:
    """The node and relationship types a page may carry for one role (and one ``types`` argument)."""

    nodes: frozenset[str]
    rels: frozenset[str]

    @property
    def names(self) -> list[str]:
        return sorted(self.nodes | self.rels)


def feed_types(view: RoleView, asked: Sequence[str] | None) -> FeedTypes:
    """The types to read: those the role may see, narrowed to ``asked``; an unknown or unseen type is an error."""
    o = view.ontology
    nodes = {t.name for t in records.readable_types(view)}
    rels = {r.name for r in records.readable_rel_types(view)}
    if asked is None:
        return FeedTypes(frozenset(nodes), frozenset(rels))
    if len(asked) > 50:
        raise BadQueryError(f"types names {len(asked)} types.", hint="Name at most 50.")
    want_nodes: set[str] = set()
    want_rels: set[str] = set()
    for name in asked:
        if name in o.node_names:
            if name not in nodes:
                raise ForbiddenError(f"types: the {view.role} role may not read {name} records.",
                                     hint=f"Readable: {', '.join(sorted(nodes | rels))}.")
            want_nodes.add(name)
        elif any(r.name == name for r in o.rel_types):
            if name not in rels:
                raise ForbiddenError(f"types: the {view.role} role may not read {name} relationships.",
                                     hint=f"Readable: {', '.join(sorted(nodes | rels))}.")
            want_rels.add(name)
        else:
            raise BadQueryError(f"types: {name[:80]!r} is no node or relationship type.",
                                hint=f"Readable by {view.role}: {', '.join(sorted(nodes | rels))}.")
    return FeedTypes(frozenset(want_nodes), frozenset(want_rels))


def check_cursor(cursor: Cursor, head: int, retention: dt.timedelta) -> None:
    if cursor.seq > head:
        raise ResyncRequiredError(
            f"The cursor is at change {cursor.seq}, but this service's log ends at {head}.",
            hint="The cursor comes from another database or one that was rebuilt: start again without a cursor "
                 "(a snapshot) and follow changes from the cursor it ends with.")
    if cursor == START or cursor.seq == head:
        return
    as_of = _parse(cursor.as_of)
    if as_of is None or as_of < _now() - retention:
        days = retention.total_seconds() / 86400
        raise ResyncRequiredError(
            f"The cursor is older than the feed's retention ({days:g} days): deletions after it may have been "
            f"pruned from the log.",
            hint="Start again without a cursor (a snapshot) and follow changes from the cursor it ends with.")


class ChangeFeed:
    """Pages of events for one role, read from the graph's change log (see the module docstring)."""

    def __init__(self, graph: GraphStore, ontology: Ontology, retention: dt.timedelta) -> None:
        self.graph, self.ontology, self.retention = graph, ontology, retention

    def page(self, view: RoleView, after: Cursor | None, *, types: Sequence[str] | None = None,
             first: int = 100) -> FeedPage:
        if first < 1 or first > MAX_FIRST:
            raise BadQueryError(f"first is {first}.", hint=f"Ask for 1 to {MAX_FIRST} events per page.")
        wanted = feed_types(view, types)
        start = after or START
        head = self.graph.last_seq()
        check_cursor(start, head, self.retention)
        began = _now()
        events: list[Event] = []
        position = start.seq
        skipped = 0
        exhausted = False
        while len(events) < first:
            # Read about as many entries as the page still needs: each one read costs a record lookup.
            scan = min(SCAN_ROWS, max(first - len(events), 64))
            batch = self.graph.changes(position, limit=scan, types=wanted.names) if wanted.names else []
            if not batch:
                exhausted = True
                break
            for change, event in zip(batch, self._events(view, batch, wanted)):
                position = change.seq
                if event is not None:
                    events.append(event)
                    if len(events) == first:
                        break
                else:
                    skipped += 1
            if len(batch) < scan and position == batch[-1].seq:
                exhausted = True
                break
        # ``as_of``: every tombstone the consumer may still need is stamped at or after it. Reaching the end
        # of the log, that is when this read began (minus a writer's head start): what it holds was live
        # then, and later deletions are logged later. Stopping inside the log keeps the cursor's own
        # ``as_of`` (a snapshot's: when its first page was read), as the tombstones it needs lie further on.
        if exhausted:
            position = max(position, head)
            as_of = _iso(began - CLOCK_MARGIN)
        else:
            as_of = start.as_of or _iso(began - CLOCK_MARGIN)
        cursor = Cursor(position, as_of)
        events = [_with_cursor(e, Cursor(e.seq, e.at)) for e in events]
        return FeedPage(events, cursor, head_seq=max(head, position), snapshot=after is None,
                        has_more=not exhausted, skipped=skipped)

    def _events(self, view: RoleView, batch: Sequence[Change], wanted: FeedTypes) -> list[Event | None]:
        """Each entry's event, or None where it is superseded or not the role's to see."""
        node_ids = [c.id for c in batch if c.kind == "node" and c.type in wanted.nodes]
        rel_keys = [c.id for c in batch if c.kind == "rel" and c.type in wanted.rels]
        nodes = self.graph.get_nodes(node_ids, fields=self._fields(view, wanted)) if node_ids else {}
        rels = self.graph.get_relationships(rel_keys) if rel_keys else {}
        visible: dict[tuple[str, str | None, str | None], bool] = {}
        return [self._event(view, c, wanted, nodes, rels, visible) for c in batch]

    def _fields(self, view: RoleView, wanted: FeedTypes) -> list[str]:
        """The node columns an event can show (the role's readable properties) and the state check needs."""
        names = {"version", "updated_at"}
        for type_name in wanted.nodes:
            nt = self.ontology.node(type_name)
            names.update(p.name for p in nt.properties if view.grant(p) is Grant.ALWAYS)
        return sorted(names)

    def _rel_visible(self, view: RoleView, c: Change) -> bool:
        try:
            rt = self.ontology.rel(c.type)
            from_type = self.ontology.type_of_id(c.from_id or "").name
            to_type = self.ontology.type_of_id(c.to_id or "").name
        except OntologyError:
            return False
        return records.rel_visible(view, rt, from_type, to_type)

    def _event(self, view: RoleView, c: Change, wanted: FeedTypes, nodes: dict[str, Any],
               rels: dict[str, Any], visible: dict[tuple[str, str | None, str | None], bool]) -> Event | None:
        if c.kind == "node":
            if c.type not in wanted.nodes:
                return None
            node = nodes.get(c.id)
            if c.op == "delete":
                return None if node is not None else _event(c, None)
            if node is None or not _is_state(node.props, c):
                return None  # superseded: a newer entry of this node lies further on
            data = records.node_props(view, self.ontology.node(c.type), node.props)
            return None if data is None else _event(c, data)
        if c.type not in wanted.rels:
            return None
        ends = (c.type, (c.from_id or "").partition(":")[0], (c.to_id or "").partition(":")[0])
        shown = visible.get(ends)
        if shown is None:
            shown = visible[ends] = self._rel_visible(view, c)
        if not shown:
            return None
        rel = rels.get(c.id)
        if c.op == "delete":
            return None if rel is not None else _event(c, None)
        if rel is None or not _is_state(rel.props, c):
            return None
        rt = self.ontology.rel(c.type)
        from_type = self.ontology.type_of_id(c.from_id or "").name
        to_type = self.ontology.type_of_id(c.to_id or "").name
        return _event(c, records.rel_props(view, rt, from_type, to_type, rel.props))


def _is_state(props: dict[str, Any], c: Change) -> bool:
    """Whether a stored record is the state this entry wrote (same version, same write)."""
    return props.get("version") == c.version and props.get("updated_at") == c.ts


def _event(c: Change, data: dict[str, Any] | None) -> Event:
    return Event(seq=c.seq, op=c.op, kind=c.kind, type=c.type, id=c.id, at=c.ts, version=c.version, data=data,
                 cursor="", from_id=c.from_id, to_id=c.to_id)


def _with_cursor(e: Event, cursor: Cursor) -> Event:
    return Event(e.seq, e.op, e.kind, e.type, e.id, e.at, e.version, e.data, cursor.encode(), e.from_id, e.to_id)


# --- retention ------------------------------------------------------------------------------------


def prune(graph: GraphStore, retention: dt.timedelta, *, up_to_seq: int | None = None) -> int:
    """Drop tombstones and superseded entries older than the retention (never past ``up_to_seq``:
    a reader such as the search index that has not read them yet)."""
    before = _iso(_now() - retention)
    return graph.prune_changes(before, graph.last_seq() if up_to_seq is None else up_to_seq)


def returned_ids(events: Sequence[Event], ontology: Ontology) -> list[tuple[str, str]]:
    """(id, type) of every node an event shows, relationship ends included: what the audit records."""
    out: list[tuple[str, str]] = []
    for e in events:
        if e.kind == "node":
            if e.data is not None:
                out.append((e.id, e.type))
            continue
        for end in (e.from_id, e.to_id):
            try:
                out.append((end or "", ontology.type_of_id(end or "").name))
            except OntologyError:
                continue
    return out


__all__ = ["ChangeFeed", "Cursor", "Event", "FeedPage", "START", "check_cursor", "feed_types", "prune",
           "returned_ids"]
