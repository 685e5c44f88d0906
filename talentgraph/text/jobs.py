"""Ingest documents: read → pipeline (recognise, link, facts) → store, per document an outcome.

Outcomes: ``new``, ``changed`` (its earlier mentions and facts replaced), ``unchanged`` (same text: nothing
run, nothing written, no change-log entry; ``force`` reads it again, e.g. after a model upgrade) or ``failed`` with the reason (a file
that cannot be read, a text the pipeline or the store refused). One bad file never ends the run.

Documents are read lazily and sent to the pipeline in batches (``BATCH``): spaCy's ``pipe`` runs a
batch faster than one text at a time, and the batch's stored hashes are read in one query, so an
unchanged document costs a read of its file and a hash, never a pass of the pipeline. A batch is stored in
one write transaction (``store.write_extractions``): on LadybugDB a write transaction's commit costs more than
a document (its checkpoint rewrites the relationship tables' touched regions), so 256 documents share one,
written by a thread while the pipeline reads the next: 200 demo documents went from 1.1 to 14 documents/s end
to end (bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from talentgraph.errors import TalentgraphError
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.progress import JobProgress
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.text.model import DocumentText, Extraction
from talentgraph.text.store import document_id, is_unchanged, stored_state, write_extractions

log = logging.getLogger(__name__)

BATCH = 256


class Extractor(Protocol):
    """Turns documents into linked extractions (each names its pipeline version)."""

    def __call__(self, docs: Sequence[DocumentText]) -> Iterable[Extraction]: ...


class SpacyExtractor:
    """The shipped pipelines (``text/pipeline.py``), one per language built on first use, over a gazetteer of
    the graph's names read once per run (a run of English reports never loads the Chinese model)."""

    def __init__(self, graph: GraphStore) -> None:
        self._graph = graph
        self._pipelines: Any = None

    def __call__(self, docs: Sequence[DocumentText]) -> Iterator[Extraction]:
        if self._pipelines is None:
            from talentgraph.text.gazetteer import Gazetteer
            from talentgraph.text.pipeline import TextPipelines

            self._pipelines = TextPipelines(Gazetteer.from_store(self._graph))
        yield from self._pipelines.extract_many(docs)


@dataclass
class DocOutcome:
    path: str
    status: str  # new | changed | unchanged | failed
    id: str | None = None
    title: str | None = None
    language: str | None = None
    reason: str | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    ended: int = 0
    pipeline: str | None = None
    skipped: list[str] = field(default_factory=list)  # mentions or facts not stored, and why

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], 0) or k in ("status", "path")}


@dataclass
class DocsSummary:
    """A run's counts, in the shape of an ingest job's summary (``ingest/job.py``) so a pipeline file's
    table prints documents beside registers: rows are documents, inserted/updated/unchanged are
    new/changed/unchanged, quarantined the ones that failed."""

    job: str
    source: str
    format: str = "documents"
    mode: str = "documents"
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    empty: int = 0
    mentions: int = 0
    candidates: int = 0
    claims: int = 0
    pipeline: str = ""
    dry_run: bool = False
    seconds: float = 0.0
    rows_per_second: float = 0.0
    documents: list[DocOutcome] = field(default_factory=list)

    def count(self, o: DocOutcome) -> None:
        self.documents.append(o)
        self.rows_in += 1
        attr = {"new": "inserted", "changed": "updated", "unchanged": "unchanged"}.get(o.status, "quarantined")
        setattr(self, attr, getattr(self, attr) + 1)
        self.mentions += len(o.mentions)
        self.candidates += len(o.candidates)
        self.claims += len(o.claims)
        if o.pipeline and o.pipeline not in self.pipeline.split(", "):
            self.pipeline = ", ".join(p for p in (self.pipeline, o.pipeline) if p)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["documents"] = [d.to_dict() for d in self.documents]
        return out

    def __str__(self) -> str:
        lines = [f"{self.rows_in} document(s) from {self.source}: {self.inserted} new, {self.updated} changed, "
                 f"{self.unchanged} unchanged, {self.quarantined} failed; {self.mentions} mentions, "
                 f"{self.candidates} candidate(s), {self.claims} claim(s) in {self.seconds:.1f}s "
                 f"({self.rows_per_second:.1f} documents/s)."]
        for d in self.documents:
            if d.status == "failed":
                lines.append(f"  failed  {d.path}: {d.reason}")
        return "\n".join(lines)


def ingest_documents(graph: GraphStore, paths: Sequence[str | Path], *, job: str = "documents",
                     extractor: Extractor | None = None,
                     progress: bool = False, batch: int = BATCH, ontology: Ontology = ONTOLOGY,
                     roots: Sequence[Path] | None = None, force: bool = False) -> DocsSummary:
    """Read every file under ``paths`` and store what the pipeline finds; never raises for one document.

    ``roots`` (a server's ingest roots): a file whose real path is outside them (a symlink inside a
    confined folder pointing out) is refused before it is opened. ``force``: read unchanged texts again
    (after a pipeline or model upgrade: the stored ``pipeline`` says which one read each document)."""
    from talentgraph.text.readers import ReadError, read_paths

    t0 = time.perf_counter()
    summary = DocsSummary(job=job, source=", ".join(str(p) for p in paths)[:500])
    run = extractor  # the shipped pipelines are loaded only once a document needs them
    pending: list[DocumentText | DocOutcome] = []  # a batch in reading order: texts, and files that failed
    # One writer thread: batch k is written while the pipeline reads batch k+1 (the engine's commit runs
    # outside the GIL), and batches are written in order, one at a time.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docs-writer")
    writing: Future[list[DocOutcome]] | None = None
    writing_n = 0  # documents in the batch being written

    def collect() -> None:
        nonlocal writing
        if writing is not None:
            with bar.doing(f"writing {writing_n:,} documents to the graph"):
                done = writing.result()
            for o in done:
                summary.count(o)
            bar.advance(len(done))
            writing = None

    def flush() -> None:
        nonlocal run, writing, writing_n
        if not pending:
            return
        texts = [d for d in pending if isinstance(d, DocumentText)]
        step = f"finding entities, links and facts in {len(texts):,} documents"
        if texts and run is None:
            run = SpacyExtractor(graph)
            step = "loading the language pipelines, then " + step  # they load at the first document they read
        with bar.doing(step):
            read = _extract_batch(graph, texts, run, ontology, force) if texts and run is not None else None
        batch_items = list(pending)
        pending.clear()
        collect()  # the previous batch's write, before this one's starts
        writing = writer.submit(_store_batch, graph, batch_items, read, ontology, force)
        writing_n = len(batch_items)

    items = read_paths(paths) if roots is None else _confined(paths, roots)
    bar = JobProgress(job, enabled=progress, unit=" files")
    try:
        for item in items:
            pending.append(DocOutcome(item.path, "failed", reason=item.reason) if isinstance(item, ReadError) else item)
            if len(pending) >= batch:
                flush()
        flush()
        collect()
    finally:
        writer.shutdown(wait=True)
        bar.close()
    summary.seconds = round(time.perf_counter() - t0, 3)
    summary.rows_per_second = round(summary.rows_in / summary.seconds, 1) if summary.seconds > 0 else 0.0
    return summary


def _confined(paths: Sequence[str | Path], roots: Sequence[Path]) -> Iterator[DocumentText | Any]:
    """``read_paths`` for a server: every file checked against ``roots`` by its real path before it is read."""
    import os

    from talentgraph.text.readers import ReadError, read_paths

    bases = [Path(os.path.realpath(r)) for r in roots]

    def inside(p: Path) -> bool:
        real = Path(os.path.realpath(p))
        return any(real == b or b in real.parents for b in bases)

    for given in paths:
        p = Path(given)
        files = [p]
        if p.is_dir():
            files = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                files += [Path(dirpath) / n for n in sorted(filenames) if not n.startswith((".", "~$"))]
        for f in files:
            if inside(f):
                yield from read_paths([f])
            else:
                yield ReadError(f, "outside the directories this server reads documents from")


@dataclass
class _Extracted:
    """A batch read by the pipeline, not yet stored: outcomes decided already, and what is to be written."""

    states: dict[str, str | None]
    out: dict[str, DocOutcome]  # by path: unchanged, or failed in the pipeline
    ready: list[tuple[DocumentText, Extraction]]


def _extract_batch(graph: GraphStore, docs: Sequence[DocumentText], run: Extractor, ontology: Ontology,
                   force: bool) -> _Extracted:
    ids = [document_id(d.path, ontology) for d in docs]
    states = stored_state(graph, ids)
    out: dict[str, DocOutcome] = {}
    todo: list[DocumentText] = []
    for d, doc_id in zip(docs, ids):
        if not force and is_unchanged(states.get(doc_id), d):
            out[d.path] = DocOutcome(d.path, "unchanged", doc_id, d.title, d.language)
        else:
            todo.append(d)
    ready: list[tuple[DocumentText, Extraction]] = []
    if todo:
        try:
            extractions = list(run(todo))
        except Exception as exc:  # the batch together failed: try each alone, so one text fails, not the batch
            log.debug("Batch extraction failed (%s); retrying one document at a time.", exc)
            extractions = []
            for d in todo:
                try:
                    extractions.extend(run([d]))
                except Exception as one:
                    out[d.path] = _failed(d, one, "the text pipeline")
        by_path = {ex.document.path: ex for ex in extractions}
        for d in todo:
            if d.path in out:
                continue
            ex = by_path.get(d.path)
            if ex is None:
                out[d.path] = DocOutcome(d.path, "failed", document_id(d.path, ontology), d.title, d.language,
                                         reason="the text pipeline returned nothing for it")
            else:
                ready.append((d, ex))
    return _Extracted(states, out, ready)


def _store_batch(graph: GraphStore, items: Sequence[DocumentText | DocOutcome], read: _Extracted | None,
                 ontology: Ontology, force: bool) -> list[DocOutcome]:
    """The batch's outcomes in reading order, its extractions written in one transaction
    (``store.write_extractions``: a write transaction costs more than a document)."""
    out: dict[str, DocOutcome] = dict(read.out) if read is not None else {}
    if read is not None and read.ready:
        stored = write_extractions(graph, [ex for _, ex in read.ready], ontology=ontology, force=force,
                                   states=read.states)
        for (d, ex), r in zip(read.ready, stored):
            if isinstance(r, Exception):
                out[d.path] = _failed(d, r, "the graph")
                continue
            res = r.to_dict()
            out[d.path] = DocOutcome(d.path, r.status, r.document_id, d.title, d.language, mentions=res["mentions"],
                                     claims=res["claims"], candidates=r.candidates, ended=r.ended,
                                     pipeline=ex.pipeline, skipped=r.skipped)
    return [item if isinstance(item, DocOutcome) else out[item.path] for item in items]


def _failed(d: DocumentText, exc: Exception, where: str) -> DocOutcome:
    if isinstance(exc, TalentgraphError):
        reason = exc.message
    else:  # a bug or a library's error: keep the traceback in the log, the gist in the outcome
        log.exception("%s failed on %s", where, d.path)
        reason = f"{where} failed ({type(exc).__name__}: {exc})"
    return DocOutcome(d.path, "failed", None, d.title, d.language, reason=reason)


__all__ = ["BATCH", "DocOutcome", "DocsSummary", "Extractor", "SpacyExtractor", "ingest_documents"]
