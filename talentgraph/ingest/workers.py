"""Building rows on every core: a pool of worker processes builds chunks of rows (``ingest/distinct.py``).

Mapping and validating a row (transforms, vocabularies, validators, id hashing) is pure Python and
was half of an ingest's time on one core while the other idled. A ``RowBuilders`` pool sends
chunks of rows to worker processes and hands the built rows back **in file order**, so everything
after building (quarantine, batches, endpoint checks, writes, row accounting) is exactly what it is
in one process. The main process meanwhile reads the source and writes finished batches.

Used only where it cannot change an answer:
- a relationship end found by ``lookup`` reads the graph, which lives in the main process: the main
  process resolves each row's lookups as it reads the row, in file order, and sends the ids along
  (``Resolved``); a row whose lookup fails is built there, so its reason is the one ``build_row``
  gives. A lookup reads the graph once per job and type (``ingest/lookups.py``), so resolving it
  ahead of the job's writes finds what resolving it row by row would — unless the job itself writes
  the type a lookup reads or the relationship it follows (``parallel_safe``), or a dry run, which
  keeps the job's pretended writes for its lookups; those jobs build their rows in process;
- the source is big enough to repay starting the workers (``MIN_BYTES``), or, once an earlier job
  started them, its round trips (``WARM_MIN_BYTES``).
Workers are *forked* where the platform can (Linux): they start in milliseconds with the
transforms registered so far (a user's own included), the vocabularies and the mapping already
in memory, and a caller's script needs no ``if __name__ == "__main__"`` guard, which spawned
workers would demand. A forked worker only maps rows — it never touches the graph or the index
whose threads the parent runs. Elsewhere rows are built in process. The vocabularies' data-dir
overlay is named to each worker, which re-checks it per chunk (``vocabularies.generation``), so a
term added while a job runs is seen as it would be in process.

The workers only save time: if one dies (the kernel's out-of-memory killer takes the largest process it can), the
chunks the pool held are built in the main process, in their place, and so is every later row of the run, with a
warning in the log: the job's rows, batches and accounting are those it would have had.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from talentgraph.errors import ValidationError
from talentgraph.graph.common import PreparedNode
from talentgraph.ingest.distinct import JobBuilder
from talentgraph.ingest.lookups import LookupFailed, Lookups
from talentgraph.ingest.mapping import JobSpec, LookupSpec
from talentgraph.ingest.rows import BuiltRow
from talentgraph.ingest.sources import Row
from talentgraph.memory import collector_held, frozen_for_fork
from talentgraph.schema import vocabularies
from talentgraph.types import Provenance, RelRecord

# Rows per task: large enough that pickling and the round trip are noise, small enough that the
# first batch is written early and memory stays flat.
CHUNK_ROWS = 2_000
# Below this source size one process is as fast: the rows are few, the round trips not.
MIN_BYTES = 4 * 1024 * 1024
# Once the pool runs (an earlier job of the pipeline started it), starting costs nothing more: a source of
# a couple of chunks repays the round trips (the demo's foreign residents, memberships, employment).
WARM_MIN_BYTES = 256 * 1024
# Chunks in flight per worker: keeps both workers busy while the main process writes. On LadybugDB a batch of
# 100,000 residents takes the main process 4-6 s on one core (diff, claims, COPY) with nothing else to do for the
# workers but what is in flight: 2 per worker kept them busy for ~1 s of it; 12 (48,000 rows on two workers) for
# most of it. 1M residents, one alternating pair with the lookups read ahead: jobs 189.4 s against 200.0 s, the
# main process's peak RSS 3.02 GB against 2.80 GB.
AHEAD = 12
# A chunk's place in the queue once the pool is lost: built in this process when its turn comes.
_HERE = "here"

log = logging.getLogger(__name__)

# A row to build: (number, row), or (number, row, its resolved lookup ends) for a job with lookups.
Item = tuple[Any, ...]


def default_workers() -> int:
    """Workers for this machine: one per core the process may use (at most 8)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(cores, 8)


def parallel_safe(spec: JobSpec) -> bool:
    """Whether building this job's rows elsewhere gives the same answer (see the module docstring)."""
    if "fork" not in mp.get_all_start_methods():
        return False
    lookups = job_lookups(spec)
    # Resolved ends travel keyed by the lookup's place in the job file: two in one place could not be told apart.
    return len({lk.where_path for lk in lookups}) == len(lookups) and not lookups_read_own_writes(spec)


def has_lookups(spec: JobSpec) -> bool:
    return bool(job_lookups(spec))


def lookups_read_own_writes(spec: JobSpec) -> bool:
    """Whether a lookup of the job reads a node type or relationship the job writes: resolved before the job's
    first write, such a lookup could answer otherwise than resolved row by row."""
    written = {n.type for n in spec.nodes} | {r.type for r in spec.relationships}
    return any(_reads(lk) & written for lk in job_lookups(spec))


def job_lookups(spec: JobSpec) -> list[LookupSpec]:
    return [end.lookup for r in spec.relationships for end in (r.from_, r.to) if end.lookup is not None]


def _reads(lookup: LookupSpec) -> set[str]:
    """The node types and relationships a lookup reads (its own and its ``within``'s)."""
    out = {lookup.type, *((lookup.via,) if lookup.via else ())}
    return out | (_reads(lookup.within) if lookup.within is not None else set())


class Resolved:
    """The lookup ends the main process resolved for one row (``resolved_ends``), answered as ``Lookups.resolve``
    answered them there."""

    def __init__(self) -> None:
        self.ends: dict[str, str | None] = {}

    def resolve(self, spec: LookupSpec, row: Row, field: str) -> str | None:
        return self.ends[spec.where_path]


def resolved_ends(spec: JobSpec, row: Row, lookups: Lookups) -> dict[str, str | None]:
    """Every lookup end of ``row`` by the lookup's place in the job file, resolved in this process; raises what
    ``Lookups.resolve`` raises."""
    return {es.lookup.where_path: lookups.resolve(es.lookup, row, f"{r.type}.{end}")
            for r in spec.relationships for end, es in (("from", r.from_), ("to", r.to)) if es.lookup is not None}


# --- the worker side ------------------------------------------------------------------------------


def _init(overlay: str | None) -> None:
    vocabularies.use_overlay(Path(overlay) if overlay else None)
    # Forked while the job held its collector (``CollectorHold``): the worker's is its own, on between chunks.
    gc.enable()


# A built row as it travels back: (errors, nodes, rels) with records as plain tuples. Unpickling
# dataclass instances cost the writing process ~50 µs a row; tuples and dicts about half, and the
# raw row and the provenance, which the main process already has, are not sent at all.
Packed = tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]


# The worker's builder for the job whose chunks it is sent (by the job's token): what the property
# memos learnt from one chunk serves the next (``ingest/distinct.py``).
_BUILDER: tuple[str, JobBuilder] | None = None


def _builder(token: str, spec: JobSpec, id_hash_key: bytes) -> JobBuilder:
    global _BUILDER
    if _BUILDER is None or _BUILDER[0] != token:
        _BUILDER = (token, JobBuilder(spec, id_hash_key=id_hash_key, lookups=Resolved() if has_lookups(spec) else None))
    return _BUILDER[1]


def _build(spec: JobSpec, items: list[Item], provenance: tuple[str, str, str, int], id_hash_key: bytes,
           token: str) -> list[Packed]:
    builder = _builder(token, spec, id_hash_key)
    resolved = builder.lookups if isinstance(builder.lookups, Resolved) else None
    job, file, at, priority = provenance
    out: list[Packed] = []
    with collector_held():  # the chunk's rows and records: acyclic, freed by reference counting
        for item in items:
            number, row = item[0], item[1]
            if resolved is not None:
                resolved.ends = item[2]
            b = builder.build(number, row, Provenance(job, file, number, at, priority))
            if b.errors:  # quarantined: only the reasons are needed
                out.append((b.errors, [], []))
                continue
            # What a new node stores (content hash, claims text) is worked out here, on this core, and not
            # per node in the writing process (graph/common.py PreparedNode; unused if the node exists).
            nodes = [(n.type, n.id, n.props, n.names, (prep := PreparedNode.of(n)).fresh_hash, prep.fresh_claims)
                     for n in b.nodes]
            out.append(([], nodes, [(r.type, r.from_id, r.to_id, r.props) for r in b.rels]))
    return out


def _unpack(packed: list[Packed], items: list[Item], provenance: tuple[str, str, str, int]) -> Iterator[Any]:
    """The built rows of one chunk, as ``build_row`` returned them in the worker."""
    job, file, at, priority = provenance
    for (number, row, *_), (errors, nodes, rels) in zip(items, packed, strict=True):
        prov = Provenance(job, file, number, at, priority)
        yield BuiltRow(number, row, [PreparedNode(t, i, p, prov, names, fresh_hash=h, fresh_claims=c)
                                     for t, i, p, names, h, c in nodes],
                       [RelRecord(t, f, to, p, prov) for t, f, to, p in rels], errors)


# --- the main side --------------------------------------------------------------------------------


class RowBuilders:
    """A pool of row-building processes, started at the first job that uses it; ``close()`` ends it."""

    def __init__(self, workers: int | None = None, *, min_bytes: int | None = None,
                 warm_min_bytes: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self.min_bytes = MIN_BYTES if min_bytes is None else min_bytes
        self.warm_min_bytes = min(self.min_bytes, WARM_MIN_BYTES if warm_min_bytes is None else warm_min_bytes)
        self._pool: ProcessPoolExecutor | None = None
        self._jobs = 0
        self.lost = False  # a worker died: every row is built in process from then on

    def wanted(self, spec: JobSpec, *, dry_run: bool = False) -> bool:
        # A dry run's lookups read the job's pretended writes as they are made: row by row, in process.
        if self.lost or self.workers < 2 or not parallel_safe(spec) or (dry_run and has_lookups(spec)):
            return False
        try:
            size = spec.source.path.stat().st_size
        except OSError:
            return False
        return size >= (self.min_bytes if self._pool is None else self.warm_min_bytes)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            overlay = vocabularies.current_overlay()
            with frozen_for_fork():  # the workers' collectors walk only what they make, not this process's heap
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("fork"),
                                                 initializer=_init, initargs=(str(overlay) if overlay else None,))
                self._pool.submit(int)  # the executor forks every worker here, at its first task
        return self._pool

    def build(self, spec: JobSpec, items: Iterable[Item | Any], provenance: Provenance,
              id_hash_key: bytes, *, lookups: Lookups | None = None,
              here: Callable[[int, Row], BuiltRow] | None = None) -> Iterator[Any]:
        """Each item as it comes, in order: ``(number, row)`` pairs as built rows, anything else as is.

        Items that are not rows (a ``BadRow``, a blank row, a marker) pass through untouched in
        their place, so the caller's per-row handling keeps file order. A job with lookups needs
        ``lookups`` (its ends are resolved here) and ``here``, which builds a row whose lookup fails.
        """
        resolving = has_lookups(spec)
        if resolving and (lookups is None or here is None):
            raise ValueError(f"job {spec.job} finds relationship ends by lookup: pass lookups= and here=")
        pool = None if self.lost else self._executor()
        base = (provenance.job, provenance.source, provenance.ingested_at, provenance.priority)
        self._jobs += 1
        token = f"{os.getpid()}:{self._jobs}"  # this run of the job: a worker's builder serves only its chunks
        # Each entry: a future of built rows with the chunk it builds (``_HERE`` for a chunk to build in this
        # process: the pool is lost), or (None, a plain item) waiting behind earlier futures.
        pending: deque[tuple[Future[list[Packed]] | str | None, Any]] = deque()
        chunk: list[Item] = []
        in_flight = 0
        local: list[JobBuilder] = []

        def build_here(item: Item) -> BuiltRow:
            number, row = item[0], item[1]
            if here is not None:
                return here(number, row)
            if not local:  # a job without lookups may come without ``here``: built as a worker would
                local.append(JobBuilder(spec, id_hash_key=id_hash_key))
            return local[0].build(number, row, Provenance(base[0], base[1], number, base[2], base[3]))

        def submit() -> None:
            nonlocal chunk, in_flight
            if chunk:
                future: Future[list[Packed]] | str = _HERE
                if pool is not None and not self.lost:
                    try:
                        future = pool.submit(_build, spec, chunk, base, id_hash_key, token)
                    except BrokenProcessPool as exc:
                        self._lose(spec, exc)
                pending.append((future, chunk))
                in_flight += 1
                chunk = []

        def drain(keep: int) -> Iterator[Any]:
            nonlocal in_flight
            while pending and in_flight > keep:
                future, held = pending.popleft()
                if future is None:
                    yield held
                    continue
                in_flight -= 1
                if isinstance(future, Future):
                    try:
                        packed = future.result()
                    except BrokenProcessPool as exc:
                        self._lose(spec, exc)
                    else:
                        yield from _unpack(packed, held, base)
                        continue
                for item in held:
                    yield build_here(item)
            while pending and pending[0][0] is None:
                yield pending.popleft()[1]

        for item in items:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int) and isinstance(item[1], dict):
                if resolving:
                    assert lookups is not None and here is not None
                    number, row = item
                    try:
                        item = (number, row, resolved_ends(spec, row, lookups))
                    except (ValidationError, LookupFailed):
                        # Built here, where build_row meets the same failure and words its reason.
                        submit()
                        pending.append((None, here(number, row)))
                        continue
                chunk.append(item)
                if len(chunk) >= CHUNK_ROWS:
                    submit()
                    yield from drain(self.workers * AHEAD)
            else:
                submit()  # a non-row keeps its place after the rows read before it
                pending.append((None, item))
        submit()
        yield from drain(0)

    def _lose(self, spec: JobSpec, exc: BaseException) -> None:
        """A worker died: the chunks the pool held and every later row are built in this process."""
        if self.lost:
            return
        self.lost = True
        log.warning("A row-building worker process ended abruptly (%s; killed for lack of memory?): job %s builds "
                    "the rows it held and the rest in this process, as do later jobs of this run.", exc, spec.job)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["CHUNK_ROWS", "MIN_BYTES", "WARM_MIN_BYTES", "Resolved", "RowBuilders", "default_workers", "has_lookups",
           "job_lookups", "lookups_read_own_writes", "parallel_safe", "resolved_ends"]
