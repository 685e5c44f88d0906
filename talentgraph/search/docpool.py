"""Search documents built in a second process while the first reads the graph and feeds the index.

Building a document (``mapping.build_doc``: pinyin, jieba, transliteration, bigrams) is pure Python and was half
of a search sync, done on one core while the other idled. ``DocBuilder`` hands the inputs of a chunk of
documents (node, derived fields, cluster members) to one worker process and gives the documents back in
submission order (but for the pieces ``drain`` takes back), encoded in the index's wire form
(``SearchIndex.encoder``: a string each, where a pickled document cost the main process ~35 µs to load and more
to convert), so the projection reads the next chunk from the graph while the worker builds this one. Work is
handed over in pieces of ``PIECE`` documents and shared by how many documents wait, not how many pieces: while
the worker has ``AHEAD_DOCS`` queued the projection builds the next piece itself rather than wait, and once the
graph is read it takes back the pieces the worker has not started, last first (``drain``), so both processes
finish together. (Counted in chunks, the first two small node types filled the queue, the first 20,000 people
were built in the main process while the worker idled, and the worker then built the rest alone while the main
process waited: one core busy at a time for the whole sync, py-spy and /proc at 50k.)

One worker, not one per core: the main process is busy too (graph reads, the index writer's calls),
and with a single worker the entity names the segmenter learns (``analysis.add_words``) reach it in
the order they were learned — each task carries the words learned since the one before, so the
worker segments every document exactly as the main process would have.

The worker is *forked* (Linux): it starts with the vocabularies, the lexicon and the caches already
in memory and never touches the graph or the index whose threads the parent runs. Where fork is not
available, or for a handful of documents, documents are built in process.

The worker only saves time: if it dies (the kernel's out-of-memory killer picks the largest process it can, and a
million residents' ingest peaks within 200 MB of its 4 GB target), every piece it held is built in this process, and
so is the rest of the sync, with a warning in the log rather than a failed sync. Those pieces are cut with the words
this process knows by then, which may include names learned after they were handed over.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from talentgraph.memory import collector_held, frozen_for_fork, release_free_memory
from talentgraph.search import analysis
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import DocEncoder, EncodedDoc, SearchDoc
from talentgraph.types import Node

# A sync that projects fewer documents than this builds them in process (a fork costs ~50 ms).
MIN_DOCS = 5_000
# Documents handed to the worker at a time: small enough that the two processes end within a piece of each other
# (~0.3 s of building), large enough that a hand-over (pickled inputs, encoded documents back) costs little.
PIECE = 2_000
# Documents the worker may have waiting before the main process builds the next piece itself: about what the worker
# builds while the projection reads and derives its next chunk of 20,000 nodes (~3 s at 50k, embedded).
AHEAD_DOCS = 20_000

DocInput = tuple[Node, dict[str, object] | None, Sequence[Node]]
Built = list[EncodedDoc] | list[SearchDoc]

log = logging.getLogger(__name__)


def _build(new_words: dict[str, int], inputs: list[DocInput], encode: DocEncoder) -> list[EncodedDoc]:
    if new_words:
        analysis.use_lexicon(new_words)
    with collector_held():  # a piece's nodes and documents: acyclic, freed by reference counting
        return [encode(build_doc(node, derived, also=also)) for node, derived, also in inputs]


def build_here(inputs: Sequence[DocInput]) -> list[SearchDoc]:
    return [build_doc(node, derived, also=also) for node, derived, also in inputs]


def pieces(inputs: Sequence[DocInput], count: int, size: int) -> Iterator[tuple[list[DocInput], int]]:
    """``inputs`` in pieces of at most ``size``, each with its share of ``count`` (the records the whole chunk stands
    for, which a progress bar counts: the last piece carries what the inputs do not)."""
    if not inputs:
        yield [], count
        return
    for start in range(0, len(inputs), size):
        piece = list(inputs[start:start + size])
        yield piece, len(piece) if start + size < len(inputs) else max(count - start, 0)


class DocBuilder:
    """Builds chunks of documents in a worker process, in order, encoded by ``encode`` (the index's
    ``encoder()``: they come back as the engine's wire form, cheap to hand over); ``close()`` ends it."""

    def __init__(self, encode: DocEncoder) -> None:
        self._encode = encode
        self._pool: ProcessPoolExecutor | None = None
        self._sent: dict[str, int] = {}
        # Each piece handed over: its future, tag, inputs (to take it back), the words it taught the worker, and how
        # many words the worker knows when it builds the piece.
        self._pending: deque[tuple[Future[list[EncodedDoc]] | None, Any, list[DocInput], dict[str, int], int]] = deque()
        self._queued = 0
        self.lost = False  # the worker died: everything is built in this process from then on

    @property
    def form(self) -> str:
        """The wire form it encodes documents in (``EncodedDoc.form``)."""
        return self._encode.form

    @staticmethod
    def available() -> bool:
        return "fork" in mp.get_all_start_methods()

    def start(self) -> None:
        """Fork the worker now rather than at the first piece: a forked child is charged with every page resident in
        its parent at the fork, and an ingest's main process holds 2.7 GB when a million residents' sync begins. Words
        learned after the fork reach the worker with the pieces, as always."""
        if self._pool is None:
            self._sent = analysis.lexicon()  # the worker is forked with these
            # A forked child is charged with every page resident in its parent at the fork: fewer of them, then.
            release_free_memory()
            # Forked perhaps while a sync holds its collector (``memory.CollectorHold``): the worker's is its own.
            with frozen_for_fork():  # the worker's collector walks only what it makes, not the parent's heap
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"),
                                                 initializer=gc.enable)
                ready = self._pool.submit(int)  # the executor forks here, at its first task
            ready.result()

    def submit(self, inputs: list[DocInput], tag: Any = None) -> None:
        future: Future[list[EncodedDoc]] | None = None  # None: built here when collected (the worker is lost)
        new: dict[str, int] = {}
        if not self.lost:
            self.start()
            assert self._pool is not None
            words = analysis.lexicon()
            new = {w: f for w, f in words.items() if w not in self._sent} if len(words) != len(self._sent) else {}
            self._sent.update(new)
            try:
                future = self._pool.submit(_build, new, inputs, self._encode)
            except BrokenProcessPool as exc:
                self._lose(exc)
        self._pending.append((future, tag, inputs, new, len(self._sent)))
        self._queued += len(inputs)

    def queued(self) -> int:
        """Documents submitted and not yet handed back (being built, waiting, or finished and not collected)."""
        return self._queued

    def finished(self) -> Iterator[tuple[Built, Any]]:
        """The pieces finished so far, in submission order, without waiting for the rest."""
        while self._pending and (self._pending[0][0] is None or self._pending[0][0].done()):
            yield self._collect()

    def drain(self) -> Iterator[tuple[Built, Any]]:
        """Every piece still submitted, with its tag: the worker's as they finish, while this process takes back
        the pieces the worker has not started, last first, and builds them itself (not in submission order).

        Out of order is safe for a sync: it projects each node once, so no two pieces hold the same document.
        Only while this process knows the words the worker would have known: a piece is cut with the lexicon it was
        submitted with, and entity names learned since (``analysis.add_words``) would cut it differently."""
        while self._pending:
            yield from self.finished()
            if not self._pending:
                break
            future, tag, inputs, new, known = self._pending[-1]
            if future is not None and len(analysis.lexicon()) == known and future.cancel():
                # Not started: the executor had not passed it on.
                self._pending.pop()
                self._queued -= len(inputs)
                for word in new:  # the worker never learned them: a later piece must carry them again
                    del self._sent[word]
                yield build_here(inputs), tag
            else:
                yield self._collect()  # waits for the oldest

    def _collect(self) -> tuple[Built, Any]:
        future, tag, inputs, _new, _known = self._pending.popleft()
        self._queued -= len(inputs)
        if future is not None:
            try:
                return future.result(), tag
            except BrokenProcessPool as exc:
                self._lose(exc)
        return build_here(inputs), tag

    def _lose(self, exc: BaseException) -> None:
        """The worker died: what it held and everything after is built in this process."""
        if self.lost:
            return
        self.lost = True
        log.warning("The search document worker process ended abruptly (%s; killed for lack of memory?): the "
                    "documents it held and the rest of this sync are built in this process.", exc)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        for future, *_ in self._pending:
            if future is not None:
                future.cancel()
        self._pending.clear()
        self._queued = 0
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["AHEAD_DOCS", "MIN_DOCS", "PIECE", "DocBuilder", "DocInput", "build_here", "pieces"]
