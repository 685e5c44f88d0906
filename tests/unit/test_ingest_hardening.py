"""Hardening of the ingest inputs and outputs: job YAML that cannot lose a key or leak its text, readers
that fail with a named row instead of a traceback, and owner-only quarantine files and data dirs."""

from __future__ import annotations

import logging
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from talentgraph.errors import IngestError
from talentgraph.ingest.mapping import load_job, load_jobs
from talentgraph.ingest.quarantine import QuarantineWriter
from talentgraph.ingest.sources import SourceReadError, open_source
from talentgraph.ingest.sources.csv import MAX_CELL_CHARS
from talentgraph.ingest.yamlfile import load_yaml
from talentgraph.stores import private_data_dir

JOB = """\
job: residents
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{居民编号}"
    properties:
      name: 姓名
      phone: 电话
      languages: {column: 语言, split: ","}
      phone: 手机
"""


def _write(tmp_path: Path, text: str, name: str = "residents.yaml") -> Path:
    (tmp_path / "residents.csv").write_text("居民编号,姓名,电话,手机,语言\n", encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- job YAML: repeated keys ------------------------------------------------------------------------


def test_a_repeated_property_key_names_the_key_the_file_and_both_lines(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        load_job(_write(tmp_path, JOB))
    message = info.value.message
    assert "residents.yaml" in message and "'phone'" in message
    assert "at line 8 and line 10" in message


@pytest.mark.parametrize(("text", "key", "lines"), [
    ("job: a\njob: b\n", "job", (1, 2)),  # top level
    ("job: a\nsource: {path: residents.csv, path: other.csv}\n", "path", (2, 2)),  # flow mapping, one line
    ("job: a\nrelationships:\n  - type: LIVES_IN\n    from: {type: Person, key: x}\n    optional: true\n"
     "    optional: false\n", "optional", (5, 6)),  # inside a list item
    ("job: a\nx:\n  yes: 1\n  true: 2\n", "True", (3, 4)),  # two spellings of one boolean key
])
def test_repeated_keys_are_refused_at_any_depth(tmp_path: Path, text: str, key: str, lines: tuple[int, int]) -> None:
    with pytest.raises(IngestError) as info:
        load_job(_write(tmp_path, text))
    assert re.search(rf"key '?{key}'? appears twice in the same mapping, at line {lines[0]} and line {lines[1]}",
                     info.value.message), info.value.message


def test_a_repeated_key_in_a_pipeline_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "pipeline: p\njobs: [a.yaml]\njobs: [b.yaml]\n", name="pipeline.yaml")
    with pytest.raises(IngestError, match=r"pipeline.yaml: key 'jobs' appears twice .* line 2 and line 3"):
        load_jobs(path)


def test_the_same_key_in_different_mappings_and_merge_keys_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: {name: 1}\nb: {name: 2}\nbase: &d {k: 1, v: 2}\nc:\n  <<: *d\n  k: 3\n", encoding="utf-8")
    assert load_yaml(path) == {"a": {"name": 1}, "b": {"name": 2}, "base": {"k": 1, "v": 2}, "c": {"k": 3, "v": 2}}


# --- job YAML: errors do not quote the file -----------------------------------------------------------


SECRET = "110101199003077777"


@pytest.mark.parametrize(("text", "where"), [
    (f"job: residents\n# 证件号码 {SECRET}\nsource: {{path: [unclosed\nnote: {SECRET}\n", "line 4, column 5"),
    (f"job: residents\nnote: \"{SECRET} \\q\"\n", "line 2, column 28"),
    (f"job: residents\n  bad: indentation {SECRET}\n", "line 2, column 6"),
])
def test_yaml_errors_give_line_and_column_but_never_the_file_text(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(IngestError) as info:
        load_job(_write(tmp_path, text))
    shown = str(info.value)
    assert "residents.yaml is not valid YAML" in shown and where in shown, shown
    assert SECRET not in shown and "^" not in shown and "\n" not in shown  # no snippet, no caret line


def test_a_control_character_is_reported_by_offset(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"character #x0001 at offset 12") as info:
        load_job(_write(tmp_path, f"job: {SECRET[:7]}\x01{SECRET}\n"))
    assert SECRET not in str(info.value)


# --- readers: large cells and failures mid-file -------------------------------------------------------


def _csv_with(tmp_path: Path, cells: list[str]) -> Path:
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,note\n")
        for i, cell in enumerate(cells, start=1):
            f.write(f"R{i},{cell}\n")
    return path


def test_a_ten_megabyte_cell_is_read(tmp_path: Path) -> None:
    big = "长" * (10 * 1024 * 1024)  # over the csv module's default limit of 131,072 characters
    src = open_source(_csv_with(tmp_path, ["a", big, "c"]))
    with src:
        rows = list(src.read_rows())
    assert [n for n, _ in rows] == [1, 2, 3] and rows[1][1] == {"id": "R2", "note": big}


def test_a_cell_over_the_limit_stops_the_reader_naming_row_and_line(tmp_path: Path) -> None:
    src = open_source(_csv_with(tmp_path, ["a", "b", "x" * (MAX_CELL_CHARS + 1), "d"]))
    read: list[int] = []
    with src, pytest.raises(SourceReadError) as info:
        for number, _ in src.read_rows():
            read.append(number)
    assert read == [1, 2]
    assert info.value.row == 3
    assert info.value.message == ("r.csv: row 3 (line 4) cannot be read: a cell is longer than 16,777,216 characters "
                                  "(MAX_CELL_CHARS).")
    assert info.value.hint and "Shorten or split" in info.value.hint


def test_a_header_over_the_limit_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id," + "h" * (MAX_CELL_CHARS + 1) + "\nR1,x\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"r.csv: the header \(line 1\) cannot be read: a cell is longer"):
        with open_source(path):
            pass


def _damaged_xlsx(tmp_path: Path, cell: bytes) -> Path:
    """A workbook (header, 30 rows with a number column) whose number cell ``cell`` is not a number."""
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id", 999])
    for i in range(1, 31):
        ws.append([f"R{i}", 1000 + i])
    wb.save(good)
    bad = tmp_path / "r.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>" + cell + b"</v>", b"<v>x" + cell + b"</v>")
            dst.writestr(item, data)
    return bad


def test_an_xlsx_damaged_in_its_header_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"^r.xlsx cannot be read: ValueError: .*re-save"):
        with open_source(_damaged_xlsx(tmp_path, b"999")):
            pass


def test_an_xlsx_damaged_mid_sheet_stops_after_the_last_good_row(tmp_path: Path) -> None:
    src_ = open_source(_damaged_xlsx(tmp_path, b"1021"))
    read: list[int] = []
    with src_, pytest.raises(SourceReadError) as info:
        for number, _ in src_.read_rows():
            read.append(number)
    assert read == list(range(1, 21))
    assert info.value.row == 21 and info.value.message.startswith("r.xlsx: reading failed after row 20: ValueError")


# --- files: owner-only ---------------------------------------------------------------------------------


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A typical login umask (022) for the test; the process umask is put back afterwards."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_quarantine_files_are_owner_only_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    w = QuarantineWriter(tmp_path / "q", "residents", ["姓名"], frozenset(), datetime(2024, 1, 1, tzinfo=UTC))
    w.write(1, "bad", {"姓名": "张伟"})
    w.close()
    assert w.path is not None
    assert _mode(w.path) == 0o600 and _mode(tmp_path / "q") == 0o700


def test_private_data_dir_tightens_talentgraph_entries_and_warns(
        tmp_path: Path, loose_umask: None, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    (data / "graph").mkdir(parents=True)
    (data / "quarantine").mkdir()
    for path in (data / "graph" / "graph.lbdb", data / "quarantine" / "old.csv", data / "notes.txt"):
        path.write_text("x")
    data.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="talentgraph.stores"):
        private_data_dir(data)
    assert _mode(data) == 0o700 and _mode(data / "graph") == 0o700 and _mode(data / "quarantine") == 0o700
    assert _mode(data / "graph" / "graph.lbdb") == 0o600 and _mode(data / "quarantine" / "old.csv") == 0o600
    assert _mode(data / "notes.txt") == 0o644  # not ours: left alone (the 0700 dir already hides it)
    assert "made 5 entries private" in caplog.text
    new = data / "search" / "segment"
    new.parent.mkdir()
    new.write_text("x")  # created after the data dir was opened: the umask now keeps it private
    assert _mode(new) == 0o600 and _mode(new.parent) == 0o700
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="talentgraph.stores"):
        private_data_dir(data)
    assert caplog.text == ""  # nothing loose any more: no warning


def test_a_new_data_dir_is_created_owner_only(tmp_path: Path, loose_umask: None) -> None:
    private_data_dir(tmp_path / "fresh" / "data")
    assert _mode(tmp_path / "fresh" / "data") == 0o700
