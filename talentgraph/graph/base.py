"""``CypherGraphStore``: the ``GraphStore`` port once, over a few primitives each engine fills in.

Both adapters speak Cypher built by ``graph/cypher.py``, so everything above the wire is shared
here: input checks and the reasons a record is rejected, per-property claims (``claims.py``),
version/hash bookkeeping, the change log, batched reads, keyset pages, facets, paths and the
neighbourhood walk. An engine adapter supplies

- ``_read(text, params)``: one read-only statement, rows as plain dicts of plain values;
- ``_write(doing, work, *args)``: run ``work(tx, *args)`` as one write transaction, and
  ``_run(tx, text, params)``: one statement inside it. ``work`` may be run more than once (Neo4j
  retries a transaction after a transient error), so the ``_*_tx`` methods below start from their
  arguments alone and build their results afresh. Every public write is one such transaction;
  ``upsert_batch`` puts nodes, relationships and their change log in the same one;
- ``_allocate_seqs(tx, n)``: the first of ``n`` consecutive change-log seqs, and ``last_seq()``;
- ``ensure_schema()`` and ``close()``;

and may override the hooks whose defaults are plain UNWIND statements: ``_store_nodes``,
``_store_rels``, ``_insert_changes`` (LadybugDB loads large batches with COPY), ``_existing_rels``,
``_may_hold_nodes`` (LadybugDB skips lookups in an empty table), ``_lock_writers`` (Neo4j serialises
writers on its counter node), ``_readable_head`` (Neo4j: the settled head, as its reads are read-committed)
and ``_engine_row`` (Neo4j leaves out nulls).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Generic, Self, TypeVar

from talentgraph.errors import BadQueryError, NotFoundError, OntologyError
from talentgraph.graph import claims, cypher
from talentgraph.graph.common import (
    LABEL_KEY,
    PreparedNode,
    change_row,
    check_props,
    check_storable,
    chunks,
    content_hash,
    edge_from_props,
    node_converter,
    node_from_props,
    node_row,
    now_iso,
    parse_rel_key,
    plain_value,
    provenance_props,
    rel_props,
    rel_props_converter,
    rel_row,
    split_props,
)
from talentgraph.graph.port import (
    MAX_PATH_HOPS,
    FacetCount,
    GraphCapabilities,
    NodeScan,
    RelScan,
    SourceRecords,
    Withdrawal,
)
from talentgraph.graph.walk import Walk, WalkResult, far_types, read_walk, walk_query
from talentgraph.schema.ontology import NodeType, Ontology, PropType, RelType
from talentgraph.types import (
    Change,
    Direction,
    Edge,
    Filter,
    Link,
    Node,
    NodeRecord,
    Page,
    Path,
    Relationship,
    RelRecord,
    SortKey,
    Subgraph,
    UpsertResult,
)

Row = dict[str, Any]
TxT = TypeVar("TxT")
T = TypeVar("T")
# A relationship record that passed the input checks, with the types of its two ends.
CheckedRel = tuple[RelRecord, str, str]
# Rows of one relationship type grouped by (from type, to type): each pair is its own statement.
RowsByEnds = dict[tuple[str, str], list[Row]]


def _same_value(new: Any, stored: Any) -> bool:
    """A column's new value is the one stored: equal and of the same type (1 == True == 1.0 in Python, not
    here). Anything else counts as changed and is written: a false "changed" costs a SET, a false "same" a value."""
    if type(new) is not type(stored) or new != stored:
        return False
    return not isinstance(new, list) or all(type(a) is type(b) for a, b in zip(new, stored))


def _dates(nt: NodeType) -> set[str]:
    return {p.name for p in nt.properties if p.type is PropType.DATE}


def _odd_dates(values: Mapping[str, Any], dates: Collection[str]) -> bool:
    """Whether a DATE property of ``values`` holds text other than ``YYYY-MM-DD`` (``claims.implied``)."""
    return any(type(v := values.get(d)) is str and not claims.canonical_date(v) for d in dates)


def _once_each(result: UpsertResult) -> UpsertResult:
    """An id written in several rounds of one batch, reported once: inserted if any round inserted it,
    else updated if any round changed it, else unchanged."""
    inserted = list(dict.fromkeys(result.inserted))
    first = set(inserted)
    updated = [i for i in dict.fromkeys(result.updated) if i not in first]
    seen = {*inserted, *updated}
    unchanged = [i for i in dict.fromkeys(result.unchanged) if i not in seen]
    return UpsertResult(inserted, updated, unchanged, result.rejected)


class CypherGraphStore(ABC, Generic[TxT]):
    """Shared behaviour of the Cypher graph adapters; ``TxT`` is the engine's write-transaction handle."""

    capabilities: GraphCapabilities

    def __init__(self, ontology: Ontology, dialect: cypher.Dialect, batch_rows: int) -> None:
        if batch_rows < 1:
            raise BadQueryError(f"batch_rows is {batch_rows}.", hint="Use 1 or more rows per statement.")
        self.ontology = ontology
        self.dialect = dialect
        # Rows per UNWIND statement and ids per lookup.
        self.batch_rows = batch_rows
        # Node type by id prefix: every record of a bulk write is checked (``_id_type``).
        self._id_types: dict[str, NodeType] = {}

    # --- primitives each engine implements ------------------------------------------------------

    @abstractmethod
    def _read(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of one read-only statement as plain dicts (dates as ``datetime.date``, entities as maps)."""

    @abstractmethod
    def _write(self, doing: str, work: Callable[..., T], *args: Any) -> T:
        """``work(tx, *args)`` in one write transaction; ``doing`` names it in error messages."""

    @abstractmethod
    def _run(self, tx: TxT, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of one statement inside a write transaction."""

    @abstractmethod
    def _allocate_seqs(self, tx: TxT, n: int) -> int:
        """The first of ``n`` consecutive change-log seqs, allocated inside ``tx``."""

    @abstractmethod
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def last_seq(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    # --- hooks with a plain-Cypher default ------------------------------------------------------

    def _lock_writers(self, tx: TxT) -> None:
        """Called first in every write transaction; engines whose writers need serialising do it here."""

    def _engine_row(self, row: Row) -> Row:
        """A checked write row as the engine is sent it."""
        return row

    def _may_hold_nodes(self, tx: TxT, type_name: str) -> bool:
        """False when no node of the type can exist yet, so an upsert skips looking them up."""
        return True

    def _run_many(self, tx: TxT, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """``_run`` inside ``tx`` for statements ``_read_many`` may read (named columns only)."""
        return self._run(tx, text, params)

    def _read_many(self, text: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """``_read`` for statements returning many rows of named columns and maps of them (no node or
        relationship values): nodes by id, list pages, ``edges`` with ``far_props`` and ``rel_props``, the change
        feed's bulk reads. LadybugDB fetches these as Arrow when there are many."""
        return self._read(text, params)

    def _store_nodes(self, tx: TxT, node_type: NodeType, new: list[Row], changed: list[Row],
                     columns: Collection[str] | None = None) -> None:
        """Write ``new`` nodes (MERGE, every column) and ``changed`` ones, which exist: only ``columns`` of them
        (None: every column) are set, the others hold what they held."""
        if new:
            text = cypher.upsert_nodes(self.dialect, self.ontology, node_type.name)
            for chunk in chunks(new, self.batch_rows):
                self._run(tx, text, {"rows": chunk})
        if changed and (columns is None or columns):
            text = cypher.update_nodes(self.dialect, self.ontology, node_type.name, columns)
            if columns is not None:
                changed = [{k: row[k] for k in ("id", *columns) if k in row} for row in changed]
            for chunk in chunks(changed, self.batch_rows):
                self._run(tx, text, {"rows": chunk})

    def _store_rels(self, tx: TxT, rel_type: RelType, new: RowsByEnds, changed: RowsByEnds) -> None:
        for ends in dict.fromkeys([*new, *changed]):
            text = cypher.upsert_rels(self.dialect, self.ontology, rel_type.name, *ends)
            for chunk in chunks(new.get(ends, []) + changed.get(ends, []), self.batch_rows):
                self._run(tx, text, {"rows": chunk})

    def _insert_changes(self, tx: TxT, changes: list[Row]) -> None:
        text = cypher.insert_changes(self.dialect)
        for chunk in chunks(changes, self.batch_rows):
            self._run(tx, text, {"rows": chunk})

    def _existing_rels(self, tx: TxT, rel_type: str, group: Sequence[CheckedRel]) -> dict[str, Row]:
        """Stored key, hash, version and ingested_at of the group's relationships, by key."""
        return self._rels_from_starts(tx, rel_type, group, self.batch_rows)

    def _rels_from_starts(self, tx: TxT, rel_type: str, group: Sequence[CheckedRel], chunk: int) -> dict[str, Row]:
        # Every relationship of the type leaving the group's start nodes, the group's keys kept here
        # (``cypher.existing_rels`` says why not in the statement).
        wanted = {rec.key for rec, _, _ in group}
        by_from: dict[str, set[str]] = defaultdict(set)
        for rec, from_type, _ in group:
            by_from[from_type].add(rec.from_id)
        found: dict[str, Row] = {}
        for from_type, ids in by_from.items():
            text = cypher.existing_rels(self.dialect, self.ontology, rel_type, from_type)
            for part in chunks(sorted(ids), chunk):
                found.update((r["key"], r) for r in self._run(tx, text, {"ids": part}) if r["key"] in wanted)
        return found

    # --- shared plumbing ------------------------------------------------------------------------

    def run_read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Hand-written read-only Cypher (benchmarks, diagnostics); rows as plain dicts."""
        return self._read(query, params)

    def _group_ids(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Ids per node type; ids whose prefix names no type cannot exist and are skipped."""
        out: dict[str, list[str]] = defaultdict(list)
        for node_id in dict.fromkeys(ids):
            try:
                out[self.ontology.type_of_id(node_id).name].append(node_id)
            except OntologyError:
                continue
        return out

    def _existing_nodes(self, tx: TxT, type_name: str, ids: Sequence[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        for chunk in chunks(list(ids), self.batch_rows):
            text, params = cypher.existing_nodes(self.dialect, self.ontology, type_name, chunk)
            found.update((r["id"], r) for r in self._run(tx, text, params))
        return found

    def _stored_nodes(self, tx: TxT, type_name: str, ids: Sequence[str]) -> dict[str, Node]:
        """The stored nodes among ``ids`` with every property (a write merges into them)."""
        found: dict[str, Node] = {}
        for chunk in chunks(list(ids), self.batch_rows):
            text, params = cypher.get_nodes(self.dialect, self.ontology, type_name, chunk)
            for r in self._run_many(tx, text, params):
                found[r["id"]] = node_from_props(self.ontology, r["type"], r["props"])
        return found

    def _log(self, tx: TxT, changes: list[Row]) -> None:
        if not changes:
            return
        first = self._allocate_seqs(tx, len(changes))
        for offset, change in enumerate(changes):
            change["seq"] = first + offset
        self._insert_changes(tx, changes)

    # --- input checks ---------------------------------------------------------------------------

    def _id_type(self, node_id: str) -> NodeType:
        """``ontology.type_of_id``, remembered per prefix (raises what it raises)."""
        prefix, sep, key = node_id.partition(":")
        found = self._id_types.get(prefix) if sep and key else None
        if found is None:
            found = self._id_types[prefix] = self.ontology.type_of_id(node_id)
        return found

    def _node_problem(self, rec: NodeRecord) -> str | None:
        """Why a node record cannot be stored (unknown type, id of another type, unknown property)."""
        try:
            nt = self.ontology.node(rec.type)
            id_type = self._id_type(rec.id)
        except OntologyError as exc:
            return str(exc)
        if id_type.name != nt.name:
            return (f"Id {rec.id!r} has the prefix of {id_type.name} but the record is a {nt.name}; "
                    f"{nt.name} ids start with '{nt.id_prefix}:'.")
        return check_props(nt, rec.props)

    def _rel_problem(self, rec: RelRecord) -> str | CheckedRel:
        """Why a relationship record cannot be stored, or it with the types of its ends."""
        try:
            rt = self.ontology.rel(rec.type)
            from_type = self._id_type(rec.from_id).name
            to_type = self._id_type(rec.to_id).name
        except OntologyError as exc:
            return str(exc)
        if not rt.allows(from_type, to_type):
            return (f"{rt.name} does not connect {from_type} to {to_type}; allowed: "
                    + ", ".join(f"{a}->{b}" for a, b in rt.endpoints) + ".")
        return check_props(rt, rec.props) or (rec, from_type, to_type)

    # --- upserts: one transaction per call --------------------------------------------------------

    def upsert_nodes(self, records: Sequence[NodeRecord]) -> UpsertResult:
        return self.upsert_batch(records, ())[0]

    def upsert_relationships(self, records: Sequence[RelRecord]) -> UpsertResult:
        return self.upsert_batch((), records)[1]

    def upsert_batch(
        self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]
    ) -> tuple[UpsertResult, UpsertResult]:
        """Nodes, then relationships, then their change-log entries, all in one write transaction.

        A relationship may point at a node written by the same call. If anything fails the engine
        rolls back the whole batch: no node, relationship or change-log entry of it is left, so an
        ingest batch killed or failing half-way never leaves a person without their LIVES_IN.
        """
        rounds, node_rejected = self._checked_nodes(nodes)
        valid, rel_rejected = self._checked_rels(rels)
        if not rounds and not valid:
            return UpsertResult(rejected=node_rejected), UpsertResult(rejected=rel_rejected)
        n_nodes = sum(len(group) for by_type in rounds for group in by_type.values())
        doing = " and ".join(part for part in (f"{n_nodes} nodes" if n_nodes else "",
                                                f"{len(valid)} relationships" if valid else "") if part)
        node_result, rel_result = self._write(f"upserting {doing}", self._upsert_batch_tx, rounds, valid, now_iso())
        node_result.rejected.update(node_rejected)
        rel_result.rejected = {**rel_rejected, **rel_result.rejected}  # endpoint rejections come from inside the tx
        return node_result, rel_result

    def _checked_nodes(self, records: Sequence[NodeRecord]) -> tuple[list[dict[str, list[NodeRecord]]], dict[str, str]]:
        """Storable records in rounds, each by type, and rejections.

        One id from one source twice: the last record wins (reported once). One id from several sources
        (documents of one batch naming the same Candidate): each source's record is written, one round per
        source in the order given, so every source's claims are kept as if written one call after another.
        """
        latest: dict[tuple[str, str | None], NodeRecord] = {}
        for rec in records:
            key = (rec.id, rec.provenance.job if rec.provenance else None)
            latest.pop(key, None)
            latest[key] = rec
        rejected: dict[str, str] = {}
        rounds: list[dict[str, list[NodeRecord]]] = []
        depth: dict[str, int] = defaultdict(int)
        for rec in latest.values():
            reason = self._node_problem(rec)
            if reason:
                rejected[rec.id] = reason
                continue
            n = depth[rec.id]
            depth[rec.id] += 1
            if n == len(rounds):
                rounds.append(defaultdict(list))
            rounds[n][rec.type].append(rec)
        return [dict(r) for r in rounds], rejected

    def _checked_rels(self, records: Sequence[RelRecord]) -> tuple[list[CheckedRel], dict[str, str]]:
        latest: dict[str, RelRecord] = {}
        for rec in records:
            latest.pop(rec.key, None)
            latest[rec.key] = rec
        rejected: dict[str, str] = {}
        valid: list[CheckedRel] = []
        for rec in latest.values():
            checked = self._rel_problem(rec)
            if isinstance(checked, str):
                rejected[rec.key] = checked
            else:
                valid.append(checked)
        return valid, rejected

    def _upsert_batch_tx(self, tx: TxT, rounds: list[dict[str, list[NodeRecord]]], valid: list[CheckedRel],
                         ts: str) -> tuple[UpsertResult, UpsertResult]:
        # A transaction function may run more than once (Neo4j retries): results and change rows
        # are built afresh here on every attempt.
        self._lock_writers(tx)
        changes: list[Row] = []
        node_result = UpsertResult()
        for by_type in rounds:  # a later round merges into what the earlier ones wrote, inside this tx
            node_result.merge(self._upsert_nodes_in(tx, by_type, ts, changes))
        if len(rounds) > 1:
            node_result = _once_each(node_result)
        # Nodes this call wrote or found unchanged exist: relationship ends among them need no read.
        written = {*node_result.inserted, *node_result.updated, *node_result.unchanged}
        rel_result = (self._upsert_rels_in(tx, valid, ts, changes, written, set(node_result.inserted)) if valid
                      else UpsertResult())
        self._log(tx, changes)
        return node_result, rel_result

    def _upsert_nodes_in(self, tx: TxT, by_type: dict[str, list[NodeRecord]], ts: str,
                         changes: list[Row]) -> UpsertResult:
        """Write the nodes inside ``tx``; their change rows are appended to ``changes``."""
        result = UpsertResult()
        for type_name, group in by_type.items():
            nt = self.ontology.node(type_name)
            declared = {p.name: p for p in nt.properties}
            dates = _dates(nt)
            existing = (self._stored_nodes(tx, type_name, [r.id for r in group])
                        if self._may_hold_nodes(tx, type_name) else {})
            new: list[Row] = []
            changed: list[Row] = []
            touched: set[str] = set()  # the columns some changed node of the group holds another value in
            for rec in group:
                values = check_storable(nt.name, rec.id, declared, rec.props)
                old = existing.get(rec.id)
                # Property-level write: only the properties the record names change, each as a claim
                # of its source; the node shows the winning claim per property (graph/claims.py).
                if old is None:
                    # A new node (the bulk of a first load): one claim per value, its prov text in one
                    # dump (claims.fresh gives what merge + dump give, without a claim dict per value).
                    # Worked out where it was built, where the DATE properties were not known: used unless a date
                    # came as text in another ISO form than the one a store reads back.
                    if type(rec) is PreparedNode and values is rec.props and not _odd_dates(values, dates):
                        fresh = {name: claims.jsonable(v) for name, v in values.items() if v is not None}
                        prov = claims.fresh_prov(rec.provenance, ts, rec.fresh_claims) if fresh else None
                        digest = rec.fresh_hash
                    else:
                        fresh, prov = claims.fresh(values, rec.provenance, ts, dates=dates)
                        digest = content_hash(fresh)
                    system = {"version": 1, "content_hash": digest,
                              "ingested_at": rec.provenance.ingested_at if rec.provenance else ts,
                              "updated_at": ts, claims.PROV: prov, **provenance_props(rec.provenance)}
                    new.append(self._engine_row(node_row(nt, rec.id, fresh, system)))
                    result.inserted.append(rec.id)
                    changes.append(change_row("upsert", "node", nt.name, rec.id, 1, ts))
                    continue
                shown, _ = split_props(old.props)
                merged = claims.merge(shown, claims.load(old.props, declared), values, rec.names,
                                      rec.provenance, ts)
                if not merged.changed:  # every claim as stored: a re-run of the same source
                    result.unchanged.append(rec.id)
                    continue
                version = int(old.props.get("version") or 0) + 1
                first_seen = old.props.get("ingested_at") or (rec.provenance.ingested_at if rec.provenance else ts)
                system = {"version": version, "content_hash": content_hash(merged.props), "ingested_at": first_seen,
                          "updated_at": ts, claims.PROV: claims.dump(merged.claims, merged.props, dates=dates),
                          **provenance_props(rec.provenance)}
                row = node_row(nt, rec.id, merged.props, system)
                # A node read back carries its dates as ISO text, a row as dates: compared as the row holds them,
                # or every date column would count as changed on every update.
                touched.update(k for k, v in row.items() if not _same_value(
                    v, cypher.to_db_value(declared[k], old.props.get(k)) if k in dates else old.props.get(k)))
                changed.append(self._engine_row(row))
                result.updated.append(rec.id)
                changes.append(change_row("upsert", "node", nt.name, rec.id, version, ts))
            self._store_nodes(tx, nt, new, changed, touched)
        return result

    def _upsert_rels_in(self, tx: TxT, valid: list[CheckedRel], ts: str, changes: list[Row],
                        written: set[str] | frozenset[str] = frozenset(),
                        inserted: set[str] | frozenset[str] = frozenset()) -> UpsertResult:
        """Write the relationships inside ``tx`` (endpoints written earlier in ``tx`` count as present;
        ``written``: ids of nodes known to exist in ``tx``, not read again; ``inserted``: ids of nodes this
        ``tx`` created, whose relationships are all new — nothing is looked up for them)."""
        result = UpsertResult()
        wanted: dict[str, set[str]] = defaultdict(set)
        for rec, f, t in valid:
            if rec.from_id not in written:
                wanted[f].add(rec.from_id)
            if rec.to_id not in written:
                wanted[t].add(rec.to_id)
        present = set(written)
        present.update(i for type_name, ids in wanted.items() if ids
                       for i in self._existing_nodes(tx, type_name, sorted(ids)))
        by_type: dict[str, list[CheckedRel]] = defaultdict(list)
        for rec, f, t in valid:
            missing = [end for end in (rec.from_id, rec.to_id) if end not in present]
            if missing:
                result.rejected[rec.key] = f"{rec.type} {rec.key}: node {', '.join(missing)} does not exist."
            else:
                by_type[rec.type].append((rec, f, t))
        for rel_type, group in by_type.items():
            rt = self.ontology.rel(rel_type)
            declared = {p.name: p for p in rt.properties}
            # A node created in this transaction has no relationship yet (they are written below, once per key):
            # a batch of new residents reads nothing back for its LIVES_IN.
            stored = [c for c in group if c[0].from_id not in inserted and c[0].to_id not in inserted]
            existing = self._existing_rels(tx, rel_type, stored) if stored else {}
            new: RowsByEnds = defaultdict(list)
            changed: RowsByEnds = defaultdict(list)
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
                props = check_storable(rt.name, rec.key, declared, rec.props)
                row = {"from_id": rec.from_id, "to_id": rec.to_id, **rel_row(rt, props, system)}
                (new if old is None else changed)[(f, t)].append(self._engine_row(row))
                (result.inserted if old is None else result.updated).append(rec.key)
                changes.append(change_row("upsert", "rel", rt.name, rec.key, version, ts, rec.from_id, rec.to_id))
            self._store_rels(tx, rt, dict(new), dict(changed))
        return result

    # --- deletes --------------------------------------------------------------------------------

    def delete_nodes(self, ids: Sequence[str]) -> int:
        by_type = self._group_ids(ids)
        if not by_type:
            return 0
        return self._write(f"deleting {len(ids)} nodes", self._delete_nodes_tx, by_type, now_iso())

    def _delete_nodes_tx(self, tx: TxT, by_type: dict[str, list[str]], ts: str) -> int:
        self._lock_writers(tx)
        deleted = 0
        changes: list[Row] = []
        rel_seen: set[str] = set()
        for type_name, group in by_type.items():
            existing = self._existing_nodes(tx, type_name, group)
            if not existing:
                continue
            present = sorted(existing)
            rels_text = cypher.rels_of_nodes(self.dialect, self.ontology, type_name)
            for chunk in chunks(present, self.batch_rows):
                for r in self._run(tx, rels_text, {"ids": chunk}):
                    if r["key"] in rel_seen:
                        continue  # a relationship between two deleted nodes is reported once
                    rel_seen.add(r["key"])
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(change_row("delete", "rel", r["type"], r["key"], int(r["version"] or 0) + 1, ts,
                                              from_id, to_id))
            for node_id in present:
                changes.append(change_row("delete", "node", type_name, node_id,
                                          int(existing[node_id]["version"] or 0) + 1, ts))
            delete_text = cypher.delete_nodes(self.dialect, self.ontology, type_name)
            for chunk in chunks(present, self.batch_rows):
                self._run(tx, delete_text, {"ids": chunk})
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

    def _delete_rels_in(self, tx: TxT, rel_type: str, read: str, delete: str, group: list[Row], ts: str,
                        changes: list[Row], extra: Mapping[str, Any] | None = None) -> list[str]:
        """Delete the relationships ``read`` finds among ``group`` (rows of {from_id, key}) with ``delete``;
        a tombstone for each goes to ``changes``. Returns their keys."""
        gone: list[str] = []
        for chunk in chunks(group, self.batch_rows):
            rows = [{**r, "to_id": parse_rel_key(r["key"])[2]} for r in chunk]  # the statements match both ends
            params = {"rows": rows, **(extra or {})}
            found = self._run(tx, read, params)
            if not found:
                continue
            for r in found:
                _, from_id, to_id = parse_rel_key(r["key"])
                changes.append(change_row("delete", "rel", rel_type, r["key"], int(r["version"] or 0) + 1, ts,
                                          from_id, to_id))
                gone.append(r["key"])
            self._run(tx, delete, params)
        return gone

    def _delete_rels_tx(self, tx: TxT, by_type: dict[tuple[str, str], list[Row]], ts: str) -> int:
        self._lock_writers(tx)
        deleted = 0
        changes: list[Row] = []
        for (rel_type, from_type), group in by_type.items():
            read, delete = cypher.delete_rels(self.dialect, self.ontology, rel_type, from_type)
            deleted += len(self._delete_rels_in(tx, rel_type, read, delete, group, ts, changes))
        self._log(tx, changes)
        return deleted

    # --- what one source owns: a snapshot job ends what its new file no longer has ----------------

    def source_records(self, job: str, node_types: Sequence[str], rel_types: Sequence[str]) -> SourceRecords:
        first, later = claims.source_needles(job)
        nodes: dict[str, list[str]] = {}
        for type_name in dict.fromkeys(node_types):
            nt = self.ontology.node(type_name)
            rows = self._read(cypher.nodes_claimed_by(self.ontology, nt.name), {"job": job, "first": first,
                                                                                 "later": later})
            nodes[nt.name] = sorted(r["id"] for r in rows)
        rels: dict[str, list[str]] = {}
        for rel_type in dict.fromkeys(rel_types):
            rt = self.ontology.rel(rel_type)
            keys: set[str] = set()
            for from_type in rt.from_types:  # one labelled start per statement: see rels_written_by
                text = cypher.rels_written_by(self.ontology, rt.name, from_type)
                keys.update(r["key"] for r in self._read(text, {"job": job}))
            rels[rt.name] = sorted(keys)
        return SourceRecords(nodes, rels)

    def withdraw(self, job: str, node_ids: Sequence[str], rel_keys: Sequence[str]) -> Withdrawal:
        by_type = self._group_ids(node_ids)
        rels: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for key in dict.fromkeys(rel_keys):
            try:
                rel_type, from_id, _ = parse_rel_key(key)
                rel_type = self.ontology.rel(rel_type).name
                from_type = self.ontology.type_of_id(from_id).name
            except OntologyError:
                continue  # a key no stored relationship can have
            rels[(rel_type, from_type)].append({"from_id": from_id, "key": key})
        if not by_type and not rels:
            return Withdrawal([], [], [], [])
        return self._write(f"withdrawing what {job} wrote about {len(node_ids)} nodes and {len(rel_keys)} "
                           "relationships", self._withdraw_tx, job, by_type, dict(rels), now_iso())

    def _withdraw_tx(self, tx: TxT, job: str, by_type: dict[str, list[str]],
                     rels: dict[tuple[str, str], list[Row]], ts: str) -> Withdrawal:
        # Ownership is checked again here, inside the transaction, so a record another source wrote
        # after the caller looked is left alone (and a transaction Neo4j retries starts afresh).
        self._lock_writers(tx)
        done = Withdrawal([], [], [], [])
        changes: list[Row] = []
        for (rel_type, from_type), group in rels.items():
            read, delete = cypher.delete_rels_written_by(self.dialect, self.ontology, rel_type, from_type)
            done.rels.extend(self._delete_rels_in(tx, rel_type, read, delete, group, ts, changes, {"job": job}))
        doomed: dict[str, dict[str, int]] = {}  # type → id → stored version, of nodes nobody claims now
        for type_name, ids in by_type.items():
            nt = self.ontology.node(type_name)
            declared = {p.name: p for p in nt.properties}
            stored = self._stored_nodes(tx, type_name, ids)
            kept: list[Row] = []
            for node_id in ids:
                old = stored.get(node_id)
                if old is None:
                    continue
                held = claims.load(old.props, declared)
                if not claims.owns(held, old.props.get("src_job"), job):
                    continue  # the source says nothing about this node
                shown, system = split_props(old.props)
                left = claims.withdraw(shown, held, job)
                version = int(old.props.get("version") or 0)
                if not left.claims:
                    doomed.setdefault(nt.name, {})[node_id] = version
                    continue
                # The node stays with the other sources' values. Its last writer becomes the latest
                # remaining claim's source, so src_* never names a source that no longer claims it.
                latest = max((c for items in left.claims.values() for c in items),
                             key=lambda c: (c.get("t") or "", c.get("job") or ""))
                system.update({"version": version + 1, "content_hash": content_hash(left.props), "updated_at": ts,
                               claims.PROV: claims.dump(left.claims, left.props, dates=_dates(nt)),
                               "src_job": latest.get("job"),
                               "src_file": latest.get("file"), "src_row": latest.get("row")})
                kept.append(self._engine_row(node_row(nt, node_id, left.props, system)))
                changes.append(change_row("upsert", "node", nt.name, node_id, version + 1, ts))
                done.updated.append(node_id)
            if kept:
                self._store_nodes(tx, nt, [], kept)
        rel_seen = set(done.rels)
        for type_name, versions in doomed.items():
            present = sorted(versions)
            rels_text = cypher.rels_of_nodes(self.dialect, self.ontology, type_name)
            for chunk in chunks(present, self.batch_rows):
                for r in self._run(tx, rels_text, {"ids": chunk}):
                    if r["key"] in rel_seen:
                        continue  # between two deleted nodes: one tombstone
                    rel_seen.add(r["key"])
                    _, from_id, to_id = parse_rel_key(r["key"])
                    changes.append(change_row("delete", "rel", r["type"], r["key"], int(r["version"] or 0) + 1, ts,
                                              from_id, to_id))
                    done.detached.append(r["key"])
            for node_id in present:
                changes.append(change_row("delete", "node", type_name, node_id, versions[node_id] + 1, ts))
            delete_text = cypher.delete_nodes(self.dialect, self.ontology, type_name)
            for chunk in chunks(present, self.batch_rows):
                self._run(tx, delete_text, {"ids": chunk})
            done.deleted.extend(present)
        self._log(tx, changes)
        return done

    # --- reads ----------------------------------------------------------------------------------

    def get_relationships(self, keys: Sequence[str]) -> dict[str, Relationship]:
        by_type: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            try:
                rel_type, from_id, _ = parse_rel_key(key)
                rt = self.ontology.rel(rel_type)
                from_type = self.ontology.type_of_id(from_id).name
            except (OntologyError, ValueError):
                continue  # a key no stored relationship can have
            by_type[(rt.name, from_type)].append({"from_id": from_id, "key": key})
        out: dict[str, Relationship] = {}
        for (rel_type, from_type), rows in by_type.items():
            rt = self.ontology.rel(rel_type)
            text = cypher.get_rels(self.dialect, self.ontology, rel_type, from_type)
            wanted = {row["key"] for row in rows}
            starts = list(dict.fromkeys(row["from_id"] for row in rows))
            for chunk in chunks(starts, self.batch_rows):
                for r in self._read_many(text, {"ids": chunk}):
                    if r["key"] not in wanted:
                        continue  # another relationship of the same start node
                    _, from_id, _ = parse_rel_key(r["key"])
                    out[r["key"]] = Relationship(type=rt.name, key=r["key"], from_id=from_id, to_id=r["to_id"],
                                                 props=rel_props(rt, r["props"]))
        return out

    def settle(self) -> None:
        """Nothing to do by default (Neo4j checkpoints on its own, beside every transaction)."""

    def prune_changes(self, before_ts: str, up_to_seq: int) -> int:
        newest = self.last_seq()
        upto = min(int(up_to_seq), newest - 1)  # the newest entry stays: reopening a store reads its seq from it
        if upto < 1:
            return 0
        old = self._read(cypher.old_changes(), {"before": before_ts, "upto": upto})
        if not old:  # the usual case after an ingest: nothing is past the retention, so no log-wide grouping
            return 0
        heads = {(r["kind"], r["id"]): int(r["head"]) for r in self._read(cypher.change_heads(), {})}
        doomed = [int(r["seq"]) for r in old
                  if r["op"] == "delete" or int(r["seq"]) < heads.get((r["kind"], r["id"]), 0)]
        if not doomed:
            return 0
        return self._write(f"pruning {len(doomed)} change-log entries", self._prune_tx, sorted(doomed))

    def _prune_tx(self, tx: TxT, seqs: list[int]) -> int:
        self._lock_writers(tx)
        text = cypher.delete_changes()
        for chunk in chunks(seqs, self.batch_rows):
            self._run(tx, text, {"seqs": chunk})
        return len(seqs)


    def changes(self, after_seq: int = 0, limit: int = 1000, *,
                types: Sequence[str] | None = None) -> list[Change]:
        text, params = cypher.read_changes(after_seq, limit, types, upto_seq=self._readable_head())
        return [_change(r) for r in self._read(text, params)]

    def _readable_head(self) -> int | None:
        """The newest seq ``changes`` may return (None: any; an engine whose commits become visible at once)."""
        return None

    # --- the change feed's bulk reads: log windows and snapshot scans ---------------------------

    def change_window(self, after_seq: int, upto_seq: int, *,
                      types: Sequence[str] | None = None) -> list[Change]:
        if upto_seq <= after_seq or (types is not None and not types):
            return []
        text, params = cypher.read_change_window(after_seq, upto_seq, types)
        return [_change(r) for r in self._read_many(text, params)]

    def scan_nodes(self, type_name: str, after: str | None, limit: int, *,
                   fields: Sequence[str] | None = None) -> NodeScan:
        """Keyset by id (Neo4j reads its unique-id index in order); LadybugDB overrides it."""
        nt = self.ontology.node(type_name)
        limit = scan_limit(limit)
        text = cypher.scan_nodes(self.ontology, nt.name, fields)
        rows = self._read_many(text, {"after": after or "", "limit": limit})
        convert = node_converter(self.ontology, nt.name, fields)
        items = [(str(r["id"]), convert(r["props"])) for r in rows]
        return NodeScan(items, items[-1][0] if len(items) >= limit else None)

    def scan_relationships(self, rel_type: str, from_type: str, after: str | None, limit: int, *,
                           after_key: str | None = None, fields: Sequence[str] | None = None) -> RelScan:
        """Pages of start nodes by id, then their relationships (``get_rels``); LadybugDB overrides it."""
        rt, ft = self.ontology.rel(rel_type), self.ontology.node(from_type)
        limit = scan_limit(limit)
        if ft.name not in rt.from_types:
            return RelScan([], None)
        inside = after is not None and after_key is not None
        text = cypher.get_rels(self.dialect, self.ontology, rt.name, ft.name)
        convert = self._rel_scan_props(rt, fields)
        rank: dict[str, int] = {}
        found: list[tuple[int, str, Relationship]] = []
        position, batch = after, limit
        while True:
            starts = [str(r["id"]) for r in self._read_many(
                cypher.scan_start_ids(self.ontology, ft.name, inclusive=inside and position == after),
                {"after": position or "", "limit": batch})]
            rank.update((node_id, len(rank)) for node_id in starts)
            for chunk in chunks(starts, self.batch_rows):
                for r in self._read_many(text, {"ids": chunk}):
                    key = str(r["key"])
                    _, from_id, to_id = parse_rel_key(key)
                    if inside and from_id == after and key <= (after_key or ""):
                        continue  # read before, in the page this one continues
                    found.append((rank.get(from_id, -1), key, Relationship(
                        type=rt.name, key=key, from_id=from_id, to_id=to_id, props=convert(r["props"]))))
            if len(starts) < batch:
                position = None  # the last start node is read
                break
            position = starts[-1]
            if len(found) >= limit // 2:
                break
            batch = min(batch * 4, 100_000)  # few relationships per start node here: read more of them
        found.sort(key=lambda x: (x[0], x[1]))
        return RelScan([(rel.from_id, rel) for _, _, rel in found], position)

    @staticmethod
    def _rel_scan_props(rt: RelType, fields: Sequence[str] | None) -> Callable[[Mapping[str, Any]], Row]:
        """``rel_props_converter``, narrowed to ``fields`` in their order when given (``scan_relationships``)."""
        convert = rel_props_converter(rt)
        if fields is None:
            return convert
        known = {p.name for p in cypher.rel_columns(rt)}
        wanted = tuple(f for f in dict.fromkeys(fields) if f in known)

        def narrowed(raw: Mapping[str, Any]) -> Row:
            props = convert({k: raw[k] for k in wanted if k in raw})
            return {k: props[k] for k in wanted if k in props}

        return narrowed

    def get_nodes(self, ids: Sequence[str], *, fields: Sequence[str] | None = None) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for type_name, group in self._group_ids(ids).items():
            for chunk in chunks(group, self.batch_rows):
                text, params = cypher.get_nodes(self.dialect, self.ontology, type_name, chunk, fields)
                for r in self._read_many(text, params):
                    if r["type"] is None:
                        # Deleted while this read ran (Neo4j reads committed data: the index still gave the node,
                        # its labels were gone): not found, as a moment later.
                        continue
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
        count: bool = False,
    ) -> Page:
        text, params, keys = cypher.list_nodes(self.dialect, self.ontology, type_name, where=where, sort=sort,
                                               first=first, after=after,
                                               count=count and self.capabilities.count_in_page)
        rows = self._read_many(text, params)
        items = [node_from_props(self.ontology, r["type"], r["props"]) for r in rows[:first]]
        end_cursor = None
        if items:
            last = items[-1]
            end_cursor = cypher.encode_cursor(keys, [last.id if p.name == "id" else last.props.get(p.name) for p, _ in keys])
        total = None
        if count:  # in the page's statement where the engine counts there; a page past the end carries none
            in_page = self.capabilities.count_in_page and rows
            total = int(rows[0]["total"]) if in_page else self.count_nodes(type_name, where)
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
        other_types: Sequence[str] | None = None,
        far_props: Sequence[str] | None = None,
        rel_props: Sequence[str] | None = None,
    ) -> dict[str, list[Edge]]:
        rt = self.ontology.rel(rel_type)
        # Named columns only (no node or relationship values): many rows may come over as Arrow.
        read = self._read_many if far_props is not None and rel_props is not None else self._read
        parents = rt.from_types if direction == "out" else rt.to_types
        allowed = None if other_types is None else [self.ontology.node(t).name for t in other_types]
        out: dict[str, list[Edge]] = {i: [] for i in ids}
        if allowed is not None and not allowed:
            return out  # no far-end type may be reached: nothing to ask
        for type_name, group in self._group_ids(ids).items():
            if type_name not in parents:
                continue  # this type never has such a relationship in this direction
            ends = self._far_types(rt, type_name, direction, where)
            if allowed is not None and ends != [None]:
                ends = [t for t in ends if t in allowed]
            for other in ends:
                text, params = cypher.edges(self.dialect, self.ontology, group, rt.name, direction,
                                            parent_type=type_name, other_type=other, where=where,
                                            edge_where=edge_where, limit_per_node=limit_per_node,
                                            other_types=allowed if other is None else None, far_props=far_props,
                                            rel_props=rel_props)
                for r in read(text, params):
                    items = r["items"] if "items" in r else [r]
                    for item in items:
                        node = node_from_props(self.ontology, item["type"], item["node"])
                        out[r["src"]].append(edge_from_props(self.ontology, rt.name, item["rel"], node))
            if len(ends) > 1:  # merge the per-type answers back into one order (by other id), then cut
                for src in group:
                    merged = sorted(out[src], key=lambda e: e.node.id)
                    out[src] = merged[:limit_per_node] if limit_per_node is not None else merged
        return out

    def links(self, ids: Sequence[str], rel_type: str, direction: Direction, *,
              far_prop: str | None = None) -> dict[str, list[Link]]:
        # Plain columns, one statement per reachable far-end type, no order and no Node/Edge objects: the search
        # projection's walks read every person's areas and memberships this way (``edges`` spent most of a 1M
        # sync's derived fields building objects they dropped).
        rt = self.ontology.rel(rel_type)
        parents = rt.from_types if direction == "out" else rt.to_types
        out: dict[str, list[Link]] = {i: [] for i in ids}
        for type_name, group in self._group_ids(ids).items():
            if type_name not in parents:
                continue
            for other in far_types(rt, direction, [type_name]):
                src, far, value = self._link_columns(group, rt.name, direction, type_name, other, far_prop)
                for s, f, v in zip(src, far, value):
                    if s in out:
                        out[s].append(Link(other, f, plain_value(v)))
        return out

    def _link_columns(self, ids: list[str], rel_type: str, direction: Direction, parent_type: str, other_type: str,
                      far_prop: str | None) -> tuple[list[Any], list[Any], list[Any]]:
        """``links`` for one parent and far-end type: its src, far and value columns."""
        text = cypher.links(self.dialect, self.ontology, rel_type, direction, parent_type, other_type, far_prop)
        rows = self._read_many(text, {"ids": ids})
        return [r["src"] for r in rows], [r["far"] for r in rows], [r["value"] for r in rows]

    def _far_types(self, rt: RelType, parent_type: str, direction: Direction, where: Filter | None) -> list[str | None]:
        """One query's far-end label per entry; ``[None]`` asks once with the far end unlabelled."""
        if not self.capabilities.edges_per_far_type:
            return [None]
        distinct = far_types(rt, direction, [parent_type])
        if len(distinct) > 1 and where is not None and any(
                not self.ontology.node(t).has(f) for t in distinct for f in cypher.filter_fields(where) if f != "id"):
            return [None]  # a field only some far-end types have: one unlabelled query keeps its meaning
        return [*distinct]

    def facet_counts(self, type_name: str, field: str, where: Filter | None = None) -> list[FacetCount]:
        text, params = cypher.facet_counts(self.dialect, self.ontology, type_name, field, where)
        return [FacetCount(value=plain_value(r["value"]), count=int(r["count"])) for r in self._read(text, params)]

    def grouped_counts(self, type_name: str, rel_type: str, direction: Direction, group_ids: Sequence[str], *,
                       field: str | None = None, where: Filter | None = None) -> dict[str, list[FacetCount]]:
        out: dict[str, list[FacetCount]] = defaultdict(list)
        text, params = cypher.grouped_counts(self.dialect, self.ontology, type_name, rel_type, direction, field, where)
        for chunk in chunks(list(dict.fromkeys(group_ids)), self.batch_rows):
            for r in self._read(text, {**params, "ids": chunk}):
                out[r["grp"]].append(FacetCount(value=plain_value(r["value"]) if field else None,
                                                count=int(r["count"])))
        return dict(out)

    def shortest_path(self, from_id: str, to_id: str, max_hops: int = MAX_PATH_HOPS, *,
                      rel_types: Sequence[str] | None = None,
                      node_types: Sequence[str] | None = None) -> Path | None:
        if from_id == to_id:
            found = self.get_nodes([from_id])
            return Path(nodes=[found[from_id]], edges=[]) if found else None
        if rel_types is not None and not rel_types:
            return None  # nothing may be traversed
        try:
            text, params = cypher.shortest_path(self.dialect, self.ontology, from_id, to_id, max_hops,
                                                rel_types=rel_types, node_types=node_types)
        except OntologyError:
            return None  # an id of no known type has no path
        rows = self._read(text, params)
        if not rows:
            return None
        nodes = [node_from_props(self.ontology, n[LABEL_KEY], n) for n in rows[0]["nodes"]]
        edges = [edge_from_props(self.ontology, r[LABEL_KEY], r, nodes[i + 1]) for i, r in enumerate(rows[0]["rels"])]
        return Path(nodes=nodes, edges=edges)

    def neighbourhood(self, node_id: str, depth: int, limit: int, *,
                      rel_types: Sequence[str] | None = None,
                      node_types: Sequence[str] | None = None) -> Subgraph:
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
            params: dict[str, Any] = {f"ids_{i}": by_type[label] for i, label in enumerate(labels)}
            restricted = rel_types is not None or node_types is not None
            if restricted:
                params["rel_types"] = list(rel_types if rel_types is not None else
                                           [r.name for r in self.ontology.rel_types])
                params["labels"] = list(node_types if node_types is not None else self.ontology.node_names)
            rows = self._read(cypher.neighbours(self.dialect, self.ontology, labels, restricted=restricted), params)
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

    def walk(self, walk: Walk) -> WalkResult:
        query = walk_query(self.dialect, self.ontology, walk)
        return read_walk(self.ontology, walk, query, self._read(query.text, query.params))

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _change(r: Row) -> Change:
    return Change(seq=r["seq"], op=r["op"], kind=r["kind"], type=r["type"], id=r["id"], version=r["version"],
                  ts=r["ts"], from_id=r["from_id"], to_id=r["to_id"])


def scan_limit(limit: int) -> int:
    if limit < 1:
        raise BadQueryError(f"limit is {limit}.", hint="Scan 1 or more records per page.")
    return int(limit)


__all__ = ["CheckedRel", "CypherGraphStore", "Row", "RowsByEnds", "scan_limit"]
