"""Snapshot jobs (``mode: snapshot``): the source lists every record the job owns, so what the job
wrote before and the new file no longer yields is ended — only what that source owns.

- Before the job reads its file, the store says what the job owns (``GraphStore.source_records``):
  the nodes it has a claim on and the relationships it wrote last. After every row is written, the
  owned records the file did not yield this time are stale.
- Stale relationships are deleted (a resident who moved out loses LIVES_IN). A stale node loses this
  source's claims: if another source still claims something on it, it stays and shows that source's
  values; if nobody does, it is deleted with its relationships (``GraphStore.withdraw``: one
  transaction, tombstones and upserts in the change log, so the search index and feed follow).
- Nothing is removed when the file may be incomplete: rows were quarantined, or the read stopped
  early (``JobStopped``; ``run_job`` never gets here then). A file that would end more than
  ``max_delete_share`` of the job's records is refused (``SnapshotRefused``) unless forced: an
  empty or wrong file is the likeliest cause.
- A dry run reports the same counts from reads, without writing.

Counts: ``ended`` = the job's relationships deleted + nodes kept with this job's claims withdrawn;
``deleted`` = nodes deleted; ``detached`` = other sources' relationships that went with them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from talentgraph.errors import IngestError
from talentgraph.graph import claims
from talentgraph.graph.common import parse_rel_key, split_props
from talentgraph.graph.port import GraphStore, SourceRecords
from talentgraph.ingest.mapping import JobSpec
from talentgraph.schema.ontology import Ontology
from talentgraph.types import Direction, rel_key

# Ids per type the summary lists of what went (or would go).
PREVIEW = 10


class SnapshotRefused(IngestError):
    """A snapshot would end more of the job's records than ``max_delete_share`` allows; its rows
    were written, nothing was removed. ``summary`` is the job's summary as it stands."""

    code = "SNAPSHOT_REFUSED"

    def __init__(self, message: str, *, hint: str | None, summary: Any) -> None:
        super().__init__(message, hint=hint)
        self.summary = summary


def owned(spec: JobSpec, graph: GraphStore) -> SourceRecords:
    """What the job owns before it runs (read before its rows are written, so that the share of
    records a file would end is a share of what the job had, not diluted by what it adds)."""
    return graph.source_records(spec.job, [n.type for n in spec.nodes], [r.type for r in spec.relationships])


def apply(spec: JobSpec, graph: GraphStore, summary: Any, before: SourceRecords, seen: set[str], *,
          force: bool, dry_run: bool, ontology: Ontology,
          states: Mapping[str, claims.Merged] | None = None) -> list[str]:
    """End what ``before`` holds and the file did not yield (``seen``: every node id and relationship
    key its rows produced), filling the summary's counts; returns the ids of the nodes deleted (or
    that would be). ``states``: in a dry-run pipeline, nodes as earlier jobs would have left them."""
    if summary.quarantined:
        summary.snapshot_note = (f"nothing ended: {summary.quarantined:,} row(s) were quarantined, so the file may "
                                 "be missing records it should list; fix them and run the job again")
        return []
    stale_nodes = {t: [i for i in ids if i not in seen] for t, ids in before.nodes.items()}
    stale_rels = {t: [k for k in keys if k not in seen] for t, keys in before.rels.items()}
    n_owned = sum(map(len, before.nodes.values())) + sum(map(len, before.rels.values()))
    n_stale = sum(map(len, stale_nodes.values())) + sum(map(len, stale_rels.values()))
    if not n_stale:
        return []
    share = n_stale / n_owned
    if share > spec.max_delete_share and not (force or spec.force_delete):
        detail = (f"{spec.source.path.name} would end {n_stale:,} of the {n_owned:,} records job {spec.job} owns "
                  f"({share:.0%}, more than max_delete_share {spec.max_delete_share:g})")
        hint = ("An empty, truncated or wrong file is the likeliest cause: check it. If the records really are "
                "gone, run again with --force (or force_delete: true in the job file).")
        if not dry_run:
            summary.snapshot_note = f"refused: {detail}; nothing ended"
            raise SnapshotRefused(f"Snapshot job {spec.job}: {detail}; its rows were written, nothing was ended "
                                  "or deleted.", hint=hint, summary=summary)
        summary.snapshot_note = f"a real run would be refused without --force: {detail}"
    nodes = [i for ids in stale_nodes.values() for i in ids]
    rels = [k for keys in stale_rels.values() for k in keys]
    if dry_run:
        rels_gone, kept, deleted, detached = _would(spec.job, graph, ontology, nodes, rels, states or {})
    else:
        done = graph.withdraw(spec.job, nodes, rels)
        rels_gone, kept, deleted, detached = done.rels, done.updated, done.deleted, done.detached
    _count(summary, rels_gone, kept, deleted, detached, ontology)
    return list(deleted)


def _would(job: str, graph: GraphStore, ontology: Ontology, node_ids: Sequence[str], rel_keys: Sequence[str],
           states: Mapping[str, claims.Merged]) -> tuple[list[str], list[str], list[str], list[str]]:
    """What ``withdraw`` would do, from reads: the store's own rules (graph/claims.py)."""
    found = graph.get_nodes(node_ids) if node_ids else {}
    kept: list[str] = []
    deleted: list[str] = []
    for node_id in node_ids:
        node = found.get(node_id)
        if node is None:
            continue
        declared = [p.name for p in ontology.node(node.type).properties]
        state = states.get(node_id)
        shown, _ = split_props(node.props)
        held = state.claims if state is not None else claims.load(node.props, declared)
        if not claims.owns(held, node.props.get("src_job"), job):
            continue
        (kept if claims.withdraw(shown, held, job).claims else deleted).append(node_id)
    gone = set(rel_keys)
    detached: list[str] = []
    by_type: dict[str, list[str]] = {}
    for node_id in deleted:
        by_type.setdefault(ontology.type_of_id(node_id).name, []).append(node_id)
    for type_name, ids in by_type.items():
        for rt in ontology.rel_types:
            sides: tuple[tuple[Direction, tuple[str, ...]], ...] = (("out", rt.from_types), ("in", rt.to_types))
            for direction, ends in sides:
                if type_name not in ends:
                    continue
                for edges in graph.edges(ids, rt.name, direction, far_props=()).values():
                    for e in edges:
                        key = rel_key(rt.name, e.from_id, e.to_id)
                        if key not in gone:
                            gone.add(key)
                            detached.append(key)
    return list(rel_keys), kept, deleted, detached


def _count(summary: Any, rels: Sequence[str], kept: Sequence[str], deleted: Sequence[str],
           detached: Sequence[str], ontology: Ontology) -> None:
    ended: Counter[str] = Counter(parse_rel_key(k)[0] for k in rels)
    ended.update(ontology.type_of_id(i).name for i in kept)
    summary.ended = len(rels) + len(kept)
    summary.deleted = len(deleted)
    summary.detached = len(detached)
    summary.ended_by_type = dict(sorted(ended.items()))
    summary.deleted_by_type = dict(sorted(Counter(ontology.type_of_id(i).name for i in deleted).items()))
    preview: dict[str, list[str]] = {}
    named = [(parse_rel_key(k)[0], k) for k in rels] + [(ontology.type_of_id(i).name, i) for i in (*kept, *deleted)]
    for kind, ident in sorted(named):  # by type and id: the store reports them in no fixed order
        ids = preview.setdefault(kind, [])
        if len(ids) < PREVIEW:
            ids.append(ident)
    summary.removed_preview = preview

__all__ = ["PREVIEW", "SnapshotRefused", "apply", "owned"]
