"""The Markdown ``bench/run.py`` prepends to bench/RESULTS.md: the issue's targets in the header, then per run
the machine, one table per backend, the targets met or missed by what was measured, failures and the raw JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROLE = "analyst"  # the API key the bench's requests carry


@dataclass
class Row:
    backend: str
    scale: int
    metrics: dict[str, Any] = field(default_factory=dict)


TARGETS = ("Targets (issue 8): ingest end to end (process start to searchable) ≥ 0.5× COPY at 50k and 200k; "
           "1M residents (generate excluded) graph + search in < 3 min with peak RSS (process tree) < 4 GB; "
           "on Neo4j graph ingest ≥ 0.8× bare-driver UNWIND MERGE; OpenSearch sync ≥ 0.5× bare `_bulk`; "
           "GraphQL 2-hop p95 ≤ 2× the hand-written Cypher on LadybugDB and Neo4j; GraphQL `search` p95 ≤ 10 ms "
           "at 200k embedded over HTTP, ≤ 2× the bare engine query on OpenSearch; auth + audit ≤ 1.10× GraphQL p95 "
           "(bench/access.py); entity resolution pairwise precision ≥ 0.98 and F1 ≥ 0.95 at 50k (bench/resolve.py).")


def verdicts(row: Row) -> list[str]:
    """The issue's targets that apply to this row, each met or missed (nothing said of what was not measured)."""
    m, out = row.metrics, []

    def check(name: str, key: str, ok: Callable[[Any], bool], shown: str) -> None:
        if m.get(key) is not None:
            out.append(f"{'met' if ok(m[key]) else '**missed**'}: {name} — {shown.format(m[key])}")

    where = f"{row.backend} {row.scale:,}"
    if row.backend == "embedded":
        if row.scale in (50_000, 200_000):
            check(f"ingest ≥ 0.5× COPY ({where})", "ingest_vs_copy", lambda v: v >= 0.5, "{}×")
        if row.scale >= 1_000_000:
            check(f"1M in < 3 min ({where})", "ingest_wall_s", lambda v: v < 180, "{} s")
            check(f"1M peak RSS < 4 GB ({where})", "ingest_peak_rss_mb", lambda v: v < 4096, "{} MB")
        if row.scale == 200_000:
            check(f"search p95 ≤ 10 ms over HTTP ({where})", "search_p95_ms", lambda v: v <= 10, "{} ms")
    else:
        check(f"graph ≥ 0.8× UNWIND MERGE ({where})", "graph_vs_raw_merge", lambda v: v >= 0.8, "{}×")
        check(f"sync ≥ 0.5× bare _bulk ({where})", "sync_vs_bare_bulk", lambda v: v >= 0.5, "{}×")
        check(f"search p95 ≤ 2× bare ({where})", "search_p95_ratio", lambda v: v <= 2, "{}×")
    check(f"2-hop p95 ≤ 2× Cypher ({where})", "graphql_p95_ratio", lambda v: v <= 2, "{}×")
    return out


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def _cell(m: Mapping[str, Any], *keys: str) -> str:
    return " / ".join("–" if m.get(k) is None else str(m[k]) for k in keys)


EMBEDDED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entities", ("entities",)), ("generate s", ("generate_s",)),
    ("ingest wall s (jobs / after jobs)", ("ingest_wall_s", "ingest_jobs_s", "ingest_after_jobs_s")),
    ("`stats` call s", ("cli_stats_s",)), ("sync s", ("sync_s",)),
    ("ingest entities/s", ("ingest_entities_per_s",)), ("COPY entities/s", ("copy_entities_per_s",)),
    ("ingest / COPY", ("ingest_vs_copy",)),
    ("ingest peak RSS MB (tree / tree PSS / ru_maxrss)",
     ("ingest_peak_rss_mb", "ingest_peak_pss_mb", "ingest_ru_maxrss_mb")),
    ("graph on disk MB", ("graph_disk_mb",)),
    ("GraphQL 2-hop p50 / p95 ms", ("graphql_p50_ms", "graphql_p95_ms")),
    ("Cypher p50 / p95 ms", ("cypher_p50_ms", "cypher_p95_ms")), ("2-hop / Cypher p95", ("graphql_p95_ratio",)),
    ("GraphQL by id p50 / p95 ms", ("by_id_p50_ms", "by_id_p95_ms")),
    ("Cypher by id p50 / p95 ms", ("by_id_cypher_p50_ms", "by_id_cypher_p95_ms")),
    ("by id / Cypher p95", ("by_id_p95_ratio",)),
    ("GraphQL search p50 / p95 ms", ("search_p50_ms", "search_p95_ms")), ("bare query p50 / p95 ms", ("bare_p50_ms", "bare_p95_ms")),
    ("search / bare p95", ("search_p95_ratio",)), ("HTTP floor p50 / p95 ms", ("health_p50_ms", "health_p95_ms")),
    ("serve peak RSS MB", ("serve_peak_rss_mb",)),
    ("`reindex` wall s (docs/s) / sync docs/s", ("reindex_s", "reindex_docs_per_s", "sync_docs_per_s")),
)
ENGINE_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entities", ("entities",)),
    ("ingest wall s (jobs / after jobs)", ("ingest_wall_s", "ingest_jobs_s", "ingest_after_jobs_s")),
    ("`stats` call s", ("cli_stats_s",)),
    ("graph entities/s (jobs)", ("graph_entities_per_s",)), ("UNWIND MERGE entities/s", ("raw_merge_entities_per_s",)),
    ("graph / MERGE", ("graph_vs_raw_merge",)), ("sync s", ("sync_s",)), ("sync docs/s", ("sync_docs_per_s",)),
    ("bare _bulk docs/s", ("bare_bulk_docs_per_s",)), ("sync / _bulk", ("sync_vs_bare_bulk",)),
    ("ingest peak RSS MB (tree / tree PSS / ru_maxrss)",
     ("ingest_peak_rss_mb", "ingest_peak_pss_mb", "ingest_ru_maxrss_mb")),
    ("GraphQL 2-hop p50 / p95 ms", ("graphql_p50_ms", "graphql_p95_ms")),
    ("Cypher p50 / p95 ms", ("cypher_p50_ms", "cypher_p95_ms")), ("2-hop / Cypher p95", ("graphql_p95_ratio",)),
    ("GraphQL by id p50 / p95 ms", ("by_id_p50_ms", "by_id_p95_ms")),
    ("Cypher by id p50 / p95 ms", ("by_id_cypher_p50_ms", "by_id_cypher_p95_ms")),
    ("by id / Cypher p95", ("by_id_p95_ratio",)),
    ("GraphQL search p50 / p95 ms", ("search_p50_ms", "search_p95_ms")), ("bare body p50 / p95 ms", ("bare_p50_ms", "bare_p95_ms")),
    ("search / bare p95", ("search_p95_ratio",)), ("HTTP floor p50 / p95 ms", ("health_p50_ms", "health_p95_ms")),
    ("serve peak RSS MB", ("serve_peak_rss_mb",)),
    ("`reindex` wall s (docs/s) / sync docs/s", ("reindex_s", "reindex_docs_per_s", "sync_docs_per_s")),
)


def _table(title: str, rows: Sequence[Row], columns: Sequence[tuple[str, tuple[str, ...]]]) -> list[str]:
    out = [title, "", "| residents | " + " | ".join(c for c, _ in columns) + " |",
           "|---" * (len(columns) + 1) + "|"]
    out += [f"| {r.scale} | " + " | ".join(_cell(r.metrics, *keys) for _, keys in columns) + " |" for r in rows]
    return out + [""]


WRITERS = ("run", "access", "resolve", "demo", "feed", "relevance", "checkpoint_growth")
HEADER = ("# Benchmark results\n\nWritten by " + ", ".join(f"`bench/{w}.py`" for w in WRITERS)
          + f"; newest run first. {TARGETS}")


def prepend(section: str, path: Path) -> None:
    """``section`` (Markdown starting with a ``## `` heading) before the newest earlier run, under the header (title,
    writers and the issue's targets, written afresh): every bench script adds its results so."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    _head, sep, rest = old.partition("\n## ")
    path.write_text(HEADER + "\n\n" + section.rstrip("\n") + "\n" + ("\n## " + rest if sep else ""),
                    encoding="utf-8")


def write_results(rows: list[Row], path: Path, failures: Sequence[str] = ()) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## Run of {now}", "", f"Machine: {machine()}", "",
             f"`bench/run.py`: ingest through `talentgraph ingest` (process start to searchable), queries over "
             f"HTTP against `talentgraph serve` with an {ROLE} key, each against its raw baseline in the same run "
             f"(see the module docstring).", ""]
    embedded = [r for r in rows if r.backend == "embedded"]
    engines = [r for r in rows if r.backend != "embedded"]
    if embedded:
        lines += _table("Embedded (LadybugDB + Tantivy):", embedded, EMBEDDED_COLUMNS)
    if engines:
        lines += _table("Real engines (Neo4j + OpenSearch, started by services/up):", engines, ENGINE_COLUMNS)
    checked = [v for r in rows for v in verdicts(r)]
    if checked:
        lines += ["Targets measured in this run:", ""] + [f"- {v}" for v in checked] + [""]
    if failures:
        lines += ["Failed in this run (their rows show what was measured before the failure):", ""] \
            + [f"- {f}" for f in failures] + [""]
    lines += ["Raw:", "", "```json"] + [json.dumps({"backend": r.backend, "scale": r.scale, **r.metrics},
                                                   ensure_ascii=False) for r in rows] + ["```", ""]
    prepend("\n".join(lines), path)


__all__ = ["HEADER", "Row", "TARGETS", "machine", "prepend", "verdicts", "write_results"]
