"""One read-write process per LadybugDB database, enforced with an ``flock`` beside it.

LadybugDB itself refuses a second writer with a terse file-lock error; this lock fails first and
says who holds the database and what to do instead. The lock file records the holder's pid and
command line; ``flock`` is released by the kernel when the holder dies, so a stale file is harmless.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path
from typing import IO

from talentgraph.errors import StoreBusyError


class ProcessLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            self._file.close()
            self._file = None
            pid, command = holder
            raise StoreBusyError(
                f"The graph database at {path.parent} is in use by another process (pid {pid}: {command}).",
                hint=f"Stop `talentgraph serve` (pid {pid}) or send the job to the running server with "
                "`talentgraph ingest --server URL`.",
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n{' '.join(sys.argv) or sys.executable}\n")
        self._file.flush()

    def _holder(self) -> tuple[str, str]:
        assert self._file is not None
        self._file.seek(0)
        lines = self._file.read().splitlines()
        pid = lines[0].strip() if lines and lines[0].strip() else "unknown"
        command = lines[1].strip() if len(lines) > 1 else "unknown command"
        return pid, command

    def release(self) -> None:
        if self._file is None:
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()
            self._file = None


__all__ = ["ProcessLock"]
