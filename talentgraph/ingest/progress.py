"""A job's progress bar: how far through its file the job has got, and what it is doing when that stands still.

Used by the register jobs (``ingest/job.py``, rows), the document jobs (``text/jobs.py``, files: the first batch
loads the language pipelines and reads its documents before any file is counted, 16 s at the demo's 200 documents on
a slow 2-core machine), and, counting phases (``JobProgress.phase``), entity resolution (``resolve/run.py``: 4–7 s a
phase at the demo's scale there) and the demo's generator (``demo/generator.py``: a million residents take minutes).

The count is the file position of the last row the job has taken in (built, and put into a batch or the
quarantine), not of the last row read: with row workers the reader runs ahead, and at the end of a large
file it stood at its last row for seconds while the workers finished building (200,000 residents: 4 s on
2 cores, with the graph saving the previous batch beside them). Rows the reader skips as empty count
when a later row is taken in.

The count stands still while the job waits on something else: a batch being written (100,000 rows: ~8 s
at a million residents), and inside that the graph saving the previous job (LadybugDB's checkpoint, which
reads wait for: 2–5 s between jobs at 200,000 residents). A bar that froze without a word looks like a
hang, so ``JobProgress.doing`` names the step, and once it has lasted ``SAY_AFTER`` seconds a ticker thread
puts it on the bar with the seconds so far (``writing 100,000 rows to the graph, 6 s``), refreshed every
``TICK`` seconds until the step ends. A step quicker than that is never shown: the bar does not flicker.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

# A step is named on the bar once it has lasted this long (seconds), then refreshed every TICK seconds.
SAY_AFTER = 1.0
TICK = 0.5
# The bar is redrawn at most once per this many rows of the file (a million-row register: ~4,000 updates).
STEP = 256


class JobProgress:
    """The bar of one job (``enabled=False``: nothing is drawn and no thread runs)."""

    def __init__(self, job: str, *, enabled: bool, unit: str = " rows", total: int | None = None) -> None:
        self._bar: Any = None
        self._shown = 0
        self._lock = threading.Lock()
        self._doing: str | None = None
        self._since = 0.0
        self._said = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._phase = ExitStack()  # the phase at hand (``phase``)
        self._phased = False
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(desc=job, unit=unit, total=total, file=sys.stderr, dynamic_ncols=True, leave=True)
            self._ticker = threading.Thread(target=self._tick, name=f"progress {job}", daemon=True)
            self._ticker.start()

    def at(self, row: int) -> None:
        """The job has taken in its file's rows up to ``row`` (a row number: its position in the file)."""
        if self._bar is not None and row - self._shown >= STEP:
            self._bar.update(row - self._shown)
            self._shown = row

    def advance(self, n: int = 1) -> None:
        """``n`` more items done (a job that counts what it finishes rather than where it is in a file)."""
        if self._bar is not None:
            self._bar.update(n)
            self._shown += n

    def phase(self, name: str | None) -> None:
        """The phase before, if any, is done (counted) and ``name`` begins, named at once; None: the last is done."""
        self._phase.close()
        if name is not None:  # named before the count moves: the bar never shows a phase done and none begun
            self._phase.enter_context(self.doing(name, at_once=True))
        if self._phased:
            self.advance()
        self._phased = True

    def expect(self, total: int) -> None:
        """The job will count ``total`` in all (known only once it is under way)."""
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    @contextmanager
    def doing(self, step: str, *, at_once: bool = False) -> Iterator[None]:
        """The job is busy with ``step`` (``writing 2,000 rows to the graph``) until the block ends; the step
        before it, if any, is what it was doing again after. ``at_once``: named from the start (a bar of phases,
        each of which lasts), its seconds added once it has lasted ``SAY_AFTER``."""
        with self._lock:
            before = self._doing, self._since
            self._doing, self._since = step, time.monotonic()
            if at_once and self._bar is not None:
                self._said = True
                self._bar.set_postfix_str(step)
        try:
            yield
        finally:
            with self._lock:
                self._doing, self._since = before
                if self._said and self._bar is not None:
                    self._said = False
                    self._bar.set_postfix_str("", refresh=False)  # gone at the next count or tick

    def close(self, rows: int | None = None) -> None:
        """The job is done: the bar shows ``rows`` (every row of the file, empty ones too; None: the count as it
        stands) and stops."""
        self._phase.close()
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._bar is not None:
            if rows is not None and rows > self._shown:
                self._bar.update(rows - self._shown)
                self._shown = rows
            self._bar.close()

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                step, since = self._doing, self._since
                if step is None:
                    continue
                lasted = time.monotonic() - since
                if lasted >= SAY_AFTER:
                    self._said = True
                    self._bar.set_postfix_str(f"{step}, {lasted:.0f} s")


__all__ = ["SAY_AFTER", "STEP", "TICK", "JobProgress"]
