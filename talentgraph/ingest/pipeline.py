"""Run jobs in order (areas before the residents who live in them).

In a dry run nothing is written, so a later job's relationships would find no endpoints from the
earlier jobs; the ids each job would write are shared with the jobs after it instead, and so are
the records themselves, for the later jobs' lookups (``ingest/lookups.py``).

Large jobs build their rows on every core (``ingest/workers.py``); the pool is started once, at
the first job big enough to use it, and ended with the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary, run_job
from talentgraph.ingest.lookups import DryRunWrites, Lookups
from talentgraph.ingest.mapping import DocumentsSpec, JobSpec
from talentgraph.ingest.workers import RowBuilders, job_lookups, lookups_read_own_writes

log = logging.getLogger(__name__)

# Rows per write transaction. LadybugDB loads each transaction's new rows with one COPY per table,
# and a COPY into a table costs more the more often it runs (a job in 5,000-row batches took 8x
# the time of one COPY), so a job is one transaction up to this many rows; Neo4j sends the same
# rows as UNWIND statements of ``batch_rows`` each, in transactions of 5,000 rows, as a hand-written
# bulk load would: against 20,000-row transactions (five pairs, run alternately), its 50k-resident
# jobs took 1.7 s (6%) less and its JVM 3.1 s (11%) less CPU — a larger transaction's state costs
# Neo4j more to build and commit than the fewer commits save.
BULK_BATCH = 100_000
DEFAULT_BATCH = 5_000


def batch_size_for(graph: GraphStore) -> int:
    return BULK_BATCH if graph.capabilities.bulk_copy else DEFAULT_BATCH


def run_pipeline(
    specs: Sequence[JobSpec | DocumentsSpec],
    graph: GraphStore,
    *,
    id_hash_key: bytes,
    quarantine_dir: Path,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: bool = False,
    on_batch: Callable[[], None] | None = None,
    workers: int | None = None,
    force: bool = False,
) -> list[JobSummary]:
    """``workers``: processes that build rows of large jobs (None: one per core; 1: none); ``force``:
    snapshot jobs may end more than their ``max_delete_share`` (``ingest/snapshot.py``)."""
    known_ids: set[str] = set()
    dry_run_writes = DryRunWrites() if dry_run else None
    summaries: list[Any] = []
    builders = RowBuilders(workers)
    ahead: Lookups | None = None
    try:
        for at, spec in enumerate(specs):
            if isinstance(spec, DocumentsSpec):  # a folder of documents: text to graph
                summaries.append(_documents(spec, graph, dry_run=dry_run, progress=progress))
                continue
            try:
                summary = run_job(
                    spec, graph,
                    id_hash_key=id_hash_key, quarantine_dir=quarantine_dir,
                    batch_size=batch_size or batch_size_for(graph), dry_run=dry_run,
                    progress=progress, on_batch=on_batch, known_ids=known_ids, dry_run_writes=dry_run_writes,
                    builders=builders, force=force, lookups=ahead,
                )
            except Exception as exc:
                done = ", ".join(s.job for s in summaries) or "none"
                exc.add_note(f"Pipeline stopped at job {spec.job}; jobs already finished: {done}.")
                raise
            summaries.append(summary)
            ahead = None
            if spec is not specs[-1] and not dry_run:
                # The next job reads its file and builds rows first: LadybugDB checkpoints this one meanwhile.
                # Its lookups read the graph, and a read waits for the checkpoint: they are read before it
                # (at 50k residents the volunteers' and the talent survey's rows were built ~0.6 s later each).
                ahead = _lookups_ahead(specs[at + 1], graph)
                graph.settle()
    finally:
        builders.close()
    return summaries


def _lookups_ahead(spec: JobSpec | DocumentsSpec, graph: GraphStore) -> Lookups | None:
    """The next job's lookups, read now (``Lookups.prepare``), where reading them early answers as reading them
    at its first row does."""
    if not isinstance(spec, JobSpec) or lookups_read_own_writes(spec):
        return None
    found = job_lookups(spec)
    if not found:
        return None
    lookups = Lookups(graph)
    try:
        lookups.prepare(found)
    except Exception:  # noqa: BLE001 - the job reads them again itself, and reports a failure as its own
        log.warning("Reading job %s's lookups ahead failed; the job reads them itself.", spec.job, exc_info=True)
        return None
    return lookups


def _documents(spec: DocumentsSpec, graph: GraphStore, *, dry_run: bool, progress: bool) -> Any:
    from talentgraph.text.jobs import DocsSummary, ingest_documents

    if dry_run:  # reading documents writes nothing but the graph: a dry run reads nothing either
        return DocsSummary(job=spec.job, source=", ".join(map(str, spec.paths)), dry_run=True)
    return ingest_documents(graph, spec.paths, job=spec.job, progress=progress)


__all__ = ["BULK_BATCH", "DEFAULT_BATCH", "batch_size_for", "run_pipeline"]
