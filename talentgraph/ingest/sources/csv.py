"""CSV/TSV registers, with the encoding detected on the bytes.

Registers in Chinese offices are saved by Excel or WPS as UTF-8 (often with a BOM) or as GBK.
``encoding: auto`` decodes the whole file once as UTF-8 and falls back to GB18030 (a superset of
GBK and GB2312, so it also reads 4-byte characters such as 𠮷). Checking the whole file, not a
prefix, matters: a register can be ASCII for thousands of rows before the first GBK name.

A cell may hold up to ``MAX_CELL_CHARS`` characters. Python's csv module stops at 131,072 by
default, which a register with pasted documents exceeds; past the limit the reader cannot tell
where the broken row ends (a quoted cell may span lines), so the job stops at that row with a
``SourceReadError`` naming its row and line rather than guess.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from talentgraph.errors import IngestError
from talentgraph.ingest.sources import BadRow, Row, Source, SourceReadError, register_source, unique_header

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gbk", "gb2312", "gb18030")
_CHUNK = 1 << 20
# Largest cell, in characters (csv.field_size_limit counts characters): 16 MiB. Large enough for any
# text a register cell plausibly holds, small enough that one bad cell cannot exhaust memory.
MAX_CELL_CHARS = 16 * 1024 * 1024


def _problem(exc: csv.Error) -> tuple[str, str]:
    """(what went wrong, how to fix it) for a csv reader error."""
    if "field larger than field limit" in str(exc):
        return (f"a cell is longer than {MAX_CELL_CHARS:,} characters (MAX_CELL_CHARS)",
                "Shorten or split that cell (often an unclosed quote swallowed the rest of the file: check "
                "the quotes in the row).")
    return str(exc), "Check the quoting of that row."


def first_decode_error(path: Path, codec: str) -> tuple[int, str] | None:
    """(byte offset, reason) of the first undecodable byte, or None when the file decodes cleanly.

    Streams in 1 MiB chunks so detection costs one sequential read, not a copy of the file.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            # A character split across chunks is buffered; error offsets count from that buffer.
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start, exc.reason
            if not chunk:
                return None
            offset += len(chunk)


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (BOM present), ``utf-8`` or ``gb18030``; IngestError when neither decodes."""
    utf8 = first_decode_error(path, "utf-8")
    if utf8 is None:
        with path.open("rb") as f:
            return "utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"
    if first_decode_error(path, "gb18030") is None:
        return "gb18030"
    raise IngestError(
        f"{path.name} is neither UTF-8 (invalid byte at offset {utf8[0]}) nor GB18030/GBK.",
        hint="Re-save the register as 'CSV UTF-8' in Excel/WPS, or set source.encoding to its real encoding.",
    )


@register_source("csv", "csv", "tsv", "txt")
class CsvSource(Source):
    accepted_options = {
        "encoding": "auto (UTF-8, else GB18030) | utf-8 | gbk | gb18030",
        "delimiter": "one character; default ',' (tab for .tsv)",
    }

    @classmethod
    def check_options(cls, options: Mapping[str, Any], where: str) -> None:
        super().check_options(options, where)
        enc = options.get("encoding", "auto")
        if not isinstance(enc, str) or enc.lower() not in ENCODINGS:
            raise IngestError(f"{where}.encoding: {enc!r} is not supported.",
                              hint=f"Use one of {', '.join(ENCODINGS)}.")
        delim = options.get("delimiter", ",")
        if not isinstance(delim, str) or len(delim) != 1:
            raise IngestError(f"{where}.delimiter: {delim!r} is not one character.", hint="Use e.g. ',' or '\\t'.")

    def _open(self) -> None:
        wanted = str(self.options.get("encoding", "auto")).lower()
        if wanted == "auto":
            codec = detect_encoding(self.path)
        else:
            codec = "utf-8-sig" if wanted == "utf-8" else wanted
            bad = first_decode_error(self.path, codec)
            if bad is not None:
                raise IngestError(
                    f"{self.path.name} is not valid {wanted}: {bad[1]} at byte offset {bad[0]}.",
                    hint="Set source.encoding to auto, or to the encoding the file was saved in.",
                )
            if codec == "utf-8-sig":
                with self.path.open("rb") as f:
                    codec = "utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"
        self.encoding = codec
        # utf-8-sig also reads files without a BOM, so it is always safe for the utf-8 family.
        read_codec = "utf-8-sig" if codec.startswith("utf-8") else codec
        self._file: IO[str] = self.path.open("r", encoding=read_codec, newline="")
        default_delim = "\t" if self.path.suffix.lower() == ".tsv" else ","
        # Process-wide in the csv module; every CsvSource sets the same value.
        csv.field_size_limit(MAX_CELL_CHARS)
        self._reader = csv.reader(self._file, delimiter=str(self.options.get("delimiter", default_delim)))
        self._header: list[str | None] = []
        try:
            for cells in self._reader:
                if any(c.strip() for c in cells):
                    self._header = unique_header(cells, self.path.name)
                    break
        except csv.Error as exc:
            problem, hint = _problem(exc)
            raise IngestError(f"{self.path.name}: the header (line {self._reader.line_num}) cannot be read: "
                              f"{problem}.", hint=hint) from exc
        if not any(self._header):
            raise IngestError(f"{self.path.name} has no header row.",
                              hint="The first non-empty row must name the columns.")

    def close(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()

    @property
    def header(self) -> list[str]:
        return [h for h in self._header if h is not None]

    def rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        width = len(self._header)
        header = self._header
        all_named = all(header)  # every column named: a full row is one zip, no per-cell test
        number = 0
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problem, hint = _problem(exc)
                raise SourceReadError(
                    f"{self.path.name}: row {number + 1} (line {self._reader.line_num}) cannot be read: {problem}.",
                    row=number + 1, hint=hint) from exc
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if all_named and len(cells) >= width:
                row: Row = dict(zip(header, cells))  # type: ignore[arg-type]  # all_named: no None
            else:
                row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
            extra = [c for c in cells[width:] if c.strip()]
            if extra:
                raw = dict(row)
                yield number, BadRow(
                    f"row has {len(cells)} cells but the header has {width} columns (extra: {extra[:3]!r}); "
                    "a value probably contains an unquoted delimiter",
                    raw,
                )
                continue
            yield number, row
