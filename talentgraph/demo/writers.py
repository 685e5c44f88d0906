"""Write registers as CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX, byte-identical for the same rows.

openpyxl stamps the save time into ``docProps/core.xml`` and every zip entry; both are rewritten
to a fixed instant here so two runs with the same seed produce the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

FIXED_TIME = datetime(2024, 6, 30, 9, 0, 0)
_ZIP_TIME = (2024, 6, 30, 9, 0, 0)
_W3CDTF = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str) -> None:
    # CRLF line ends and no quoting beyond need: what Excel on Windows writes.
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def write_xlsx(path: Path, sheet: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    wb = Workbook(write_only=True)
    wb.properties.creator = "talentgraph demo"
    wb.properties.created = FIXED_TIME
    ws = wb.create_sheet(sheet)
    ws.append(list(columns))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _W3CDTF.sub(rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()
