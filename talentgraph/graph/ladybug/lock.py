"""One read-write process per LadybugDB database, enforced with an ``flock`` beside it.

LadybugDB itself refuses a second writer with a terse file-lock error; this lock fails first and
says who holds the database and what to do instead. The lock file records the holder's pid and
command line; ``flock`` is released by the kernel when the holder dies, so a stale file is harmless.

A lock is on a file, not on a path: when the directory is deleted (or the lock file replaced) while
its holder runs, another process takes a new lock at the same path and opens a new database there.
The engine names its write-ahead log by path, so the first holder's next checkpoint — one at close
included — would rename or remove the new database's log (found: every row the new process had
written was gone when it reopened). ``held`` tells a holder whether the path is still its own.
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

    def held(self) -> bool:
        """Whether the lock file's path still names the file this process locked."""
        if self._file is None:
            return False
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._file.fileno())
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        if self._file is None:
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()
            self._file = None


__all__ = ["ProcessLock"]
