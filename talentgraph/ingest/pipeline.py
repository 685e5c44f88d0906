"""Run jobs in order (areas before the residents who live in them).

In a dry run nothing is written, so a later job's relationships would find no endpoints from the
earlier jobs; the ids each job would write are shared with the jobs after it instead, and so are
the records themselves, for the later jobs' lookups (``ingest/lookups.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary, run_job
from talentgraph.ingest.lookups import DryRunWrites
from talentgraph.ingest.mapping import JobSpec


def run_pipeline(
    specs: Sequence[JobSpec],
    graph: GraphStore,
    *,
    id_hash_key: bytes,
    quarantine_dir: Path,
    batch_size: int = 5000,
    dry_run: bool = False,
    progress: bool = False,
    on_batch: Callable[[], None] | None = None,
) -> list[JobSummary]:
    known_ids: set[str] = set()
    dry_run_writes = DryRunWrites() if dry_run else None
    summaries: list[JobSummary] = []
    for spec in specs:
        try:
            summary = run_job(
                spec, graph,
                id_hash_key=id_hash_key, quarantine_dir=quarantine_dir, batch_size=batch_size, dry_run=dry_run,
                progress=progress, on_batch=on_batch, known_ids=known_ids, dry_run_writes=dry_run_writes,
            )
        except Exception as exc:
            done = ", ".join(s.job for s in summaries) or "none"
            exc.add_note(f"Pipeline stopped at job {spec.job}; jobs already finished: {done}.")
            raise
        summaries.append(summary)
    return summaries


__all__ = ["run_pipeline"]
