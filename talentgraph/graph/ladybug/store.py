"""``GraphStore`` on LadybugDB (embedded, Kuzu Cypher dialect): the default graph backend.

Layout: ``<path>/graph.lbdb`` (the database) and ``<path>/.lock`` (see ``lock.py``).

Writes run on one connection under a lock, each call in one explicit transaction that holds both
the data and its change-log rows. ``COPY … FROM <Arrow table>`` works inside an explicit
transaction in Ladybug 0.22 (checked: a ROLLBACK undoes it, and a failed COPY aborts the whole
transaction), so bulk loads and their change-log entries commit or vanish together: there is no
crash window between data and log. Reads use one connection per thread, so the server's thread
pool reads concurrently (Ladybug gives each read its own snapshot, also while a write is open).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ladybug as lb
import pyarrow as pa

from talentgraph.errors import BadQueryError, NotFoundError, OntologyError, StoreError
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
from talentgraph.graph.ladybug import lookups
from talentgraph.graph.ladybug.bulk import ARROW_TYPES, copy_from_arrow
from talentgraph.graph.ladybug.lock import ProcessLock
from talentgraph.graph.port import MAX_PATH_HOPS, FacetCount, GraphCapabilities
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology
from talentgraph.types import (
    Change,
    Cmp,
    Direction,
    Edge,
    Filter,
    Node,
    Not,
    NodeRecord,
    Page,
    Path as GraphPath,
    RelRecord,
    SortKey,
    Subgraph,
    UpsertResult,
)

log = logging.getLogger(__name__)

DB_FILE = "graph.lbdb"
LOCK_FILE = ".lock"
# Below this many new rows UNWIND … MERGE is fast enough (~1.8k rows/s) and avoids building Arrow
# tables; above it COPY from Arrow (~250k rows/s) wins by two orders of magnitude.
COPY_THRESHOLD = 200
# Ids per IN-list: keeps parameter lists (and Ladybug's hash joins) small on very large batches.
ID_CHUNK = 5000

Row = dict[str, Any]


class LadybugGraphStore:
    capabilities = GraphCapabilities(name="ladybug", bulk_copy=True, single_writer_process=True)

    def __init__(self, path: Path, ontology: Ontology = ONTOLOGY, *, copy_threshold: int = COPY_THRESHOLD) -> None:
        self.path = Path(path)
        self.ontology = ontology
        self.dialect = cypher.LADYBUG
        self.copy_threshold = copy_threshold
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = ProcessLock(self.path / LOCK_FILE)
        try:
            self._db = lb.Database(str(self.path / DB_FILE))
            self._writer = lb.Connection(self._db)
        except Exception as exc:
            self._lock.release()
            raise StoreError(f"Could not open the LadybugDB database at {self.path / DB_FILE}: {exc}",
                             hint="Check the directory is writable and was created by this talentgraph version.") from exc
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[lb.Connection] = []
        self._readers_lock = threading.Lock()
        self._columns: dict[str, list[tuple[str, str]]] = {}  # table -> [(column, Ladybug type)] in stored order
        self._seq: int | None = None
        self._closed = False
        # Bumped when the database handle is reopened; thread-local read connections of an older
        # generation are replaced on next use.
        self._generation = 0
        self._copied_in_tx = False

    # --- plumbing -------------------------------------------------------------------------------

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

    def _run(self, conn: lb.Connection, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        try:
            result = conn.execute(text, dict(params or {}))
            assert not isinstance(result, list)  # one statement per call
            names = result.get_column_names()
            rows = [dict(zip(names, values)) for values in result.get_all()]
            result.close()
            return rows
        except Exception as exc:
            first_line = text if len(text) < 160 else text[:157] + "..."
            raise StoreError(f"LadybugDB failed on `{first_line}`: {exc}",
                             hint="This is a bug in talentgraph or a damaged database; the error is chained.") from exc

    def _copy(self, conn: lb.Connection, table: str, rows: pa.Table, options: str = "") -> None:
        self._copied_in_tx = True
        try:
            copy_from_arrow(conn, cypher.q(table), rows, options)
        except Exception as exc:
            raise StoreError(f"LadybugDB failed to bulk-load {rows.num_rows} rows into {table}: {exc}",
                             hint="This is a bug in talentgraph or a damaged database; the error is chained.") from exc

    def _read(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._run(self._reader(), text, params)

    def run_read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Hand-written read-only Cypher (benchmarks, diagnostics) on this thread's read connection."""
        return self._read(query, params)

    @contextmanager
    def _transaction(self) -> Iterator[lb.Connection]:
        """One explicit write transaction; the seq counter is restored if it rolls back."""
        with self._write_lock:
            if self._closed:
                raise StoreError(f"The graph store at {self.path} is closed.", hint="Open a new LadybugGraphStore.")
            self._ensure_seq()
            seq_before = self._seq
            self._copied_in_tx = False
            self._run(self._writer, "BEGIN TRANSACTION")
            try:
                yield self._writer
                self._run(self._writer, "COMMIT")
            except BaseException:
                self._seq = seq_before
                try:
                    self._writer.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - a failed COPY has already rolled the transaction back
                    pass
                if self._copied_in_tx:
                    # LadybugDB 0.22: rolling back a COPY into a non-empty table leaves the in-memory
                    # state corrupt (the next COPY aborts the process). Nothing of the transaction was
                    # committed, so reopening the database from disk is the safe way on.
                    self._reopen()
                raise

    # --- schema ---------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        with self._write_lock:
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
                        self._run(self._writer, self.dialect.add_column(table, prop))
                self._columns[table] = self._table_columns(table)
            self._seq = None
            self._ensure_seq()

    def _table_columns(self, table: str) -> list[tuple[str, str]]:
        # table_info takes a string literal, not a parameter; ``table`` is an ontology-checked identifier.
        rows = self._run(self._writer, f"CALL table_info('{table}') RETURN *")
        return [(r["name"], r["type"]) for r in sorted(rows, key=lambda r: r["property id"])]

    def _ensure_seq(self) -> None:
        if self._seq is None:
            rows = self._run(self._writer, cypher.max_seq())
            self._seq = int(rows[0]["seq"] or 0) if rows else 0

    def _arrow(self, table: str, rows: Sequence[Row], lead: Sequence[tuple[str, Sequence[Any]]] = ()) -> pa.Table:
        """An Arrow table in the stored column order (COPY maps columns by position, not name)."""
        if table not in self._columns:
            self._columns[table] = self._table_columns(table)
        arrays: dict[str, pa.Array] = {name: pa.array(values, pa.string()) for name, values in lead}
        for name, db_type in self._columns[table]:
            arrow_type = ARROW_TYPES.get(db_type)
            if arrow_type is None:
                raise StoreError(f"Column {table}.{name} has type {db_type}, which talentgraph cannot bulk-load.",
                                 hint="Rebuild the graph directory with this talentgraph version.")
            arrays[name] = pa.array([r.get(name) for r in rows], arrow_type)
        return pa.table(arrays)

    # --- change log -----------------------------------------------------------------------------

    def _log(self, conn: lb.Connection, changes: list[Row]) -> None:
        if not changes:
            return
        assert self._seq is not None
        for c in changes:
            self._seq += 1
            c["seq"] = self._seq
        if len(changes) >= self.copy_threshold:
            self._copy(conn, cypher.CHANGE_LOG, self._arrow(cypher.CHANGE_LOG, changes))
        else:
            self._run(conn, cypher.insert_changes(self.dialect), {"rows": changes})

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
        with self._write_lock:
            self._ensure_seq()
            assert self._seq is not None
            return self._seq

    # --- node writes ----------------------------------------------------------------------------

    def upsert_nodes(self, records: Sequence[NodeRecord]) -> UpsertResult:
        result = UpsertResult()
        latest: dict[str, NodeRecord] = {}
        for rec in records:  # duplicate ids: the last record wins and is reported once
            latest.pop(rec.id, None)
            latest[rec.id] = rec
        by_type: dict[str, list[NodeRecord]] = defaultdict(list)
        for rec in latest.values():
            reason = self._node_problem(rec)
            if reason:
                result.rejected[rec.id] = reason
            else:
                by_type[rec.type].append(rec)
        if not by_type:
            return result
        ts = now_iso()
        with self._transaction() as conn:
            changes: list[Row] = []
            for type_name, group in by_type.items():
                nt = self.ontology.node(type_name)
                existing = (self._existing_nodes(conn, type_name, [r.id for r in group])
                            if self._run(conn, lookups.any_node(self.ontology, type_name)) else {})
                new_rows: list[Row] = []
                changed_rows: list[Row] = []
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
                    (new_rows if old is None else changed_rows).append(node_row(nt, rec.id, rec.props, system))
                    (result.inserted if old is None else result.updated).append(rec.id)
                    changes.append(self._change("upsert", "node", nt.name, rec.id, version, ts))
                if len(new_rows) >= self.copy_threshold:
                    self._copy(conn, nt.name, self._arrow(nt.name, new_rows))
                elif new_rows:
                    changed_rows = new_rows + changed_rows
                for chunk in _chunks(changed_rows, ID_CHUNK):
                    self._run(conn, cypher.upsert_nodes(self.dialect, self.ontology, nt.name), {"rows": chunk})
            self._log(conn, changes)
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

    def _existing_nodes(self, conn: lb.Connection, type_name: str, ids: Sequence[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        for chunk in _chunks(list(ids), ID_CHUNK):
            text, params = cypher.existing_nodes(self.ontology, type_name, chunk)
            found.update((r["id"], r) for r in self._run(conn, text, params))
        return found

    # --- relationship writes --------------------------------------------------------------------

    def upsert_relationships(self, records: Sequence[RelRecord]) -> UpsertResult:
        result = UpsertResult()
        latest: dict[str, RelRecord] = {}
        for rec in records:
            latest.pop(rec.key, None)
            latest[rec.key] = rec
        valid: list[tuple[RelRecord, str, str]] = []
        for rec in latest.values():
            try:
                rt = self.ontology.rel(rec.type)
                from_type = self.ontology.type_of_id(rec.from_id).name
                to_type = self.ontology.type_of_id(rec.to_id).name
            except OntologyError as exc:
                result.rejected[rec.key] = str(exc)
                continue
            if not rt.allows(from_type, to_type):
                result.rejected[rec.key] = (
                    f"{rt.name} does not connect {from_type} to {to_type}; allowed: "
                    + ", ".join(f"{a}->{b}" for a, b in rt.endpoints) + "."
                )
                continue
            reason = check_props(rt, rec.props)
            if reason:
                result.rejected[rec.key] = reason
                continue
            valid.append((rec, from_type, to_type))
        if not valid:
            return result
        ts = now_iso()
        with self._transaction() as conn:
            wanted: dict[str, set[str]] = defaultdict(set)
            for rec, f, t in valid:
                wanted[f].add(rec.from_id)
                wanted[t].add(rec.to_id)
            present = {i for type_name, ids in wanted.items() for i in self._existing_nodes(conn, type_name, sorted(ids))}
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
                existing = self._existing_rels(conn, rel_type, group)
                new: dict[tuple[str, str], list[Row]] = defaultdict(list)
                changed: dict[tuple[str, str], list[Row]] = defaultdict(list)
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
                    (new if old is None else changed)[(f, t)].append(row)
                    (result.inserted if old is None else result.updated).append(rec.key)
                    changes.append(self._change("upsert", "rel", rt.name, rec.key, version, ts, rec.from_id, rec.to_id))
                for (f, t), rows in new.items():
                    if len(rows) >= self.copy_threshold:
                        table = self._arrow(rt.name, rows, lead=(("from", [r["from_id"] for r in rows]),
                                                                 ("to", [r["to_id"] for r in rows])))
                        options = f"(from='{self.ontology.node(f).name}', to='{self.ontology.node(t).name}')"
                        self._copy(conn, rt.name, table, options)
                    else:
                        changed[(f, t)] = rows + changed[(f, t)]
                for (f, t), rows in changed.items():
                    for chunk in _chunks(rows, ID_CHUNK):
                        self._run(conn, cypher.upsert_rels(self.dialect, self.ontology, rt.name, f, t), {"rows": chunk})
            self._log(conn, changes)
        return result

    def _existing_rels(self, conn: lb.Connection, rel_type: str, group: Sequence[tuple[RelRecord, str, str]]) -> dict[str, Row]:
        if not self._run(conn, lookups.any_rel(self.ontology, rel_type)):
            return {}  # first load of this table: nothing to compare against
        wanted = {rec.key for rec, _, _ in group}
        by_from: dict[str, set[str]] = defaultdict(set)
        for rec, from_type, _ in group:
            by_from[from_type].add(rec.from_id)
        found: dict[str, Row] = {}
        for from_type, ids in by_from.items():
            text = lookups.rels_from(self.ontology, rel_type, from_type)
            for chunk in _chunks(sorted(ids), ID_CHUNK):
                found.update((r["key"], r) for r in self._run(conn, text, {"ids": chunk}) if r["key"] in wanted)
        return found

    # --- deletes --------------------------------------------------------------------------------

    def delete_nodes(self, ids: Sequence[str]) -> int:
        by_type = self._group_ids(ids)
        if not by_type:
            return 0
        ts = now_iso()
        deleted = 0
        with self._transaction() as conn:
            changes: list[Row] = []
            rel_seen: set[str] = set()
            for type_name, group in by_type.items():
                existing = self._existing_nodes(conn, type_name, group)
                if not existing:
                    continue
                present = sorted(existing)
                for r in self._run(conn, cypher.rels_of_nodes(self.dialect, self.ontology, type_name), {"ids": present}):
                    if r["key"] in rel_seen:
                        continue  # a relationship between two deleted nodes is reported once
                    rel_seen.add(r["key"])
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(self._change("delete", "rel", r["type"], r["key"], int(r["version"] or 0) + 1, ts,
                                                from_id, to_id))
                for node_id in present:
                    changes.append(self._change("delete", "node", type_name, node_id,
                                                int(existing[node_id]["version"] or 0) + 1, ts))
                self._run(conn, cypher.delete_nodes(self.ontology, type_name), {"ids": present})
                deleted += len(present)
            self._log(conn, changes)
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
        ts = now_iso()
        deleted = 0
        with self._transaction() as conn:
            changes: list[Row] = []
            for (rel_type, from_type), group in by_type.items():
                read, delete = cypher.delete_rels(self.ontology, rel_type, from_type)
                found = self._run(conn, read, {"rows": group})
                if not found:
                    continue
                for r in found:
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(self._change("delete", "rel", rel_type, r["key"], int(r["version"] or 0) + 1, ts,
                                                from_id, to_id))
                self._run(conn, delete, {"rows": group})
                deleted += len(found)
            self._log(conn, changes)
        return deleted

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
            for chunk in _chunks(group, ID_CHUNK):
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
            others = [t for f, t in rt.endpoints if f == type_name] if direction == "out" else \
                [f for f, t in rt.endpoints if t == type_name]
            distinct = list(dict.fromkeys(others))
            labelled: list[str | None] = list(distinct)
            if len(distinct) > 1 and where is not None and any(
                    not self.ontology.node(t).has(f) for t in distinct for f in _filter_fields(where) if f != "id"):
                labelled = [None]  # a field only some far-end types have: one unlabelled query keeps its meaning
            for other in labelled:  # one labelled query per far-end type (see cypher.edges)
                text, params = cypher.edges(self.dialect, self.ontology, group, rt.name, direction,
                                            parent_type=type_name, other_type=other, where=where,
                                            edge_where=edge_where, limit_per_node=limit_per_node)
                for r in self._read(text, params):
                    items = r["items"] if limit_per_node is not None else [r]
                    for item in items:
                        node = node_from_props(self.ontology, item["type"], item["node"])
                        out[r["src"]].append(edge_from_props(self.ontology, rt.name, item["rel"], node))
            if len(labelled) > 1:  # merge the per-type answers back into one order (by other id), then cut
                for src in group:
                    merged = sorted(out[src], key=lambda e: e.node.id)
                    out[src] = merged[:limit_per_node] if limit_per_node is not None else merged
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
        nodes = [node_from_props(self.ontology, n["_LABEL"], n) for n in rows[0]["nodes"]]
        edges = [
            edge_from_props(self.ontology, r["_LABEL"], r, nodes[i + 1]) for i, r in enumerate(rows[0]["rels"])
        ]
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

    def _reopen(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()
        self._db.close()
        self._db = lb.Database(str(self.path / DB_FILE))
        self._writer = lb.Connection(self._db)
        self._generation += 1
        log.warning("Reopened the LadybugDB database at %s after a rolled-back bulk load.", self.path)

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            with self._readers_lock:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            self._writer.close()
            self._db.close()
            self._lock.release()

    def __enter__(self) -> "LadybugGraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _filter_fields(f: Filter) -> set[str]:
    if isinstance(f, Cmp):
        return {f.field}
    if isinstance(f, Not):
        return _filter_fields(f.item)
    return set().union(*(_filter_fields(i) for i in f.items))


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


__all__ = ["COPY_THRESHOLD", "LadybugGraphStore"]
