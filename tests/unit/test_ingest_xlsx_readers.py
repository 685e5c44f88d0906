"""An Excel register read by calamine gives exactly what openpyxl gives — header, row numbers, every cell's
value and type — and a workbook calamine would read differently (error cells, damage) goes through openpyxl.

Synthetic registers from the demo generator (invented people) and workbooks written here.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from talentgraph.demo.generator import generate
from talentgraph.ingest.sources import SourceReadError, open_source
from talentgraph.ingest.sources.xlsx import XlsxSource, _has_error_cells


def _read(path: Path, *, openpyxl_only: bool, monkeypatch: pytest.MonkeyPatch, **options: Any) -> tuple[Any, ...]:
    with monkeypatch.context() as m:
        if openpyxl_only:
            m.setattr(XlsxSource, "_calamine_rows", lambda self: None)
        with open_source(path, "xlsx", options) as source:
            assert isinstance(source, XlsxSource)
            used = "openpyxl" if source._wb is not None else "calamine"
            rows = [(n, {k: (type(v), v) for k, v in r.items()}) for n, r in source.read_rows()]  # type: ignore[union-attr]
            return used, source.header, source.sheet_name, rows


def _same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> list[Any]:
    used, *fast = _read(path, openpyxl_only=False, monkeypatch=monkeypatch, **options)
    slow_used, *slow = _read(path, openpyxl_only=True, monkeypatch=monkeypatch, **options)
    assert (used, slow_used) == ("calamine", "openpyxl")
    assert fast == slow
    return fast[2]  # type: ignore[no-any-return]


def test_the_demo_workbooks_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(tmp_path, residents=400, seed=3)
    books = sorted(tmp_path.glob("*.xlsx"))
    assert {p.name for p in books} >= {"enterprises.xlsx", "projects.xlsx", "volunteers.xlsx"}
    for path in books:
        assert _same_both_ways(path, monkeypatch)


def test_cells_of_every_type_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.xlsx"
    wb = openpyxl.Workbook()
    wb.worksheets[0]["A1"] = "这是说明页"  # a notes sheet first: the register is the one named by sheet=
    ws = wb.create_sheet("居民")
    ws.append([])  # the header is the first row that is not empty, and the table starts in column B
    ws.append([None, "编号", "数", "浮", "日期", "时间戳", "钟点", "时长", "布尔", "文本数", "大数", "空", "百分比"])
    ws.append([None, "R1", 7, 2.5, datetime(2020, 1, 2), datetime(2020, 1, 2, 3, 4, 5), time(8, 30),
               timedelta(hours=5, minutes=6), True, "0012", 310115201705125051, None, 0.25])
    ws.append([None, "R2", 7.0, 1e20, date(2020, 1, 2), None, None, None, False, " x ", 13812345678, "", None])
    ws.append([])
    ws.append([None, "R3", -0.0, 1.5e-7, "2020-01-02", None, None, None, None, "中文", -4503599627370497, None, 1])
    for col, fmt in (("E", 'yyyy"年"m"月"d"日"'), ("H", "[h]:mm"), ("N", "0%"), ("F", "yyyy-mm-dd hh:mm")):
        for r in (3, 4, 6):
            ws[f"{col}{r}"].number_format = fmt
    ws.merge_cells("C7:D7")
    ws["C7"] = "merged"
    ws["B7"] = "R4"
    wb.save(path)
    rows = _same_both_ways(path, monkeypatch, sheet="居民")
    assert [n for n, _ in rows] == [1, 2, 4, 5]
    first = rows[0][1]
    assert first["数"] == (int, 7) and first["日期"] == (date, date(2020, 1, 2)) and first["钟点"] == (str, "08:30:00")


def _with_sheet_xml(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old in data
                data = data.replace(old, new)
            dst.writestr(item, data)
    return target


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["编号", "电话"])
    for i in range(1, 31):
        ws.append([f"R{i}", 1000 + i])
    wb.save(path)
    return path


def test_an_error_cell_reaches_validation_as_the_text_excel_shows(plain: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """calamine reads #N/A as an empty cell, which would let a broken lookup formula pass as blank."""
    path = _with_sheet_xml(plain, tmp_path / "r.xlsx", b'<c r="B3" t="n"><v>1002</v></c>',
                           b'<c r="B3" t="e"><v>#N/A</v></c>')
    assert _has_error_cells(path) and not _has_error_cells(plain)
    used, _, _, rows = _read(path, openpyxl_only=False, monkeypatch=monkeypatch)
    assert used == "openpyxl"
    assert rows[1] == (2, {"编号": (str, "R2"), "电话": (str, "#N/A")})


def test_a_sheet_damaged_mid_way_is_read_up_to_the_damage(plain: Path, tmp_path: Path) -> None:
    path = _with_sheet_xml(plain, tmp_path / "r.xlsx", b"<v>1021</v>", b"<v>x1021</v>")
    read: list[int] = []
    with open_source(path) as source, pytest.raises(SourceReadError) as info:
        for number, _ in source.read_rows():
            read.append(number)
    assert read == list(range(1, 21)) and info.value.row == 21  # calamine refused the sheet: openpyxl read it
