"""Files → ``DocumentText``: plain text, Markdown, HTML, DOCX and PDF text layers.

A batch (``read_paths``) never dies on one bad file: every file that cannot be read (missing, empty, binary,
undecodable, too big, a broken DOCX/PDF, a PDF without a text layer, an unsupported type or language)
comes back as a ``ReadError`` naming the file and the reason, in path order among the documents.

Decisions:
- Encodings tried: UTF-8 (with or without BOM), UTF-16 with a BOM, then GB18030 (the superset of GBK/GB2312
  that Chinese Windows tools write). A file none decodes is refused, not read with replacement characters.
- Language: ``zh`` when Han characters are at least ``HAN_SHARE`` of the letters (an English text naming a few
  Chinese places stays ``en``); ``en`` when Latin letters dominate; a text whose letters are mostly another script
  (Cyrillic, Arabic, kana, Hangul, …) is refused with a ReadError: there is no pipeline for it, and running the
  English one over it would only invent mentions.
- Published date: explicit publication metadata (Markdown front matter, HTML meta/``<time>``) first, then a date
  written near the top of the text (2025年3月12日, 2025-03-12, 12 March 2025), then file metadata (DOCX
  created, PDF CreationDate): a file's creation stamp is when someone saved it, the written date is the text's.
- Dot-files and folders (.git, .DS_Store) and Office lock files (~$x.docx) are skipped silently; other files of
  unsupported types are listed as ReadErrors ("skipped: …").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from talentgraph.errors import TalentgraphError
from talentgraph.text.model import DocumentText

MAX_TEXT_BYTES = 5_000_000  # UTF-8 bytes of extracted text a document may have
FILE_BYTES_PER_TEXT_BYTE = 10  # DOCX/PDF carry images and layout: the raw file may be this much bigger
HAN_SHARE = 0.2
DATE_SCAN_CHARS = 400  # how far from the top a written date counts as the document's date
SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")


class ReadError(TalentgraphError):
    """A file that could not be read; raised by ``read_document``, yielded by ``read_paths``."""

    code = "UNREADABLE_DOCUMENT"

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReadError) and (self.path, self.reason) == (other.path, other.reason)

    def __hash__(self) -> int:
        return hash((self.path, self.reason))


@dataclass(frozen=True)
class _Raw:
    """What a format reader returns before the common steps (title fallback, language, date, kind, hash)."""

    text: str
    title: str = ""
    published: str | None = None  # explicit publication metadata
    file_date: str | None = None  # file metadata (created): weaker than a date written in the text


# --- entry points --------------------------------------------------------------------------------


def read_document(path: str | Path, *, max_text_bytes: int = MAX_TEXT_BYTES) -> DocumentText:
    """Read one file; raises ``ReadError`` (never anything else) when it cannot be read."""
    p = Path(path)
    try:
        reader = _READERS.get(p.suffix.lower())
        if reader is None:
            raise ReadError(path, f"skipped: unsupported file type {p.suffix or '(none)'!r} "
                                  f"(readable: {', '.join(SUFFIXES)})")
        if not p.is_file():
            raise ReadError(path, "no such file")
        size = p.stat().st_size
        if size == 0:
            raise ReadError(path, "empty file")
        limit = max_text_bytes * (4 if reader is _read_text else FILE_BYTES_PER_TEXT_BYTE)
        if size > limit:
            raise ReadError(path, f"too big: {size:,} bytes (limit {limit:,}; raise max_text_bytes to read it)")
        raw = reader(p)
        return _finish(path, raw, max_text_bytes)
    except ReadError:
        raise
    except Exception as e:  # a parser's own error on a broken file: one bad file never ends a batch
        raise ReadError(path, f"cannot be read ({type(e).__name__}: {e})") from e


def read_paths(paths: Iterable[str | Path], *, max_text_bytes: int = MAX_TEXT_BYTES
               ) -> Iterator[DocumentText | ReadError]:
    """Every file under ``paths`` (files or folders, recursively, in sorted order), read or refused."""
    for given in paths:
        p = Path(given)
        if p.is_dir():
            for f in _walk(p):
                yield _try(f, max_text_bytes)
        else:
            yield _try(p, max_text_bytes)


def _try(path: Path, max_text_bytes: int) -> DocumentText | ReadError:
    try:
        return read_document(path, max_text_bytes=max_text_bytes)
    except ReadError as e:
        return e


def _walk(root: Path) -> Iterator[Path]:
    # os.walk does not follow symlinked folders (no loops); paths sorted by their parts, so a folder's files
    # come where its name sorts (a.txt, b/1.txt, c.xlsx) and a batch reads in a stable order.
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(Path(dirpath) / n for n in filenames if not n.startswith((".", "~$")))
    yield from sorted(found, key=lambda f: f.relative_to(root).parts)


# --- common steps -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING = re.compile(r"[ \t\u3000]+\n")
_BLANKS = re.compile(r"\n{3,}")


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = _CONTROL.sub("", text)
    text = _TRAILING.sub("\n", text)
    return _BLANKS.sub("\n\n", text).strip()


def _finish(path: str | Path, raw: _Raw, max_text_bytes: int) -> DocumentText:
    text = _clean(raw.text)
    if not text:
        raise ReadError(path, "no text in it")
    if len(text.encode("utf-8")) > max_text_bytes:
        raise ReadError(path, f"too much text (over {max_text_bytes:,} bytes; raise max_text_bytes to read it)")
    language = detect_language(text)
    if language is None:
        raise ReadError(path, "not Chinese or English text (mostly another script); text pipelines exist for zh, en")
    title = _one_line(raw.title) or _first_line(text)
    published = raw.published or find_date(text[:DATE_SCAN_CHARS]) or raw.file_date
    return DocumentText(
        path=str(path), title=title, text=text, language=language, published=published,
        doc_kind=guess_kind(title), text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _one_line(s: str) -> str:
    return " ".join(s.split())[:300]


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return _one_line(line)
    return ""


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def detect_language(text: str) -> str | None:
    """"zh", "en", or None when the letters are mostly of another script (see module docstring)."""
    han = latin = other = 0
    for ch in text[:20_000]:  # a sample is enough and keeps huge files cheap
        if not ch.isalpha():
            continue
        if _HAN.match(ch):
            han += 1
        elif ch.isascii() or "LATIN" in unicodedata.name(ch, ""):
            latin += 1
        else:
            other += 1
    letters = han + latin + other
    if letters == 0:
        return None
    if han / letters >= HAN_SHARE:
        return "zh"
    if latin >= other:
        return "en"
    return None


# Title words → kind, first match wins (minutes before report: "工作会议纪要" is minutes).
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("minutes", ("会议纪要", "纪要", "会议记录", "minutes")),
    ("case_note", ("个案", "案例记录", "服务记录", "走访记录", "case note", "case notes", "case record")),
    ("report", ("工作报告", "报告", "工作总结", "总结", "汇报", "年报", "report", "review of the year")),
    ("write_up", ("项目介绍", "项目简介", "项目书", "案例", "write-up", "write up", "project profile")),
    ("news", ("新闻", "快讯", "简讯", "动态", "报道", "资讯", "news", "bulletin", "newsletter")),
)


def guess_kind(title: str) -> str:
    """report, news, minutes, case_note, write_up or other, from the title's words."""
    t = title.casefold()
    for kind, words in _KINDS:
        if any(w in t for w in words):
            return kind
    return "other"


_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"), 1)}
_MON = "|".join(list(_MONTHS) + [m[:3] for m in _MONTHS] + ["sept"])
_DATE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"), "ymd"),
    (re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MON})\.?,?\s+((?:19|20)\d\d)\b"), "dmy"),
    (re.compile(rf"(?i)\b({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b"), "mdy"),
)


def find_date(text: str) -> str | None:
    """The first date written in ``text`` as an ISO date, or None."""
    best: tuple[int, str] | None = None
    for rx, order in _DATE_RES:
        for m in rx.finditer(text):
            iso = _iso(m.groups(), order)
            if iso is not None:
                if best is None or m.start() < best[0]:
                    best = (m.start(), iso)
                break
    return best[1] if best else None


def _iso(groups: tuple[str | None, ...], order: str) -> str | None:
    g = [x or "" for x in groups]
    try:
        if order == "ymd":
            y, mo, d = int(g[0]), int(g[1]), int(g[2])
        elif order == "dmy":
            y, mo, d = int(g[2]), _month(g[1]), int(g[0])
        else:
            y, mo, d = int(g[2]), _month(g[0]), int(g[1])
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def _month(name: str) -> int:
    n = name.casefold().rstrip(".")
    for full, i in _MONTHS.items():
        if full.startswith(n) and len(n) >= 3:
            return i
    raise ValueError(name)


def _date_value(value: object) -> str | None:
    """An ISO date from metadata: a datetime/date, an ISO string, a PDF date (D:20250312…)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        s = value.strip()
        m = re.match(r"^(?:D:)?((?:19|20)\d\d)(\d\d)(\d\d)", s)
        if m:
            return _iso(m.groups(), "ymd")
        return find_date(s[:40])
    return None


# --- plain text -------------------------------------------------------------------------------------

_ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes, path: str | Path) -> str:
    """Bytes of a text file as text; ReadError for binary data or an unknown encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ReadError(path, "not text: a UTF-16 mark, then bytes that are not UTF-16") from None
    if b"\x00" in data[:65_536]:
        raise ReadError(path, "binary data, not text (NUL bytes)")
    for enc in _ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise ReadError(path, f"binary data, not text (decodes as {enc} only to control characters)")
        return text
    raise ReadError(path, "not text in UTF-8 or GB18030 (save it as UTF-8)")


def _looks_binary(text: str) -> bool:
    sample = text[:65_536]
    bad = sum(1 for c in sample if (unicodedata.category(c) in ("Cc", "Co", "Cs", "Cn") and c not in "\n\r\t\f"))
    return bad > max(8, len(sample) // 50)


def _read_text(p: Path) -> _Raw:
    return _Raw(decode(p.read_bytes(), p))


# --- Markdown ------------------------------------------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_FIELD = re.compile(r"^(\w+)\s*:\s*(.*?)\s*$", re.M)
_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1[ \t]*$", re.S | re.M)
_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image → its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link → its text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference link
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M), ""),  # link definitions
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)"), r"\1"),
    (re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w])"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
)
_MD_LINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ATX heading
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rule (before setext and lists)
    (re.compile(r"^[ \t]*(=+|-+)[ \t]*$", re.M), ""),  # setext underline
    (re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M), ""),  # blockquote
    (re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", re.M), ""),  # list markers
    (re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$", re.M), ""),  # table rule
    (re.compile(r"[ \t]*\|[ \t]*"), "\t"),  # table cells
)
_ATX_TITLE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)
_SETEXT_TITLE = re.compile(r"^([^\n]+)\n[ \t]*(?:=+|-+)[ \t]*$", re.M)


def _read_markdown(p: Path) -> _Raw:
    return markdown_to_text(decode(p.read_bytes(), p))


def markdown_to_text(src: str) -> _Raw:
    src = src.replace("\r\n", "\n")
    meta: dict[str, str] = {}
    m = _FRONT.match(src)
    if m:
        meta = {k.lower(): v.strip("'\"") for k, v in _FRONT_FIELD.findall(m.group(1))}
        src = src[m.end():]
    src = _FENCE.sub(lambda f: f.group(2), src)  # code blocks keep their text, lose the fences
    heading = _ATX_TITLE.search(src) or _SETEXT_TITLE.search(src)
    title = meta.get("title") or (_strip_inline(heading.group(1)) if heading else "")
    text = src
    for rx, rep in _MD_LINE:
        text = rx.sub(rep, text)
    text = _strip_inline(text)
    published = next((d for k in ("published", "date", "pubdate", "created") if (d := _date_value(meta.get(k)))),
                     None)
    return _Raw(text, title=title, published=published)


def _strip_inline(s: str) -> str:
    for rx, rep in _MD_INLINE:
        s = rx.sub(rep, s)
    return s


# --- HTML -----------------------------------------------------------------------------------------------

_BLOCK = frozenset("address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
                   "header hr li main nav ol p pre section table tbody td th thead tr ul".split())
_SKIP = frozenset(("script", "style", "noscript", "template", "svg", "head"))
_DATE_META = ("article:published_time", "datepublished", "pubdate", "publishdate", "date", "dc.date", "dcterms.date",
              "dc.date.issued", "publish-date")


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.in_title = False
        self.title = ""
        self.h1: list[str] | None = None
        self.h1_text = ""
        self.meta_date: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self.in_title = True
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key in _DATE_META and self.meta_date is None:
                self.meta_date = _date_value(a.get("content", ""))
        elif tag == "time" and self.meta_date is None and a.get("datetime"):
            self.meta_date = _date_value(a["datetime"])
        if tag in _SKIP:
            self.skip += 1
        if tag == "h1" and not self.h1_text and self.h1 is None:
            self.h1 = []
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP and self.skip > 0:
            self.skip -= 1
        if tag == "h1" and self.h1 is not None:
            self.h1_text, self.h1 = "".join(self.h1), None
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skip:
            return
        if self.h1 is not None:
            self.h1.append(data)
        self.parts.append(data)


_INLINE_SPACE = re.compile(r"[ \t\r\f\v]+")


def html_to_text(src: str) -> _Raw:
    parser = _HTMLText()
    parser.feed(src)
    parser.close()
    # Source whitespace is layout, not text: collapse it; block boundaries are the line breaks.
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    text = "\n".join(lines)
    title = _one_line(parser.title) or _one_line(parser.h1_text)
    return _Raw(text, title=title, published=parser.meta_date)


def _read_html(p: Path) -> _Raw:
    return html_to_text(decode(p.read_bytes(), p))


# --- DOCX ---------------------------------------------------------------------------------------------

# python-docx's template stamps these on every file it makes: not anybody's title or date.
_PLACEHOLDER_TITLES = frozenset(("word document", "untitled", "document", "文档"))
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.timezone.utc)


def _read_docx(p: Path) -> _Raw:
    import docx  # imported on use: reading text files needs no Office parser
    from docx.oxml.ns import qn

    try:
        document = docx.Document(str(p))
    except Exception as e:
        raise ReadError(p, f"not a readable DOCX file ({type(e).__name__}: {e})") from e
    lines: list[str] = []
    heading = ""
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            text = "".join(t.text or "" for t in child.iter(qn("w:t")))
            lines.append(text)
            if not heading and text.strip() and _is_heading(child):
                heading = text
        elif child.tag == qn("w:tbl"):
            for row in child.iter(qn("w:tr")):
                cells = ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in row.iter(qn("w:tc"))]
                lines.append("\t".join(c.strip() for c in cells))
    props = document.core_properties
    title = props.title or ""
    if title.strip().casefold() in _PLACEHOLDER_TITLES:
        title = ""
    created = props.created
    file_date = _date_value(created) if created is not None and created != _TEMPLATE_CREATED else None
    return _Raw("\n".join(lines), title=title or heading, file_date=file_date)


def _is_heading(p_element: object) -> bool:
    # CT_P.style is the paragraph's style id ("Heading1", "Title"; None for the default style).
    style = getattr(p_element, "style", None)
    return isinstance(style, str) and style.lower().startswith(("heading", "title"))


# --- PDF -------------------------------------------------------------------------------------------------


def _read_pdf(p: Path) -> _Raw:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repaired oddity of a damaged file as a warning: noise for a batch, not errors.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(p.read_bytes()))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(p, "encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise ReadError(p, f"not a readable PDF ({type(e).__name__}: {e})") from e
    text = "\n".join(pages)
    if not text.strip():
        raise ReadError(p, f"no text layer; OCR it first ({len(pages)} page(s), no extractable text)")
    meta = reader.metadata
    title = ""
    file_date = None
    if meta is not None:
        title = str(meta.get("/Title") or "")
        file_date = _date_value(str(meta.get("/CreationDate") or ""))
    return _Raw(text, title=title, file_date=file_date)


_READERS: dict[str, Callable[[Path], _Raw]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}
