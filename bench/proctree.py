"""Run a command as a user would and measure it from the outside: wall time and peak RSS of its whole tree.

Peak RSS is sampled (psutil, every ``interval`` seconds): the sum of the RSS of the process and all its
descendants at each sample, the largest sum kept. A peak shorter than the interval can be missed, so the
kernel's own ``ru_maxrss`` of the process (``wait4``) is reported beside it as a cross-check: it is exact
but counts the largest single process, not the tree, and it starts at the size of the process the command was
forked from (Linux keeps it across exec) — so the caller keeps itself small (``run.in_child``).

The RSS sum counts a page shared by a forked child and its parent once in each (the search sync's document
worker is forked from a process of GBs, and touches little of what it inherits). Each sample also sums the
tree's PSS (``/proc/<pid>/smaps_rollup``: a shared page divided among those sharing it), the memory the tree
really holds; its peak is reported beside the RSS sum, which stays the issue's figure.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

INTERVAL = 0.2


def tree_rss(proc: psutil.Process) -> int:
    """Bytes resident in ``proc`` and every descendant right now (processes gone meanwhile count 0)."""
    return tree_memory(proc)[0]


def tree_memory(proc: psutil.Process) -> tuple[int, int]:
    """RSS and PSS bytes of ``proc`` and every descendant right now (processes gone meanwhile count 0)."""
    rss = pss = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for p in members:
        try:
            resident = p.memory_info().rss
        except psutil.Error:
            continue
        rss += resident
        pss += _pss(p.pid, resident)
    return rss, pss


def _pss(pid: int, resident: int) -> int:
    """The kernel's proportional set size of ``pid``; its RSS where the kernel does not say (not Linux, gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resident


class TreeSampler:
    """Samples the tree rooted at ``pid`` on a thread until ``stop()``; ``peak_mb`` is the largest sum seen."""

    def __init__(self, pid: int, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self.samples = 0
        self._proc = psutil.Process(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self) -> None:
        rss, pss = tree_memory(self._proc)
        self.peak = max(self.peak, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.samples += 1

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)

    @property
    def peak_pss_mb(self) -> float:
        return round(self.peak_pss / 2**20, 1)


@dataclass
class Measured:
    argv: list[str]
    returncode: int
    wall_s: float
    peak_tree_rss_mb: float
    peak_tree_pss_mb: float
    ru_maxrss_mb: float
    stdout: str
    stderr: str

    def check(self, what: str) -> None:
        if self.returncode != 0:
            tail = (self.stderr.strip() or self.stdout.strip() or "no output").splitlines()[-8:]
            raise RuntimeError(f"{what} exited with status {self.returncode}: " + " | ".join(tail)[-1500:])


def run_measured(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, out_dir: Path,
                 interval: float = INTERVAL) -> Measured:
    """Run ``argv`` to its end; wall time from just before the spawn to the kernel reporting its exit.

    Output goes to files in ``out_dir`` (a full pipe would stall the process and the clock)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(argv[0]).name + "-" + (argv[1] if len(argv) > 1 else "")
    out_path, err_path = out_dir / f"{stem}.stdout", out_dir / f"{stem}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid, interval)
        try:
            # wait4, not Popen.wait: the kernel's rusage of the child comes with its exit status.
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        finally:
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(argv=list(argv), returncode=proc.returncode, wall_s=round(wall, 2),
                    peak_tree_rss_mb=sampler.peak_mb, peak_tree_pss_mb=sampler.peak_pss_mb,
                    ru_maxrss_mb=round(usage.ru_maxrss / 1024, 1),
                    stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"))


__all__ = ["INTERVAL", "Measured", "TreeSampler", "run_measured", "tree_memory", "tree_rss"]
