"""Excel registers (.xlsx/.xlsm) through openpyxl's read-only mode (rows streamed from the zip).

Cell values keep their Excel type: dates arrive as ``date`` (or ``datetime`` when a time is set)
and numbers as ``int``/``float``. Numbers that should have been text — an 18-digit resident id or
a phone number typed into a Number cell — are caught by ``transforms.to_text``, which refuses a
number with more digits than Excel keeps instead of writing a silently rounded id.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from talentgraph.errors import IngestError
from talentgraph.ingest.sources import BadRow, Row, Source, register_source, unique_header


def _cell(value: Any) -> Any:
    if isinstance(value, datetime) and value.time() == time(0, 0):
        return value.date()
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, date, bool)) or value is None:
        return value
    return str(value)  # formula errors ('#N/A') and rich text arrive as other types


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@register_source("xlsx", "xlsx", "xlsm")
class XlsxSource(Source):
    accepted_options = {"sheet": "sheet name; default: the first sheet"}

    @classmethod
    def check_options(cls, options: Mapping[str, Any], where: str) -> None:
        super().check_options(options, where)
        sheet = options.get("sheet")
        if sheet is not None and not isinstance(sheet, (str, int)):
            raise IngestError(f"{where}.sheet: {sheet!r} is not a sheet name.", hint="Write the sheet's name as text.")

    def _open(self) -> None:
        import openpyxl  # imported here: it takes ~0.1 s and most jobs read CSV


        with warnings.catch_warnings():
            # Files written by WPS or older tools often lack a default style; harmless for reading values.
            warnings.filterwarnings("ignore", message="Workbook contains no default style", category=UserWarning)
            try:
                self._wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException variants
                raise IngestError(
                    f"{self.path.name} cannot be read as an .xlsx workbook: {exc}.",
                    hint="Save it from Excel/WPS as 'Excel Workbook (*.xlsx)'; older .xls files must be converted.",
                ) from exc
        sheet = self.options.get("sheet")
        if sheet is None:
            ws = self._wb.worksheets[0]
        elif str(sheet) in self._wb.sheetnames:
            ws = self._wb[str(sheet)]
        else:
            names = ", ".join(self._wb.sheetnames)
            self._wb.close()
            raise IngestError(f"source.sheet: {self.path.name} has no sheet {sheet!r}.", hint=f"Sheets: {names}.")
        self.sheet_name = ws.title
        self._rows = ws.iter_rows(values_only=True)
        self._header: list[str | None] = []
        self._header_row = 0
        for index, cells in enumerate(self._rows, start=1):
            if not all(_empty(c) for c in cells):
                self._header = unique_header([str(c) if c is not None else "" for c in cells], self.path.name)
                self._header_row = index
                break
        if not any(self._header):
            self._wb.close()
            raise IngestError(
                f"{self.path.name} sheet {self.sheet_name!r} is empty.",
                hint="The first non-empty row must name the columns.",
            )

    def close(self) -> None:
        if getattr(self, "_wb", None) is not None:
            self._wb.close()

    @property
    def header(self) -> list[str]:
        return [h for h in self._header if h is not None]

    def rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        for number, cells in enumerate(self._rows, start=1):
            if all(_empty(c) for c in cells):
                continue
            row: Row = {}
            for i, name in enumerate(self._header):
                if name is not None:
                    row[name] = _cell(cells[i]) if i < len(cells) else None
            yield number, row
