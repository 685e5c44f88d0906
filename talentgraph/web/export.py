"""Shortlists and result sets as XLSX and CSV: only the columns the role reads, safe to open in Excel.

Rows come from the role's GraphQL schema (``queries.row_selection``): a column exists only when the
role's ``Person`` type has the field, and a value masked for a row (a phone outside a staff
member's areas) arrives as null and is written empty. Cells that a spreadsheet would read as a
formula (starting with ``= + - @``, a tab or a carriage return) get a leading apostrophe (OWASP's
CSV-injection advice), in both formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from talentgraph.web.i18n import FIELD_LABELS

# Export columns in order: (GraphQL field it needs, column key for FIELD_LABELS)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"), ("name", "name"), ("latinName", "latinName"), ("otherNames", "otherNames"),
    ("nationalityLabels", "nationality"), ("languagesLabels", "languages"), ("skillsLabels", "skills"),
    ("occupation", "occupation"), ("livesIn", "area"), ("phone", "phone"), ("volunteer", "volunteer"),
    ("genderLabels", "gender"), ("birthYear", "birthYear"), ("educationLabels", "education"),
    ("politicalStatusLabels", "politicalStatus"),
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def columns(person_fields: Iterable[str]) -> list[tuple[str, str]]:
    have = set(person_fields)
    return [(f, key) for f, key in COLUMNS if f in have]


def cell(row: Mapping[str, Any], field: str, lang: str) -> str:
    value = row.get(field)
    if value is None:
        return ""
    if field.endswith("Labels"):
        return "、".join(str(v.get(lang) or v.get("zh") or v.get("id") or "") for v in value) if lang == "zh" \
            else "; ".join(str(v.get(lang) or v.get("zh") or v.get("id") or "") for v in value)
    if field == "livesIn":
        return " ".join(str(n.get("name") or n.get("id")) for n in value.get("nodes") or ())
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], person_fields: Iterable[str], lang: str) -> list[list[str]]:
    cols = columns(person_fields)
    labels = FIELD_LABELS[lang]
    out = [[labels.get(key, key) for _, key in cols]]
    out += [[safe_cell(cell(row, f, lang)) for f, _ in cols] for row in rows]
    return out


def to_csv(data: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(data)
    # With a BOM, Excel on Chinese Windows reads the file as UTF-8 instead of GBK.
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(data: list[list[str]], title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    for row in data:
        # Every value is written as text (data_type "s"), so nothing is ever evaluated as a formula;
        # the apostrophe prefix keeps the cell harmless when it is copied into another sheet or CSV.
        ws.append(row)
        for c in ws[ws.max_row]:
            c.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["COLUMNS", "MEDIA", "columns", "safe_cell", "table", "to_csv", "to_xlsx"]
