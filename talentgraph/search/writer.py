"""Documents handed to the search index on a thread of their own, in order, while the projection reads on.

A sync's main thread reads a chunk of nodes from the graph, then writes their documents to the index,
then reads the next chunk. On Neo4j + OpenSearch it spent about half its time waiting on the graph and a
quarter waiting on the bulk request (py-spy, 50k residents) — both waits on another process, during which
Python holds no GIL. ``IndexFeeder`` writes each chunk on one background thread, in the order given and
at most ``DEPTH`` chunks behind, so the next chunk's graph reads overlap this chunk's write.

The first write that fails is raised by the next ``put`` or by ``drain``; chunks after it that were already
handed over may still be written. That is harmless: writes add or replace documents by id, and the caller
moves the index's cursor only after ``drain`` returns, so a failed sync is read again from where it began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

from talentgraph.search.port import EncodedDoc, SearchDoc, SearchIndex

# Chunks handed over and not yet written: one being written, one waiting (a sync's chunk: up to 20,000 documents).
DEPTH = 2


class IndexFeeder:
    """Writes chunks of documents to ``index`` on one thread; ``close()`` always (it waits for the thread)."""

    def __init__(self, index: SearchIndex, depth: int = DEPTH, *, new: bool = False) -> None:
        self.index = index
        self.new = new  # every document is new to the index (``SearchIndex.index``)
        self.depth = max(1, depth)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[int]] = deque()

    def put(self, docs: Sequence[SearchDoc | EncodedDoc]) -> int:
        """Hand ``docs`` over; the number of documents written by chunks that finished meanwhile."""
        written = 0
        while len(self._pending) >= self.depth:
            written += self._pending.popleft().result()
        while self._pending and self._pending[0].done():
            written += self._pending.popleft().result()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-writer")
        self._pending.append(self._pool.submit(self.index.index, docs, new=self.new))
        return written

    def drain(self) -> int:
        """Wait for every chunk handed over; the number of documents they wrote."""
        written = 0
        while self._pending:
            written += self._pending.popleft().result()
        return written

    def close(self) -> None:
        """Drop chunks not started and wait for the one being written (after an error, too)."""
        for future in self._pending:
            future.cancel()
        wait(list(self._pending))
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


__all__ = ["DEPTH", "IndexFeeder"]
