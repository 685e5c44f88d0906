"""Search documents built in a second process while the first reads the graph and feeds the index.

Building a document (``mapping.build_doc``: pinyin, jieba, transliteration, bigrams) is pure Python
and was half of a search sync, done on one core while the other idled. ``DocBuilder`` hands the
inputs of a chunk of documents (node, derived fields, cluster members) to one worker process and
gives the documents back in submission order, encoded in the index's wire form (``SearchIndex.encoder``:
a string each, where a pickled document cost the main process ~35 µs to load and more to convert), so
the projection reads the next chunk from the graph while the worker builds this one; when the worker is
``AHEAD`` chunks behind, the projection builds the next chunk itself rather than wait (the graph reads
got cheaper than the building).

One worker, not one per core: the main process is busy too (graph reads, the index writer's calls),
and with a single worker the entity names the segmenter learns (``analysis.add_words``) reach it in
the order they were learned — each task carries the words learned since the one before, so the
worker segments every document exactly as the main process would have.

The worker is *forked* (Linux): it starts with the vocabularies, the lexicon and the caches already
in memory and never touches the graph or the index whose threads the parent runs. Where fork is not
available, or for a handful of documents, documents are built in process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from talentgraph.search import analysis
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import DocEncoder, EncodedDoc, SearchDoc
from talentgraph.types import Node

# A sync that projects fewer documents than this builds them in process (a fork costs ~50 ms).
MIN_DOCS = 5_000
# Chunks waiting in the worker: one being built, one queued, while the main process reads the next.
AHEAD = 2

DocInput = tuple[Node, dict[str, object] | None, Sequence[Node]]


def _build(new_words: dict[str, int], inputs: list[DocInput], encode: DocEncoder) -> list[EncodedDoc]:
    if new_words:
        analysis.use_lexicon(new_words)
    return [encode(build_doc(node, derived, also=also)) for node, derived, also in inputs]


def build_here(inputs: Sequence[DocInput]) -> list[SearchDoc]:
    return [build_doc(node, derived, also=also) for node, derived, also in inputs]


class DocBuilder:
    """Builds chunks of documents in a worker process, in order, encoded by ``encode`` (the index's
    ``encoder()``: they come back as the engine's wire form, cheap to hand over); ``close()`` ends it."""

    def __init__(self, encode: DocEncoder) -> None:
        self._encode = encode
        self._pool: ProcessPoolExecutor | None = None
        self._sent: dict[str, int] = {}
        self._pending: deque[tuple[Future[list[EncodedDoc]], Any]] = deque()

    @staticmethod
    def available() -> bool:
        return "fork" in mp.get_all_start_methods()

    def submit(self, inputs: list[DocInput], tag: Any = None) -> None:
        if self._pool is None:
            self._sent = analysis.lexicon()  # the worker is forked with these
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
        words = analysis.lexicon()
        new = {w: f for w, f in words.items() if w not in self._sent} if len(words) != len(self._sent) else {}
        self._sent.update(new)
        self._pending.append((self._pool.submit(_build, new, inputs, self._encode), tag))

    def backlog(self) -> int:
        """Chunks submitted and not yet handed back (finished or not)."""
        return len(self._pending)

    def finished(self) -> Iterator[tuple[list[EncodedDoc], Any]]:
        """The chunks finished so far, in submission order, without waiting for the rest."""
        while self._pending and self._pending[0][0].done():
            future, tag = self._pending.popleft()
            yield future.result(), tag

    def ready(self, *, keep: int = AHEAD) -> Iterator[tuple[list[EncodedDoc], Any]]:
        """Finished chunks (documents, the tag given at submit) while more than ``keep`` are queued."""
        while len(self._pending) > keep:
            future, tag = self._pending.popleft()
            yield future.result(), tag

    def close(self) -> None:
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["MIN_DOCS", "DocBuilder", "DocInput", "build_here"]
