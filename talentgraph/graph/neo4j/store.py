"""``GraphStore`` on Neo4j 5 through the official ``neo4j`` driver (5.x or 6.x).

Every write call is one managed transaction (``session.execute_write``) holding the data and its
change-log entries, so the log is an outbox: an entry exists exactly when its change committed.
The driver re-runs a transaction function after a transient error (deadlock, leader switch), so
each function here starts from nothing but its arguments: it reads what is stored, computes
versions and hashes from that, and builds its ``UpsertResult`` afresh on every attempt.

Change-log ``seq`` values come from one counter node. Each write transaction first takes the
counter's write lock (a SET of a constant) and releases it at commit, so writers in any number of
processes serialise: versions are computed from committed data, seqs are allocated without gaps,
and commit order equals seq order, which lets a reader of ``changes(after_seq)`` never miss an
entry that commits late. Reads run concurrently and never touch the counter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import AuthError, ConfigurationError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from talentgraph.errors import BadQueryError, ConfigError, NotFoundError, OntologyError, StoreError
from talentgraph.graph import cypher
from talentgraph.graph.common import (
    check_props,
    content_hash,
    edge_from_props,
    node_from_props,
    node_row,
    now_iso,
    parse_rel_key,
    provenance_props,
    rel_row,
)
from talentgraph.graph.neo4j.values import LABEL_KEY, check_storable, to_native
from talentgraph.graph.port import MAX_PATH_HOPS, FacetCount, GraphCapabilities
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.types import (
    Change,
    Direction,
    Edge,
    Filter,
    Node,
    NodeRecord,
    Page,
    Path as GraphPath,
    RelRecord,
    SortKey,
    Subgraph,
    UpsertResult,
)

# Rows per UNWIND statement (and ids per lookup). On Neo4j 5.26 (2 shared cores) 500, 2,000 and
# 5,000 rows per statement loaded 20k persons at 4.4k, 4.4k and 5.2k rows/s (within noise); the
# client's cost is the driver packing values, not round trips, and larger lists only grow the
# transaction's parameter memory.
BATCH_ROWS = 5000
# Nodes deleted per statement by wipe(): keeps each transaction's state small on large graphs.
WIPE_BATCH = 10_000

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
LOCK_COUNTER = f"MERGE {_COUNTER_MATCH} ON CREATE SET c.value = 0 SET c.locked = true"
ALLOCATE_SEQS = f"MATCH {_COUNTER_MATCH} SET c.value = c.value + $n RETURN c.value AS last"
READ_COUNTER = f"OPTIONAL MATCH {_COUNTER_MATCH} RETURN coalesce(c.value, 0) AS seq"
# For a log written before the counter existed (or after someone removed it): start above the log.
INIT_COUNTER = (
    f"OPTIONAL MATCH (x:{cypher.q(cypher.CHANGE_LOG)}) WITH max(x.{cypher.q('seq')}) AS top "
    f"MERGE {_COUNTER_MATCH} ON CREATE SET c.value = coalesce(top, 0)"
)

Row = dict[str, Any]
T = TypeVar("T")


class Neo4jGraphStore:
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
        if batch_rows < 1:
            raise BadQueryError(f"batch_rows is {batch_rows}.", hint="Use 1 or more rows per statement.")
        self.url = url
        self.user = user
        self.database = database
        self.ontology = ontology
        self.dialect = cypher.NEO4J
        self.batch_rows = batch_rows
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

    # --- plumbing -------------------------------------------------------------------------------

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

    def _read(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        self._check_open()
        with self._driver_errors(f"running `{_short(text)}`"), self._driver.session(database=self.database) as session:
            return session.execute_read(_run, text, params)

    def run_read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Hand-written read-only Cypher (benchmarks, diagnostics); rows as plain dicts."""
        return self._read(query, params)

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
            session.execute_write(_run, INIT_COUNTER, None)

    # --- change log -----------------------------------------------------------------------------

    @staticmethod
    def _log(tx: ManagedTransaction, changes: list[Row]) -> None:
        """Allocate seqs from the counter (locked since the transaction began) and write the entries."""
        if not changes:
            return
        last = int(_run(tx, ALLOCATE_SEQS, {"n": len(changes)})[0]["last"])
        first = last - len(changes) + 1
        for offset, change in enumerate(changes):
            change["seq"] = first + offset
            if change["from_id"] is None:  # node changes: fewer values for the driver to pack
                del change["from_id"], change["to_id"]
        text = cypher.insert_changes(cypher.NEO4J)
        for chunk in _chunks(changes, BATCH_ROWS):
            _run(tx, text, {"rows": chunk})

    @staticmethod
    def _change(op: str, kind: str, type_name: str, ident: str, version: int, ts: str,
                from_id: str | None = None, to_id: str | None = None) -> Row:
        return {"seq": 0, "op": op, "kind": kind, "type": type_name, "id": ident, "version": int(version), "ts": ts,
                "from_id": from_id, "to_id": to_id}

    def changes(self, after_seq: int = 0, limit: int = 1000) -> list[Change]:
        text, params = cypher.read_changes(after_seq, limit)
        return [
            Change(seq=r["seq"], op=r["op"], kind=r["kind"], type=r["type"], id=r["id"], version=r["version"],
                   ts=r["ts"], from_id=r["from_id"], to_id=r["to_id"])
            for r in self._read(text, params)
        ]

    def last_seq(self) -> int:
        return int(self._read(READ_COUNTER)[0]["seq"])

    # --- node writes ----------------------------------------------------------------------------

    def upsert_nodes(self, records: Sequence[NodeRecord]) -> UpsertResult:
        latest: dict[str, NodeRecord] = {}
        for rec in records:  # duplicate ids: the last record wins and is reported once
            latest.pop(rec.id, None)
            latest[rec.id] = rec
        rejected: dict[str, str] = {}
        by_type: dict[str, list[NodeRecord]] = defaultdict(list)
        for rec in latest.values():
            reason = self._node_problem(rec)
            if reason:
                rejected[rec.id] = reason
            else:
                by_type[rec.type].append(rec)
        if not by_type:
            return UpsertResult(rejected=rejected)
        result = self._write(f"upserting {sum(map(len, by_type.values()))} nodes", self._upsert_nodes_tx,
                             dict(by_type), now_iso())
        result.rejected.update(rejected)
        return result

    def _upsert_nodes_tx(self, tx: ManagedTransaction, by_type: dict[str, list[NodeRecord]], ts: str) -> UpsertResult:
        _run(tx, LOCK_COUNTER)
        result = UpsertResult()
        changes: list[Row] = []
        for type_name, group in by_type.items():
            nt = self.ontology.node(type_name)
            existing = self._existing_nodes(tx, type_name, [r.id for r in group])
            rows: list[Row] = []
            for rec in group:
                h = content_hash(rec.props)
                old = existing.get(rec.id)
                if old is not None and old["hash"] == h:
                    result.unchanged.append(rec.id)
                    continue
                version = 1 if old is None else int(old["version"] or 0) + 1
                first_seen = (old or {}).get("ingested_at") or (rec.provenance.ingested_at if rec.provenance else ts)
                system = {"version": version, "content_hash": h, "ingested_at": first_seen, "updated_at": ts,
                          **provenance_props(rec.provenance)}
                rows.append(check_storable(nt.name, rec.id, nt.properties, node_row(nt, rec.id, rec.props, system)))
                (result.inserted if old is None else result.updated).append(rec.id)
                changes.append(self._change("upsert", "node", nt.name, rec.id, version, ts))
            text = cypher.upsert_nodes(self.dialect, self.ontology, nt.name)
            for chunk in _chunks(rows, self.batch_rows):
                _run(tx, text, {"rows": chunk})
        self._log(tx, changes)
        return result

    def _node_problem(self, rec: NodeRecord) -> str | None:
        try:
            nt = self.ontology.node(rec.type)
            id_type = self.ontology.type_of_id(rec.id)
        except OntologyError as exc:
            return str(exc)
        if id_type.name != nt.name:
            return (f"Id {rec.id!r} has the prefix of {id_type.name} but the record is a {nt.name}; "
                    f"{nt.name} ids start with '{nt.id_prefix}:'.")
        return check_props(nt, rec.props)

    def _existing_nodes(self, tx: ManagedTransaction, type_name: str, ids: Sequence[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        for chunk in _chunks(list(ids), self.batch_rows):
            text, params = cypher.existing_nodes(self.ontology, type_name, chunk)
            found.update((r["id"], r) for r in _run(tx, text, params))
        return found

    # --- relationship writes --------------------------------------------------------------------

    def upsert_relationships(self, records: Sequence[RelRecord]) -> UpsertResult:
        latest: dict[str, RelRecord] = {}
        for rec in records:
            latest.pop(rec.key, None)
            latest[rec.key] = rec
        rejected: dict[str, str] = {}
        valid: list[tuple[RelRecord, str, str]] = []
        for rec in latest.values():
            try:
                rt = self.ontology.rel(rec.type)
                from_type = self.ontology.type_of_id(rec.from_id).name
                to_type = self.ontology.type_of_id(rec.to_id).name
            except OntologyError as exc:
                rejected[rec.key] = str(exc)
                continue
            if not rt.allows(from_type, to_type):
                rejected[rec.key] = (
                    f"{rt.name} does not connect {from_type} to {to_type}; allowed: "
                    + ", ".join(f"{a}->{b}" for a, b in rt.endpoints) + "."
                )
                continue
            reason = check_props(rt, rec.props)
            if reason:
                rejected[rec.key] = reason
                continue
            valid.append((rec, from_type, to_type))
        if not valid:
            return UpsertResult(rejected=rejected)
        result = self._write(f"upserting {len(valid)} relationships", self._upsert_rels_tx, valid, now_iso())
        result.rejected = {**rejected, **result.rejected}  # endpoint rejections are found inside the transaction
        return result

    def _upsert_rels_tx(self, tx: ManagedTransaction, valid: list[tuple[RelRecord, str, str]], ts: str) -> UpsertResult:
        _run(tx, LOCK_COUNTER)
        result = UpsertResult()
        wanted: dict[str, set[str]] = defaultdict(set)
        for rec, f, t in valid:
            wanted[f].add(rec.from_id)
            wanted[t].add(rec.to_id)
        present = {i for type_name, ids in wanted.items() for i in self._existing_nodes(tx, type_name, sorted(ids))}
        by_type: dict[str, list[tuple[RelRecord, str, str]]] = defaultdict(list)
        for rec, f, t in valid:
            missing = [end for end in (rec.from_id, rec.to_id) if end not in present]
            if missing:
                result.rejected[rec.key] = f"{rec.type} {rec.key}: node {', '.join(missing)} does not exist."
            else:
                by_type[rec.type].append((rec, f, t))
        changes: list[Row] = []
        for rel_type, group in by_type.items():
            rt = self.ontology.rel(rel_type)
            existing = self._existing_rels(tx, rel_type, group)
            rows: dict[tuple[str, str], list[Row]] = defaultdict(list)
            for rec, f, t in group:
                h = content_hash(rec.props)
                old = existing.get(rec.key)
                if old is not None and old["hash"] == h:
                    result.unchanged.append(rec.key)
                    continue
                version = 1 if old is None else int(old["version"] or 0) + 1
                first_seen = (old or {}).get("ingested_at") or (rec.provenance.ingested_at if rec.provenance else ts)
                system = {"key": rec.key, "version": version, "content_hash": h, "ingested_at": first_seen,
                          "updated_at": ts, **provenance_props(rec.provenance)}
                row = {"from_id": rec.from_id, "to_id": rec.to_id, **rel_row(rt, rec.props, system)}
                rows[(f, t)].append(check_storable(rt.name, rec.key, rt.properties, row))
                (result.inserted if old is None else result.updated).append(rec.key)
                changes.append(self._change("upsert", "rel", rt.name, rec.key, version, ts, rec.from_id, rec.to_id))
            for (f, t), pair_rows in rows.items():
                text = cypher.upsert_rels(self.dialect, self.ontology, rt.name, f, t)
                for chunk in _chunks(pair_rows, self.batch_rows):
                    _run(tx, text, {"rows": chunk})
        self._log(tx, changes)
        return result

    def _existing_rels(self, tx: ManagedTransaction, rel_type: str,
                       group: Sequence[tuple[RelRecord, str, str]]) -> dict[str, Row]:
        by_from: dict[str, list[Row]] = defaultdict(list)
        for rec, from_type, _ in group:
            by_from[from_type].append({"from_id": rec.from_id, "key": rec.key})
        found: dict[str, Row] = {}
        for from_type, keys in by_from.items():
            text = cypher.existing_rels(self.ontology, rel_type, from_type)
            for chunk in _chunks(keys, self.batch_rows):
                found.update((r["key"], r) for r in _run(tx, text, {"rows": chunk}))
        return found

    # --- deletes --------------------------------------------------------------------------------

    def delete_nodes(self, ids: Sequence[str]) -> int:
        by_type = self._group_ids(ids)
        if not by_type:
            return 0
        return self._write(f"deleting {len(ids)} nodes", self._delete_nodes_tx, by_type, now_iso())

    def _delete_nodes_tx(self, tx: ManagedTransaction, by_type: dict[str, list[str]], ts: str) -> int:
        _run(tx, LOCK_COUNTER)
        deleted = 0
        changes: list[Row] = []
        rel_seen: set[str] = set()
        for type_name, group in by_type.items():
            existing = self._existing_nodes(tx, type_name, group)
            if not existing:
                continue
            present = sorted(existing)
            for chunk in _chunks(present, self.batch_rows):
                for r in _run(tx, cypher.rels_of_nodes(self.dialect, self.ontology, type_name), {"ids": chunk}):
                    if r["key"] in rel_seen:
                        continue  # a relationship between two deleted nodes is reported once
                    rel_seen.add(r["key"])
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(self._change("delete", "rel", r["type"], r["key"], int(r["version"] or 0) + 1, ts,
                                                from_id, to_id))
            for node_id in present:
                changes.append(self._change("delete", "node", type_name, node_id,
                                            int(existing[node_id]["version"] or 0) + 1, ts))
            for chunk in _chunks(present, self.batch_rows):
                _run(tx, cypher.delete_nodes(self.ontology, type_name), {"ids": chunk})
            deleted += len(present)
        self._log(tx, changes)
        return deleted

    def delete_relationships(self, keys: Sequence[str]) -> int:
        by_type: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            rel_type, from_id, _ = parse_rel_key(key)
            try:
                from_type = self.ontology.type_of_id(from_id).name
            except OntologyError:
                continue  # no node of an unknown type, so no such relationship
            by_type[(self.ontology.rel(rel_type).name, from_type)].append({"from_id": from_id, "key": key})
        if not by_type:
            return 0
        return self._write(f"deleting {len(keys)} relationships", self._delete_rels_tx, dict(by_type), now_iso())

    def _delete_rels_tx(self, tx: ManagedTransaction, by_type: dict[tuple[str, str], list[Row]], ts: str) -> int:
        _run(tx, LOCK_COUNTER)
        deleted = 0
        changes: list[Row] = []
        for (rel_type, from_type), group in by_type.items():
            read, delete = cypher.delete_rels(self.ontology, rel_type, from_type)
            for chunk in _chunks(group, self.batch_rows):
                found = _run(tx, read, {"rows": chunk})
                if not found:
                    continue
                for r in found:
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(self._change("delete", "rel", rel_type, r["key"], int(r["version"] or 0) + 1, ts,
                                                from_id, to_id))
                _run(tx, delete, {"rows": chunk})
                deleted += len(found)
        self._log(tx, changes)
        return deleted

    def wipe(self) -> None:
        """DESTRUCTIVE: delete every talentgraph node and relationship, the change log and its counter.

        For tests and benchmarks. Only labels talentgraph writes (the ontology's node types, the
        change log and the counter) are touched; constraints and indexes stay. Runs in batches of
        ``WIPE_BATCH`` nodes per transaction, so it is not atomic.
        """
        labels = [*self.ontology.node_names, cypher.CHANGE_LOG, COUNTER]
        for label in labels:
            text = f"MATCH (n:{cypher.q(label)}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted"
            while self._write(f"wiping {label}", _run, text, {"batch": WIPE_BATCH})[0]["deleted"]:
                pass

    # --- reads ----------------------------------------------------------------------------------

    def _group_ids(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Ids per node type; ids whose prefix names no type cannot exist and are skipped."""
        out: dict[str, list[str]] = defaultdict(list)
        for node_id in dict.fromkeys(ids):
            try:
                out[self.ontology.type_of_id(node_id).name].append(node_id)
            except OntologyError:
                continue
        return out

    def get_nodes(self, ids: Sequence[str]) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for type_name, group in self._group_ids(ids).items():
            for chunk in _chunks(group, self.batch_rows):
                text, params = cypher.get_nodes(self.dialect, self.ontology, type_name, chunk)
                for r in self._read(text, params):
                    found[r["id"]] = node_from_props(self.ontology, r["type"], r["props"])
        return {i: found[i] for i in ids if i in found}

    def list_nodes(
        self,
        type_name: str,
        *,
        where: Filter | None = None,
        sort: Sequence[SortKey] = (),
        first: int = 20,
        after: str | None = None,
    ) -> Page:
        text, params, keys = cypher.list_nodes(self.dialect, self.ontology, type_name, where=where, sort=sort,
                                               first=first, after=after)
        rows = self._read(text, params)
        items = [node_from_props(self.ontology, r["type"], r["props"]) for r in rows[:first]]
        end_cursor = None
        if items:
            last = items[-1]
            end_cursor = cypher.encode_cursor(keys, [last.id if p.name == "id" else last.props.get(p.name) for p, _ in keys])
        total = self.count_nodes(type_name, where)
        return Page(items=items, total_count=total, end_cursor=end_cursor, has_next_page=len(rows) > first)

    def count_nodes(self, type_name: str, where: Filter | None = None) -> int:
        text, params = cypher.count_nodes(self.dialect, self.ontology, type_name, where)
        return int(self._read(text, params)[0]["count"])

    def edges(
        self,
        ids: Sequence[str],
        rel_type: str,
        direction: Direction,
        *,
        where: Filter | None = None,
        edge_where: Filter | None = None,
        limit_per_node: int | None = None,
    ) -> dict[str, list[Edge]]:
        rt = self.ontology.rel(rel_type)
        parents = rt.from_types if direction == "out" else rt.to_types
        out: dict[str, list[Edge]] = {i: [] for i in ids}
        for type_name, group in self._group_ids(ids).items():
            if type_name not in parents:
                continue  # this type never has such a relationship in this direction
            text, params = cypher.edges(self.dialect, self.ontology, group, rt.name, direction, parent_type=type_name,
                                        where=where, edge_where=edge_where, limit_per_node=limit_per_node)
            for r in self._read(text, params):
                items = r["items"] if limit_per_node is not None else [r]
                for item in items:
                    node = node_from_props(self.ontology, item["type"], item["node"])
                    out[r["src"]].append(edge_from_props(self.ontology, rt.name, item["rel"], node))
        return out

    def facet_counts(self, type_name: str, field: str, where: Filter | None = None) -> list[FacetCount]:
        text, params = cypher.facet_counts(self.dialect, self.ontology, type_name, field, where)
        return [FacetCount(value=_plain(r["value"]), count=int(r["count"])) for r in self._read(text, params)]

    def shortest_path(self, from_id: str, to_id: str, max_hops: int = MAX_PATH_HOPS) -> GraphPath | None:
        if from_id == to_id:
            found = self.get_nodes([from_id])
            return GraphPath(nodes=[found[from_id]], edges=[]) if found else None
        try:
            text, params = cypher.shortest_path(self.dialect, self.ontology, from_id, to_id, max_hops)
        except OntologyError:
            return None  # an id of no known type has no path
        rows = self._read(text, params)
        if not rows:
            return None
        nodes = [node_from_props(self.ontology, n[LABEL_KEY], n) for n in rows[0]["nodes"]]
        edges = [edge_from_props(self.ontology, r[LABEL_KEY], r, nodes[i + 1]) for i, r in enumerate(rows[0]["rels"])]
        return GraphPath(nodes=nodes, edges=edges)

    def neighbourhood(self, node_id: str, depth: int, limit: int) -> Subgraph:
        """Breadth-first, one query per level over every relationship type in both directions.

        Nodes are added level by level in id order until ``limit`` nodes are in; ``truncated`` says
        some reachable node was left out. Edges are kept only between included nodes.
        """
        if depth < 0 or depth > MAX_PATH_HOPS:
            raise BadQueryError(f"depth is {depth}.", hint=f"Use 0 to {MAX_PATH_HOPS}.")
        if limit < 1:
            raise BadQueryError(f"limit is {limit}.", hint="Use 1 or more.")
        start = self.get_nodes([node_id]).get(node_id)
        if start is None:
            raise NotFoundError(f"Node {node_id!r} does not exist.", hint="Check the id, e.g. with a search.")
        included: dict[str, Node] = {start.id: start}
        edges: dict[str, Edge] = {}
        frontier = [start.id]
        truncated = False
        for _ in range(depth):
            if not frontier:
                break
            by_type = self._group_ids(frontier)
            labels = list(by_type)
            params = {f"ids_{i}": by_type[label] for i, label in enumerate(labels)}
            rows = self._read(cypher.neighbours(self.dialect, self.ontology, labels), params)
            rows.sort(key=lambda r: (r["node"]["id"], r["rel"]["key"]))
            nxt: list[str] = []
            for r in rows:
                other = node_from_props(self.ontology, r["type"], r["node"])
                if other.id not in included:
                    if len(included) >= limit:
                        truncated = True
                        continue
                    included[other.id] = other
                    nxt.append(other.id)
                edges.setdefault(r["rel"]["key"], edge_from_props(self.ontology, r["rel_type"], r["rel"], other))
            frontier = nxt
        return Subgraph(nodes=list(included.values()), edges=list(edges.values()), truncated=truncated)

    # --- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._driver.close()

    def __enter__(self) -> "Neo4jGraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run(tx: ManagedTransaction, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
    """Rows of one statement as plain dicts, consumed inside the transaction.

    Non-retryable server errors become StoreError naming the statement; retryable ones (and
    connection errors) pass through unchanged so the driver can retry the whole transaction.
    """
    try:
        result = tx.run(text, dict(params or {}))
        return [{k: to_native(v) for k, v in zip(record.keys(), record.values())} for record in result]
    except Neo4jError as exc:
        if exc.is_retryable() or isinstance(exc, AuthError):
            raise  # the driver retries these, or _driver_errors explains them
        raise StoreError(f"Neo4j failed on `{_short(text)}`: {exc}",
                         hint="This is a bug in talentgraph or a damaged database; the error is chained.") from exc


def _bad_url(url: str, exc: ValueError) -> ConfigError:
    return ConfigError(f"Graph URL {url!r} is not a valid Neo4j URL: {exc}",
                       hint="Use bolt://host:7687 or neo4j://host:7687 (TALENTGRAPH_GRAPH_URL).")


def _short(text: str) -> str:
    return text if len(text) < 160 else text[:157] + "..."


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


__all__ = ["BATCH_ROWS", "Neo4jGraphStore"]
