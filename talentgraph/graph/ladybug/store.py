"""``GraphStore`` on LadybugDB (embedded, Kuzu Cypher dialect): the default graph backend.

Layout: ``<path>/graph.lbdb`` (the database) and ``<path>/.lock`` (see ``lock.py``).

Everything both engines do alike lives in ``graph/base.py``; this module adds what is LadybugDB's
own: the process lock, connections per thread, the COPY bulk path, the seq counter in memory, the
reopen after a rolled-back COPY and the far-end-labelled ``edges`` queries.

Writes run on one connection under a lock, each call in one explicit transaction that holds both
the data and its change-log rows. ``COPY … FROM <Arrow table>`` works inside an explicit
transaction in Ladybug 0.22 (checked: a ROLLBACK undoes it, and a failed COPY aborts the whole
transaction), so bulk loads and their change-log entries commit or vanish together: there is no
crash window between data and log. That includes ``upsert_batch``, whose node COPY, relationship
COPY (to nodes copied moments before) and change-log COPY share one transaction. Rolling back
after a COPY needs care in 0.22 (a checkpoint before the transaction, a reopen after it: see
``_transaction``). Reads use one connection per thread, so the server's thread pool reads
concurrently (Ladybug gives each read its own snapshot, also while a write is open).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import ladybug as lb
import pyarrow as pa
import pyarrow.compute as pc

from talentgraph.config import auto_graph_memory_mb
from talentgraph.errors import BadQueryError, StoreError
from talentgraph.graph import cypher
from talentgraph.graph.base import CheckedRel, CypherGraphStore, Row, RowsByEnds, scan_limit
from talentgraph.graph.common import chunks
from talentgraph.graph.ladybug import lookups, scans
from talentgraph.graph.ladybug.bulk import ARROW_TYPES, arrow_rows, copy_from_arrow
from talentgraph.graph.ladybug.lock import ProcessLock
from talentgraph.graph.port import GraphCapabilities, NodeScan, RelScan
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, RelType
from talentgraph.types import Direction, Relationship

log = logging.getLogger(__name__)

DB_FILE = "graph.lbdb"
LOCK_FILE = ".lock"
# Below this many new rows UNWIND … MERGE is fast enough (~1.8k rows/s) and avoids building Arrow
# tables; above it COPY from Arrow (~250k rows/s) wins by two orders of magnitude.
COPY_THRESHOLD = 200
# The page cache when none is given (Settings.graph_memory_mb: a quarter of the memory, 1 to 16 GiB).
DEFAULT_BUFFER_POOL_MB = auto_graph_memory_mb()
# Results of at least this many rows are handed over as Arrow by _read_many (measured crossover ~30).
ARROW_FROM = 32
# Ids per IN-list: keeps parameter lists (and Ladybug's hash joins) small on very large batches.
ID_CHUNK = 5000
# Ids per relationship lookup while writing (``_existing_rels``): Ladybug answers one by scanning the relationship
# table, whatever the number of ids (900k LIVES_IN: 0.17 s for 5,000 ids or 20,000, 0.35 s for 100,000), so the ids
# of a batch go in few statements rather than one per ``ID_CHUNK`` (a 1M ingest's batches grew 1.5 -> 7.7 s so).
REL_LOOKUP_IDS = 100_000
# A snapshot scan widens its offset window (x4 a time) over deleted or relationship-less stretches, up to this.
MAX_SCAN_WINDOW = 1 << 20
# ``links`` for this many ids or more asks by their offset window when it is at most LINK_WINDOW_SPREAD times as wide
# as the ids are many (``_link_columns``).
LINK_WINDOW_MIN = 1_000
LINK_WINDOW_SPREAD = 2
# Offsets (and rows) a snapshot scan reads at least in one query, kept for the pages that follow: a window
# costs the engine about a column scan of the whole table however narrow it is (225k residents, the admin's
# 25 columns: 0.36 s for 1,000 offsets, 0.38 s for 10,000, 0.7 s for 65,536 — 18.5 MB of Arrow), so pages of
# 10,000 read one window in six. READ_AHEAD_KEPT windows are kept (several streams at once), each while no
# write began.
READ_AHEAD = 1 << 16
READ_AHEAD_KEPT = 4

T = TypeVar("T")
QUERY_FAILED_HINT = ("This is a bug in talentgraph or a damaged database; the query and the engine's message are "
                     "chained to this error and logged at debug level.")


class SharedLock:
    """Many holders in ``shared()`` or one in ``exclusive()``; a waiting exclusive holder goes first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def _category(exc: Exception) -> str:
    """'Binder exception' of 'Binder exception: Table X does not exist.': the kind, never the text."""
    head = str(exc).split(":", 1)[0].strip()
    return head if head.lower().endswith(("exception", "error")) and len(head) < 40 else type(exc).__name__


def _rows(result: lb.QueryResult) -> list[Row]:
    names = result.get_column_names()
    return [dict(zip(names, values)) for values in result.get_all()]


def _arrow(result: lb.QueryResult) -> pa.Table:
    # Sized to the result: the binding's default chunk is ~10M values / columns, allocated up front (one
    # resident by id with every column: 17.8 ms that way, 0.6 ms sized).
    return result.get_as_arrow(max(result.get_num_tuples(), 1))


def _many_rows(result: lb.QueryResult) -> list[Row]:
    # Arrow pays a fixed cost per result: below ARROW_FROM rows, value by value is faster (residents by id with
    # every column: 1 row 1.0 vs 0.5 ms, 50 rows 2.1 vs 2.4 ms, 1,000 rows 33 vs 41 ms).
    if result.get_num_tuples() < ARROW_FROM:
        return _rows(result)
    rows: list[Row] = _arrow(result).to_pylist()
    return rows


class LadybugGraphStore(CypherGraphStore[lb.Connection]):
    capabilities = GraphCapabilities(name="ladybug", bulk_copy=True, single_writer_process=True,
                                     edges_per_far_type=True, count_in_page=False)

    def __init__(self, path: Path, ontology: Ontology = ONTOLOGY, *, copy_threshold: int = COPY_THRESHOLD,
                 buffer_pool_mb: int = DEFAULT_BUFFER_POOL_MB) -> None:
        super().__init__(ontology, cypher.LADYBUG, ID_CHUNK)
        self.path = Path(path)
        self._buffer_pool = buffer_pool_mb * 1024 * 1024
        self.copy_threshold = copy_threshold
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = ProcessLock(self.path / LOCK_FILE)
        try:
            self._db = self._open()
            self._writer = lb.Connection(self._db)
        except Exception as exc:
            self._lock.release()
            raise StoreError(f"Could not open the LadybugDB database at {self.path / DB_FILE}: {exc}",
                             hint="Check the directory is writable and was created by this talentgraph version.") from exc
        self._write_lock = threading.RLock()
        self._checkpoints = SharedLock()
        self._local = threading.local()
        self._readers: list[lb.Connection] = []
        self._readers_lock = threading.Lock()
        self._columns: dict[str, list[tuple[str, str]]] = {}  # table -> [(column, Ladybug type)] in stored order
        self._seq: int | None = None
        # The committed head, read without the write lock: ``_seq`` runs ahead of it inside a write
        # transaction, and the lock is held for the whole of one (and for a checkpoint), seconds at scale.
        self._head: int | None = None
        self._closed = False
        # Bumped when the database handle is reopened; thread-local read connections of an older
        # generation are replaced on next use.
        self._generation = 0
        self._copied_in_tx = False
        # True while the WAL may hold committed changes not yet checkpointed (see _transaction).
        self._wal_dirty = True
        # Set once the data directory turned out to be deleted or replaced under this process (``_home``).
        self._displaced = False
        # Bumped when a write transaction begins and when it ends: a snapshot scan's read-ahead window read
        # at one count is what the tables hold while the count is unchanged (``_scan_window``).
        self._writes = 0
        self._ahead: OrderedDict[tuple[str, int], _Ahead] = OrderedDict()
        self._tops: dict[str, tuple[int, int | None]] = {}
        # ``links``' last offset window: (writes, type, ids) → [lo, hi) or None (``_link_span``).
        self._last_span: tuple[tuple[int, str, tuple[str, ...]], tuple[int, int] | None] | None = None
        # The last page ``scan_nodes`` read: (writes then, type, its ids, [lo, hi) of their offsets). A first sync asks
        # ``links`` for that page's nodes next, whose window it then knows without asking the engine (``_link_span``).
        self._scanned: tuple[int, str, frozenset[str], int, int] | None = None
        self._per_offset: dict[str, float] = {}  # rows per offset a relationship window query last read
        self._ahead_lock = threading.Lock()

    # --- primitives -----------------------------------------------------------------------------

    def _reader(self) -> lb.Connection:
        if self._closed:
            raise StoreError(f"The graph store at {self.path} is closed.", hint="Open a new LadybugGraphStore.")
        conn: lb.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", -1) != self._generation:
            conn = lb.Connection(self._db)
            self._local.conn = conn
            self._local.generation = self._generation
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _execute(self, tx: lb.Connection, text: str, params: Mapping[str, Any] | None,
                 convert: Callable[[lb.QueryResult], T]) -> T:
        """One statement on ``tx``, its result handed over by ``convert``; engine errors as StoreError."""
        try:
            result = tx.execute(text, dict(params or {}))
            assert not isinstance(result, list)  # one statement per call
            out = convert(result)
            result.close()
            return out
        except Exception as exc:
            # The engine's message quotes the query (and values in it): the log gets it, the error does not.
            log.debug("LadybugDB failed on `%s`: %s", text, exc)
            raise self._query_failed(exc) from exc

    def _run(self, tx: lb.Connection, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._execute(tx, text, params, _rows)

    def _run_many(self, tx: lb.Connection, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._execute(tx, text, params, _many_rows)

    def _query_failed(self, exc: Exception) -> StoreError:
        kind = _category(exc)
        if "buffer pool is full" in str(exc).lower():
            mb = self._buffer_pool // (1024 * 1024)
            return StoreError(f"LadybugDB ran out of page cache running a query ({kind}; {mb} MiB).",
                              hint=f"Give the embedded graph more memory: TALENTGRAPH_GRAPH_MEMORY_MB={2 * mb} (or "
                                   f"--graph-memory-mb {2 * mb}); about 2048 MiB per million residents.")
        return StoreError(f"LadybugDB failed running a query ({kind}).", hint=QUERY_FAILED_HINT)

    def _read(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self._checkpoints.shared():
            return self._run(self._reader(), text, params)

    def _read_many(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self._checkpoints.shared():
            return self._run_many(self._reader(), text, params)  # a closed store says so itself

    def _read_arrow(self, text: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        # Arrow, not get_all(): the Python binding converts value by value (224,888 residents' four columns:
        # 3.5 s by get_all, 0.35 s as Arrow).
        with self._checkpoints.shared():
            return self._execute(self._reader(), text, params, _arrow)  # a closed store says so itself

    def _write(self, doing: str, work: Callable[..., T], *args: Any) -> T:
        # Engine errors already name their statement; ``doing`` is for engines that fail as a whole.
        with self._transaction() as conn:
            return work(conn, *args)

    @contextmanager
    def _transaction(self) -> Iterator[lb.Connection]:
        """One explicit write transaction; the seq counter is restored if it rolls back."""
        with self._write_lock:
            if self._closed:
                raise StoreError(f"The graph store at {self.path} is closed.", hint="Open a new LadybugGraphStore.")
            self._check_home()
            self._ensure_seq()
            seq_before = self._seq
            self._copied_in_tx = False
            if self._wal_dirty:
                # LadybugDB 0.22 crashes the process (SIGSEGV on close, or on the next COPY) when a
                # transaction that ran a COPY rolls back while the WAL still holds earlier committed
                # changes; with a checkpointed WAL the rollback and the reopen below are clean. So
                # every write transaction starts from a checkpoint.
                # A CHECKPOINT while another thread reads crashes LadybugDB 0.22 too (SIGSEGV, found by the
                # change-feed tests reading beside a writer): it waits for running reads, and holds new ones.
                with self._checkpoints.exclusive():
                    self._run(self._writer, "CHECKPOINT")
                self._wal_dirty = False
            self._writes += 1
            self._run(self._writer, "BEGIN TRANSACTION")
            try:
                yield self._writer
                # Again at the end: a batch runs for seconds, and COMMIT opens the log by its path.
                self._check_home()
                self._run(self._writer, "COMMIT")
                self._head = self._seq
                self._wal_dirty = True
            except BaseException:
                self._seq = seq_before
                try:
                    self._writer.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - a failed COPY has already rolled the transaction back
                    pass
                if self._copied_in_tx and not self._displaced:
                    # LadybugDB 0.22: rolling back a COPY into a non-empty table leaves the in-memory
                    # state corrupt (the next COPY aborts the process). Nothing of the transaction was
                    # committed, so reopening the database from disk is the safe way on. (A displaced
                    # store reopens nothing: the path holds another database, and it writes no more.)
                    self._reopen()
                raise
            finally:
                self._writes += 1

    def settle(self) -> None:
        """Checkpoint what was committed on a thread now, rather than at the start of the next write
        transaction.

        A checkpoint rewrites what the transactions since the last one touched (appending 5,000 people to
        a 45,000-row table: 1.3–1.7 s, against 0.2 s for the COPY itself), and LadybugDB lets go of the
        GIL meanwhile: an ingest builds the next job's rows while it runs. Reads wait for it (a read beside
        a checkpoint crashes 0.22), so only callers about to do something else ask for it. The next write
        transaction still starts from a checkpoint: it takes the write lock, so it waits for this one or,
        should it come first, checkpoints itself as before (``_wal_dirty``)."""
        if self._wal_dirty and not self._closed:
            threading.Thread(target=self._checkpoint_if_dirty, name="ladybug-checkpoint", daemon=True).start()

    def _checkpoint_if_dirty(self) -> None:
        try:
            with self._write_lock:
                if self._closed or not self._wal_dirty or not self._home():
                    return
                with self._checkpoints.exclusive():
                    self._run(self._writer, "CHECKPOINT")
                self._wal_dirty = False
        except Exception:  # the next write transaction checkpoints (and reports) as it always did
            log.warning("Background checkpoint of %s failed; the next write checkpoints first.", self.path,
                        exc_info=True)

    def _home(self) -> bool:
        """Whether the data directory is still the one this process opened (``lock.py``). LadybugDB names its
        write-ahead log by path: once another process has made a database at that path, a checkpoint here
        would rename or remove that database's log, so a displaced store writes and checkpoints no more."""
        if self._lock.held() or self._closed:  # a closed store says so itself, where it is used
            return True
        if not self._displaced:
            self._displaced = True
            log.error("The graph database directory %s was deleted or replaced while this process had it open; "
                      "it writes there no more. Restart the process.", self.path)
        return False

    def _check_home(self) -> None:
        if not self._home():
            raise StoreError(
                f"The graph database directory {self.path} was deleted or replaced while this process "
                f"(pid {os.getpid()}) had it open, so it writes there no more: another database may be there now.",
                hint="Restart this process (a `talentgraph serve` left running, say) on the data directory you "
                     "mean; what it wrote before the directory went is not in the one there now.")

    def _allocate_seqs(self, tx: lb.Connection, n: int) -> int:
        # One writer process (the lock file) and one writer thread (_write_lock): a counter in
        # memory is enough, and _transaction puts it back when the transaction rolls back.
        assert self._seq is not None
        first = self._seq + 1
        self._seq += n
        return first

    def last_seq(self) -> int:
        # Not behind the write lock: /health, a scoped role's every request and the change feed ask
        # for the head, and an open write transaction (an admin ingest's batch) or a checkpoint holds
        # that lock for seconds. What it has not committed is not the head yet.
        # A displaced store's head is that of a database gone from its path: /health answers 503 with it.
        self._check_home()
        head = self._head
        if head is not None:
            return head
        with self._write_lock:
            self._ensure_seq()
            assert self._head is not None
            return self._head

    def _ensure_seq(self) -> None:
        if self._seq is None:
            rows = self._run(self._writer, cypher.max_seq())
            self._seq = self._head = int(rows[0]["seq"] or 0) if rows else 0

    # --- schema ---------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        with self._write_lock:
            self._check_home()
            for statement in self.dialect.schema(self.ontology):
                self._run(self._writer, statement)
            tables: list[tuple[str, Sequence[Any]]] = [
                *((n.name, cypher.node_columns(n)) for n in self.ontology.node_types),
                *((r.name, cypher.rel_columns(r)) for r in self.ontology.rel_types),
                (cypher.CHANGE_LOG, cypher.CHANGE_LOG_COLUMNS),
            ]
            for table, wanted in tables:
                stored = self._table_columns(table)
                # Tables made by an older ontology lack its new properties: add them as nullable columns.
                for prop in wanted:
                    if prop.name not in {name for name, _ in stored}:
                        self._run(self._writer, cypher.LADYBUG.add_column(table, prop))
                self._columns[table] = self._table_columns(table)
            self._seq = None
            self._ensure_seq()

    def _table_columns(self, table: str) -> list[tuple[str, str]]:
        # table_info takes a string literal, not a parameter; ``table`` is an ontology-checked identifier.
        rows = self._run(self._writer, f"CALL table_info('{table}') RETURN *")
        return [(r["name"], r["type"]) for r in sorted(rows, key=lambda r: r["property id"])]

    # --- bulk path: COPY from Arrow for large batches of new rows -------------------------------

    def _copy(self, conn: lb.Connection, table: str, rows: pa.Table, options: str = "") -> None:
        self._copied_in_tx = True
        try:
            copy_from_arrow(conn, cypher.q(table), rows, options)
        except Exception as exc:
            raise StoreError(f"LadybugDB failed to bulk-load {rows.num_rows} rows into {table}: {exc}",
                             hint="This is a bug in talentgraph or a damaged database; the error is chained.") from exc

    def _arrow(self, table: str, rows: Sequence[Row], lead: Sequence[tuple[str, Sequence[Any]]] = ()) -> pa.Table:
        """An Arrow table in the stored column order (COPY maps columns by position, not name)."""
        if table not in self._columns:
            self._columns[table] = self._table_columns(table)
        columns: list[tuple[str, pa.DataType]] = []
        for name, db_type in self._columns[table]:
            arrow_type = ARROW_TYPES.get(db_type)
            if arrow_type is None:
                raise StoreError(f"Column {table}.{name} has type {db_type}, which talentgraph cannot bulk-load.",
                                 hint="Rebuild the graph directory with this talentgraph version.")
            columns.append((name, arrow_type))
        return arrow_rows(columns, rows, lead)

    def _store_nodes(self, tx: lb.Connection, node_type: NodeType, new: list[Row], changed: list[Row],
                     columns: Collection[str] | None = None) -> None:
        if len(new) >= self.copy_threshold:
            self._copy(tx, node_type.name, self._arrow(node_type.name, new))
            new = []
        super()._store_nodes(tx, node_type, new, changed, columns)

    def _store_rels(self, tx: lb.Connection, rel_type: RelType, new: RowsByEnds, changed: RowsByEnds) -> None:
        small: RowsByEnds = {}
        for (f, t), rows in new.items():
            if len(rows) >= self.copy_threshold:
                table = self._arrow(rel_type.name, rows, lead=(("from", [r["from_id"] for r in rows]),
                                                                ("to", [r["to_id"] for r in rows])))
                options = f"(from='{self.ontology.node(f).name}', to='{self.ontology.node(t).name}')"
                self._copy(tx, rel_type.name, table, options)
            else:
                small[(f, t)] = rows
        super()._store_rels(tx, rel_type, small, changed)

    def _insert_changes(self, tx: lb.Connection, changes: list[Row]) -> None:
        if len(changes) >= self.copy_threshold:
            self._copy(tx, cypher.CHANGE_LOG, self._arrow(cypher.CHANGE_LOG, changes))
        else:
            super()._insert_changes(tx, changes)

    # --- lookups while writing ------------------------------------------------------------------

    def _may_hold_nodes(self, tx: lb.Connection, type_name: str) -> bool:
        return bool(self._run(tx, lookups.any_node(self.ontology, type_name)))

    def _existing_rels(self, tx: lb.Connection, rel_type: str, group: Sequence[CheckedRel]) -> dict[str, Row]:
        if not self._run(tx, lookups.any_rel(self.ontology, rel_type)):
            return {}  # first load of this table: nothing to compare against
        return self._rels_from_starts(tx, rel_type, group, REL_LOOKUP_IDS)

    def _link_columns(self, ids: list[str], rel_type: str, direction: Direction, parent_type: str,
                      other_type: str, far_prop: str | None) -> tuple[list[Any], list[Any], list[Any]]:
        # ``UNWIND $ids … MATCH`` over a relationship costs Ladybug a scan of its table (20,000 residents' LIVES_IN
        # among 900k: 0.22 s), a window of start-node offsets a walk of their adjacency (0.04 s, and 0.05 s to
        # find the offsets). A first sync asks for the nodes of one scan window at a time: when the ids sit in a
        # window not much wider than themselves, it is asked by the window (rows of other nodes in it are dropped
        # by ``links``).
        span = self._link_span(parent_type, ids) if len(ids) >= LINK_WINDOW_MIN else None
        if span is not None:
            text = cypher.links(self.dialect, self.ontology, rel_type, direction, parent_type, other_type, far_prop,
                                window=True)
            return _columns(self._read_arrow(text, {"lo": span[0], "hi": span[1]}))
        text = cypher.links(self.dialect, self.ontology, rel_type, direction, parent_type, other_type, far_prop)
        return _columns(self._read_arrow(text, {"ids": ids}))

    def _link_span(self, parent_type: str, ids: list[str]) -> tuple[int, int] | None:
        """[lo, hi) of the ids' offsets when at most LINK_WINDOW_SPREAD times as wide as they are many, else None.
        Kept until the next write: a sync's derived fields ask for the same chunk once per relationship they follow
        (offsets never move, but an id absent now may be written later, anywhere)."""
        scanned = self._scanned
        if scanned is not None and scanned[:2] == (self._writes, parent_type) and scanned[2].issuperset(ids):
            lo, hi = scanned[3], scanned[4]  # the page's window holds every one of them: no lookup of each id
            return (lo, hi) if hi - lo <= LINK_WINDOW_SPREAD * len(ids) else None
        key = (self._writes, parent_type, tuple(ids))
        last = self._last_span
        if last is not None and last[0] == key:
            return last[1]
        pos = self._read_arrow(scans.offsets_of(self.ontology, parent_type), {"ids": ids}).column("pos")
        span: tuple[int, int] | None = None
        if len(pos):
            lo, hi = _bounds(pos)
            span = (lo, hi) if hi - lo <= LINK_WINDOW_SPREAD * len(pos) else None
        self._last_span = (key, span)
        return span

    # --- snapshot scans by internal offset (scans.py says why) -----------------------------------

    def scan_nodes(self, type_name: str, after: str | None, limit: int, *,
                   fields: Sequence[str] | None = None) -> NodeScan:
        nt = self.ontology.node(type_name)
        limit = scan_limit(limit)
        text = scans.node_window(self.ontology, nt.name, fields)
        names = scans.node_fields(nt, fields)
        lo = _offset(after) + 1 if after is not None else 0
        top = self._top_offset(nt.name)
        width = limit
        while top is not None and lo <= top:
            table = self._scan_window(text, lo, lo + width, ("pos",), per_offset=1.0)
            if table.num_rows:
                end = lo + width - 1  # the last offset this window covered
                if table.num_rows > limit:  # a widened window found more than asked for: stop at the limit
                    table = table.slice(0, limit)
                    end = int(table.column(0)[-1].as_py())
                items = scans.nodes_from_arrow(self.ontology, nt, names, table)
                if items:
                    ids = frozenset(n.id for _, n in items)
                    self._scanned = (self._writes, nt.name, ids, *_bounds(table.column(0)))
                return NodeScan(items, str(end) if end < top else None)
            lo += width  # a stretch of deleted nodes: look further, wider
            width = min(width * 4, MAX_SCAN_WINDOW)
        return NodeScan([], None)

    def scan_relationships(self, rel_type: str, from_type: str, after: str | None, limit: int, *,
                           after_key: str | None = None, fields: Sequence[str] | None = None) -> RelScan:
        rt, ft = self.ontology.rel(rel_type), self.ontology.node(from_type)
        limit = scan_limit(limit)
        if ft.name not in rt.from_types:
            return RelScan([], None)
        inside = after is not None and after_key is not None
        start = _offset(after) if after is not None else -1
        lo = start if inside else start + 1
        top = self._top_offset(ft.name)
        text = scans.rel_window(self.ontology, rt.name, ft.name, fields)
        names = scans.rel_fields(rt, fields)
        width = limit
        found: list[tuple[str, Relationship]] = []
        while top is not None and lo <= top:
            table = self._scan_window(text, lo, lo + width, ("pos", "key"), per_offset=None)
            if inside and lo == start and table.num_rows:  # read before, in the page this one continues
                done = pc.and_(pc.equal(table.column(0), start), pc.less_equal(table.column(1), after_key or ""))
                table = table.filter(pc.invert(pc.fill_null(done, False)))
            found += scans.rels_from_arrow(rt, names, table)
            lo += width
            if len(found) >= limit // 2:
                break
            width = min(width * 4, MAX_SCAN_WINDOW)  # few relationships per start node here: read wider
        more = top is not None and lo <= top
        return RelScan(found, str(lo - 1) if more else None)

    def _scan_window(self, text: str, lo: int, hi: int, order: Sequence[str], per_offset: float | None) -> pa.Table:
        """The rows of a ``scans`` window query with ``lo`` <= offset < ``hi``, sorted by ``order``: sliced from a
        read-ahead window when one read since the last write began holds them, else read and kept with offsets
        for ``READ_AHEAD`` rows at most (at ``per_offset`` rows an offset: 1 for a node table; None: as many as
        the query's last window had, nothing ahead the first time) and ``hi`` at least."""
        if self._closed:
            self._reader()  # says so
        with self._ahead_lock:
            writes = self._writes
            for key in [key for key, kept in self._ahead.items() if kept.writes != writes]:
                del self._ahead[key]  # read before a write: of no use any more
            for key, ahead in self._ahead.items():
                if key[0] == text and ahead.lo <= lo and hi <= ahead.hi:
                    self._ahead.move_to_end(key)
                    break
            else:
                ahead = None
        if ahead is None:
            rate = self._per_offset.get(text) if per_offset is None else per_offset
            end = hi if rate is None else max(hi, lo + min(READ_AHEAD, int(READ_AHEAD / max(rate, 1e-6))))
            table = self._read_arrow(text, {"lo": lo, "hi": end})
            if per_offset is None:
                self._per_offset[text] = table.num_rows / (end - lo)
            table = table.sort_by([(name, "ascending") for name in order]) if table.num_rows else table
            ahead = _Ahead(writes, lo, end, table)
            with self._ahead_lock:
                self._ahead[(text, lo)] = ahead
                self._ahead.move_to_end((text, lo))
                while len(self._ahead) > READ_AHEAD_KEPT:
                    self._ahead.popitem(last=False)
        if ahead.lo == lo and ahead.hi == hi:
            return ahead.table
        pos = ahead.table.column(0)  # sorted: the rows before lo, and those before hi
        first, last = (int(pc.sum(pc.less(pos, bound)).as_py() or 0) for bound in (lo, hi))
        return ahead.table.slice(first, last - first)

    def _top_offset(self, type_name: str) -> int | None:
        if self._closed:
            self._reader()  # says so
        with self._ahead_lock:
            writes = self._writes
            known = self._tops.get(type_name)
        if known is not None and known[0] == writes:
            return known[1]
        found = self._read(scans.last_offset(self.ontology, type_name))[0]["top"]
        top = None if found is None else int(found)
        with self._ahead_lock:
            self._tops[type_name] = (writes, top)
        return top

    # --- lifecycle ------------------------------------------------------------------------------

    def _reopen(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()
        self._db.close()
        self._db = self._open()
        self._writer = lb.Connection(self._db)
        self._generation += 1
        log.warning("Reopened the LadybugDB database at %s after a rolled-back bulk load.", self.path)

    def _open(self) -> lb.Database:
        # No checkpoint inside COMMIT (LadybugDB's default past a 16 MB WAL): every write transaction starts
        # with one anyway (``_transaction``), and ``settle`` runs it in the background where a caller has
        # other work. In COMMIT it cost an ingest ~1–1.5 s for each job adding to a 45k-row table, on the
        # critical path; and the store closes with a checkpoint as before.
        return lb.Database(str(self.path / DB_FILE), buffer_pool_size=self._buffer_pool, auto_checkpoint=False)

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            displaced = not self._home()
            self._closed = True
            with self._readers_lock:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            if displaced:
                # Closing checkpoints, by path: into the database now at that path. Not from here.
                try:
                    self._writer.execute("CALL force_checkpoint_on_close=false")
                except Exception:  # noqa: BLE001 - closing goes on; _home has logged what happened
                    log.warning("Could not turn off the checkpoint on close of %s.", self.path, exc_info=True)
            self._writer.close()
            self._db.close()
            self._lock.release()


class _Ahead(NamedTuple):
    """A read-ahead window: the rows of offsets ``lo`` <= pos < ``hi`` (sorted), read at write count ``writes``."""

    writes: int
    lo: int
    hi: int
    table: pa.Table


def _columns(table: pa.Table) -> tuple[list[Any], list[Any], list[Any]]:
    return table.column("src").to_pylist(), table.column("far").to_pylist(), table.column("value").to_pylist()


def _bounds(offsets: Any) -> tuple[int, int]:
    """[lo, hi) of a non-empty column of node offsets."""
    found = pc.min_max(offsets)
    return int(found["min"].as_py()), int(found["max"].as_py()) + 1


def _offset(position: str) -> int:
    try:
        value = int(position)
    except ValueError:
        value = -1
    if value < 0:
        raise BadQueryError(f"{position[:60]!r} is not a position in a LadybugDB table.",
                            hint="Pass a scan position this store returned (a snapshot cursor of this service).")
    return value


__all__ = ["COPY_THRESHOLD", "LadybugGraphStore"]
