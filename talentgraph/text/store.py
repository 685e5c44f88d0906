"""Write one document's extraction into the graph through the ``GraphStore`` port.

Each document is a source of its own (job name = the document's id, ``doc:<key>``), so the port's
source ownership does the bookkeeping registers get from snapshot jobs (``ingest/snapshot.py``):

- the Document node, its Facts, its MENTIONS/STATES/ABOUT relationships and its claims on Candidates
  are that source's records; ingesting a changed text writes the new ones and ``withdraw``s those
  the new text no longer yields (a candidate another document still names keeps that one's claims);
- an unchanged text (same ``text_hash`` and pipeline) is not written at all: no change-log entry;
- Candidates are one node per candidate key across documents (``candidate_id``); each document
  claims ``review: pending`` at priority 0, and the review (``text/review.py``) claims its decision
  at a higher priority, so a re-read document never re-opens a reviewed candidate. Mentions of a
  candidate that was accepted or merged go to the node it became;
- a Fact about a node whose type declares a property for its measure (``Property.measure``:
  ``Area.households`` …) records what the graph holds (``graph_value``) and whether it disagrees;
  the register's value itself is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from talentgraph.graph.port import GraphStore, SourceRecords
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.text.model import DocumentText, Extraction, Fact, Mention, Sentence
from talentgraph.types import NodeRecord, Provenance, RelRecord, UpsertResult

# Ontology names this module writes, each looked up once so a rename fails at import.
DOCUMENT, CANDIDATE, FACT = (ONTOLOGY.node(n).name for n in ("Document", "Candidate", "Fact"))
MENTIONS, STATES, ABOUT = (ONTOLOGY.rel(n).name for n in ("MENTIONS", "STATES", "ABOUT"))
PENDING, ACCEPTED, REJECTED, MERGED = "pending", "accepted", "rejected", "merged"
# Relative tolerance within which an approximate statement ("about 170") agrees with the register.
APPROXIMATE_TOLERANCE = 0.1


def _key(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def document_id(path: str, ontology: Ontology = ONTOLOGY) -> str:
    """A document's id: from its real path, so the same file read again (by any relative path) is the
    same Document, and a changed file replaces its own mentions."""
    return ontology.make_id(DOCUMENT, _key(os.path.realpath(path)))


def candidate_id(candidate_key: str, ontology: Ontology = ONTOLOGY) -> str:
    """One Candidate per candidate key (normalised name + type) across every document."""
    return ontology.make_id(CANDIDATE, _key(candidate_key))


def source_of(document_id_: str) -> str:
    """The source (job) name a document's records are written under: the document's id."""
    return document_id_


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StoredMention:
    surface: str
    type: str
    target: str  # node id or candidate id
    candidate: bool
    start: int
    end: int
    score: float
    method: str | None


@dataclass
class StoreResult:
    document_id: str
    status: str  # new | changed | unchanged
    mentions: list[StoredMention] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # candidate ids this document names
    skipped: list[str] = field(default_factory=list)  # why a mention or fact was not stored
    ended: int = 0  # records of the earlier version withdrawn

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.document_id, "status": self.status,
                "mentions": [{"surface": m.surface, "type": m.type,
                              ("candidate" if m.candidate else "node"): m.target,
                              "span": [m.start, m.end], "score": round(m.score, 3), "method": m.method}
                             for m in self.mentions],
                "claims": self.facts, "candidates": self.candidates, "skipped": self.skipped,
                "ended": self.ended}


def stored_state(graph: GraphStore, doc_ids: Sequence[str]) -> dict[str, str | None]:
    """The ``text_hash`` of the Documents already stored among ``doc_ids``."""
    found = graph.get_nodes(list(doc_ids), fields=["text_hash"]) if doc_ids else {}
    return {i: n.props.get("text_hash") for i, n in found.items()}


def is_unchanged(state: str | None, doc: DocumentText) -> bool:
    """The stored Document has this text: reading it again would write what is there (the pipeline is the
    same unless it was upgraded, and then ``force`` reads documents again on purpose)."""
    return state is not None and bool(doc.text_hash) and state == doc.text_hash


def write_extraction(graph: GraphStore, ex: Extraction, *, ontology: Ontology = ONTOLOGY,
                     ts: str | None = None, force: bool = False) -> StoreResult:
    """Store one extraction; a no-op when the stored Document has the same text hash (unless ``force``)."""
    out = write_extractions(graph, [ex], ontology=ontology, ts=ts, force=force)[0]
    if isinstance(out, Exception):
        raise out
    return out


@dataclass
class _Planned:
    """One document's records, worked out before anything is written."""

    result: StoreResult
    job: str
    nodes: list[NodeRecord]
    rels: list[RelRecord]
    before: SourceRecords


def write_extractions(graph: GraphStore, extractions: Sequence[Extraction], *, ontology: Ontology = ONTOLOGY,
                      ts: str | None = None, force: bool = False,
                      states: Mapping[str, str | None] | None = None) -> list[StoreResult | Exception]:
    """Store a batch of extractions in one write transaction: per extraction its result, or the exception
    that kept it out.

    A write transaction has a fixed cost (on LadybugDB a checkpoint before it, ~0.6 s on a 50k graph), so
    documents are written together; the reads (stored hashes, link targets, register values) are made
    once for the batch. If the batch's write fails, each document is written alone, so the one at fault
    fails and the others are stored. A changed document's records its new text no longer yields are
    withdrawn after the write, document by document (each is its own source). ``states``: the stored
    ``text_hash`` per document id, when the caller has just read them (``stored_state``)."""
    stamp = ts or now()
    doc_ids = [document_id(ex.document.path, ontology) for ex in extractions]
    if states is None:
        states = stored_state(graph, doc_ids)
    out: list[StoreResult | Exception | None] = [None] * len(extractions)
    todo: list[int] = []
    for i, (ex, doc_id) in enumerate(zip(extractions, doc_ids)):
        if not force and is_unchanged(states.get(doc_id), ex.document):
            out[i] = StoreResult(doc_id, "unchanged")
        else:
            todo.append(i)
    if todo:
        chosen = [extractions[i] for i in todo]
        targets = _targets(graph, [m for ex in chosen for m in ex.mentions], [f for ex in chosen for f in ex.facts],
                           ontology)
        held = _fact_nodes(graph, [f for ex in chosen for f in ex.facts], targets, ontology)
        plans: dict[int, _Planned] = {}
        for i in todo:
            try:
                plans[i] = _plan(graph, extractions[i], doc_ids[i], doc_ids[i] in states, targets, held, stamp,
                                 ontology)
            except Exception as exc:  # noqa: BLE001 - one document's fault is its own outcome
                out[i] = exc
        _write_plans(graph, plans, out)
    return [o if o is not None else RuntimeError("not stored") for o in out]


def _write_plans(graph: GraphStore, plans: Mapping[int, _Planned], out: list[StoreResult | Exception | None]) -> None:
    if not plans:
        return
    try:
        written = graph.upsert_batch([n for p in plans.values() for n in p.nodes],
                                     [r for p in plans.values() for r in p.rels])
    except Exception as failed:  # noqa: BLE001 - reported as the outcome of the document at fault
        if len(plans) == 1:
            out[next(iter(plans))] = failed
            return
        for i, p in plans.items():  # find the document at fault: each alone
            try:
                alone = graph.upsert_batch(p.nodes, p.rels)
                out[i] = _withdrawn(graph, p, alone)
            except Exception as exc:  # noqa: BLE001 - this document's outcome
                out[i] = exc
        return
    for i, p in plans.items():
        try:
            out[i] = _withdrawn(graph, p, written)
        except Exception as exc:  # noqa: BLE001 - stored, but its old records could not be ended
            out[i] = exc


def _withdrawn(graph: GraphStore, p: _Planned, written: tuple[UpsertResult, UpsertResult]) -> StoreResult:
    """End what the document's earlier version wrote that this one does not (a changed document); the
    store's refusals of this document's records join its ``skipped``."""
    refused = {**written[0].rejected, **written[1].rejected}
    p.result.skipped += [refused[k] for k in [*(n.id for n in p.nodes), *(r.key for r in p.rels)] if k in refused]
    seen = {n.id for n in p.nodes} | {r.key for r in p.rels}
    stale_nodes = [i for ids in p.before.nodes.values() for i in ids if i not in seen]
    stale_rels = [k for keys in p.before.rels.values() for k in keys if k not in seen]
    if stale_nodes or stale_rels:
        done = graph.withdraw(p.job, stale_nodes, stale_rels)
        p.result.ended = len(done.rels) + len(done.updated) + len(done.deleted)
    return p.result


def _plan(graph: GraphStore, ex: Extraction, doc_id: str, stored: bool,
          targets: Mapping[tuple[str | None, str | None], str], held: Mapping[str, Mapping[str, Any]], ts: str,
          ontology: Ontology) -> _Planned:
    doc = ex.document
    job = source_of(doc_id)
    result = StoreResult(doc_id, "changed" if stored else "new")
    prov = Provenance(job=job, source=doc.path, row=0, ingested_at=ts)
    # A new document's source owns nothing yet: skip the ownership scan (the costly read of a first ingest).
    before = (graph.source_records(job, [DOCUMENT, FACT, CANDIDATE], [MENTIONS, STATES, ABOUT])
              if stored else SourceRecords({}, {}))
    nodes: list[NodeRecord] = [_document_record(doc_id, ex, prov, ontology)]
    rels: list[RelRecord] = []
    mention_to = ontology.rel(MENTIONS)
    grouped: dict[str, list[Mention]] = {}
    for m in ex.mentions:
        target = targets.get(_mention_key(m))
        if target is None:
            result.skipped.append(f"mention {m.text!r} ({m.type}): not linked and no candidate key")
            continue
        target_type = ontology.type_of_id(target).name
        if not mention_to.allows(DOCUMENT, target_type):
            result.skipped.append(f"mention {m.text!r}: {target_type} is not something a document mentions")
            continue
        grouped.setdefault(target, []).append(m)
        result.mentions.append(StoredMention(m.text, m.type, target, target_type == CANDIDATE, m.start, m.end,
                                             m.score, m.method))
    for target, ms in grouped.items():
        if ontology.type_of_id(target).name == CANDIDATE and target not in result.candidates:
            result.candidates.append(target)
            nodes.append(_candidate_record(target, ms, prov))
        rels.append(RelRecord(MENTIONS, doc_id, target, _mentions_props(ms, ex.sentences, doc.text), prov))

    about = ontology.rel(ABOUT)
    for f in ex.facts:
        fact_id = ontology.make_id(FACT, f"{doc_id.partition(':')[2]}-{_key(f'{f.measure}|{f.start}|{f.end}|{f.value}', 10)}")
        subject = targets.get(_mention_key(f.subject)) if f.subject is not None else None
        if subject is not None and not about.allows(FACT, ontology.type_of_id(subject).name):
            subject = None
        props = _fact_props(f, doc.text, subject, held.get(subject) if subject else None, ontology)
        nodes.append(NodeRecord(FACT, fact_id, props, prov, frozenset(p.name for p in ontology.node(FACT).properties)))
        rels.append(RelRecord(STATES, doc_id, fact_id, {}, prov))
        if subject is not None:
            rels.append(RelRecord(ABOUT, fact_id, subject, {}, prov))
        result.facts.append({"id": fact_id, "about": subject, **{k: v for k, v in props.items() if k != "sentence"}})
    # The same statement read twice (two subjects) is one Fact: keep the last record per id.
    return _Planned(result, job, list({n.id: n for n in nodes}.values()), list({r.key: r for r in rels}.values()),
                    before)


def _mention_key(m: Mention) -> tuple[str | None, str | None]:
    return (m.node_id, m.candidate_key)


def _targets(graph: GraphStore, mentions: Sequence[Mention], facts: Sequence[Fact],
             ontology: Ontology) -> dict[tuple[str | None, str | None], str]:
    """Where each (node_id, candidate_key) goes: the node if it exists; a candidate reviewed into a
    node goes to that node; other candidates to their Candidate id."""
    keys = {_mention_key(m) for m in mentions} | {_mention_key(f.subject) for f in facts if f.subject}
    node_ids = {k[0] for k in keys if k[0]}
    cand_ids = {k[1]: candidate_id(k[1], ontology) for k in keys if not k[0] and k[1]}
    found = graph.get_nodes([*node_ids, *cand_ids.values()], fields=["review", "resolved_to"])
    resolved = {c: str(n.props["resolved_to"]) for c, n in found.items()
                if n.type == CANDIDATE and n.props.get("review") in (ACCEPTED, MERGED) and n.props.get("resolved_to")}
    if resolved:  # the node a candidate became must still exist (it may have been erased since)
        alive = graph.get_nodes(list(set(resolved.values())), fields=[])
        resolved = {c: t for c, t in resolved.items() if t in alive}
    out: dict[tuple[str | None, str | None], str] = {}
    for key in keys:
        node_id, ckey = key
        if node_id:
            if node_id in found:
                out[key] = node_id
            elif ckey:  # linked to a node that is gone: fall back to the candidate
                out[key] = resolved.get(cand_ids.get(ckey, ""), candidate_id(ckey, ontology))
        elif ckey:
            cid = cand_ids[ckey]
            out[key] = resolved.get(cid, cid)
    return out


def _document_record(doc_id: str, ex: Extraction, prov: Provenance, ontology: Ontology) -> NodeRecord:
    d = ex.document
    props: dict[str, Any] = {"title": d.title or os.path.basename(d.path), "text": d.text,
                             "language": d.language or None, "published": d.published, "source": d.path,
                             "doc_kind": d.doc_kind, "text_hash": d.text_hash, "pipeline": ex.pipeline or None}
    # Every property named: one the new read no longer has (a date removed) is withdrawn, not kept.
    return NodeRecord(DOCUMENT, doc_id, props, prov, frozenset(p.name for p in ontology.node(DOCUMENT).properties))


def _candidate_record(cand_id: str, ms: Sequence[Mention], prov: Provenance) -> NodeRecord:
    best = max(ms, key=lambda m: m.score)
    return NodeRecord(CANDIDATE, cand_id, {"name": ms[0].text, "candidate_type": best.type,
                                            "confidence": round(float(best.score), 4), "review": PENDING}, prov)


def _sentence_of(start: int, sentences: Sequence[Sentence], text: str) -> str:
    for s in sentences:
        if s.start <= start < s.end:
            return text[s.start:s.end].strip()
    # No sentence split given: a window around the mention stands in for it.
    return text[max(0, start - 60):start + 60].strip()


def _mentions_props(ms: Sequence[Mention], sentences: Sequence[Sentence], text: str) -> dict[str, Any]:
    ordered = sorted(ms, key=lambda m: m.start)
    best = max(ordered, key=lambda m: m.score)
    return {"count": len(ordered), "surface": ordered[0].text,
            "spans": json.dumps([[m.start, m.end] for m in ordered], separators=(",", ":")),
            "sentence": _sentence_of(ordered[0].start, sentences, text), "score": round(float(best.score), 4),
            "method": best.method or best.source}


def _measure_props(type_name: str, ontology: Ontology) -> dict[str, str]:
    """measure → the register property of ``type_name`` that holds it (``Property.measure``)."""
    return {p.measure: p.name for p in ontology.node(type_name).properties if p.measure}


def _fact_nodes(graph: GraphStore, facts: Sequence[Fact], targets: Mapping[tuple[str | None, str | None], str],
                ontology: Ontology) -> dict[str, dict[str, Any]]:
    """The register values of the subjects facts are about, for the properties their measures map to."""
    wanted: dict[str, set[str]] = {}
    for f in facts:
        subject = targets.get(_mention_key(f.subject)) if f.subject is not None else None
        if subject is None:
            continue
        prop = _measure_props(ontology.type_of_id(subject).name, ontology).get(f.measure)
        if prop:
            wanted.setdefault(subject, set()).add(prop)
    if not wanted:
        return {}
    fields = sorted({p for ps in wanted.values() for p in ps})
    found = graph.get_nodes(list(wanted), fields=fields)
    return {i: n.props for i, n in found.items()}


def graph_comparison(fact_value: float, approximate: bool, held: Any) -> tuple[float | None, bool | None]:
    """(graph_value, disagrees) of a stated value against what the graph holds (None: holds nothing)."""
    if held is None or isinstance(held, bool) or not isinstance(held, (int, float)):
        return None, None
    graph_value = float(held)
    if approximate:
        agrees = abs(graph_value - fact_value) <= APPROXIMATE_TOLERANCE * max(abs(graph_value), 1.0)
    else:
        agrees = graph_value == fact_value
    return graph_value, not agrees


def _fact_props(f: Fact, text: str, subject: str | None, subject_props: Mapping[str, Any] | None,
                ontology: Ontology) -> dict[str, Any]:
    props: dict[str, Any] = {
        "statement": text[f.start:f.end].strip() or text[f.sentence.start:f.sentence.end].strip(),
        "measure": f.measure, "quantity": float(f.value), "unit": f.unit or None, "approximate": f.approximate,
        "sentence": text[f.sentence.start:f.sentence.end].strip() or None,
        "span_start": f.start, "span_end": f.end, "graph_value": None, "disagrees": None,
    }
    if subject is not None and subject_props is not None:
        prop = _measure_props(ontology.type_of_id(subject).name, ontology).get(f.measure)
        if prop is not None:
            props["graph_value"], props["disagrees"] = graph_comparison(float(f.value), f.approximate,
                                                                        subject_props.get(prop))
    return props


def refresh_facts(graph: GraphStore, node_ids: Iterable[str], ontology: Ontology = ONTOLOGY) -> int:
    """Recompute ``graph_value``/``disagrees`` of the Facts about these nodes (after a candidate became one
    of them); each Fact is rewritten under its own document's source. Returns how many changed."""
    ids = list(node_ids)
    if not ids:
        return 0
    about = graph.edges(ids, ABOUT, "in")
    held = graph.get_nodes(ids)
    records: list[NodeRecord] = []
    for node_id, edges in about.items():
        node = held.get(node_id)
        if node is None:
            continue
        measures = _measure_props(node.type, ontology)
        for e in edges:
            fact = e.node
            prop = measures.get(str(fact.props.get("measure")))
            value = fact.props.get("quantity")
            if prop is None or not isinstance(value, (int, float)):
                continue
            gv, dis = graph_comparison(float(value), bool(fact.props.get("approximate")), node.props.get(prop))
            if gv == fact.props.get("graph_value") and dis == fact.props.get("disagrees"):
                continue
            job = str(fact.props.get("src_job") or "")
            prov = Provenance(job=job, source=str(fact.props.get("src_file") or ""), row=0, ingested_at=now())
            records.append(NodeRecord(FACT, fact.id, {"graph_value": gv, "disagrees": dis}, prov,
                                      frozenset({"graph_value", "disagrees"})))
    if records:
        graph.upsert_nodes(records)
    return len(records)


__all__ = ["ACCEPTED", "MERGED", "PENDING", "REJECTED", "StoreResult", "StoredMention", "candidate_id",
           "document_id", "graph_comparison", "is_unchanged", "refresh_facts", "source_of", "stored_state",
           "write_extraction", "write_extractions"]
