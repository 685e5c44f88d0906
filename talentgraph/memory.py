"""Giving memory the process has freed back to the operating system.

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
import sys
from collections.abc import Callable
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


__all__ = ["release_free_memory"]
