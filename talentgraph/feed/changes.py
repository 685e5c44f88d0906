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

**Snapshot from the tables.** A read without a cursor takes the log's position ``S`` first (the
snapshot's consistency point) and reads each type's table once, in pages of the store's scan order
(``GraphStore.scan_nodes`` / ``scan_relationships``; the cursor in between is a ``c2`` one naming the
type, the position and ``S``). A record whose newest change-log entry lies after ``S`` is left out: the
log read that follows the snapshot, from ``S`` on, delivers it (its newest state, or its tombstone).
So a record that exists unchanged throughout comes once from the tables, and one written meanwhile once
from the log — including writes that commit while the snapshot is read. The exclusion is decided after
each table page is read (the entries after ``S`` are read then), so a record written before its page
was read is always known to have changed. Events of the snapshot carry ``seq`` = ``S``.

**Log pages** read bounded seq windows (``change_window``: ``S < seq <= b``), sized from what the
previous window yielded, and look the window's records up per type in batches.

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
from json.encoder import encode_basestring
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from talentgraph.access import records
from talentgraph.access.policy import Grant, RoleView
from talentgraph.errors import BadQueryError, ForbiddenError, OntologyError, ResyncRequiredError
from talentgraph.graph.port import GraphStore
from talentgraph.memory import collector_held
from talentgraph.schema.ontology import Ontology
from talentgraph.types import Change, Node, Relationship

CURSOR_VERSION = "c1"  # a position in the change log
SNAPSHOT_VERSION = "c2"  # a position inside a snapshot read from the tables (and the log's, S)
MAX_FIRST = 1000
BULK_FIRST = 10_000  # events per page for the NDJSON stream's bulk catch-up
SCAN_ROWS = 20_000  # change-log entries a window is sized to hold at most
MAX_CURSOR = 1000  # characters
CHANGED_KEPT = 16  # snapshots whose changed-since-S ids one feed keeps (an abandoned one would otherwise stay)
# Writers stamp entries when their transaction starts, so an entry may commit up to a transaction's
# length after a later-stamped one; a cursor's "complete up to" time is moved back by this much.
CLOCK_MARGIN = dt.timedelta(minutes=5)


def _str(value: str | None) -> str:
    """A JSON string (or null)."""
    return "null" if value is None else encode_basestring(value)



# --- cursors --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Segment:
    """One table a snapshot reads: a node type, or a relationship type out of one start-node type."""

    rank: int  # 0: nodes, 1: relationships (nodes first)
    type: str
    from_type: str = ""

    @property
    def is_node(self) -> bool:
        return self.rank == 0


@dataclass(frozen=True)
class ScanPosition:
    """Where a snapshot stands: the table, the store's scan position in it (None: its start) and, for a
    relationship table, the key of the last relationship read of the start node at that position."""

    segment: Segment
    position: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in the change log: ``seq`` read, and the time up to which the log was complete there.

    ``scan``: the position inside a snapshot that is consistent at ``seq`` (a ``c2`` cursor)."""

    seq: int
    as_of: str  # ISO 8601 UTC; "" for the start
    scan: ScanPosition | None = None

    def encode(self) -> str:
        # Formatted, not json.dumps'd: a snapshot gives every event a cursor (the same JSON either way).
        text = f'["{CURSOR_VERSION}",{int(self.seq)},{_str(self.as_of)}]'
        if self.scan is not None:
            seg = self.scan.segment
            kind = f"[{_str(seg.type)}]" if seg.is_node else f"[{_str(seg.type)},{_str(seg.from_type)}]"
            text = (f'["{SNAPSHOT_VERSION}",{int(self.seq)},{_str(self.as_of)},{kind},{_str(self.scan.position)},'
                    f'{_str(self.scan.key)}]')
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def decode(text: str, what: str = "after") -> "Cursor":
        hint = "Pass a cursor exactly as a page or event gave it, or none to start with a snapshot."
        if len(text) > MAX_CURSOR:
            raise BadQueryError(f"{what}: the cursor is {len(text)} characters long; no cursor is.", hint=hint)
        bad = BadQueryError(f"{what}: {text[:80]!r} is not a change-feed cursor.", hint=hint)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise bad from None
        if not isinstance(body, list) or len(body) not in (3, 6):
            raise bad
        version, seq, as_of = body[:3]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(as_of, str):
            raise bad
        if version == CURSOR_VERSION and len(body) == 3:
            return Cursor(seq, as_of)
        if version != SNAPSHOT_VERSION or len(body) != 6:
            raise bad
        seg, position, key = body[3:]
        if not isinstance(seg, list) or len(seg) not in (1, 2) or not all(isinstance(x, str) and x for x in seg) \
                or not (position is None or isinstance(position, str)) or not (key is None or isinstance(key, str)) \
                or (key is not None and position is None):
            raise bad
        segment = Segment(0, seg[0]) if len(seg) == 1 else Segment(1, seg[0], seg[1])
        return Cursor(seq, as_of, ScanPosition(segment, position, key))


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
    """Pages of events for one role, read from the graph's tables and change log (see the module docstring).

    One instance may serve many pages (a stream): it keeps which records changed after a snapshot's ``S``,
    so each page reads only the log entries committed since the previous one."""

    def __init__(self, graph: GraphStore, ontology: Ontology, retention: dt.timedelta) -> None:
        self.graph, self.ontology, self.retention = graph, ontology, retention
        self._changed: dict[tuple[int, tuple[str, ...]], tuple[int, set[str]]] = {}

    def page(self, view: RoleView, after: Cursor | None, *, types: Sequence[str] | None = None,
             first: int = 100, bulk: bool = False) -> FeedPage:
        """Up to ``first`` events after ``after`` (None: a snapshot). ``bulk``: pages up to ``BULK_FIRST``."""
        most = BULK_FIRST if bulk else MAX_FIRST
        if first < 1 or first > most:
            raise BadQueryError(f"first is {first}.", hint=f"Ask for 1 to {most} events per page.")
        wanted = feed_types(view, types)
        start = after or START
        head = self.graph.last_seq()
        check_cursor(start, head, self.retention)
        began = _now()
        if after is None or after.scan is not None:
            with collector_held():
                return self._snapshot_page(view, after, wanted, first, head, began)
        return self._log_page(view, start, wanted, first, head, began)

    # --- the snapshot: tables read at the log's position S ------------------------------------------

    def _snapshot_page(self, view: RoleView, after: Cursor | None, wanted: FeedTypes, first: int, head: int,
                       began: dt.datetime) -> FeedPage:
        segments = self._segments(view, wanted)
        if after is None or after.scan is None:
            seq, as_of, i, position, key = head, _iso(began - CLOCK_MARGIN), 0, None, None
        else:
            seq, as_of = after.seq, after.as_of
            at = after.scan
            i = next((n for n, seg in enumerate(segments) if seg >= at.segment), len(segments))
            position, key = (at.position, at.key) if i < len(segments) and segments[i] == at.segment else (None, None)
        events: list[Event] = []
        skipped = 0
        readers = _Readers(view, self.ontology)
        while len(events) < first and i < len(segments):
            seg = segments[i]
            room = first - len(events)
            cursor_at = _snapshot_cursors(seq, as_of, seg)
            items: Sequence[tuple[str, Node | Relationship]]
            fields, data_of = readers.segment(seg)
            if seg.is_node:
                nodes = self.graph.scan_nodes(seg.type, position, room, fields=fields)
                items, following = nodes.items, nodes.next
            else:
                rels = self.graph.scan_relationships(seg.type, seg.from_type, position, room, after_key=key,
                                                     fields=fields)
                items, following = rels.items, rels.next
            # Read after the page: a record written after S before its page was read is logged by now.
            changed = self._changed_since(seq, wanted) if items else set()
            taken, page_skipped = _table_events(events, items, seq, cursor_at, changed, data_of, room)
            skipped += page_skipped
            if len(events) == first:  # full at the record ``taken`` last: the next page continues after it
                position, last = items[taken - 1]
                key = last.key if isinstance(last, Relationship) else None
                break
            if following is None:
                i, position, key = i + 1, None, None
            else:
                position, key = following, None
        if i < len(segments):
            return FeedPage(events, Cursor(seq, as_of, ScanPosition(segments[i], position, key)),
                            head_seq=head, snapshot=True, has_more=True, skipped=skipped)
        # Every table read: the snapshot is consistent at S; what was written since comes from the log.
        self._changed.pop((seq, tuple(wanted.names)), None)
        now = self.graph.last_seq()
        return FeedPage(events, Cursor(seq, as_of), head_seq=max(head, now), snapshot=True, has_more=now > seq,
                        skipped=skipped)

    def _segments(self, view: RoleView, wanted: FeedTypes) -> list[Segment]:
        out = [Segment(0, t) for t in wanted.nodes]
        for name in wanted.rels:
            rt = self.ontology.rel(name)
            out += [Segment(1, rt.name, f) for f in dict.fromkeys(rt.from_types)
                    if any(records.rel_visible(view, rt, f, t) for ff, t in rt.endpoints if ff == f)]
        return sorted(out)

    def _changed_since(self, seq: int, wanted: FeedTypes) -> set[str]:
        """Ids and keys of the records with a change-log entry after ``seq`` (read up to the log's head now)."""
        names = tuple(wanted.names)
        upto, ids = self._changed.get((seq, names), (seq, set()))
        head = self.graph.last_seq()
        if head > upto:
            ids = ids | {c.id for c in self.graph.change_window(upto, head, types=names)}
            self._changed.pop((seq, names), None)
            self._changed[(seq, names)] = (head, ids)
            while len(self._changed) > CHANGED_KEPT:  # oldest first; a dropped one is re-read from S
                del self._changed[next(iter(self._changed))]
        return ids

    # --- after a cursor: log windows, compacted --------------------------------------------------------

    def _log_page(self, view: RoleView, start: Cursor, wanted: FeedTypes, first: int, head: int,
                  began: dt.datetime) -> FeedPage:
        # One event per record in a page, in log order. Only deletions can repeat (deleted, written again and
        # deleted again: each tombstone is "the record is gone"); the later one stands and moves to its place.
        page: dict[str, Event] = {}
        position = start.seq
        skipped = 0
        width = max(64, first + first // 4)  # seq numbers per window; resized from what each one yields
        while len(page) < first and position < head and wanted.names:
            low = position
            upto = min(head, low + width)
            batch = self.graph.change_window(low, upto, types=wanted.names)
            had = len(page)
            full = False
            for change, event in zip(batch, self._events(view, batch, wanted)):
                position = change.seq
                if event is None:
                    skipped += 1
                    continue
                if page.pop(event.id, None) is not None:
                    skipped += 1
                page[event.id] = event
                if len(page) == first:
                    full = True
                    break
            if full:
                break
            position = upto
            # The next window: as many seq numbers as should hold what the page still needs at the yield this
            # one had (events per seq number: types narrowed, superseded entries), at most ~SCAN_ROWS entries.
            span = upto - low
            got = max(len(page) - had, 0.5)
            wanted_span = (first - len(page)) * 1.25 * span / got
            row_cap = SCAN_ROWS * span / max(len(batch), 1)
            width = max(64, int(min(wanted_span, row_cap)))
        exhausted = position >= head or not wanted.names
        # ``as_of``: every tombstone the consumer may still need is stamped at or after it. Reaching the end
        # of the log, that is when this read began (minus a writer's head start): what it holds was live
        # then, and later deletions are logged later. Stopping inside the log keeps the cursor's own
        # ``as_of`` (a snapshot's: when it took S), as the tombstones it needs lie further on.
        if exhausted:
            position = max(position, head)
            as_of = _iso(began - CLOCK_MARGIN)
        else:
            as_of = start.as_of or _iso(began - CLOCK_MARGIN)
        cursor = Cursor(position, as_of)
        events = [_with_cursor(e, Cursor(e.seq, e.at)) for e in page.values()]
        return FeedPage(events, cursor, head_seq=max(head, position), snapshot=False,
                        has_more=not exhausted, skipped=skipped)

    def _events(self, view: RoleView, batch: Sequence[Change], wanted: FeedTypes) -> list[Event | None]:
        """Each entry's event, or None where it is superseded or not the role's to see."""
        node_ids = list(dict.fromkeys(c.id for c in batch if c.kind == "node" and c.type in wanted.nodes))
        rel_keys = list(dict.fromkeys(c.id for c in batch if c.kind == "rel" and c.type in wanted.rels))
        types = {c.type for c in batch if c.kind == "node" and c.type in wanted.nodes}
        nodes = self.graph.get_nodes(node_ids, fields=self._fields(view, sorted(types))) if node_ids else {}
        rels = self.graph.get_relationships(rel_keys) if rel_keys else {}
        visible: dict[tuple[str, str | None, str | None], bool] = {}
        return [self._event(view, c, wanted, nodes, rels, visible) for c in batch]

    def _fields(self, view: RoleView, type_names: Sequence[str]) -> list[str]:
        """The node columns an event can show (the role's readable properties) and the state check needs."""
        names = {"version", "updated_at"}
        for type_name in type_names:
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


DataOf = Callable[[Any], dict[str, Any] | None]  # a scanned record's data for the role (None: not the role's)


class _Readers:
    """The role's view of one page's tables, looked up once per table, not per record."""

    def __init__(self, view: RoleView, ontology: Ontology) -> None:
        self.view, self.ontology = view, ontology
        self._segments: dict[Segment, tuple[list[str], DataOf | None]] = {}

    def segment(self, seg: Segment) -> tuple[list[str], DataOf | None]:
        """The fields a snapshot page of the table reads (the role's, then ``version`` and ``updated_at``, which
        make the event's ``at`` and ``version``), and what makes a scanned record's data of them — None when a
        node's props (the role's fields, non-null, in the role's order) already are it."""
        found = self._segments.get(seg)
        if found is None:
            found = self._segments[seg] = self._node(seg.type) if seg.is_node else self._rel(seg)
        return found

    def _node(self, type_name: str) -> tuple[list[str], DataOf | None]:
        nt = self.ontology.node(type_name)
        shown = records.node_fields(self.view, nt)
        if shown is None:  # rows the role may not see: read only what an event needs, and skip them
            return ["version", "updated_at"], lambda node: None
        fields = [*shown, *(f for f in ("version", "updated_at") if f not in shown)]
        if len(fields) == len(shown):
            return fields, None
        read = records.node_reader(self.view, nt)  # every role sees them; were one not to, they are left out
        return fields, lambda node: read(node.props)

    def _rel(self, seg: Segment) -> tuple[list[str], DataOf | None]:
        """A relationship's data is its role-readable props (``records.rel_props``), the same for every far end
        the role may see it to; to any other far end the relationship is not the role's."""
        rt = self.ontology.rel(seg.type)
        ends = [(t.id_prefix, records.rel_fields(self.view, rt, seg.from_type, t.name))
                for t in self.ontology.node_types]
        seen = {prefix for prefix, names in ends if names is not None}
        shown = next((names for _, names in ends if names is not None), ())
        assert all(names == shown for _, names in ends if names is not None)
        fields = [*shown, *(f for f in ("version", "updated_at") if f not in shown)]

        def data_of(rel: Relationship) -> dict[str, Any] | None:
            if rel.to_id.partition(":")[0] not in seen:
                return None
            props = rel.props
            return {name: props[name] for name in shown if name in props} if shown else {}

        return fields, data_of


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _snapshot_cursors(seq: int, as_of: str, seg: Segment) -> Callable[[str | None, str | None], str]:
    """``Cursor(seq, as_of, ScanPosition(seg, position, key)).encode()`` for every event of a table page: the
    part they share is encoded once, padded with JSON whitespace to whole base64 groups so that the rest
    can be appended encoded on its own (the same cursor to ``Cursor.decode``)."""
    kind = f"[{_str(seg.type)}]" if seg.is_node else f"[{_str(seg.type)},{_str(seg.from_type)}]"
    head = f'["{SNAPSHOT_VERSION}",{int(seq)},{_str(as_of)},{kind},'.encode()
    shared = base64.urlsafe_b64encode(head + b" " * (-len(head) % 3)).decode()
    b64 = binascii.b2a_base64  # what urlsafe_b64encode wraps, called once per event (a bulk page's hot path)
    esc = encode_basestring

    def at(position: str | None, key: str | None) -> str:
        tail = f"{'null' if position is None else esc(position)},{'null' if key is None else esc(key)}]".encode()
        return shared + b64(tail, newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    return at


def _table_events(events: list[Event], items: Sequence[tuple[str, Node | Relationship]], seq: int,
                  cursor_at: Callable[[str | None, str | None], str], changed: set[str], data_of: DataOf | None,
                  room: int) -> tuple[int, int]:
    """Appends the upserts of a table page (nodes or relationships) to ``events`` (records changed after ``seq``
    left out: the log delivers them), at most ``room``; returns how many items were taken and how many of those
    skipped. ``data_of`` None: the props are already what the role reads (``_Readers.segment``)."""
    taken = skipped = 0
    stop = len(events) + room
    append = events.append
    for pos, rec in items:
        taken += 1
        if isinstance(rec, Relationship):
            rid, key, from_id, to_id, kind = rec.key, rec.key, rec.from_id, rec.to_id, "rel"
        else:
            rid, key, from_id, to_id, kind = rec.id, None, None, None, "node"
        if rid in changed:
            skipped += 1
            continue
        props = rec.props
        data = props if data_of is None else data_of(rec)
        if data is None:
            skipped += 1
            continue
        append(Event(seq, "upsert", kind, rec.type, rid, str(props.get("updated_at") or ""),
                     int(props.get("version") or 0), data, cursor_at(pos, key), from_id, to_id))
        if len(events) == stop:
            break
    return taken, skipped


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


def returned_ids(events: Sequence[Event], ontology: Ontology) -> Iterator[tuple[str, str]]:
    """(id, type) of every node an event shows, relationship ends included: what the audit records. Yielded, not
    listed: the audit keeps only the subject's, and a bulk page's worth held at once only feeds the collector."""
    prefixes = {t.id_prefix: t.name for t in ontology.node_types}  # ``type_of_id`` per end: a bulk page's cost
    for e in events:
        if e.kind == "node":
            if e.data is not None:
                yield e.id, e.type
            continue
        for end in (e.from_id, e.to_id):
            prefix, sep, rest = (end or "").partition(":")
            name = prefixes.get(prefix) if sep and rest else None
            if name is not None:
                yield end or "", name


__all__ = ["BULK_FIRST", "ChangeFeed", "Cursor", "Event", "FeedPage", "START", "ScanPosition", "Segment",
           "check_cursor", "feed_types", "prune", "returned_ids"]
