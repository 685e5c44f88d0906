"""The ``talentgraph`` command: demo, generate, ingest, serve, search, reindex, stats.

Every setting in ``config.SETTINGS`` is a flag on every command (``--data-dir`` …) and an env var
(``TALENTGRAPH_DATA_DIR`` …); flags win. Errors raised on purpose print their message and hint and
exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from talentgraph.config import SETTINGS, Settings
from talentgraph.errors import StoreBusyError, TalentgraphError

DEMO_JOBS = Path(__file__).parent / "demo" / "jobs" / "pipeline.yaml"
SERVER_STATE = "server.json"

EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Analyst: who are the Russian-speaking party members, their party organisation and its co-building units?",
        """{
  persons(where: {languages: {contains: "ru"}, politicalStatus: {eq: "party_member"}}, first: 5) {
    totalCount
    nodes { name latinName
      memberOf { edges { properties { role since } node { ... on PartyOrganization { name level
        coBuildsWith { edges { properties { since } node { ... on Enterprise { name industry } } } } } } } } }
  }
}""",
    ),
    (
        "Staff: find Russian-speaking lawyers (ask in Chinese or English: 俄语 律师 / Russian lawyer)",
        """{
  search(query: "俄语 律师", first: 5, facets: ["languages", "skills", "residential_area"]) {
    totalCount
    hits { title score explanations highlights { field fragments } }
    facets { field values { value label count } }
  }
}""",
    ),
    (
        "Twin-city platform: venues with coordinates (WGS84)",
        """{
  venues(first: 20) { nodes { id name kind lat lon address } pageInfo { hasNextPage endCursor } }
}""",
    ),
)


# --- settings flags -----------------------------------------------------------------------------


def _settings_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (flag > environment variable > default)")
    for s in SETTINGS:
        flag = "--" + s.name.replace("_", "-")
        default = "(empty)" if s.default in ("", None) else s.default
        group.add_argument(flag, dest=s.name, default=None, metavar=s.type.__name__.upper(),
                           help=f"{s.help} [env {s.env}; default {default}]")
    return parent


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load({s.name: getattr(args, s.name, None) for s in SETTINGS})


# --- commands -----------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from talentgraph.demo.generator import generate

    out = Path(args.out)
    t0 = time.perf_counter()
    result = generate(out, residents=args.residents, seed=args.seed)
    print(f"Wrote registers to {out} in {time.perf_counter() - t0:.1f}s:")
    print(_describe(result))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    job = Path(args.job).resolve()
    input_dir = Path(args.input_dir).resolve() if args.input_dir else None
    server = args.server or (_running_server(settings) if settings.embedded_graph else None)
    if server:
        print(f"A talentgraph server is using this data dir; sending the job to {server} …", file=sys.stderr)
        summaries = _ingest_via_server(server, job, input_dir, args.dry_run)
    else:
        summaries = _ingest_local(settings, job, input_dir, dry_run=args.dry_run, progress=not args.quiet)
    _print_summaries(summaries, as_json=args.json)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        report = stores.projector.sync()
        if report.changes_read:
            print(f"Search index caught up: {report.indexed} documents from {report.changes_read} changes.")
        _serve(stores, settings)
    finally:
        stores.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.demo.generator import generate
    from talentgraph.stores import open_stores

    registers = settings.data_dir / "registers"
    marker = registers / ".generated.json"
    wanted = {"residents": args.residents, "seed": args.seed}
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        t0 = time.perf_counter()
        print(f"Generating synthetic Lianyang registers ({args.residents} residents, seed {args.seed}) …")
        generate(registers, residents=args.residents, seed=args.seed)
        marker.write_text(json.dumps(wanted))
        print(f"  done in {time.perf_counter() - t0:.1f}s → {registers}")
    stores = open_stores(settings)
    try:
        t0 = time.perf_counter()
        summaries = _run_pipeline(stores, DEMO_JOBS, registers, dry_run=False, progress=not args.quiet)
        _print_summaries(summaries, as_json=False)
        print(f"Ingest + search sync took {time.perf_counter() - t0:.1f}s.")
        if args.no_serve:
            return 0
        _serve(stores, settings)
    finally:
        stores.close()
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.search.service import SearchService
    from talentgraph.stores import open_index

    index = open_index(settings)
    try:
        service = SearchService(index, max_page_size=settings.max_page_size)
        filters: dict[str, list[str]] = {}
        for name, values in (("languages", args.lang), ("skills", args.skill), ("nationality", args.nationality),
                             ("residential_area", args.area)):
            if values:
                filters[name] = values
        for item in args.filter or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise TalentgraphError(f"--filter {item!r} is not FIELD=VALUE.", hint="Example: --filter volunteer=true")
            filters.setdefault(key, []).append(value)
        result = service.search(args.query, types=tuple(args.type or ("Person",)), filters=filters or None,
                                first=args.first)
        if args.json:
            print(json.dumps(_jsonable(result), ensure_ascii=False, indent=2))
            return 0
        print(f"{result.total} match(es)")
        for hit in result.hits:
            print(f"- {hit.title}  [{hit.id}]  score {hit.score:.2f}")
            for why in hit.explanations:
                print(f"    {why}")
        for field, values in result.facets.items():
            shown = ", ".join(f"{v.label_zh or v.value} {v.count}" for v in values[:8])
            print(f"  {field}: {shown}")
    finally:
        index.close()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        t0 = time.perf_counter()
        n = stores.projector.rebuild()
        print(f"Rebuilt the search index: {n} documents in {time.perf_counter() - t0:.1f}s (swapped atomically).")
    finally:
        stores.close()
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        counts = {t.name: stores.graph.count_nodes(t.name) for t in stores.projector.ontology.node_types}
        out = {
            "graph": stores.graph.capabilities.name,
            "search": stores.index.capabilities.name,
            "nodes": counts,
            "change_log_seq": stores.graph.last_seq(),
            "search_documents": stores.index.count(),
            "search_cursor": stores.index.get_cursor(),
        }
    finally:
        stores.close()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"graph: {out['graph']}   search: {out['search']}")
        for name, n in counts.items():
            print(f"  {name:<18} {n:>8}")
        print(f"change log at seq {out['change_log_seq']}; search index has {out['search_documents']} documents "
              f"at seq {out['search_cursor']}")
    return 0


# --- helpers ------------------------------------------------------------------------------------


def _run_pipeline(stores: Any, job_path: Path, input_dir: Path | None, *, dry_run: bool, progress: bool) -> list[Any]:
    from talentgraph.ingest.mapping import load_jobs
    from talentgraph.ingest.pipeline import run_pipeline
    from talentgraph.stores import id_hash_key, quarantine_dir

    specs = load_jobs(job_path, input_dir=input_dir)
    summaries = run_pipeline(
        specs, stores.graph,
        id_hash_key=id_hash_key(stores.settings),
        quarantine_dir=quarantine_dir(stores.settings),
        dry_run=dry_run,
        progress=progress,
    )
    if not dry_run:
        stores.projector.sync()
    return list(summaries)


def _ingest_local(settings: Settings, job: Path, input_dir: Path | None, *, dry_run: bool, progress: bool) -> list[Any]:
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        return _run_pipeline(stores, job, input_dir, dry_run=dry_run, progress=progress)
    finally:
        stores.close()


def _ingest_via_server(server: str, job: Path, input_dir: Path | None, dry_run: bool) -> list[Any]:
    import httpx

    body = {"job": str(job), "input_dir": str(input_dir) if input_dir else None, "dry_run": dry_run}
    try:
        r = httpx.post(server.rstrip("/") + "/admin/ingest", json=body, timeout=None)
    except httpx.HTTPError as exc:
        raise StoreBusyError(f"Could not reach the running server at {server}: {exc}.",
                             hint="Stop it, or pass --server with its URL.") from exc
    payload = r.json()
    if r.status_code != 200:
        raise TalentgraphError(payload.get("error", r.text), hint=payload.get("hint"))
    return list(payload["summaries"])


def _running_server(settings: Settings) -> str | None:
    state = settings.data_dir / SERVER_STATE
    if not state.exists():
        return None
    try:
        info = json.loads(state.read_text())
        os.kill(int(info["pid"]), 0)
    except (ValueError, KeyError, ProcessLookupError, PermissionError):
        return None
    return str(info["url"])


def _serve(stores: Any, settings: Settings) -> None:
    import uvicorn

    from talentgraph.server import create_app

    def on_ingest(job: str, input_dir: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
        summaries = _run_pipeline(stores, Path(job), Path(input_dir) if input_dir else None, dry_run=dry_run,
                                  progress=False)
        return [s.to_dict() for s in summaries]

    app = create_app(stores.graph, stores.search, settings, on_ingest=on_ingest)
    url = f"http://{settings.host}:{settings.port}"
    state = settings.data_dir / SERVER_STATE
    state.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    print(f"\nPlayground: {url}/graphql   (health: {url}/health)\n")
    for title, query in EXAMPLE_QUERIES:
        print(f"# {title}\n{query}\n")
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    finally:
        state.unlink(missing_ok=True)


def _print_summaries(summaries: Sequence[Any], *, as_json: bool) -> None:
    rows = [s if isinstance(s, dict) else s.to_dict() for s in summaries]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if len(rows) == 1 and not isinstance(summaries[0], dict):
        print(summaries[0])
        return
    # A pipeline: one aligned line per job, then where the quarantined rows went.
    verb = "would " if rows and rows[0].get("dry_run") else ""
    print(f"{'job':<20}{'rows in':>9}{'inserted':>10}{'updated':>9}{'unchanged':>11}{'quarantined':>13}{'rows/s':>9}")
    for r in rows:
        print(f"{r['job']:<20}{r['rows_in']:>9,}{r['inserted']:>10,}{r['updated']:>9,}{r['unchanged']:>11,}"
              f"{r['quarantined']:>13,}{r['rows_per_second']:>9,.0f}")
    total = {k: sum(r[k] for r in rows) for k in ("rows_in", "inserted", "updated", "unchanged", "quarantined")}
    print(f"{'total (' + verb + 'write)':<20}{total['rows_in']:>9,}{total['inserted']:>10,}{total['updated']:>9,}"
          f"{total['unchanged']:>11,}{total['quarantined']:>13,}")
    files = [r for r in rows if r.get("quarantine_path")]
    if files:
        folder = Path(files[0]["quarantine_path"]).parent
        print(f"Quarantined rows (original row + reason) are in {folder}/: "
              + ", ".join(f"{Path(r['quarantine_path']).name} ({r['quarantined']})" for r in files))
        example = _first_reason(Path(files[0]["quarantine_path"]))
        if example:
            print(f"  e.g. {example}")


def _first_reason(path: Path) -> str | None:
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            row = next(csv.DictReader(f), None)
    except OSError:
        return None
    return f"row {row['_row']}: {row['_reason']}" if row else None


def _describe(obj: Any) -> str:
    if hasattr(obj, "to_dict"):
        return json.dumps(obj.to_dict(), ensure_ascii=False, indent=2, default=str)
    return str(obj)


def _jsonable(obj: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


# --- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parent = _settings_parent()
    parser = argparse.ArgumentParser(
        prog="talentgraph",
        description="Community knowledge graph and talent search (LadybugDB + Tantivy by default; Neo4j + "
        "OpenSearch/Elasticsearch when their URLs are set).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[parent], help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "Generate the synthetic Lianyang registers, ingest them with the shipped jobs, and serve.")
    p.add_argument("--residents", type=int, default=50_000, help="Number of residents to generate (default 50000).")
    p.add_argument("--seed", type=int, default=7, help="Random seed; the same seed gives the same registers.")
    p.add_argument("--no-serve", action="store_true", help="Stop after ingest (do not start the server).")
    p.add_argument("--quiet", action="store_true", help="No progress bars.")

    p = add("generate", cmd_generate, "Write synthetic community registers (CSV/XLSX, some GBK) to a directory.")
    p.add_argument("out", help="Output directory.")
    p.add_argument("--residents", type=int, default=50_000, help="Number of residents (default 50000).")
    p.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")

    p = add("ingest", cmd_ingest, "Run an ingest job or pipeline YAML (routes through a running server if one owns "
                                  "the data dir).")
    p.add_argument("job", help="Job or pipeline YAML file.")
    p.add_argument("--input-dir", help="Directory the job's source paths are relative to (default: the job's folder).")
    p.add_argument("--dry-run", action="store_true", help="Validate and report without writing.")
    p.add_argument("--server", help="Send the job to this running server (e.g. http://127.0.0.1:8000).")
    p.add_argument("--json", action="store_true", help="Print the job summaries as JSON.")
    p.add_argument("--quiet", action="store_true", help="No progress bar.")

    add("serve", cmd_serve, "Serve the GraphQL API and playground.")

    p = add("search", cmd_search, "Search talent from the command line, e.g. talentgraph search 律师 --lang 俄语.")
    p.add_argument("query", nargs="?", default="", help="Free text: names, skills, languages, in any language.")
    p.add_argument("--lang", action="append", help="Language filter (ru, 俄语, Russian …); repeatable.")
    p.add_argument("--skill", action="append", help="Skill filter (法律, law, …); repeatable.")
    p.add_argument("--nationality", action="append", help="Nationality filter (RU, 俄罗斯 …); repeatable.")
    p.add_argument("--area", action="append", help="Residential area id filter; repeatable.")
    p.add_argument("--filter", action="append", help="Any facet filter FIELD=VALUE; repeatable.")
    p.add_argument("--type", action="append", help="Node type to search (default Person); repeatable.")
    p.add_argument("--first", type=int, default=10, help="Number of hits (default 10).")
    p.add_argument("--json", action="store_true", help="Print results as JSON.")

    add("reindex", cmd_reindex, "Rebuild the search index from the graph into a new directory and swap it in.")

    p = add("stats", cmd_stats, "Counts per node type, change-log position and search index lag.")
    p.add_argument("--json", action="store_true", help="Print as JSON.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (getattr(args, "log_level", None) or os.environ.get("TALENTGRAPH_LOG_LEVEL") or "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format="%(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # the engine clients log every request at INFO
        for noisy in ("opensearch", "elasticsearch", "elastic_transport", "neo4j", "httpx", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except TalentgraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `talentgraph search … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
