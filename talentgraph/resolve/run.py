"""Entity resolution end to end: score pairs, apply the steward's decisions, write links and canonicals.

What the graph holds afterwards (never a deleted or overwritten record):
- a ``SAME_AS`` relationship per scored pair at or above the review floor, carrying the match
  probability, the per-comparison weights (the explanation), a status — ``matched`` (the model, at or
  above the threshold and corroborated by something other than the name), ``accepted`` (a steward) or
  ``pending`` (for review) — and the cluster it belongs to;
- ``canonical`` on every record of a cluster: the id of the record that stands for the person.
A re-run replaces the model's links, keeps every decision, and writes nothing that did not change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from talentgraph.errors import BadQueryError, NotFoundError
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.progress import JobProgress
from talentgraph.resolve import clusters as clustering
from talentgraph.resolve import model, records
from talentgraph.resolve.decisions import Decision, DecisionLog, Verdict, now, pair
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.types import NodeRecord, Provenance, RelRecord

MATCHED, ACCEPTED, PENDING = "matched", "accepted", "pending"
JOB = "resolve"
WRITE_BATCH = 5000  # records per write transaction on a server engine (Neo4j)
# On an engine that loads by COPY (LadybugDB) every transaction ends in a checkpoint that rewrites what it touched of
# the Person table wherever the updated records lie (50k records: ~1 s each); the ingest's batch size there.
BULK_WRITE_BATCH = 100_000
STORED_BATCH = 20_000  # records whose stored links one read fetches


@dataclass(frozen=True)
class Candidate:
    a: str
    b: str
    probability: float | None
    weights: str  # JSON
    status: str  # matched | pending (before decisions)


@dataclass
class ResolveReport:
    records: int = 0
    scored_pairs: int = 0  # at or above the review floor
    matched_pairs: int = 0
    accepted_pairs: int = 0
    pending_pairs: int = 0
    rejected_pairs: int = 0
    uncorroborated_pairs: int = 0  # would have matched on score, but only the name agreed
    clusters: int = 0
    records_in_clusters: int = 0
    links_written: int = 0
    links_removed: int = 0
    canonicals_written: int = 0
    note: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PendingPair:
    a: str
    b: str
    probability: float | None
    weights: dict[str, float]
    names: tuple[str | None, str | None]


class Resolver:
    """Entity resolution over one graph; decisions live in ``<data_dir>/resolve/``."""

    def __init__(self, graph: GraphStore, data_dir: Path, ontology: Ontology = ONTOLOGY) -> None:
        self.graph = graph
        self.ontology = ontology
        self.dir = Path(data_dir) / "resolve"
        self.decisions = DecisionLog(self.dir / "decisions.jsonl")

    # --- the model ----------------------------------------------------------------------------
    def run(self, *, threshold: float = 0.95, review_floor: float = 0.5, seed: int = 7,
            progress: bool = False) -> ResolveReport:
        """Train on every person record, score, and store links, clusters and the review queue.

        ``progress``: a bar on stderr through the phases (reading, training and scoring, writing), each seconds long
        at a district's scale."""
        _check_thresholds(threshold, review_floor)
        bar = JobProgress("entity resolution", enabled=progress, unit=" phases", total=3)
        try:
            t0 = time.perf_counter()
            bar.phase("reading person records")
            table, recs = records.load(self.graph, self.ontology)
            loaded = time.perf_counter() - t0
            bar.phase(f"training and scoring on {len(recs):,} records")
            trained = model.score(table, review_floor=review_floor, seed=seed)
            report = ResolveReport(records=len(recs), scored_pairs=len(trained.pairs), note=trained.note)
            candidates: list[Candidate] = []
            for p in trained.pairs:
                status = MATCHED if p.probability >= threshold and p.corroborated else PENDING
                if p.probability >= threshold and not p.corroborated:
                    report.uncorroborated_pairs += 1
                a, b = p.key
                candidates.append(Candidate(a, b, p.probability, p.weights_json(), status))
            self.dir.mkdir(parents=True, exist_ok=True)
            if trained.model:
                (self.dir / "model.json").write_text(json.dumps(trained.model, ensure_ascii=False, indent=1,
                                                                default=str), encoding="utf-8")
            t1 = time.perf_counter()
            bar.phase(f"writing links of {len(candidates):,} scored pairs")
            self._apply(candidates, recs, report, self._stored(recs))
            bar.phase(None)
        finally:
            bar.close()
        report.seconds = {"load": round(loaded, 3), "train": round(trained.seconds.get("train", 0.0), 3),
                          "predict": round(trained.seconds.get("predict", 0.0), 3),
                          "write": round(time.perf_counter() - t1, 3),
                          "total": round(time.perf_counter() - t0, 3)}
        return report

    # --- the steward --------------------------------------------------------------------------
    def pending(self) -> list[PendingPair]:
        recs = self._records()
        queue = [c for c in self._stored(recs) if c.status == PENDING]
        nodes = self.graph.get_nodes(sorted({i for c in queue for i in (c.a, c.b)}))

        def title(i: str) -> str | None:
            node = nodes.get(i)
            value = node.props.get(self.ontology.node(records.SUBJECT).title) if node else None
            return str(value) if value is not None else None

        out: list[PendingPair] = []
        for c in queue:
            out.append(PendingPair(c.a, c.b, c.probability, json.loads(c.weights or "{}"), (title(c.a), title(c.b))))
        out.sort(key=lambda p: (-(p.probability or 0.0), p.a, p.b))
        return out

    def decide(self, a: str, b: str, verdict: Verdict, *, by: str, note: str = "") -> ResolveReport:
        """Accept or reject one pair (scored or not); the decision outlives every re-run."""
        if a == b:
            raise BadQueryError(f"{a} and {b} are the same record.", hint="Name two different person records.")
        self._require_persons([a, b])
        self.decisions.record([Decision(a, b, verdict, by, now(), note)])
        return self._reapply()

    def split(self, cluster: str, *, by: str) -> ResolveReport:
        """Undo a cluster: every linked pair inside it is rejected, so no record stands for another."""
        recs = self._records()
        members = sorted(r for r, rec in recs.items() if rec.canonical == cluster)
        if not members:
            raise NotFoundError(f"No cluster {cluster!r}.",
                                hint="Name a cluster by its canonical record id (talentgraph resolve --json lists "
                                     "clusters; a person's `canonical` property names theirs).")
        inside = set(members)
        links = [c for c in self._stored(recs) if c.a in inside and c.b in inside and c.status != PENDING]
        decided = self.decisions.load()
        for (x, y), d in decided.items():  # accepted pairs inside the cluster that were never scored
            if x in inside and y in inside and d.verdict == "accept":
                links.append(Candidate(x, y, None, "{}", ACCEPTED))
        self.decisions.record([Decision(c.a, c.b, "reject", by, now(), f"split of {cluster}") for c in links])
        return self._reapply()

    # --- internals ----------------------------------------------------------------------------
    def _records(self) -> dict[str, records.Record]:
        return records.load_records(self.graph, self.ontology)

    def _require_persons(self, ids: Sequence[str]) -> None:
        found = self.graph.get_nodes(ids)
        for i in ids:
            node = found.get(i)
            if node is None or node.type != records.SUBJECT:
                raise NotFoundError(f"No person record {i!r}.", hint="Use a Person id such as per:LY000123.")

    def _stored(self, recs: dict[str, records.Record]) -> list[Candidate]:
        ids = sorted(recs)
        out: list[Candidate] = []
        # Large id lists and only the link's own columns: LadybugDB plans each call as a scan of the link table
        # (50k records: 29 calls of 2,000 ids 3.3 s).
        own = [p.name for p in self.ontology.rel(records.LINK).properties]
        for i in range(0, len(ids), STORED_BATCH):
            for src, edges in self.graph.edges(ids[i:i + STORED_BATCH], records.LINK, "out", far_props=(),
                                               rel_props=own).items():
                for e in edges:
                    p = e.props
                    a, b = pair(e.from_id, e.to_id)
                    status = str(p.get("status") or PENDING)
                    prob = p.get("probability")
                    out.append(Candidate(a, b, float(prob) if prob is not None else None,
                                         str(p.get("weights") or "{}"),
                                         MATCHED if status == ACCEPTED else status))
        return out

    def _reapply(self) -> ResolveReport:
        recs = self._records()
        report = ResolveReport(records=len(recs))
        t0 = time.perf_counter()
        stored = self._stored(recs)
        self._apply(stored, recs, report, stored)
        report.seconds = {"write": round(time.perf_counter() - t0, 3)}
        return report

    def _apply(self, candidates: Iterable[Candidate], recs: dict[str, records.Record], report: ResolveReport,
               stored: Iterable[Candidate]) -> None:
        """Write what ``candidates`` and the decisions make of the links; ``stored``: the links the graph holds."""
        decided = self.decisions.load()
        final: dict[tuple[str, str], tuple[Candidate, str]] = {}
        for c in candidates:
            key = pair(c.a, c.b)
            d = decided.get(key)
            if d is not None and d.verdict == "reject":
                report.rejected_pairs += 1
                continue
            status = ACCEPTED if d is not None else c.status
            final[key] = (c, status)
        for key, d in decided.items():  # accepted pairs the model did not score
            if d.verdict == "accept" and key not in final and key[0] in recs and key[1] in recs:
                final[key] = (Candidate(key[0], key[1], None, "{}", ACCEPTED), ACCEPTED)
        linked = [k for k, (_, s) in final.items() if s in (MATCHED, ACCEPTED)]
        groups = clustering.clusters(linked, recs)
        cluster_of = {m: canon for canon, members in groups.items() for m in members}
        report.matched_pairs = sum(1 for _, s in final.values() if s == MATCHED)
        report.accepted_pairs = sum(1 for _, s in final.values() if s == ACCEPTED)
        report.pending_pairs = sum(1 for _, s in final.values() if s == PENDING)
        report.clusters = len(groups)
        report.records_in_clusters = len(cluster_of)

        stamp = now()
        prov = Provenance(job=JOB, source="talentgraph resolve", row=0, ingested_at=stamp)
        wanted: dict[str, RelRecord] = {}
        for (a, b), (c, status) in final.items():
            prob = round(c.probability, 6) if c.probability is not None else None  # re-runs differ in far digits
            props: dict[str, Any] = {"probability": prob, "weights": c.weights, "status": status,
                                     "cluster": cluster_of.get(a, "") if status != PENDING else ""}
            rel = RelRecord(records.LINK, a, b, props, prov)
            wanted[rel.key] = rel
        stale = [k for k in dict.fromkeys(RelRecord(records.LINK, c.a, c.b).key for c in stored) if k not in wanted]
        if stale:
            report.links_removed = self.graph.delete_relationships(stale)
        nodes: list[NodeRecord] = []
        names = frozenset({records.CANONICAL})
        for rid, rec in recs.items():
            want = cluster_of.get(rid)
            if want != rec.canonical:
                nodes.append(NodeRecord(records.SUBJECT, rid, {records.CANONICAL: want}, prov, names))
        rels = list(wanted.values())
        size = BULK_WRITE_BATCH if self.graph.capabilities.bulk_copy else WRITE_BATCH
        for i in range(0, max(len(nodes), len(rels)), size):
            n_res, r_res = self.graph.upsert_batch(nodes[i:i + size], rels[i:i + size])
            report.canonicals_written += len(n_res.inserted) + len(n_res.updated)
            report.links_written += len(r_res.inserted) + len(r_res.updated)


def _check_thresholds(threshold: float, review_floor: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise BadQueryError(f"threshold {threshold} is not a probability in (0, 1].", hint="Try 0.95.")
    if not 0.0 < review_floor <= threshold:
        raise BadQueryError(f"review floor {review_floor} must lie in (0, threshold={threshold}].",
                            hint="Pairs between the floor and the threshold go to review; try 0.5.")
