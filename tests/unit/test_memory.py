"""Freed memory goes back to the operating system when asked (glibc's heap keeps it otherwise)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_SCRIPT = """
import json
from talentgraph.memory import release_free_memory

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))

blocks = [bytes(1500) for _ in range(150_000)]  # past pymalloc's 512 bytes, under mmap's threshold: glibc's heap
kept = blocks[::200]  # a few live blocks pin the freed pages between them in the heap
del blocks
before = rss_mb()
released = release_free_memory()
print(json.dumps({"before": before, "after": rss_mb(), "released": released, "kept": len(kept)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap")
def test_pages_freed_inside_the_heap_go_back_to_the_system() -> None:
    # A fresh process: the test runner's own heap would blur the figures.
    out = json.loads(subprocess.run([sys.executable, "-c", _SCRIPT], check=True, capture_output=True,
                                    text=True).stdout)
    assert out["released"] is True and out["kept"] == 750
    assert out["before"] - out["after"] > 150, out  # ~220 MB freed, held until asked


def test_the_collector_is_held_for_a_step_and_let_run_after_it() -> None:
    import gc

    from talentgraph.memory import CollectorHold, collector_held

    assert gc.isenabled()
    hold = CollectorHold()
    hold.release()  # nothing held: nothing to do
    assert gc.isenabled()
    hold.hold()
    hold.hold()  # held once, however often asked
    assert not gc.isenabled()
    hold.release()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_held():
        assert not gc.isenabled()
        raise RuntimeError("a step that fails")
    assert gc.isenabled()  # released after a failure too
    # Off already (the application's choice, or an outer step): left off, and not turned on by the inner step.
    gc.disable()
    try:
        with collector_held():
            inner = CollectorHold()
            inner.hold()
            inner.release()
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_are_frozen_for_a_fork_and_thawed_after() -> None:
    import gc

    from talentgraph.memory import frozen_for_fork

    kept = [[i] for i in range(1_000)]
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen_for_fork():
        assert gc.get_freeze_count() >= len(kept)
        raise RuntimeError("a fork that fails")
    assert gc.get_freeze_count() == 0  # thawed after a failure too
    # Frozen already by the application: left frozen, as it chose.
    gc.freeze()
    try:
        with frozen_for_fork():
            pass
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
