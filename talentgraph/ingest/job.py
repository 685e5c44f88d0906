"""Run one ingest job: stream rows, build and validate records, check endpoints, write in batches.

A row is the unit of work. Everything a row maps to (its nodes and relationships) is validated
first; if anything is wrong the whole row goes to the quarantine file with the reason and nothing
of it is written. Surviving rows are written in batches: one ``get_nodes`` call per batch looks
up relationship endpoints the batch does not create itself, then one ``upsert_batch`` call writes
its nodes, relationships and change log in one transaction (a job killed mid-batch leaves that
batch out entirely, never a person without their LIVES_IN). The store's per-record results are
mapped back to rows so that ``rows_in == inserted + updated + unchanged + quarantined + empty``
always holds. A row whose every cell is blank (a JSON record of nulls, cells holding only spaces or
zero-width characters) is counted ``empty`` and skipped: it says nothing, so it is neither an error
to fix nor a record to write. Blank rows a reader skips between two rows count as empty too (the gap
in the row numbers shows them), so ``rows_in`` is the number of the last row.

Rows are built by a ``JobBuilder`` (``ingest/distinct.py``: each property's distinct cells mapped and
validated once, anything that fails built again by ``build_row`` in ``ingest/rows.py`` for its reasons).
Relationship ends given by a ``lookup`` are resolved while the row is built (``ingest/lookups.py``);
a lookup that finds no node, or several, quarantines the row with the candidates in the reason.
A dry run writes no quarantine file: the rows it would quarantine are listed in the summary.

When the source cannot be read on (``SourceReadError``: a CSV cell over the size limit, a damaged
workbook) the rows before the failing one are written and the job stops with ``JobStopped``, whose
message says which row failed and what was written; its ``summary`` keeps the exact accounting.
"""

from __future__ import annotations

import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from talentgraph.errors import IngestError, TalentgraphError
from talentgraph.graph import claims
from talentgraph.graph.common import split_props
from talentgraph.graph.port import GraphStore
from talentgraph.ingest import snapshot
from talentgraph.ingest.distinct import JobBuilder
from talentgraph.ingest.lookups import DryRunWrites, Lookups
from talentgraph.ingest.mapping import JobSpec
from talentgraph.ingest.progress import JobProgress
from talentgraph.ingest.quarantine import QuarantinePreview, QuarantineWriter, row_ids
from talentgraph.ingest.sources import BadRow, Row, SourceReadError, open_source
from talentgraph.ingest.rows import BuiltRow, build_row
from talentgraph.ingest.transforms import is_empty
from talentgraph.ingest.workers import RowBuilders
from talentgraph.memory import CollectorHold, release_free_memory
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.types import Node, NodeRecord, Provenance, RelRecord, UpsertResult

Status = Literal["inserted", "updated", "unchanged"]
_RANK: dict[str, int] = {"unchanged": 0, "updated": 1, "inserted": 2}
# Batches of at least this many rows hand their freed memory back once written; the many small batches a register
# of repeated ids flushes (``_Batch.conflicts``) free too little to be worth a call each.
TRIM_AFTER = 1_000


# --- summary ------------------------------------------------------------------------------------


@dataclass
class JobSummary:
    job: str
    source: str
    format: str
    encoding: str | None = None
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    empty: int = 0  # rows whose every cell is blank: skipped
    quarantine_path: str | None = None  # absolute
    # The quarantine file came out identical to this job's previous one, so that one is reported and
    # no second copy is kept: the same rows were already quarantined by the last run.
    quarantine_repeated: bool = False
    # Dry run: the first rows that would be quarantined, {"row": n, "reason": "..."} (no file is written).
    quarantine_preview: list[dict[str, Any]] = field(default_factory=list)
    # Quarantined rows some of whose records the store had already written (it rejected another).
    partially_written: int = 0
    nodes_written: dict[str, int] = field(default_factory=dict)  # inserted + updated, by node type
    rels_written: dict[str, int] = field(default_factory=dict)  # inserted + updated, by relationship type
    # Snapshot jobs (ingest/snapshot.py) end what the new file no longer yields; additive jobs never do.
    mode: str = "additive"
    ended: int = 0  # the job's relationships deleted + nodes kept with this job's claims withdrawn
    deleted: int = 0  # nodes deleted: no source claims anything on them any more
    detached: int = 0  # other sources' relationships deleted with those nodes
    ended_by_type: dict[str, int] = field(default_factory=dict)
    deleted_by_type: dict[str, int] = field(default_factory=dict)
    removed_preview: dict[str, list[str]] = field(default_factory=dict)  # the first ids per type that went
    snapshot_note: str | None = None  # why a snapshot ended nothing, or would be refused
    dry_run: bool = False
    seconds: float = 0.0
    rows_per_second: float = 0.0

    def check(self) -> None:
        total = self.inserted + self.updated + self.unchanged + self.quarantined + self.empty
        assert self.rows_in == total, f"row accounting broken for {self.job}: {self.rows_in} in, {total} accounted"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _removed(self, kind: str) -> int:
        return self.ended_by_type.get(kind, 0) + self.deleted_by_type.get(kind, 0)

    def __str__(self) -> str:
        verb = "would be " if self.dry_run else ""
        where = f"  → {self.quarantine_path}" if self.quarantine_path else ""
        if self.quarantine_repeated:
            where += " (the same rows as the last run: no new file)"
        lines: list[tuple[str, str]] = [
            ("来源 source", f"{self.source} ({self.format}{', ' + self.encoding if self.encoding else ''})"),
            ("读入 rows in", f"{self.rows_in:,}"),
            (f"新增 {verb}inserted", f"{self.inserted:,}"),
            (f"更新 {verb}updated", f"{self.updated:,}"),
            ("未变 unchanged", f"{self.unchanged:,}"),
            (f"隔离 {verb}quarantined", f"{self.quarantined:,}{where}"),
        ]
        if self.empty:
            lines.append(("空行 empty", f"{self.empty:,} rows with every cell blank, skipped"))
        if self.partially_written:
            lines.append(("部分写入 partial",
                          f"{self.partially_written:,} quarantined rows had other records written"))
        if self.nodes_written:
            lines.append((f"节点 nodes {verb}written", _counts(self.nodes_written)))
        if self.rels_written:
            lines.append((f"关系 rels {verb}written", _counts(self.rels_written)))
        if self.mode == "snapshot":
            lines.append((f"结束 {verb}ended", f"{self.ended:,}" + (f" ({_counts(self.ended_by_type)})"
                                                                    if self.ended_by_type else "")))
            gone = f"{self.deleted:,}" + (f" ({_counts(self.deleted_by_type)})" if self.deleted_by_type else "")
            if self.detached:
                gone += f", with {self.detached:,} relationship(s) of other sources"
            lines.append((f"删除 {verb}deleted", gone))
            lines += [(f"  {kind}", ", ".join(ids) + (" …" if len(ids) < self._removed(kind) else ""))
                      for kind, ids in self.removed_preview.items()]
            if self.snapshot_note:
                lines.append(("快照 snapshot", self.snapshot_note))
        lines.append(("用时 time", f"{self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)"))
        width = max(_width(label) for label, _ in lines)
        title = f"job {self.job}" + (" (dry run: nothing written)" if self.dry_run else "")
        out = [title, *(f"  {_pad(label, width)}  {value}" for label, value in lines)]
        out += [f"    row {q['row']}: {q['reason']}" for q in self.quarantine_preview]
        if self.quarantined > len(self.quarantine_preview) and self.quarantine_preview:
            out.append(f"    … and {self.quarantined - len(self.quarantine_preview):,} more")
        return "\n".join(out)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal; plain len() would misalign the values.
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class JobStopped(IngestError):
    """The source could not be read past a row; everything before it was written (or quarantined).

    ``summary`` accounts for the rows read before the failing one exactly as a finished job would.
    """

    def __init__(self, message: str, *, hint: str | None, summary: JobSummary) -> None:
        super().__init__(message, hint=hint)
        self.summary = summary


def _stopped(exc: SourceReadError, summary: JobSummary) -> JobStopped:
    s = summary
    where = f" → {s.quarantine_path}" if s.quarantine_path else ""
    before = f"rows 1–{exc.row - 1} were processed" if exc.row > 1 else "no row was processed"
    dry = " (dry run: nothing written)" if s.dry_run else ""
    return JobStopped(
        f"{exc.message} Job {s.job} stopped there{dry}: {before} ({s.rows_in:,} rows in = {s.inserted:,} inserted "
        f"+ {s.updated:,} updated + {s.unchanged:,} unchanged + {s.quarantined:,} quarantined"
        f"{f' + {s.empty:,} empty' if s.empty else ''}{where}); "
        f"nothing from row {exc.row} on."
        + (" A snapshot job ends nothing from a file it could not read to the end: nothing was ended or deleted."
           if s.mode == "snapshot" else ""),
        hint=f"{exc.hint + ' ' if exc.hint else ''}Then re-run the job: rows already written come back unchanged.",
        summary=summary,
    )


# --- batches ------------------------------------------------------------------------------------


class _Batch:
    """Rows waiting to be written; a record id seen twice with different values forces a flush
    first, so rows keep their file order semantics (the later row updates the earlier one)."""

    def __init__(self) -> None:
        self.rows: list[BuiltRow] = []
        self._props: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def conflicts(self, row: BuiltRow) -> bool:
        # Once per row of every job: plain loops (a generator of pairs cost a third of it).
        seen = self._props
        for n in row.nodes:
            before = seen.get(n.id)
            if before is not None and before != n.props:
                return True
        for r in row.rels:
            before = seen.get(r.key)
            if before is not None and before != r.props:
                return True
        return False

    def add(self, row: BuiltRow) -> None:
        self.rows.append(row)
        seen = self._props
        for n in row.nodes:
            seen.setdefault(n.id, n.props)
        for r in row.rels:
            seen.setdefault(r.key, r.props)


class _Runner:
    def __init__(
        self, spec: JobSpec, graph: GraphStore, summary: JobSummary, quarantine: QuarantineWriter | QuarantinePreview,
        *,
        dry_run: bool, known_ids: set[str], ontology: Ontology, dry_run_writes: DryRunWrites | None = None,
    ) -> None:
        self.spec = spec
        self.graph = graph
        self.summary = summary
        self.quarantine = quarantine
        self.dry_run = dry_run
        # Ids known to exist (looked up, written by this job, or — in a dry-run pipeline — that an
        # earlier job would have written); saves re-asking the store for the same building per batch.
        self.known_ids = known_ids
        self.ontology = ontology
        self.dry_run_writes = dry_run_writes
        self.nodes_written: Counter[str] = Counter()
        self.rels_written: Counter[str] = Counter()
        # Every node id and relationship key the file yielded (written or unchanged): what a
        # snapshot job keeps (ingest/snapshot.py).
        self.seen: set[str] = set()

    def reject(self, number: int, reason: str, raw: Row, *, mapped: bool = True) -> None:
        """``mapped``: the row was read into its columns, so the node ids its keys name go in ``_ids``."""
        self.quarantine.write(number, reason, raw, row_ids(self.spec, raw, self.ontology) if mapped else ())
        self.summary.quarantined += 1

    def count(self, status: Status) -> None:
        setattr(self.summary, status, getattr(self.summary, status) + 1)

    # -- endpoints --

    def _check_endpoints(self, rows: list[BuiltRow]) -> list[BuiltRow]:
        """Quarantine rows whose relationships point at nodes that neither exist nor are created here."""
        looked_up: set[str] = set()
        while True:
            produced = {n.id for r in rows for n in r.nodes}
            wanted = {i for r in rows for rel in r.rels for i in (rel.from_id, rel.to_id)}
            # A second lookup only happens when quarantining a row removed a node others point at.
            unknown = sorted(wanted - produced - self.known_ids - looked_up)
            if unknown:
                found = self.graph.get_nodes(unknown, fields=("id",))  # existence only: no claims to convert
                self.known_ids.update(found)
                looked_up.update(unknown)
            exists = produced | self.known_ids
            keep: list[BuiltRow] = []
            for r in rows:
                missing = [
                    f"{rel.type} {end} {node_id}: no {self.ontology.type_of_id(node_id).name} with that id"
                    for rel in r.rels
                    for end, node_id in (("from", rel.from_id), ("to", rel.to_id))
                    if node_id not in exists
                ]
                if missing:
                    self.reject(r.number, "; ".join(dict.fromkeys(missing)), r.raw)
                else:
                    keep.append(r)
            if len(keep) == len(rows):
                return keep
            rows = keep

    # -- writing --

    def flush(self, batch: _Batch) -> bool:
        """Write a batch; True when anything was sent to the store."""
        rows = self._check_endpoints(batch.rows)
        if not rows:
            return False
        nodes: dict[str, NodeRecord] = {}
        rels: dict[str, RelRecord] = {}
        for r in rows:
            for n in r.nodes:
                nodes.setdefault(n.id, n)
            for rel in r.rels:
                rels.setdefault(rel.key, rel)
        self.seen.update(nodes)
        self.seen.update(rels)
        if self.dry_run:
            status = self._classify_dry(nodes, rels)
            rejected: dict[str, str] = {}
            if self.dry_run_writes is not None:
                self.dry_run_writes.add(nodes.values(), rels.values())
        else:
            node_result, rel_result = self.graph.upsert_batch(list(nodes.values()), list(rels.values()))
            status = _statuses(node_result) | _statuses(rel_result)
            rejected = {**node_result.rejected, **rel_result.rejected}
        for rec_id, st in status.items():
            if st in ("inserted", "updated"):
                if rec_id in nodes:
                    self.nodes_written[nodes[rec_id].type] += 1
                elif rec_id in rels:
                    self.rels_written[rels[rec_id].type] += 1
        self.known_ids.update(i for i in nodes if i not in rejected)
        self._account(rows, status, rejected)
        return not self.dry_run

    def _account(self, rows: list[BuiltRow], status: dict[str, str], rejected: dict[str, str]) -> None:
        claimed: set[str] = set()  # a record shared by rows counts for the first row only
        for r in rows:
            ids = [n.id for n in r.nodes] + [rel.key for rel in r.rels]
            reasons = [f"{i}: {rejected[i]}" for i in ids if i in rejected]
            best = "unchanged"
            for i in ids:
                if i in claimed or i in rejected:
                    continue
                claimed.add(i)
                st = status.get(i, "unchanged")
                if _RANK[st] > _RANK[best]:
                    best = st
            if reasons:
                note = ""
                if best != "unchanged":
                    self.summary.partially_written += 1
                    note = " (the row's other records were written)"
                self.reject(r.number, "store rejected " + "; ".join(reasons) + note, r.raw)
            else:
                self.count(best)  # type: ignore[arg-type]

    def _classify_dry(self, nodes: dict[str, NodeRecord], rels: dict[str, RelRecord]) -> dict[str, str]:
        """What a real run would report, from reads only: nodes by the store's own claim rule
        (graph/claims.py); relationships by comparing values (a value the store normalises
        differently may show as an update)."""
        out: dict[str, str] = {}
        existing: dict[str, Node] = self.graph.get_nodes(list(nodes)) if nodes else {}
        states = self.dry_run_writes.states if self.dry_run_writes is not None else {}
        for node_id, rec in nodes.items():
            old = existing.get(node_id)
            before = states.get(node_id)  # as an earlier job of this dry run left it
            if before is None and old is None:
                out[node_id] = "unchanged" if node_id in self.known_ids else "inserted"
                merged = claims.merge({}, {}, rec.props, rec.names, rec.provenance, "")
            else:
                # The store's own rule (graph/claims.py): only this job's claims count.
                if before is None:
                    declared = [p.name for p in self.ontology.node(rec.type).properties]
                    shown, _ = split_props(old.props if old is not None else {})
                    before = claims.Merged(shown, claims.load(old.props if old is not None else {}, declared), False)
                merged = claims.merge(before.props, before.claims, rec.props, rec.names, rec.provenance, "")
                out[node_id] = "updated" if merged.changed else "unchanged"
            states[node_id] = merged
        by_type: dict[str, list[RelRecord]] = {}
        for rel in rels.values():
            by_type.setdefault(rel.type, []).append(rel)
        for rel_type, recs in by_type.items():
            sources = sorted({r.from_id for r in recs if r.from_id in existing or r.from_id not in nodes})
            edges = self.graph.edges(sources, rel_type, "out") if sources else {}
            names = [p.name for p in self.ontology.rel(rel_type).properties]
            for rel in recs:
                match = next((e for e in edges.get(rel.from_id, []) if e.to_id == rel.to_id), None)
                if match is None:
                    out[rel.key] = "inserted"
                else:
                    out[rel.key] = "unchanged" if _same(rel.props, match.props, names) else "updated"
        return out


def _same(new: dict[str, Any], old: dict[str, Any], names: list[str]) -> bool:
    def norm(v: Any) -> Any:
        return None if v in (None, "", []) else v

    return all(norm(new.get(n)) == norm(old.get(n)) for n in names)


def _statuses(result: UpsertResult) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("unchanged", "updated", "inserted"):
        for i in getattr(result, name):
            out[i] = name
    return out


# --- the job ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unreadable:
    """A row the reader could not split into cells: quarantined in its place."""

    number: int
    row: BadRow


@dataclass(frozen=True)
class _Stop:
    """The source cannot be read past this point (``SourceReadError``)."""

    error: SourceReadError


Item = tuple[int, Row] | _Unreadable | _Stop


def run_job(
    spec: JobSpec,
    graph: GraphStore,
    *,
    id_hash_key: bytes,
    quarantine_dir: Path,
    batch_size: int = 5000,
    dry_run: bool = False,
    progress: bool = False,
    on_batch: Callable[[], None] | None = None,
    known_ids: set[str] | None = None,
    ontology: Ontology = ONTOLOGY,
    dry_run_writes: DryRunWrites | None = None,
    builders: RowBuilders | None = None,
    force: bool = False,
    lookups: Lookups | None = None,
) -> JobSummary:
    """Run one job; ``known_ids`` lets a dry-run pipeline treat ids earlier jobs would write as existing,
    and ``dry_run_writes`` lets its lookups find the records they would write (and collects this job's).
    ``builders``: a pool of worker processes that builds the rows of a large job (``ingest/workers.py``).
    ``force``: a snapshot job may end more than its ``max_delete_share`` (``ingest/snapshot.py``).
    ``lookups``: the job's lookups, read ahead by the pipeline (``Lookups.prepare``); a fresh one otherwise."""
    if batch_size < 1:
        raise ValueError(f"batch_size is {batch_size}; use 1 or more")
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    provenance_at = started.isoformat(timespec="seconds").replace("+00:00", "Z")
    source = open_source(spec.source.path, spec.source.format, spec.source.options)
    summary = JobSummary(spec.job, spec.source.path.name, spec.source.format, mode=spec.mode, dry_run=dry_run)
    with source:
        summary.encoding = source.encoding
        spec.check_header(source.header)
        # What a snapshot job owns is read before its rows are written: see snapshot.owned.
        before = snapshot.owned(spec, graph) if spec.mode == "snapshot" else None
        # A dry run only reports what it would quarantine; a file from it would be taken for a real run's.
        quarantine: QuarantineWriter | QuarantinePreview = QuarantinePreview() if dry_run else QuarantineWriter(
            quarantine_dir, spec.job, [*source.header, *source.extra_columns], spec.identity_columns, started
        )
        # Read at the first row that needs them (or by the pipeline, once the job before this one wrote its
        # last batch), so they see what earlier jobs of a pipeline wrote.
        if lookups is None:
            lookups = Lookups(graph, ontology, pending=dry_run_writes if dry_run else None)
        runner = _Runner(spec, graph, summary, quarantine, dry_run=dry_run,
                         known_ids=known_ids if known_ids is not None else set(), ontology=ontology,
                         dry_run_writes=dry_run_writes if dry_run else None)
        batch = _Batch()
        # Held from a batch's first row until it is written, let run in between (talentgraph/memory.py).
        collector = CollectorHold()

        def flush(*, more: bool = False) -> None:
            """``more``: a full batch, with rows of the job still to come."""
            nonlocal batch
            size = len(batch)
            # The count stands still meanwhile (a million residents: ~8 s per 100,000-row batch on 2 cores).
            with bar.doing(f"checking {size:,} rows against the graph" if dry_run
                           else f"writing {size:,} rows to the graph"):
                if size and runner.flush(batch):
                    if on_batch is not None:
                        on_batch()
                    if more:
                        # The next batch is read and built before it is written: what this one left to housekeep
                        # (LadybugDB: the checkpoint its next write transaction would start with, in the main
                        # thread) runs meanwhile (``GraphStore.settle``), after ``on_batch``, whose reads would
                        # wait for it.
                        graph.settle()
            batch = _Batch()
            collector.release()
            if size >= TRIM_AFTER:  # the batch's rows are freed now: give their pages back (talentgraph/memory.py)
                release_free_memory()

        def read() -> Iterator[Item]:
            # Reading and counting, in file order; the rows to build go on as (number, row).
            last = 0
            try:
                for number, row in source.read_rows():
                    # Row numbers are positions in the file: a gap is blank rows the reader skipped, which
                    # are counted empty so ``rows_in`` matches the row numbers users see (trailing blank
                    # rows, e.g. formatted but empty spreadsheet rows, follow no row and are not counted).
                    if number > last + 1:
                        summary.rows_in += number - last - 1
                        summary.empty += number - last - 1
                    last = number
                    summary.rows_in += 1
                    if isinstance(row, BadRow):
                        yield _Unreadable(number, row)
                    elif _blank_row(row):
                        summary.empty += 1
                    else:
                        yield number, row
            except SourceReadError as exc:
                yield _Stop(exc)  # after every row read before it, so those are written first

        builder = JobBuilder(spec, id_hash_key=id_hash_key, ontology=ontology, lookups=lookups)

        def build_here(number: int, row: Row) -> BuiltRow:
            return builder.build(number, row, Provenance(spec.job, spec.source.path.name, number, provenance_at,
                                                         spec.priority))

        stream: Iterator[Any]
        if builders is not None and ontology is ONTOLOGY and builders.wanted(spec, dry_run=dry_run):
            base = Provenance(spec.job, spec.source.path.name, 0, provenance_at, spec.priority)
            stream = builders.build(spec, read(), base, id_hash_key, lookups=lookups, here=build_here)
        else:
            stream = (build_here(*item) if isinstance(item, tuple) else item for item in read())
        bar = JobProgress(spec.job, enabled=progress)
        try:
            for item in stream:
                collector.hold()
                if not isinstance(item, _Stop):
                    bar.at(item.number)
                if isinstance(item, _Unreadable):
                    runner.reject(item.number, item.row.reason, item.row.raw, mapped=False)
                    continue
                if isinstance(item, _Stop):
                    # The rows before the unreadable one are good: write them so the report is what happened.
                    flush()
                    quarantine.close()
                    if before is not None:
                        # A file read only in part lists only part of the records: ending the rest would
                        # wipe the register because of a damaged file.
                        summary.snapshot_note = "nothing ended: the source could not be read to the end"
                    _finish(summary, runner, quarantine, t0)
                    raise _stopped(item.error, summary) from item.error
                built: BuiltRow = item
                if built.errors:
                    runner.reject(built.number, " | ".join(built.errors), built.raw)
                    continue
                if batch.conflicts(built):
                    flush()
                batch.add(built)
                if len(batch) >= batch_size:
                    flush(more=True)
            flush()
            if before is not None:
                states = dry_run_writes.states if dry_run and dry_run_writes is not None else None
                with bar.doing("ending what the file no longer lists"):
                    gone = snapshot.apply(spec, graph, summary, before, runner.seen, force=force, dry_run=dry_run,
                                          ontology=ontology, states=states)
                # Later jobs of a pipeline check their relationship ends against these ids.
                runner.known_ids.difference_update(gone)
        except TalentgraphError as exc:
            if isinstance(exc, (JobStopped, snapshot.SnapshotRefused)):
                if isinstance(exc, snapshot.SnapshotRefused):  # its rows were written: report them exactly
                    quarantine.close()
                    _finish(summary, runner, quarantine, t0)
                raise
            # Batches already written stay written (each is its own transaction); say how far we got.
            exc.add_note(f"Job {spec.job} stopped after {summary.rows_in} rows of {spec.source.path.name}; "
                         "earlier batches were written, so fixing the cause and re-running is safe.")
            raise
        finally:
            collector.release()
            quarantine.close()
            bar.close(summary.rows_in)
    _finish(summary, runner, quarantine, t0)
    return summary


def _blank_row(row: Row) -> bool:
    """Every cell of ``row`` is blank (``_blank``); the usual row is told apart at its first cell."""
    for value in row.values():
        if type(value) is str:
            text = value.strip()
            # Text with a visible first character is not blank: no per-character look needed.
            if text and unicodedata.category(text[0]) not in ("Cf", "Cc"):
                return False
        if not _blank(value):
            return False
    return True


def _blank(value: Any) -> bool:
    """An empty cell, or one holding only whitespace and invisible format characters (a zero-width
    space or BOM pasted from a web page looks empty in Excel, and must not become a key)."""
    if is_empty(value):
        return True
    return isinstance(value, str) and all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc") for ch in value)


def _finish(summary: JobSummary, runner: _Runner, quarantine: QuarantineWriter | QuarantinePreview,
            t0: float) -> None:
    if isinstance(quarantine, QuarantinePreview):
        summary.quarantine_preview = [{"row": n, "reason": r} for n, r in quarantine.rows]
    elif quarantine.path is not None:
        # Resolved here, in the process that wrote it: a relative path would be read against the
        # working directory of whoever prints it (the CLI talking to a server, say).
        summary.quarantine_path = str(quarantine.path.resolve())
        summary.quarantine_repeated = quarantine.repeated
    summary.nodes_written = dict(runner.nodes_written)
    summary.rels_written = dict(runner.rels_written)
    summary.seconds = round(time.perf_counter() - t0, 3)
    summary.rows_per_second = round(summary.rows_in / summary.seconds, 1) if summary.seconds > 0 else 0.0
    summary.check()


__all__ = ["BuiltRow", "JobStopped", "JobSummary", "build_row", "run_job"]
