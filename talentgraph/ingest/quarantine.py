"""Quarantine files: every row a job could not write, with the reason, in a CSV Excel opens.

``<quarantine_dir>/<job>-<UTC timestamp>.csv``, UTF-8 with a BOM (without it Excel on Windows reads
the file as GBK and garbles the Chinese). Columns: ``_row``, ``_reason``, then the source's own
columns so a community worker can fix the row in place and re-run the job. Identity-document
columns are masked to the last four characters: a quarantine file is shared more widely than
the register it came from. The file is created only when the first row is rejected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from talentgraph.ingest.transforms import is_empty, mask_id

# A cell starting with one of these is run as a formula by Excel (CSV injection); a leading
# apostrophe shows the text as typed. Numbers such as -5 or +8613812345678 are left alone.
_FORMULA_START = ("=", "+", "-", "@")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _numeric(text):
        return "'" + text
    return text


def _numeric(text: str) -> bool:
    try:
        float(text.replace(" ", ""))
    except ValueError:
        return False
    return True


class QuarantineWriter:
    """Appends rejected rows; ``path`` stays None until the first one."""

    def __init__(
        self, directory: Path, job: str, columns: Sequence[str], masked: frozenset[str], started: datetime
    ) -> None:
        self.directory = directory
        self.job = job
        self.columns = list(columns)
        self.masked = masked
        self.started = started
        self.path: Path | None = None
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        n = 1
        while True:
            suffix = "" if n == 1 else f"-{n}"
            path = self.directory / f"{self.job}-{stamp}{suffix}.csv"
            try:
                # 'x' so two runs in the same second never overwrite each other's file.
                self._file = path.open("x", encoding="utf-8-sig", newline="")
                break
            except FileExistsError:
                n += 1
        self.path = path
        self._writer = csv.writer(self._file)
        self._writer.writerow(["_row", "_reason", *self.columns])

    def write(self, row: int, reason: str, raw: dict[str, Any]) -> None:
        if self._file is None:
            self._open()
        cells = []
        for col in self.columns:
            value = raw.get(col)
            if col in self.masked and not is_empty(value):
                cells.append(mask_id(value))
            else:
                cells.append(cell_text(value))
        self._writer.writerow([row, reason, *cells])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


__all__ = ["QuarantineWriter", "cell_text"]
