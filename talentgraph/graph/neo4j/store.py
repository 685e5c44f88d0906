"""``GraphStore`` on Neo4j 5 through the official ``neo4j`` driver (5.x or 6.x).

Everything both engines do alike lives in ``graph/base.py``; this module adds what is Neo4j's own:
driver sessions and retried transaction functions, driver errors worded for the operator, the
seq counter node, and leaving nulls out of the rows the driver packs.

Every write call is one managed transaction (``session.execute_write``) holding the data and its
change-log entries, so the log is an outbox: an entry exists exactly when its change committed.
The driver re-runs a transaction function after a transient error (deadlock, leader switch), so
each transaction function (``CypherGraphStore._*_tx``) starts from nothing but its arguments: it reads what is stored, computes
versions and hashes from that, and builds its ``UpsertResult`` afresh on every attempt.

Change-log ``seq`` values come from one counter node. Each write transaction first takes the
counter's write lock (a SET of a constant) and releases it at commit, so writers in any number of
processes serialise: versions are computed from committed data, seqs are allocated without gaps,
and commit order equals seq order, which lets a reader of ``changes(after_seq)`` never miss an
entry that commits late. Reads run concurrently and never take the counter's lock.

**The settled head.** Reads are read-committed, and a commit is applied record by record: a reader
can see a commit's counter before every change-log entry it wrote (a feed consumer stepped past
four tombstones that way). As writers serialise on the counter, only the newest allocating
transaction can be partly visible, and the counter keeps where its seqs began (``base``: the value
its first allocation found). ``last_seq()`` is the head once every entry in ``(base, value]`` is
visible, waiting a moment for a commit being applied; so a reader of the log up to ``last_seq()``
never steps over an entry that shows up later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
import logging
import time
from contextlib import contextmanager
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Driver, GraphDatabase, ManagedTransaction, Session
from neo4j.exceptions import AuthError, ConfigurationError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from talentgraph.errors import ConfigError, OntologyError, StoreError
from talentgraph.graph import cypher
from talentgraph.graph.base import CypherGraphStore, Row
from talentgraph.graph.neo4j import packing
from talentgraph.graph.neo4j.values import to_native
from talentgraph.graph.port import GraphCapabilities
from talentgraph.schema.ontology import ONTOLOGY, Ontology

log = logging.getLogger(__name__)

# Rows per UNWIND statement (and ids per lookup). On Neo4j 5.26 (2 shared cores) 500, 2,000 and
# 5,000 rows per statement loaded 20k persons at 4.4k, 4.4k and 5.2k rows/s (within noise); the
# client's cost is the driver packing values, not round trips, and larger lists only grow the
# transaction's parameter memory.
BATCH_ROWS = 5000
# Nodes deleted per statement by wipe(): keeps each transaction's state small on large graphs.
WIPE_BATCH = 10_000
# A read retried on transient errors (a busy server, a cluster member going away) for up to this long, as the
# driver retries a managed transaction (its own window is 30 s), waiting 0.05 s, then twice as long, up to 1 s.
READ_RETRY_S = 30.0
READ_RETRY_FIRST_S = 0.05
READ_RETRY_MAX_S = 1.0

SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")

COUNTER = "ChangeLogCounter"
_COUNTER_MATCH = f"(c:{cypher.q(COUNTER)} {{{cypher.q('name')}: 'seq'}})"
COUNTER_CONSTRAINT = (
    f"CREATE CONSTRAINT change_log_counter_name IF NOT EXISTS FOR (c:{cypher.q(COUNTER)}) "
    f"REQUIRE c.{cypher.q('name')} IS UNIQUE"
)
# Any SET takes the node's write lock until commit or rollback (checked on 5.26: also when the value
# does not change). It must not be ``SET c.value = c.value``: the right side is read before the lock
# is granted, so a waiting writer would write back a stale value and reuse seqs (seen in testing).
# ``fresh`` (a constant, so no stale read) marks the transaction's first allocation, which records
# ``base``: where this transaction's seqs begin (see the module docstring).
LOCK_COUNTER = f"MERGE {_COUNTER_MATCH} ON CREATE SET c.value = 0, c.base = 0 SET c.locked = true, c.fresh = true"
ALLOCATE_SEQS = (
    f"MATCH {_COUNTER_MATCH} SET c.base = CASE WHEN c.fresh THEN c.value ELSE coalesce(c.base, c.value) END, "
    f"c.fresh = false, c.value = c.value + $n RETURN c.value AS last"
)
# A transaction that deletes entries without allocating (pruning) must not leave a range that can never
# be complete again; it holds the lock, so this read of c.value is current.
SETTLE_COUNTER = f"MATCH {_COUNTER_MATCH} SET c.base = c.value"
# The head, where the newest allocating transaction began, and how many of its entries are visible.
READ_COUNTER = (
    f"OPTIONAL MATCH {_COUNTER_MATCH} "
    f"WITH coalesce(c.value, 0) AS head, coalesce(c.base, c.value, 0) AS base "
    f"OPTIONAL MATCH (x:{cypher.q(cypher.CHANGE_LOG)}) WHERE x.{cypher.q('seq')} > base AND x.{cypher.q('seq')} <= head "
    f"RETURN head, base, count(x) AS seen"
)
# For a log written before the counter existed (or after someone removed it): start above the log.
INIT_COUNTER = (
    f"OPTIONAL MATCH (x:{cypher.q(cypher.CHANGE_LOG)}) WITH max(x.{cypher.q('seq')}) AS top "
    f"MERGE {_COUNTER_MATCH} ON CREATE SET c.value = coalesce(top, 0), c.base = coalesce(top, 0)"
)
# How long last_seq() waits for a commit being applied to become wholly visible (it takes milliseconds),
# polling every SETTLE_POLL seconds; after that it answers the head before that commit.
SETTLE_WAIT = 2.0
SETTLE_POLL = 0.002

T = TypeVar("T")


class Neo4jGraphStore(CypherGraphStore[ManagedTransaction]):
    capabilities = GraphCapabilities(name="neo4j", bulk_copy=False, single_writer_process=False)

    def __init__(
        self,
        url: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        ontology: Ontology = ONTOLOGY,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        if not url.startswith(SCHEMES):
            # Driver 6 would also take http:// (its Query API, a preview); talentgraph speaks Bolt only.
            raise ConfigError(f"Graph URL {url!r} is not a Neo4j Bolt URL.",
                              hint="Use bolt://host:7687 or neo4j://host:7687 (TALENTGRAPH_GRAPH_URL).")
        super().__init__(ontology, cypher.NEO4J, batch_rows)
        self.url = url
        self.user = user
        self.database = database
        self.pack_rows = packing.PACK_ROWS  # rows per Bolt record of a bulk read (``_read_many``)
        self._closed = False
        # No password means a server with auth disabled; sending a basic token would then be refused.
        auth = (user, password) if password else None
        try:
            with self._driver_errors("connecting"):
                # Server notifications (e.g. "property key does not exist" on an empty graph) would be
                # logged as warnings on every query; the option exists from driver 5.7 on.
                try:
                    self._driver: Driver = GraphDatabase.driver(url, auth=auth, notifications_min_severity="OFF")
                except ConfigurationError:
                    self._driver = GraphDatabase.driver(url, auth=auth)
        except ValueError as exc:  # a malformed URL (e.g. a query string) fails here ...
            raise _bad_url(url, exc) from exc
        try:
            with self._driver_errors("connecting"):
                self._driver.verify_connectivity()
        except ValueError as exc:  # ... a bad port only when the address is resolved
            self._driver.close()
            raise _bad_url(url, exc) from exc
        except StoreError:
            self._driver.close()
            raise

    # --- primitives -------------------------------------------------------------------------------

    @contextmanager
    def _driver_errors(self, doing: str) -> Iterator[None]:
        """Driver exceptions as StoreError naming the server, what was being done and the fix."""
        where = f"Neo4j at {self.url} (database {self.database!r})"
        try:
            yield
        except AuthError as exc:
            raise StoreError(f"{where} refused user {self.user!r} while {doing}: {exc}",
                             hint="Check TALENTGRAPH_GRAPH_USER / TALENTGRAPH_GRAPH_PASSWORD; services/up writes "
                                  "the ones it set to .services/state.env.") from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreError(f"{where} is unreachable while {doing}: {exc}",
                             hint="Is Neo4j running? services/up starts one and writes its URL to "
                                  ".services/state.env; check TALENTGRAPH_GRAPH_URL.") from exc
        except Neo4jError as exc:
            if exc.is_retryable():
                raise StoreError(f"{where} kept failing with a transient error while {doing}: {exc}",
                                 hint="The driver retried for its whole retry window (deadlocks or a busy "
                                      "server); retry the call, or write smaller batches.") from exc
            if (exc.code or "").endswith("DatabaseNotFound"):
                raise StoreError(f"{where} has no such database while {doing}: {exc}",
                                 hint="Set TALENTGRAPH_GRAPH_DATABASE to an existing database (Neo4j "
                                      "Community has only 'neo4j').") from exc
            raise StoreError(f"{where} failed while {doing}: {exc}",
                             hint="This is a bug in talentgraph or a damaged database; the error is chained.") from exc
        except DriverError as exc:
            raise StoreError(f"{where}: the driver failed while {doing}: {exc}",
                             hint="Is Neo4j running and reachable at that URL? services/up starts one.") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"The graph store for {self.url} is closed.", hint="Open a new Neo4jGraphStore.")

    def _write(self, doing: str, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(tx, *args)`` as one managed write transaction (retried on transient errors)."""
        self._check_open()
        with self._driver_errors(doing), self._driver.session(database=self.database) as session:
            return session.execute_write(work, *args)

    def _run(self, tx: ManagedTransaction, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return _records(tx, text, params)

    def _read(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """One read as an auto-commit statement in a read session, retried on transient errors.

        ``execute_read`` wraps it in an explicit transaction: BEGIN, the statement, then COMMIT a
        round trip of its own, ~0.4 ms more per read on loopback (measured, driver 6.4: 1.20 against
        0.78 ms p50 for one person by id), paid by every GraphQL request. A read has nothing to
        commit, and retrying it is safe: it is retried as the driver would retry the transaction.
        """
        return self._read_with(_records, text, params)

    def _read_many(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """``_read``, its rows sent ``pack_rows`` to a Bolt record (``packing``)."""
        return self._read_with(self._run_many, text, params)

    def _run_many(self, tx: ManagedTransaction | Session, text: str,
                  params: Mapping[str, Any] | None = None) -> list[Row]:
        wrapped = packing.packed(text)
        if wrapped is None:
            return _records(tx, text, params)
        return _packed_records(tx, text, params, *wrapped, self.pack_rows)

    def _read_with(self, records: Callable[[Session, str, Mapping[str, Any] | None], list[Row]], text: str,
                   params: Mapping[str, Any] | None) -> list[Row]:
        self._check_open()
        deadline = time.monotonic() + READ_RETRY_S
        delay = READ_RETRY_FIRST_S
        with self._driver_errors("reading the graph"):
            while True:
                try:
                    with self._driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                        return records(session, text, params)
                except (ServiceUnavailable, SessionExpired, Neo4jError) as exc:
                    retryable = not isinstance(exc, Neo4jError) or exc.is_retryable()
                    if not retryable or time.monotonic() + delay > deadline:
                        raise
                    log.debug("Neo4j read failed with a transient error, retrying in %.2f s: %s", delay, exc)
                    time.sleep(delay)
                    delay = min(delay * 2, READ_RETRY_MAX_S)

    # --- schema ---------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Constraints and indexes derived from the ontology, then the seq counter; idempotent."""
        if COUNTER in self.ontology.node_names:
            raise OntologyError(f"Node type {COUNTER!r} clashes with the Neo4j change-log counter.",
                                hint="Rename the node type in schema/ontology.py.")
        self._check_open()
        with self._driver_errors("creating the schema"), self._driver.session(database=self.database) as session:
            # Schema statements cannot share a transaction with data writes: each runs on its own.
            for statement in [*self.dialect.schema(self.ontology), COUNTER_CONSTRAINT]:
                session.run(statement).consume()
            session.run("CALL db.awaitIndexes(300)").consume()
            session.execute_write(_records, INIT_COUNTER, None)

    # --- change log -----------------------------------------------------------------------------

    def _lock_writers(self, tx: ManagedTransaction) -> None:
        _records(tx, LOCK_COUNTER)

    def _allocate_seqs(self, tx: ManagedTransaction, n: int) -> int:
        # The counter is locked since the transaction began (_lock_writers), so this cannot interleave.
        return int(_records(tx, ALLOCATE_SEQS, {"n": n})[0]["last"]) - n + 1

    def _insert_changes(self, tx: ManagedTransaction, changes: list[Row]) -> None:
        for change in changes:
            if change["from_id"] is None:  # node changes: fewer values for the driver to pack
                del change["from_id"], change["to_id"]
        super()._insert_changes(tx, changes)

    def _prune_tx(self, tx: ManagedTransaction, seqs: list[int]) -> int:
        pruned = super()._prune_tx(tx, seqs)
        _records(tx, SETTLE_COUNTER)
        return pruned

    def last_seq(self) -> int:
        """The settled head: every change-log entry up to it is visible (see the module docstring)."""
        deadline = time.monotonic() + SETTLE_WAIT
        while True:
            row = self._read(READ_COUNTER)[0]
            head, base, seen = int(row["head"]), int(row["base"]), int(row["seen"])
            if seen >= head - base:
                return head
            if time.monotonic() >= deadline:
                log.warning("Change-log entries %d..%d are still not all visible after %.1f s; reading up to %d.",
                            base + 1, head, SETTLE_WAIT, base)
                return base
            time.sleep(SETTLE_POLL)

    def _readable_head(self) -> int | None:
        # An entry of a commit still being applied would otherwise be stepped over by a reader that
        # takes the newest seq it read as its cursor.
        return self.last_seq()

    # --- writes ---------------------------------------------------------------------------------

    def _engine_row(self, row: Row) -> Row:
        # ``r.x`` of a missing key is null in Cypher, so ``SET n.x = r.x`` still removes the property,
        # and the driver packs every value it sends in Python (most properties of a record are null).
        return {k: v for k, v in row.items() if v is not None}

    # --- lifecycle ------------------------------------------------------------------------------

    def wipe(self) -> None:
        """DESTRUCTIVE: delete every talentgraph node and relationship, the change log and its counter.

        For tests and benchmarks. Only labels talentgraph writes (the ontology's node types, the
        change log and the counter) are touched; constraints and indexes stay. Runs in batches of
        ``WIPE_BATCH`` nodes per transaction, so it is not atomic.
        """
        labels = [*self.ontology.node_names, cypher.CHANGE_LOG, COUNTER]
        for label in labels:
            text = f"MATCH (n:{cypher.q(label)}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted"
            while self._write(f"wiping {label}", _records, text, {"batch": WIPE_BATCH})[0]["deleted"]:
                pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._driver.close()


class _Unlogged(list[Any]):
    """A list parameter as sent (PackStream packs a list subclass as the list it is), shown by its length.

    The driver (neo4j 6.4) formats every RUN's parameters for a debug message before it asks whether
    debug is on: the ``repr`` of a 5,000-row batch, for every statement of it, was ~1 s of CPU in a
    50k-resident ingest (two alternating pairs: user CPU 32.5 / 33.3 against 31.6 / 31.4 s with the
    format skipped). And a debug log of the driver would otherwise hold the residents' rows."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} values>"


def _sent(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _Unlogged(v) if type(v) is list else v for k, v in (params or {}).items()}


def _records(tx: ManagedTransaction | Session, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
    """Rows of one statement as plain dicts, consumed inside the transaction.

    Non-retryable server errors become StoreError naming the statement; retryable ones (and
    connection errors) pass through unchanged so the driver can retry the whole transaction.
    """
    with _statement_errors(text):
        result = tx.run(text, _sent(params))
        keys = result.keys()  # the same for every record of a result; a record is a tuple of its values
        return [{k: to_native(v) for k, v in zip(keys, record)} for record in result]


def _packed_records(tx: ManagedTransaction | Session, text: str, params: Mapping[str, Any] | None,
                    wrapped: str, columns: tuple[str, ...], pack: int) -> list[Row]:
    """``_records`` of ``text`` read as ``wrapped`` (``packing.packed``): each record a list of rows' values."""
    with _statement_errors(text):
        result = tx.run(wrapped, {**_sent(params), packing.PACK_PARAM: pack})
        return [{k: to_native(v) for k, v in zip(columns, row)} for record in result for row in record[0]]


@contextmanager
def _statement_errors(text: str) -> Iterator[None]:
    try:
        yield
    except Neo4jError as exc:
        if exc.is_retryable() or isinstance(exc, AuthError) or (exc.code or "").endswith("DatabaseNotFound"):
            raise  # the driver (or ``_read``) retries these, or _driver_errors explains them
        # The server's message may quote the query (and values in it): the log gets it, the error does not.
        log.debug("Neo4j failed on `%s`: %s", text, exc)
        raise StoreError(f"Neo4j failed running a query ({exc.code or type(exc).__name__}).",
                         hint="This is a bug in talentgraph or a damaged database; the query and the server's "
                              "message are chained to this error and logged at debug level.") from exc


def _bad_url(url: str, exc: ValueError) -> ConfigError:
    return ConfigError(f"Graph URL {url!r} is not a valid Neo4j URL: {exc}",
                       hint="Use bolt://host:7687 or neo4j://host:7687 (TALENTGRAPH_GRAPH_URL).")


__all__ = ["BATCH_ROWS", "Neo4jGraphStore"]
