"""JSON (a list of objects, optionally under a dotted ``records:`` path) and NDJSON (one object a line).

The header is the union of keys, in first-seen order, so mapping columns can be checked before
rows are read. For NDJSON that costs one streaming pre-scan; a line that is not a JSON object is
a ``BadRow`` (quarantined with its text), never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from talentgraph.errors import IngestError
from talentgraph.ingest.sources import BadRow, Row, Source, register_source

# Identity-number-like runs are masked in quarantined raw text: the line could not be parsed, so
# we cannot know which field holds the id.
_LONG_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{14,17}([0-9Xx])(?![0-9A-Za-z])")


def mask_raw_text(text: str) -> str:
    return _LONG_ID.sub(lambda m: "************" + m.group(0)[-4:], text)


def _walk(data: Any, dotted: str, file: str) -> Any:
    node = data
    walked: list[str] = []
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
            walked.append(part)
            continue
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            walked.append(part)
            continue
        keys = ", ".join(map(repr, list(node)[:12])) if isinstance(node, dict) else f"a {type(node).__name__}"
        at = ".".join(walked) or "the top level"
        raise IngestError(
            f"source.records: {file} has no {part!r} under {at}.",
            hint=f"Found {keys}. Set source.records to the dotted path of the list of records.",
        )
    return node


def _header_of(records: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for rec in records:
        if isinstance(rec, dict):
            seen.update(dict.fromkeys(str(k) for k in rec))
    return list(seen)


@register_source("json", "json")
class JsonSource(Source):
    accepted_options = {"records": "dotted path to the list of records; default: the top-level list"}

    @classmethod
    def check_options(cls, options: Mapping[str, Any], where: str) -> None:
        super().check_options(options, where)
        rec = options.get("records")
        if rec is not None and (not isinstance(rec, str) or not rec.strip()):
            raise IngestError(f"{where}.records: {rec!r} is not a dotted path.", hint="Write e.g. records: data.items")

    def _open(self) -> None:
        self.encoding = "utf-8"
        try:
            with self.path.open("r", encoding="utf-8-sig") as f:
                data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IngestError(
                f"{self.path.name} is not valid UTF-8 JSON: {exc}.",
                hint="Fix the file, or use format: ndjson when it has one object per line.",
            ) from exc
        dotted = self.options.get("records")
        records = _walk(data, dotted, self.path.name) if dotted else data
        if not isinstance(records, list):
            where = f"source.records ({dotted})" if dotted else "the top level"
            raise IngestError(
                f"{self.path.name}: {where} is a {type(records).__name__}, not a list of records.",
                hint="Set source.records to the dotted path of the list, e.g. records: data.items",
            )
        self._records: list[Any] = records
        self._header = _header_of(records)

    @property
    def header(self) -> list[str]:
        return self._header

    def rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        for number, rec in enumerate(self._records, start=1):
            if isinstance(rec, dict):
                yield number, {str(k): v for k, v in rec.items()}
            else:
                yield number, BadRow(f"record {number} is a {type(rec).__name__} ({rec!r:.60}), not an object")


@register_source("ndjson", "ndjson", "jsonl")
class NdjsonSource(Source):
    extra_columns = ("_line",)

    def _open(self) -> None:
        self.encoding = "utf-8"
        seen: dict[str, None] = {}
        with self.path.open("r", encoding="utf-8-sig", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict):
                    seen.update(dict.fromkeys(str(k) for k in rec))
        self._header = list(seen)
        self._file: IO[str] = self.path.open("r", encoding="utf-8-sig", errors="replace")

    def close(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()

    @property
    def header(self) -> list[str]:
        return self._header

    def rows(self) -> Iterator[tuple[int, Row | BadRow]]:
        for number, line in enumerate(self._file, start=1):
            text = line.strip()
            if not text:
                continue
            if "\ufffd" in text:
                yield number, BadRow(f"line {number} is not valid UTF-8", {"_line": mask_raw_text(text)})
                continue
            try:
                rec = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, BadRow(
                    f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}",
                    {"_line": mask_raw_text(text)},
                )
                continue
            if not isinstance(rec, dict):
                yield number, BadRow(
                    f"line {number} is a JSON {type(rec).__name__}, not an object", {"_line": mask_raw_text(text)}
                )
                continue
            yield number, {str(k): v for k, v in rec.items()}
