"""Ingest documents: read → pipeline (recognise, link, facts) → store, per document an outcome.

Outcomes: ``new``, ``changed`` (its earlier mentions and facts replaced), ``unchanged`` (same text: nothing
run, nothing written, no change-log entry; ``force`` reads it again, e.g. after a model upgrade) or ``failed`` with the reason (a file
that cannot be read, a text the pipeline or the store refused). One bad file never ends the run.

Documents are read lazily and sent to the pipeline in batches (``BATCH``): spaCy's ``pipe`` runs a
batch faster than one text at a time, and the batch's stored hashes are read in one query, so an
unchanged document costs a read of its file and a hash, never a pass of the pipeline.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from talentgraph.errors import TalentgraphError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.text.model import DocumentText, Extraction
from talentgraph.text.store import document_id, is_unchanged, stored_state, write_extraction

log = logging.getLogger(__name__)

BATCH = 32


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
    bar = _progress_bar(job, progress)
    pending: list[DocumentText] = []

    def flush() -> None:
        nonlocal run
        if not pending:
            return
        if run is None:
            run = SpacyExtractor(graph)
        for o in _run_batch(graph, pending, run, ontology, force):
            summary.count(o)
            if bar is not None:
                bar.update(1)
        pending.clear()

    items = read_paths(paths) if roots is None else _confined(paths, roots)
    try:
        for item in items:
            if isinstance(item, ReadError):
                summary.count(DocOutcome(item.path, "failed", reason=item.reason))
                if bar is not None:
                    bar.update(1)
                continue
            pending.append(item)
            if len(pending) >= batch:
                flush()
        flush()
    finally:
        if bar is not None:
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


def _run_batch(graph: GraphStore, docs: Sequence[DocumentText], run: Extractor, ontology: Ontology,
               force: bool) -> list[DocOutcome]:
    ids = [document_id(d.path, ontology) for d in docs]
    states = stored_state(graph, ids)
    out: dict[int, DocOutcome] = {}
    todo: list[DocumentText] = []
    positions: dict[int, int] = {}  # position in ``todo`` → position in ``docs``
    for i, (d, doc_id) in enumerate(zip(docs, ids)):
        if not force and is_unchanged(states.get(doc_id), d):
            out[i] = DocOutcome(d.path, "unchanged", doc_id, d.title, d.language)
        else:
            positions[len(todo)] = i
            todo.append(d)
    if todo:
        try:
            extractions = list(run(todo))
        except Exception as exc:  # the batch together failed: try each alone, so one text fails, not the batch
            log.debug("Batch extraction failed (%s); retrying one document at a time.", exc)
            extractions = []
            for j, d in enumerate(todo):
                try:
                    extractions.extend(run([d]))
                except Exception as one:
                    out[positions[j]] = _failed(d, one, "the text pipeline")
        by_path = {ex.document.path: ex for ex in extractions}
        for j, d in enumerate(todo):
            i = positions[j]
            if i in out:
                continue
            ex = by_path.get(d.path)
            if ex is None:
                out[i] = DocOutcome(d.path, "failed", ids[i], d.title, d.language,
                                    reason="the text pipeline returned nothing for it")
                continue
            try:
                r = write_extraction(graph, ex, ontology=ontology, force=force)
            except Exception as exc:
                out[i] = _failed(d, exc, "the graph")
                continue
            res = r.to_dict()
            out[i] = DocOutcome(d.path, r.status, r.document_id, d.title, d.language, mentions=res["mentions"],
                                claims=res["claims"], candidates=r.candidates, ended=r.ended, pipeline=ex.pipeline)
    return [out[i] for i in range(len(docs))]


def _failed(d: DocumentText, exc: Exception, where: str) -> DocOutcome:
    if isinstance(exc, TalentgraphError):
        reason = exc.message
    else:  # a bug or a library's error: keep the traceback in the log, the gist in the outcome
        log.exception("%s failed on %s", where, d.path)
        reason = f"{where} failed ({type(exc).__name__}: {exc})"
    return DocOutcome(d.path, "failed", None, d.title, d.language, reason=reason)


def _progress_bar(job: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=job, unit=" files", file=sys.stderr, dynamic_ncols=True, leave=True)


__all__ = ["BATCH", "DocOutcome", "DocsSummary", "Extractor", "SpacyExtractor", "ingest_documents"]
