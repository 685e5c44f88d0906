"""Sources: each format streams (row_number, {column: value}) and reports what it could not read."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from talentgraph.errors import IngestError
import talentgraph.ingest.sources as sources_pkg
from talentgraph.ingest.sources import SOURCES, BadRow, Source, open_source, register_source
from talentgraph.ingest.sources.csv import detect_encoding, first_decode_error

CSV_TEXT = "居民编号,姓名,语言\nR1,张伟,俄语、英语\nR2,李娜,日语\n"


def read_all(path: Path, fmt: str | None = None, **options: Any) -> tuple[Source, list[tuple[int, Any]]]:
    src = open_source(path, fmt, options)
    with src:
        return src, list(src.rows())


# --- CSV encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_auto_detects_encoding_and_strips_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    src, rows = read_all(path)
    assert src.encoding == expected
    assert src.header == ["居民编号", "姓名", "语言"]  # no '\ufeff' glued to the first column
    assert rows == [(1, {"居民编号": "R1", "姓名": "张伟", "语言": "俄语、英语"}),
                    (2, {"居民编号": "R2", "姓名": "李娜", "语言": "日语"})]


def test_csv_gb18030_four_byte_character(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    text = "编号,姓名\nR1,𠮷野家\n"
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")  # the case that needs gb18030, not gbk
    src, rows = read_all(path)
    assert src.encoding == "gb18030"
    assert rows[0][1]["姓名"] == "𠮷野家"


def test_csv_gbk_detected_even_when_first_megabyte_is_ascii(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    filler = "".join(f"R{i},name{i}\n" for i in range(120_000))  # > 1 MiB of ASCII before the first GBK byte
    path.write_bytes(("编号,姓名\n".encode("gbk")) + filler.encode() + "R9,王芳\n".encode("gbk"))
    assert path.stat().st_size > 1 << 20
    assert detect_encoding(path) == "gb18030"
    bad = first_decode_error(path, "utf-8")
    assert bad is not None and bad[0] == 0  # the GBK header is the first non-UTF-8 byte


def test_csv_explicit_encoding_mismatch_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,name\nR1," + "张伟".encode("gbk") + b"\n")
    with pytest.raises(IngestError, match=r"not valid utf-8.*byte offset 11"):
        read_all(path, encoding="utf-8")


def test_csv_undecodable_file_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,name\nR1,\x81\x20\xff\n")
    with pytest.raises(IngestError, match="neither UTF-8"):
        read_all(path)


def test_csv_row_numbers_skip_blank_lines_and_extra_cells_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,name\nR1,A\n\nR2,B,surplus\nR3\n", encoding="utf-8")
    _, rows = read_all(path)
    assert [n for n, _ in rows] == [1, 3, 4]
    assert isinstance(rows[1][1], BadRow) and "3 cells but the header has 2" in rows[1][1].reason
    assert rows[2][1] == {"id": "R3", "name": ""}


def test_csv_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,name,name\n1,a,b\n", encoding="utf-8")
    with pytest.raises(IngestError, match="repeats the name 'name'"):
        read_all(path)


def test_csv_streams_lazily(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id\n" + "".join(f"{i}\n" for i in range(200_000)), encoding="utf-8")
    src = open_source(path)
    with src:
        it = src.rows()
        assert next(it) == (1, {"id": "0"})
        # Only the first buffer of a ~1.3 MB file has been read.
        assert src._file.buffer.tell() < path.stat().st_size // 10  # type: ignore[attr-defined]


def test_tsv_uses_tab(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    path.write_text("id\tname\nR1\tA, B\n", encoding="utf-8")
    _, rows = read_all(path)
    assert rows == [(1, {"id": "R1", "name": "A, B"})]


# --- xlsx ---------------------------------------------------------------------------------------


def test_xlsx_header_dates_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "说明"
    ws.append(["这是说明页"])
    data = wb.create_sheet("居民")
    data.append([])
    data.append(["编号", "姓名", "入住日期", "电话", "证件号码"])
    data.append(["R1", "张伟", datetime(2024, 3, 5), 13812345678, 310115198403021234])
    data.append([None, None, None, None, None])
    data.append(["R2", "李娜", datetime(2024, 3, 5, 14, 30), None, "310115198403021234"])
    wb.save(path)

    src, rows = read_all(path, sheet="居民")
    assert src.header == ["编号", "姓名", "入住日期", "电话", "证件号码"]
    assert src.encoding is None
    assert [n for n, _ in rows] == [1, 3]
    first = rows[0][1]
    assert first["入住日期"] == date(2024, 3, 5) and type(first["入住日期"]) is date
    assert first["电话"] == 13812345678
    # Excel kept only 15 digits: the value is already rounded; transforms.to_text refuses it.
    assert isinstance(first["证件号码"], (int, float))
    assert rows[1][1]["入住日期"] == datetime(2024, 3, 5, 14, 30)


def test_xlsx_unknown_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id"])
    wb.save(path)
    with pytest.raises(IngestError, match="no sheet '居民'.*Sheet"):
        read_all(path, sheet="居民")


def test_xlsx_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="cannot be read as an .xlsx"):
        read_all(path)


# --- JSON / NDJSON ------------------------------------------------------------------------------


def test_json_top_level_list_and_union_header(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"id": "A", "name": "甲"}, {"id": "B", "tags": ["x"]}, 3], ensure_ascii=False),
                    encoding="utf-8")
    src, rows = read_all(path)
    assert src.header == ["id", "name", "tags"]
    assert rows[:2] == [(1, {"id": "A", "name": "甲"}), (2, {"id": "B", "tags": ["x"]})]
    assert isinstance(rows[2][1], BadRow) and "not an object" in rows[2][1].reason


def test_json_records_path(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"data": {"items": [{"id": "A"}]}}), encoding="utf-8")
    _, rows = read_all(path, records="data.items")
    assert rows == [(1, {"id": "A"})]
    with pytest.raises(IngestError, match="no 'rows' under data.*'items'"):
        read_all(path, records="data.rows")
    with pytest.raises(IngestError, match="is a dict, not a list"):
        read_all(path)


def test_ndjson_bad_line_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    path.write_text('{"id": "A"}\n\n{"id": "B", "idno": 310115198403021234\n[1]\n{"id": "C", "x": 1}\n',
                    encoding="utf-8")
    src, rows = read_all(path)
    assert src.header == ["id", "x"]
    assert [n for n, _ in rows] == [1, 3, 4, 5]
    bad = rows[1][1]
    assert isinstance(bad, BadRow) and "line 3 is not valid JSON" in bad.reason
    assert "310115198403021234" not in bad.raw["_line"] and "1234" in bad.raw["_line"]
    assert isinstance(rows[2][1], BadRow) and "JSON list" in rows[2][1].reason
    assert rows[3][1] == {"id": "C", "x": 1}


# --- registry -----------------------------------------------------------------------------------


def test_unknown_format_lists_registered(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="Registered formats: csv, json, ndjson, xlsx"):
        open_source(tmp_path / "x.csv", "parquet")
    with pytest.raises(IngestError, match="cannot infer the format"):
        open_source(tmp_path / "x.dat")


def test_option_for_another_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="'sheet' does not apply to csv"):
        open_source(tmp_path / "x.csv", None, {"sheet": "a"})


def test_register_source_adds_a_format(tmp_path: Path) -> None:
    @register_source("lines-test", "linestest")
    class Lines(Source):
        def _open(self) -> None:
            self._lines = self.path.read_text(encoding="utf-8").splitlines()

        @property
        def header(self) -> list[str]:
            return ["line"]

        def rows(self):  # type: ignore[no-untyped-def]
            for i, line in enumerate(self._lines, start=1):
                yield i, {"line": line}

    try:
        path = tmp_path / "a.linestest"
        path.write_text("x\ny\n", encoding="utf-8")
        _, rows = read_all(path)
        assert rows == [(1, {"line": "x"}), (2, {"line": "y"})]
    finally:
        SOURCES.pop("lines-test")
        sources_pkg._BY_EXTENSION.pop("linestest")
