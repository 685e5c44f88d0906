"""Readers: every supported format, the document fields, and hostile files that must come back as ReadErrors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from talentgraph.text.model import DocumentText
from talentgraph.text.readers import ReadError, detect_language, find_date, guess_kind, read_document, read_paths

ZH_REPORT = """花木街道联洋社区2025年度工作报告
发布日期：2025年3月12日

今年，联洋居民区党总支共有党员2,136名，与36家共建单位签订协议。
拇指广场的中文长廊每周开放，外籍人士服务站接待居民约5万人次。
"""


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica, ASCII)."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objs.append(f"<< /Title ({title}) /CreationDate (D:20240105120000Z) >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    info = f" /Info {len(objs)} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# --- formats --------------------------------------------------------------------------------------------


def test_plain_text_chinese_fields(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "report.txt", ZH_REPORT))
    assert doc.language == "zh"
    assert doc.title == "花木街道联洋社区2025年度工作报告"
    assert doc.published == "2025-03-12"
    assert doc.doc_kind == "report"
    assert doc.text.startswith("花木街道") and doc.text.endswith("人次。")
    assert doc.text_hash == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    assert doc.path == str(tmp_path / "report.txt")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-16"])
def test_text_encodings(tmp_path: Path, encoding: str) -> None:
    doc = read_document(write(tmp_path / "a.txt", ZH_REPORT.encode(encoding)))
    assert doc.title == "花木街道联洋社区2025年度工作报告"
    assert "\ufeff" not in doc.text


def test_crlf_and_control_characters_cleaned(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "a.txt", b"Thumb Plaza news\r\n\r\n\r\n\r\nOpened\x07 today.\r\n"))
    assert doc.text == "Thumb Plaza news\n\nOpened today."
    assert doc.doc_kind == "news" and doc.language == "en"


def test_markdown_stripped_title_from_first_heading(tmp_path: Path) -> None:
    md = """Some intro line before the heading.

# 拇指广场会议纪要

**时间**：2025-04-02
- 讨论[中文长廊](https://example.org/corridor)开放时间
- ![照片](x.png) `外籍人士服务站`值班

| 单位 | 人数 |
|---|---|
| 联洋社区 | 12 |
"""
    doc = read_document(write(tmp_path / "m.md", md))
    assert doc.title == "拇指广场会议纪要"
    assert doc.doc_kind == "minutes"
    assert doc.published == "2025-04-02"
    for syntax in ("**", "](", "![", "`", "# ", "|---", "- 讨论"):
        assert syntax not in doc.text
    assert "讨论中文长廊开放时间" in doc.text and "外籍人士服务站值班" in doc.text
    assert "联洋社区\t12" in doc.text


def test_markdown_front_matter(tmp_path: Path) -> None:
    md = "---\ntitle: \"Thumb Plaza Newsletter\"\ndate: 2024-11-30\n---\n# Heading\n\nWritten on 2023-01-01.\n"
    doc = read_document(write(tmp_path / "m.md", md))
    assert doc.title == "Thumb Plaza Newsletter"
    assert doc.published == "2024-11-30"  # front matter beats a date in the text
    assert "title:" not in doc.text and doc.doc_kind == "news"


def test_html(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><title>联洋社区新闻</title>
<meta property="article:published_time" content="2025-05-06T08:00:00+08:00">
<style>p { color: red }</style><script>var x = "拇指广场";</script></head>
<body><h1>上海图书馆东馆开放</h1><p>上海图书馆东馆&amp;拇指广场<br>联合举办活动。</p>
<ul><li>中文长廊</li><li>外籍人士服务站</li></ul></body></html>"""
    doc = read_document(write(tmp_path / "n.html", html))
    assert doc.title == "联洋社区新闻"
    assert doc.published == "2025-05-06"
    assert doc.doc_kind == "news"
    assert "color" not in doc.text and "var x" not in doc.text
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == ["上海图书馆东馆开放", "上海图书馆东馆&拇指广场", "联合举办活动。", "中文长廊", "外籍人士服务站"]


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "n.htm", "<body><h1>Thumb <b>Plaza</b> Report</h1><p>Text.</p></body>"))
    assert doc.title == "Thumb Plaza Report" and doc.doc_kind == "report"


def test_docx(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("联洋社区会议纪要", level=1)
    d.add_paragraph("2025年6月1日，拇指广场志愿服务队召开会议。")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "中文长廊"
    table.rows[0].cells[1].text = "20人"
    path = tmp_path / "minutes.docx"
    d.save(str(path))
    doc = read_document(path)
    assert doc.title == "联洋社区会议纪要"  # the heading; python-docx's template title/date are ignored
    assert doc.published == "2025-06-01"
    assert doc.doc_kind == "minutes"
    assert "中文长廊\t20人" in doc.text


def test_docx_core_title(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Thumb Plaza write-up"
    d.add_paragraph("The plaza opened in 2016.")
    path = tmp_path / "w.docx"
    d.save(str(path))
    doc = read_document(path)
    assert doc.title == "Thumb Plaza write-up" and doc.doc_kind == "write_up" and doc.language == "en"


def test_pdf_text_layer(tmp_path: Path) -> None:
    path = write(tmp_path / "r.pdf", make_pdf(["Thumb Plaza Annual Report", "Published 12 March 2025.",
                                               "The plaza has about 170 parking spaces."], "Thumb Plaza Report"))
    doc = read_document(path)
    assert doc.title == "Thumb Plaza Report"
    assert doc.published == "2025-03-12"  # written in the text: beats the file's CreationDate
    assert "about 170 parking spaces" in doc.text and doc.language == "en"


def test_pdf_date_from_metadata_when_text_has_none(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "r.pdf", make_pdf(["Thumb Plaza"], "T")))
    assert doc.published == "2024-01-05"


# --- hostile files ---------------------------------------------------------------------------------------


def reason(path: Path, **kw: int) -> str:
    with pytest.raises(ReadError) as e:
        read_document(path, **kw)
    assert e.value.path == str(path)
    return e.value.reason


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    assert "empty" in reason(write(tmp_path / "e.txt", b""))
    assert "no text" in reason(write(tmp_path / "w.txt", "  \n\t\n"))


def test_binary_junk_named_txt(tmp_path: Path) -> None:
    assert "binary" in reason(write(tmp_path / "j.txt", bytes(range(256)) * 20))
    # No NUL bytes, but neither UTF-8 nor GB18030 (0x80 and 0xFF start no GB18030 character).
    assert "not text in UTF-8 or GB18030" in reason(write(tmp_path / "k.txt", b"\x80\x81\xff" * 40))


def test_broken_docx_and_pdf(tmp_path: Path) -> None:
    assert "DOCX" in reason(write(tmp_path / "b.docx", b"PK\x03\x04 this is no zip"))
    assert "PDF" in reason(write(tmp_path / "b.pdf", b"%PDF-1.4\n garbage"))


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as fh:
        w.write(fh)
    r = reason(path)
    assert "no text layer; OCR it first" in r


def test_too_big(tmp_path: Path) -> None:
    path = write(tmp_path / "big.txt", "联洋社区" * 100)
    assert "too" in reason(path, max_text_bytes=100)
    assert read_document(path, max_text_bytes=10_000).language == "zh"


def test_other_script_refused(tmp_path: Path) -> None:
    assert "not Chinese or English" in reason(write(tmp_path / "ru.txt", "Отчёт о работе жилого района за год."))


def test_unsupported_and_missing(tmp_path: Path) -> None:
    assert "unsupported" in reason(write(tmp_path / "x.xlsx", b"PK"))
    assert "no such file" in reason(tmp_path / "missing.txt")


def test_read_paths_folder_sorted_recursive_listed(tmp_path: Path) -> None:
    write(tmp_path / "b" / "2.md", "# 拇指广场新闻\n正文。")
    write(tmp_path / "b" / "1.txt", "Thumb Plaza news")
    write(tmp_path / "a.txt", b"")
    write(tmp_path / "c.xlsx", b"PK")
    write(tmp_path / ".DS_Store", b"\x00\x01")
    write(tmp_path / ".git" / "HEAD", "ref")
    write(tmp_path / "~$lock.docx", b"x")
    single = write(tmp_path.parent / f"{tmp_path.name}-single.txt", "Shanghai Library East report")
    out = list(read_paths([tmp_path, single]))
    names = [Path(o.path).name for o in out]
    assert names == ["a.txt", "1.txt", "2.md", "c.xlsx", single.name]
    kinds = [type(o) for o in out]
    assert kinds == [ReadError, DocumentText, DocumentText, ReadError, DocumentText]
    assert isinstance(out[3], ReadError) and out[3].reason.startswith("skipped: unsupported")


# --- helpers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "iso"), [
    ("2025年3月12日", "2025-03-12"), ("发布于 2025 年 3 月 2 号", "2025-03-02"), ("2025-03-12", "2025-03-12"),
    ("2025/3/1", "2025-03-01"), ("12 March 2025", "2025-03-12"), ("March 12, 2025", "2025-03-12"),
    ("Sept 3rd, 2024", "2024-09-03"), ("2025年13月40日", None), ("no date", None),
])
def test_find_date(text: str, iso: str | None) -> None:
    assert find_date(text) == iso


@pytest.mark.parametrize(("title", "kind"), [
    ("联洋社区2025年工作报告", "report"), ("党总支会议纪要", "minutes"), ("Lianyang news", "news"),
    ("拇指广场新闻", "news"), ("外籍人士个案记录", "case_note"), ("中文长廊项目介绍", "write_up"),
    ("Annual Report 2024", "report"), ("Minutes of the residents' meeting", "minutes"), ("通知", "other"),
])
def test_guess_kind(title: str, kind: str) -> None:
    assert guess_kind(title) == kind


def test_detect_language() -> None:
    assert detect_language("The Shanghai Library East (上海图书馆东馆) opened near Thumb Plaza in 2021.") == "en"
    assert detect_language("联洋社区 Thumb Plaza 拇指广场开放") == "zh"
    assert detect_language("2025 123 !!!") is None
