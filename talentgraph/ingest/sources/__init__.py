"""Source registry: how a register file becomes ``(row_number, {column: value})`` pairs.

One module per format registers a ``Source`` subclass with ``@register_source(name, *extensions)``;
adding a format is one new module imported at the bottom of this file. Sources stream: rows are
produced lazily so a 200k-row register is never held in memory (JSON is the exception, since the
standard library cannot parse a JSON document incrementally).

A row the source itself cannot read (an NDJSON line that is not JSON, a CSV row with more cells
than the header) is yielded as a ``BadRow`` so the job quarantines it instead of stopping. When the
reader itself fails part-way (a CSV cell over the size limit, a damaged workbook) the rows after
that point cannot be trusted to line up with the header, so ``read_rows`` raises
``SourceReadError`` naming the row and the job stops there with a report of what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from talentgraph.errors import IngestError

Row = dict[str, Any]


class SourceReadError(IngestError):
    """The reader failed part-way through a file; ``row`` is the first row that was not read."""

    def __init__(self, message: str, *, row: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.row = row


# Reader errors are quoted in messages; a cell value in one is cut to this many characters.
_PROBLEM_CHARS = 200


@dataclass(frozen=True)
class BadRow:
    """A row the source could not turn into columns; ``raw`` keeps whatever could be recovered."""

    reason: str
    raw: Row = field(default_factory=dict)


class Source:
    """Base class: subclasses set ``accepted_options`` and implement ``_open``, ``header``, ``rows``.

    ``encoding`` is the text encoding actually used (None for binary formats) so the job summary can
    report what ``encoding: auto`` decided.
    """

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    # option name → help text; mapping.py rejects any other key in the job's ``source:`` block.
    accepted_options: ClassVar[dict[str, str]] = {}
    # Extra quarantine columns after the source header (e.g. the raw text of an unparseable line).
    extra_columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: Path, options: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.options: dict[str, Any] = dict(options or {})
        self.encoding: str | None = None

    @classmethod
    def check_options(cls, options: Mapping[str, Any], where: str) -> None:
        """Raise IngestError for an option value this format cannot use (``where`` is the YAML path)."""
        for key in options:
            if key not in cls.accepted_options:
                accepted = ", ".join(sorted(cls.accepted_options)) or "(none)"
                raise IngestError(
                    f"{where}.{key}: option {key!r} does not apply to {cls.name} sources.",
                    hint=f"Options for {cls.name}: {accepted}.",
                )

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> "Source":
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        if not self.path.is_file():
            raise IngestError(f"Source file {self.path} does not exist.", hint="Check source.path in the job file.")
        try:
            self._open()
        except IngestError:
            self.close()  # __exit__ does not run when __enter__ fails
            raise
        except Exception as exc:  # noqa: BLE001 - a library reader failing on the first rows
            self.close()
            raise IngestError(f"{self.path.name} cannot be read: {_problem(exc)}.",
                              hint="Repair or re-save the file (e.g. re-export it from Excel/WPS).") from exc
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        """Read enough to know the header (and the encoding); must not read every row into memory."""

    def close(self) -> None:
        """Release file handles."""

    # --- data ---------------------------------------------------------------------------------------

    @property
    def header(self) -> list[str]:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        """Subclasses: ``(row number, row)`` pairs; raise ``SourceReadError`` when the reader fails."""
        raise NotImplementedError

    def read_rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        """``rows()``, with any other failure of the reader mid-file turned into ``SourceReadError``.

        A library reader that raises (openpyxl on a damaged sheet, a codec on bytes changed since the
        file was checked) cannot be resumed, so the job must stop; this names the file and the last
        row read instead of leaving a traceback.
        """
        last = 0
        rows = self.rows()
        while True:
            try:
                number, row = next(rows)
            except StopIteration:
                return
            except IngestError:
                raise
            except Exception as exc:  # noqa: BLE001 - every reader failure becomes one explained error
                raise SourceReadError(
                    f"{self.path.name}: reading failed after row {last}: {_problem(exc)}.",
                    row=last + 1,
                    hint=f"Open the file after row {last} and repair or re-save it "
                         "(e.g. re-export it from Excel/WPS).",
                ) from exc
            last = number
            yield number, row


def _problem(exc: Exception) -> str:
    problem = f"{type(exc).__name__}: {exc}"
    return problem if len(problem) <= _PROBLEM_CHARS else problem[:_PROBLEM_CHARS] + " …"


SOURCES: dict[str, type[Source]] = {}
_BY_EXTENSION: dict[str, str] = {}

S = TypeVar("S", bound=type[Source])


def register_source(name: str, *extensions: str) -> Callable[[S], S]:
    """Class decorator: make a Source available as ``format: <name>`` and for ``*.<extension>`` files."""

    def decorate(cls: S) -> S:
        cls.name = name
        cls.extensions = tuple(e.lower().lstrip(".") for e in extensions)
        SOURCES[name] = cls
        for ext in cls.extensions:
            _BY_EXTENSION[ext] = name
        return cls

    return decorate


def source_class(fmt: str | None, path: Path, where: str = "source.format") -> type[Source]:
    """The Source class for an explicit format, else the one registered for the file's extension."""
    if fmt is None:
        ext = path.suffix.lower().lstrip(".")
        fmt = _BY_EXTENSION.get(ext)
        if fmt is None:
            known = ", ".join(f".{e} ({n})" for e, n in sorted(_BY_EXTENSION.items()))
            raise IngestError(
                f"{where}: cannot infer the format of {path.name} from its extension {path.suffix or '(none)'!r}.",
                hint=f"Set source.format to one of {', '.join(sorted(SOURCES))}; known extensions: {known}.",
            )
    try:
        return SOURCES[fmt]
    except KeyError:
        raise IngestError(
            f"{where}: unknown source format {fmt!r}.",
            hint=f"Registered formats: {', '.join(sorted(SOURCES))}.",
        ) from None


def open_source(path: Path, fmt: str | None = None, options: Mapping[str, Any] | None = None) -> Source:
    """An unopened Source for ``path``; use it as a context manager."""
    cls = source_class(fmt, path)
    cls.check_options(options or {}, "source")
    return cls(path, options)


def unique_header(cells: list[str], file: str) -> list[str | None]:
    """Header cells stripped; empty ones become None (column ignored); duplicates are an error.

    A duplicate would make one of the two columns unreachable from a mapping, so refuse it rather
    than let a dict silently keep the last one.
    """
    out: list[str | None] = []
    seen: set[str] = set()
    for i, cell in enumerate(cells, start=1):
        name = cell.replace("\ufeff", "").strip() if cell is not None else ""
        if not name:
            out.append(None)
            continue
        if name in seen:
            raise IngestError(
                f"{file}: header column {i} repeats the name {name!r}.",
                hint="Rename one of the columns so every column name is unique.",
            )
        seen.add(name)
        out.append(name)
    return out


# Register the built-in formats (each module imports ``register_source`` from here).
from talentgraph.ingest.sources import csv as _csv  # noqa: E402,F401
from talentgraph.ingest.sources import json as _json  # noqa: E402,F401
from talentgraph.ingest.sources import xlsx as _xlsx  # noqa: E402,F401

__all__ = ["SOURCES", "BadRow", "Row", "Source", "SourceReadError", "open_source", "register_source", "source_class",
           "unique_header"]
