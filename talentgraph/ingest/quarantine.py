"""Quarantine files: every row a job could not write, with the reason, in a CSV Excel opens.

``<quarantine_dir>/<job>-<UTC timestamp>.csv``, UTF-8 with a BOM (without it Excel on Windows reads
the file as GBK and garbles the Chinese), mode 0600 (it holds residents' personal data). Columns:
``_row``, ``_reason``, ``_ids``, then the source's own columns so a community worker can fix the row
in place and re-run the job. Identity-document columns are masked to the last four characters: a
quarantine file is shared more widely than the register it came from. The file is created only
when the first row is rejected, and a file identical to the job's previous one (an unchanged
re-run rejecting the same rows) is removed again in favour of that one (``QuarantineWriter.repeated``).
A dry run writes nothing: ``QuarantinePreview`` keeps the first rows and reasons for its summary.

``_ids`` lists the node ids the row names (``row_ids``), space-separated, so a data subject's rows
can be found for export and erasure (``access/subject.py``) without parsing every register's
columns. It is empty for a row rejected before its columns were known (a malformed line). Files
written before the column existed have no ``_ids``: ``rows_naming`` reports them as not checkable.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from talentgraph.errors import ValidationError
from talentgraph.ingest.mapping import JobSpec, Template
from talentgraph.ingest.sources import Row
from talentgraph.ingest.transforms import is_empty, mask_id
from talentgraph.schema.ontology import ONTOLOGY, Ontology

# A cell starting with one of these is run as a formula by Excel (CSV injection); a leading
# apostrophe shows the text as typed. Numbers such as -5 or +8613812345678 are left alone.
_FORMULA_START = ("=", "+", "-", "@")

ROW_COLUMN, REASON_COLUMN, IDS_COLUMN = "_row", "_reason", "_ids"
FILE_MODE = 0o600
_ENCODING = "utf-8-sig"


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
        self.repeated = False  # set by close(): the file matched the previous run's, which ``path`` now names
        self._file: IO[str] | None = None
        self._writer: Any = None

    def _open(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only, like the files in it
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        n = 1
        while True:
            suffix = "" if n == 1 else f"-{n}"
            path = self.directory / f"{self.job}-{stamp}{suffix}.csv"
            try:
                # O_EXCL so two runs in the same second never overwrite each other's file.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                break
            except FileExistsError:
                n += 1
        self._file = os.fdopen(fd, "w", encoding=_ENCODING, newline="")
        self.path = path
        self._writer = csv.writer(self._file)
        self._writer.writerow([ROW_COLUMN, REASON_COLUMN, IDS_COLUMN, *self.columns])

    def write(self, row: int, reason: str, raw: dict[str, Any], ids: Sequence[str] = ()) -> None:
        """Append one rejected row; ``ids`` are the node ids it names (``row_ids``), if known."""
        if self._file is None:
            self._open()
        cells = []
        for col in self.columns:
            value = raw.get(col)
            if col in self.masked and not is_empty(value):
                cells.append(mask_id(value))
            else:
                cells.append(cell_text(value))
        self._writer.writerow([row, reason, " ".join(_encode_id(i) for i in ids), *cells])
        self.count += 1

    def close(self) -> None:
        if self._file is None:
            return
        self._file.close()
        self._file = None
        assert self.path is not None
        previous = _previous_file(self.directory, self.job, self.path)
        # Whole files are compared (sizes first): anything short of byte equality (a row fixed, a reason
        # changed, a row erased for a data subject) is news worth a new file.
        if (previous is not None and previous.stat().st_size == self.path.stat().st_size
                and previous.read_bytes() == self.path.read_bytes()):
            self.path.unlink()
            self.path = previous
            self.repeated = True


class QuarantinePreview:
    """What a dry run would quarantine: the count and the first ``keep`` (row, reason) pairs; no file."""

    path: Path | None = None
    repeated = False

    def __init__(self, keep: int = 20) -> None:
        self.keep = keep
        self.count = 0
        self.rows: list[tuple[int, str]] = []

    def write(self, row: int, reason: str, raw: dict[str, Any], ids: Sequence[str] = ()) -> None:
        if len(self.rows) < self.keep:
            self.rows.append((row, reason))
        self.count += 1

    def close(self) -> None:
        pass


def _previous_file(directory: Path, job: str, current: Path) -> Path | None:
    """The newest quarantine file of ``job`` other than ``current`` (names sort by their UTC stamp)."""
    pattern = re.compile(re.escape(job) + r"-(\d{8}T\d{6}Z)(?:-(\d+))?\.csv")
    found: list[tuple[str, int, Path]] = []
    for path in directory.glob(f"{job}-*.csv"):
        m = pattern.fullmatch(path.name)
        if m and path != current:
            found.append((m.group(1), int(m.group(2) or 1), path))
    return max(found)[2] if found else None


# --- the ids a row names --------------------------------------------------------------------------

_ID_ESCAPE = re.compile(r"[%\s]")


def _encode_id(node_id: str) -> str:
    """An id as written in ``_ids``: whitespace and '%' inside a key become ``%XXXX``, so the column
    stays space-separated (keys may hold spaces, never '|')."""
    return _ID_ESCAPE.sub(lambda m: f"%{ord(m.group()):04X}", node_id)


def row_ids(spec: JobSpec, row: Row, ontology: Ontology = ONTOLOGY) -> list[str]:
    """Ids of the nodes a row names: each node it maps and both ends of each relationship.

    Worked out from the key templates alone, the way ``ingest.job.build_row`` does, so a row whose
    properties failed validation still names its person. A key that cannot be rendered (empty cell,
    a '|' in it) names nothing.
    """
    keys: list[tuple[str, Template, str]] = [(ns.type, ns.key, f"{ns.type}.key") for ns in spec.nodes]
    for rs in spec.relationships:
        # An end found by lookup names a place or an organisation, found in the graph: not worked out here.
        keys += [(es.type, es.key, f"{rs.type}.{end}.key") for end, es in (("from", rs.from_), ("to", rs.to))
                 if es.key is not None]
    ids: dict[str, None] = {}
    for type_name, template, where in keys:
        try:
            key = template.render(row, where)
        except ValidationError:
            continue
        if key is not None:
            ids[ontology.make_id(type_name, key)] = None
    return list(ids)


# --- finding and removing a person's rows (data subject rights, ``access/subject.py``) -------------


@dataclass
class RowsNaming:
    """The rows of one quarantine file that name an id."""

    path: Path
    has_ids: bool  # False: a file from before the ``_ids`` column; nothing could be checked
    rows: int = 0  # data rows in the file
    without_ids: int = 0  # rows with an empty ``_ids`` (rejected before their columns were known)
    matches: list[dict[str, str]] = field(default_factory=list)  # column -> cell, in file order


def quarantine_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.csv") if p.is_file()) if directory.is_dir() else []


def _rows(f: IO[str]) -> Iterator[list[str]]:
    return (cells for cells in csv.reader(f) if cells)  # blank lines are not rows


def rows_naming(path: Path, node_id: str) -> RowsNaming:
    target = _encode_id(node_id)
    with path.open(encoding=_ENCODING, newline="") as f:
        rows = _rows(f)
        header = next(rows, [])
        if IDS_COLUMN not in header:
            return RowsNaming(path, has_ids=False, rows=sum(1 for _ in rows))
        col = header.index(IDS_COLUMN)
        found = RowsNaming(path, has_ids=True)
        for cells in rows:
            found.rows += 1
            ids = cells[col].split() if col < len(cells) else []
            if not ids:
                found.without_ids += 1
            elif target in ids:
                found.matches.append(dict(zip(header, cells)))
        return found


def remove_rows(path: Path, node_id: str) -> tuple[int, bool]:
    """Drop the rows naming ``node_id``: (rows removed, file deleted).

    The file is rewritten beside itself and renamed over the original (mode 0600, header and other
    rows byte for byte as csv writes them), so a crash leaves the old file or the new one, never
    half of each; a file left without rows is deleted. Not for files a running job still appends to.
    """
    target = _encode_id(node_id)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    tmp = Path(tmp_name)
    removed = kept = 0
    try:
        with (os.fdopen(fd, "w", encoding=_ENCODING, newline="") as out,
              path.open(encoding=_ENCODING, newline="") as src):
            rows = _rows(src)
            header = next(rows, [])
            if IDS_COLUMN not in header:
                raise ValueError(f"{path} has no {IDS_COLUMN} column; its rows cannot be matched to an id")
            col = header.index(IDS_COLUMN)
            writer = csv.writer(out)
            writer.writerow(header)
            for cells in rows:
                if col < len(cells) and target in cells[col].split():
                    removed += 1
                else:
                    writer.writerow(cells)
                    kept += 1
            out.flush()
            os.fsync(out.fileno())
        if removed and not kept:
            path.unlink()
        elif removed:
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        if removed:
            _sync_dir(path.parent)
        return removed, removed > 0 and kept == 0
    finally:
        tmp.unlink(missing_ok=True)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "FILE_MODE",
    "IDS_COLUMN",
    "QuarantinePreview",
    "QuarantineWriter",
    "RowsNaming",
    "cell_text",
    "quarantine_files",
    "remove_rows",
    "row_ids",
    "rows_naming",
]
