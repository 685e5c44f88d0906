"""Giving memory the process has freed back to the operating system, holding the cyclic collector while a bulk
step builds many objects that only reference counting needs to free, and keeping a forked worker's collector off
what it inherited.

glibc's allocator keeps what Python and the engines' bindings free in its heaps: pages inside a heap stay resident
until something asks for them back. An ingest frees a great deal in between its batches (rows, Arrow tables,
query results), so without asking its resident size only grew: at 200k residents 1.66 GB after the graph jobs, of
which ``malloc_trim`` gave back 0.85 GB; at 1M the main process reached 5.4 GB, and the search sync's document
worker, forked from it, counted the parent's resident pages again. Calls are cheap (a few ms on a heap of a few
GB: 19 calls, 0.11 s in all at 200k) and made at the seams between batches and chunks, not per record.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only: musl and others have no such call
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Return every whole free page of the C heap to the operating system; False where the allocator cannot."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True


class CollectorHold:
    """Python's cyclic garbage collector held across the steps of a bulk loop (``hold``) and let run between them
    (``release``): an ingest batch, a chunk of the search sync, a page of a snapshot.

    Such a step makes tens of thousands of new, acyclic objects that live until it ends (rows, records, their
    props, documents); they set off full collections of the whole heap that find nothing to free — a fifth of an
    admin catch-up's time at 200k residents (32 of them, 4.7 s of 26 s), 4.6 s of a 19 s search sync at 50k on
    Neo4j, 4.2 s of the 50k demo jobs' main process. Reference counting frees as always; a collection that came
    due meanwhile runs at the first allocation after ``release``, over what the step left alive. If the collector
    was off already (the application's choice, or an outer hold), it is left so."""

    def __init__(self) -> None:
        self._held = False

    def hold(self) -> None:
        if not self._held and gc.isenabled():
            gc.disable()
            self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            gc.enable()


@contextmanager
def frozen_for_fork() -> Iterator[None]:
    """The process's objects hidden from the cyclic collector (``gc.freeze``) while a worker is forked inside, and
    shown again after; the child keeps them hidden.

    A forked child inherits every object of its parent, and each of its full collections walked them all, though
    they are state the child keeps (vocabularies, lexicon, caches; py-spy of a 200k search sync: 16% of the document
    worker's samples in the collector), writing to each object's header as it went and so copying pages parent and
    child had shared. Frozen at the fork, the child's collector sees only what the child makes (an inherited object
    that becomes cyclic garbage in the child stays until the child exits; reference counting frees the rest). The
    parent's collector is as it was the moment after; if the application had frozen objects already, they and the
    rest are left frozen (``gc.unfreeze`` cannot tell them apart)."""
    mine = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if mine:
            gc.unfreeze()


@contextmanager
def collector_held() -> Iterator[None]:
    """The collector held for one bulk step (``CollectorHold``)."""
    hold = CollectorHold()
    hold.hold()
    try:
        yield
    finally:
        hold.release()


__all__ = ["CollectorHold", "collector_held", "frozen_for_fork", "release_free_memory"]
