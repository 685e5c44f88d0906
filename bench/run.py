"""Benchmark: ingest, search and GraphQL against raw baselines measured in the same run.

    .venv/bin/python bench/run.py                       # 50k and 200k residents, embedded backends
    .venv/bin/python bench/run.py --scales 50000        # one scale
    .venv/bin/python bench/run.py --engines             # also Neo4j + OpenSearch (needs services/up)

Machines here are noisy, so every number is reported as a ratio against a baseline measured in the
same process, right before or after it:
- ingest: the shipped demo jobs end to end (parse, validate, graph upsert, search projection)
  against LadybugDB ``COPY FROM`` an Arrow table of the very same node and relationship rows;
- search: p50/p95 of skill + language queries through ``SearchService`` (analysis, synonyms,
  highlights, explanations) against the same compiled query run bare on the index;
- GraphQL: p50/p95 of a 2-hop query (person → party organisation → co-building enterprises)
  through the in-process Starlette app against the same walk as one hand-written Cypher query.
Results are appended to ``bench/RESULTS.md`` with the machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from talentgraph.config import Settings  # noqa: E402
from talentgraph.demo.generator import generate  # noqa: E402
from talentgraph.ingest.mapping import load_pipeline  # noqa: E402
from talentgraph.ingest.pipeline import run_pipeline  # noqa: E402
from talentgraph.schema.ontology import ONTOLOGY  # noqa: E402
from talentgraph.stores import Stores, id_hash_key, open_stores, quarantine_dir  # noqa: E402

PIPELINE = ROOT / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"

SEARCH_QUERIES = [
    ("俄语 律师", {}), ("Russian lawyer", {}), ("英语 教师", {}), ("English teacher", {}),
    ("律师", {"languages": ["ru"]}), ("lawyer", {"languages": ["en"]}), ("日语 翻译", {}),
    ("nurse", {"languages": ["en"]}), ("书法", {}), ("太极", {"languages": ["zh"]}),
    ("心理咨询", {}), ("accounting", {"languages": ["fr"]}), ("钢琴 老师", {}), ("elderly care volunteer", {}),
]

# The same walk written by hand: valid Cypher for both LadybugDB and Neo4j.
TWO_HOP_CYPHER = """MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[m:MEMBER_OF]->(o:PartyOrganization)
OPTIONAL MATCH (o)-[:CO_BUILDS_WITH]->(e:Enterprise)
RETURN p.name AS name, o.name AS org, m.role AS role, collect(e.name) AS enterprises"""

TWO_HOP = """query($id: ID!) { person(id: $id) { name
  memberOf { edges { node { ... on PartyOrganization { name
    coBuildsWith { edges { node { ... on Enterprise { name } } } } } } } } } }"""


@dataclass
class Row:
    backend: str
    scale: int
    metrics: dict[str, Any] = field(default_factory=dict)


def pct(samples: Sequence[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- ingest ---------------------------------------------------------------------------------------


def bench_ingest(stores: Stores, registers: Path) -> dict[str, Any]:
    specs = load_pipeline(PIPELINE, input_dir=registers)
    t0 = time.perf_counter()
    summaries = run_pipeline(specs, stores.graph, id_hash_key=id_hash_key(stores.settings),
                             quarantine_dir=quarantine_dir(stores.settings), progress=False)
    t_graph = time.perf_counter() - t0
    t1 = time.perf_counter()
    stores.projector.sync()
    t_search = time.perf_counter() - t1
    nodes = sum(stores.graph.count_nodes(t.name) for t in ONTOLOGY.node_types)
    rels = stores.graph.last_seq() - nodes  # a first load writes exactly one change entry per record
    entities = nodes + rels
    rows = sum(s.rows_in for s in summaries)
    quarantined = sum(s.quarantined for s in summaries)
    t_total = t_graph + t_search
    return {"rows": rows, "quarantined": quarantined, "nodes": nodes, "rels": rels, "entities": entities,
            "ingest_s": round(t_total, 2), "graph_s": round(t_graph, 2), "search_s": round(t_search, 2),
            "ingest_entities_per_s": round(entities / t_total)}


def bench_copy_baseline(stores: Stores, workdir: Path) -> dict[str, Any]:
    """COPY the very rows the ingest wrote (read back as typed Arrow tables) into a fresh LadybugDB.

    This is the ceiling: no parsing, validation, hashing, change log or search projection.
    """
    import ladybug as lb

    from talentgraph.graph.cypher import LADYBUG

    if stores.graph.capabilities.name != "ladybug":
        return {}
    conn = stores.graph._reader()  # type: ignore[attr-defined]

    def columns(table: str) -> list[str]:
        return [r[1] for r in _rows(conn.execute(f"CALL table_info('{table}') RETURN *"))]

    def arrow(query: str) -> Any:
        return conn.execute(query).get_as_arrow(100_000)

    node_tables: dict[str, Any] = {}
    for t in ONTOLOGY.node_types:
        cols = columns(t.name)
        table = arrow(f"MATCH (n:`{t.name}`) RETURN " + ", ".join(f"n.`{c}` AS `{c}`" for c in cols))
        if table.num_rows:
            node_tables[t.name] = table
    rel_tables: dict[tuple[str, str, str], Any] = {}
    for rel in ONTOLOGY.rel_types:
        cols = [c for c in columns(rel.name)]
        for f, to in rel.endpoints:
            table = arrow(f"MATCH (a:`{f}`)-[r:`{rel.name}`]->(b:`{to}`) RETURN a.id AS `from`, b.id AS `to`"
                          + "".join(f", r.`{c}` AS `{c}`" for c in cols))
            if table.num_rows:
                rel_tables[(rel.name, f, to)] = table
    db_dir = workdir / "copy-baseline"
    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir(parents=True)
    db = lb.Database(str(db_dir / "db"))
    fresh = lb.Connection(db)
    for stmt in LADYBUG.schema(ONTOLOGY):
        fresh.execute(stmt)
    n_nodes = sum(t.num_rows for t in node_tables.values())
    n_rels = sum(t.num_rows for t in rel_tables.values())
    t0 = time.perf_counter()
    for name, table in node_tables.items():
        _copy(fresh, name, table, "")
    for (rel_name, f, to), table in rel_tables.items():
        multi = len(ONTOLOGY.rel(rel_name).endpoints) > 1
        _copy(fresh, rel_name, table, f" (from='{f}', to='{to}')" if multi else "")
    dt = time.perf_counter() - t0
    fresh.close()
    db.close()
    return {"copy_s": round(dt, 2), "copy_entities_per_s": round((n_nodes + n_rels) / dt),
            "copy_nodes": n_nodes, "copy_rels": n_rels}


def _rows(result: Any) -> list[list[Any]]:
    out = []
    while result.has_next():
        out.append(result.get_next())
    return out


def _copy(conn: Any, table_name: str, table: Any, options: str) -> None:
    # The store's own COPY path (which also frees the scan statements Ladybug would keep).
    from talentgraph.graph.ladybug.bulk import copy_from_arrow

    copy_from_arrow(conn, f"`{table_name}`", table, options)


# --- search ---------------------------------------------------------------------------------------


def bench_search(stores: Stores, reps: int) -> dict[str, Any]:
    svc = stores.search
    for q, f in SEARCH_QUERIES:  # warm caches (jieba dictionary, searcher)
        svc.search(q, filters=f or None, first=20)
    full: list[float] = []
    bare: list[float] = []
    for _ in range(reps):
        for q, f in SEARCH_QUERIES:
            full += timed(lambda: svc.search(q, filters=f or None, first=20), 1)
            # The same query tree, filters and facets sent to the engine without analysis, labels,
            # highlights or explanations.
            plan = svc.plan(q, ("Person",))
            filters = svc.filter_query(f, ("Person",))
            facets = [svc._facets[n].name for n in svc._facet_names(None, ("Person",))]
            bare += timed(bare_search(stores, plan.query, filters, facets), 1)
    hits = svc.search("俄语 律师", first=100).total, svc.search("Russian lawyer", first=100).total
    return {"search_p50_ms": round(pct(full, .5), 2), "search_p95_ms": round(pct(full, .95), 2),
            "bare_p50_ms": round(pct(bare, .5), 2), "bare_p95_ms": round(pct(bare, .95), 2),
            "search_p95_ratio": round(pct(full, .95) / max(pct(bare, .95), 1e-6), 2),
            "ru_lawyer_hits_zh_en": hits, "queries": len(full)}


def bare_search(stores: Stores, query: Any, filters: Any, facets: list[str]) -> Callable[[], Any]:
    """The compiled query run directly: Tantivy's searcher, or the DSL body through the bare client."""
    if stores.index.capabilities.name == "tantivy":
        return lambda: stores.index.search(query, filters=filters, facets=facets, limit=20, offset=0, facet_size=20)
    from talentgraph.search.opensearch import dsl

    live = stores.index._current()  # type: ignore[attr-defined]
    body = dsl.search_body(dsl.combine(live.compiler(query), live.compiler(filters) if filters is not None else None),
                           facets=facets, limit=20, offset=0, facet_size=20, ranked=dsl.ranks(query))
    client = stores.index.transport.client  # type: ignore[attr-defined]
    return lambda: client.search(index=stores.settings.search_index, body=body)


# --- GraphQL --------------------------------------------------------------------------------------


def bench_graphql(stores: Stores, reps: int) -> dict[str, Any]:
    import httpx

    from talentgraph.server import create_app

    # Party members: the walk has work to do at both hops for them.
    org_ids = [n.id for n in stores.graph.list_nodes("PartyOrganization", first=1000).items]
    members = stores.graph.edges(org_ids, "MEMBER_OF", "in")
    ids = sorted({e.node.id for es in members.values() for e in es})
    rng = random.Random(1)
    sample = [rng.choice(ids) for _ in range(reps)]
    from talentgraph.access.gate import Gate

    # Open mode as admin: this bench measures the query path; bench/access.py measures what auth + audit add.
    app = create_app(stores.graph, stores.search, stores.settings, gate=Gate(open_role="admin"))
    run_cypher = stores.graph.run_read  # type: ignore[attr-defined]

    async def go() -> tuple[list[float], list[float]]:
        gq: list[float] = []
        cy: list[float] = []
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            for pid in sample[:20]:  # warm-up
                await c.post("/graphql", json={"query": TWO_HOP, "variables": {"id": pid}})
            for pid in sample:
                t0 = time.perf_counter()
                r = await c.post("/graphql", json={"query": TWO_HOP, "variables": {"id": pid}})
                gq.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and "errors" not in r.json(), r.text
                t1 = time.perf_counter()
                run_cypher(TWO_HOP_CYPHER, {"id": pid})
                cy.append((time.perf_counter() - t1) * 1000)
        return gq, cy

    gq, cy = asyncio.run(go())
    return {"graphql_p50_ms": round(pct(gq, .5), 2), "graphql_p95_ms": round(pct(gq, .95), 2),
            "cypher_p50_ms": round(pct(cy, .5), 2), "cypher_p95_ms": round(pct(cy, .95), 2),
            "graphql_p95_ratio": round(pct(gq, .95) / max(pct(cy, .95), 1e-6), 2)}


# --- real engines: each against its own raw baseline ------------------------------------------------


def read_back_graph(stores: Stores) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str, str], list[dict[str, Any]]]]:
    """Every node and relationship the ingest wrote, as plain property maps (for the raw baselines)."""
    nodes: dict[str, list[dict[str, Any]]] = {}
    rels: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for t in ONTOLOGY.node_types:
        rows = stores.graph.run_read(f"MATCH (n:`{t.name}`) RETURN properties(n) AS p")  # type: ignore[attr-defined]
        if rows:
            nodes[t.name] = [dict(r["p"]) for r in rows]
    for rel in ONTOLOGY.rel_types:
        for f, to in rel.endpoints:
            rows = stores.graph.run_read(  # type: ignore[attr-defined]
                f"MATCH (a:`{f}`)-[r:`{rel.name}`]->(b:`{to}`) RETURN a.id AS f, b.id AS t, properties(r) AS p")
            if rows:
                rels[(rel.name, f, to)] = [{"from": r["f"], "to": r["t"], "props": dict(r["p"])} for r in rows]
    return nodes, rels


def bench_neo4j_baseline(stores: Stores, nodes: dict[str, list[dict[str, Any]]],
                         rels: dict[tuple[str, str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    """The same rows through the bare driver: hand-written UNWIND … MERGE, 5,000 rows a transaction."""
    import neo4j

    s = stores.settings
    stores.graph.wipe()  # type: ignore[attr-defined]
    driver = neo4j.GraphDatabase.driver(s.graph_url, auth=(s.graph_user, s.graph_password))
    t0 = time.perf_counter()
    with driver.session(database=s.graph_database) as session:
        for label, rows in nodes.items():
            q = f"UNWIND $rows AS r MERGE (n:`{label}` {{id: r.id}}) SET n += r"
            for i in range(0, len(rows), 5000):
                session.execute_write(lambda tx, b=rows[i:i + 5000]: tx.run(q, rows=b).consume())
        for (rel, f, to), rows in rels.items():
            q = (f"UNWIND $rows AS r MATCH (a:`{f}` {{id: r.from}}) MATCH (b:`{to}` {{id: r.to}}) "
                 f"MERGE (a)-[x:`{rel}` {{key: r.props.key}}]->(b) SET x += r.props")
            for i in range(0, len(rows), 5000):
                session.execute_write(lambda tx, b=rows[i:i + 5000]: tx.run(q, rows=b).consume())
    dt = time.perf_counter() - t0
    driver.close()
    n = sum(len(v) for v in nodes.values()) + sum(len(v) for v in rels.values())
    return {"raw_merge_s": round(dt, 2), "raw_merge_entities_per_s": round(n / dt)}


def bench_bulk_baseline(stores: Stores) -> dict[str, Any]:
    """The same (already analysed) documents sent with bare ``_bulk`` requests into a fresh index."""
    from opensearchpy import OpenSearch

    from talentgraph.search.mapping import search_fields
    from talentgraph.search.opensearch import dsl

    docs = [dsl.document(d) | {"_id": d.id} for d in stores.projector.all_docs()]
    s = stores.settings
    client = OpenSearch(hosts=[s.search_url], http_auth=(s.search_user, s.search_password) if s.search_user else None,
                        timeout=120)
    name = f"bench-bare-{os.getpid()}"
    client.indices.create(index=name, body=dsl.index_body(search_fields(ONTOLOGY)))
    try:
        t0 = time.perf_counter()
        for i in range(0, len(docs), 2000):
            lines: list[Any] = []
            for d in docs[i:i + 2000]:
                doc_id = d.pop("_id")
                lines += [{"index": {"_index": name, "_id": doc_id}}, d]
            resp = client.bulk(body=lines)
            assert not resp["errors"], "bare bulk had item errors"
        client.indices.refresh(index=name)
        dt = time.perf_counter() - t0
    finally:
        client.indices.delete(index=name)
        client.close()
    return {"bare_bulk_s": round(dt, 2), "bare_bulk_docs_per_s": round(len(docs) / dt), "docs": len(docs)}


# --- driver ---------------------------------------------------------------------------------------


def run_scale(scale: int, workdir: Path, backend: str, reps: int) -> Row:
    registers = workdir / f"registers-{scale}"
    if not registers.exists():
        generate(registers, residents=scale, seed=7)
    data = workdir / f"data-{backend}-{scale}"
    shutil.rmtree(data, ignore_errors=True)
    env_overrides: dict[str, Any] = {"data_dir": data}
    if backend == "embedded":
        env: dict[str, str] = {}
    else:
        env = dict(os.environ)
    if backend != "embedded":
        env_overrides["search_index"] = f"bench-{scale}"
    settings = Settings.load(env_overrides, env=env)
    stores = open_stores(settings)
    row = Row(backend, scale)
    try:
        if backend != "embedded":  # start from empty engines
            stores.graph.wipe()  # type: ignore[attr-defined]
            stores.index.rebuild(iter(()), 0)
        row.metrics.update(bench_ingest(stores, registers))
        if backend == "embedded":
            row.metrics.update(bench_copy_baseline(stores, workdir))
            row.metrics["ingest_vs_copy"] = round(
                row.metrics["ingest_entities_per_s"] / row.metrics["copy_entities_per_s"], 3)
        else:
            row.metrics.update(bench_bulk_baseline(stores))
            row.metrics["sync_vs_bare_bulk"] = round(
                (row.metrics["docs"] / row.metrics["search_s"]) / row.metrics["bare_bulk_docs_per_s"], 3)
        row.metrics.update(bench_search(stores, reps))
        row.metrics.update(bench_graphql(stores, reps * 10))
        if backend != "embedded":
            nodes, rels = read_back_graph(stores)
            row.metrics.update(bench_neo4j_baseline(stores, nodes, rels))
            row.metrics["graph_ingest_vs_raw_merge"] = round(
                (row.metrics["entities"] / row.metrics["graph_s"]) / row.metrics["raw_merge_entities_per_s"], 3)
            stores.index.drop()  # type: ignore[attr-defined]
        row.metrics["peak_rss_mb"] = round(peak_rss_mb())
    finally:
        stores.close()
    print(json.dumps({"backend": backend, "scale": scale, **row.metrics}, ensure_ascii=False), flush=True)
    return row


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


def write_results(rows: list[Row], path: Path, failures: Sequence[str] = ()) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## Run of {now}", "", f"Machine: {machine()}", ""]
    embedded = [r for r in rows if r.backend == "embedded"]
    engines = [r for r in rows if r.backend != "embedded"]
    if embedded:
        lines += ["Embedded (LadybugDB + Tantivy):", "",
                  "| residents | entities | ingest entities/s (graph + search) | COPY baseline entities/s | "
                  "ingest / COPY | search p50 / p95 ms | bare query p95 ms | GraphQL 2-hop p50 / p95 ms | "
                  "Cypher p50 / p95 ms | GraphQL / Cypher p95 | peak RSS MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in embedded:
            m = r.metrics
            lines.append(
                f"| {r.scale} | {m['entities']} | {m['ingest_entities_per_s']} | {m['copy_entities_per_s']} | "
                f"{m['ingest_vs_copy']} | {m['search_p50_ms']} / {m['search_p95_ms']} | {m['bare_p95_ms']} | "
                f"{m['graphql_p50_ms']} / {m['graphql_p95_ms']} | {m['cypher_p50_ms']} / {m['cypher_p95_ms']} | "
                f"{m['graphql_p95_ratio']} | {m['peak_rss_mb']} |")
        lines.append("")
    if engines:
        lines += ["Real engines (Neo4j + OpenSearch, started by services/up):", "",
                  "| residents | graph ingest entities/s | bare-driver UNWIND MERGE entities/s | graph / raw | "
                  "search sync docs/s | bare _bulk docs/s | sync / bulk | search p50 / p95 ms | bare body p95 ms | "
                  "GraphQL 2-hop p50 / p95 ms | Cypher p95 ms | GraphQL / Cypher p95 | client peak RSS MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in engines:
            m = r.metrics
            lines.append(
                f"| {r.scale} | {round(m['entities'] / m['graph_s'])} | {m['raw_merge_entities_per_s']} | "
                f"{m['graph_ingest_vs_raw_merge']} | {round(m['docs'] / m['search_s'])} | {m['bare_bulk_docs_per_s']} | "
                f"{m['sync_vs_bare_bulk']} | {m['search_p50_ms']} / {m['search_p95_ms']} | {m['bare_p95_ms']} | "
                f"{m['graphql_p50_ms']} / {m['graphql_p95_ms']} | {m['cypher_p95_ms']} | {m['graphql_p95_ratio']} | "
                f"{m['peak_rss_mb']} |")
        lines.append("")
    if failures:
        lines += ["Failed in this run:", ""] + [f"- {f}" for f in failures] + [""]
    lines += ["Raw:", "", "```json"] + [json.dumps({"backend": r.backend, "scale": r.scale, **r.metrics},
                                                   ensure_ascii=False) for r in rows] + ["```", ""]
    header = "# Benchmark results\n\nWritten by `bench/run.py`, `bench/access.py`, `bench/resolve.py`; newest run first. " \
             "Targets: ingest ≥ 0.5× COPY at 50k and 200k, 1M residents in < 3 min with peak RSS < 4 GB; GraphQL " \
             "`search` p95 ≤ 10 ms at 200k over HTTP; GraphQL 2-hop p95 ≤ 2× hand-written Cypher; auth + audit ≤ 1.10× " \
             "GraphQL p95 (bench/access.py); entity resolution pairwise precision ≥ 0.98 and F1 ≥ 0.95 at 50k " \
             "(bench/resolve.py).\n\n"
    old = path.read_text() if path.exists() else ""
    old = old.split("\n\n", 2)[2] if old.startswith("# Benchmark results") else old
    path.write_text(header + "\n".join(lines) + "\n" + old)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--reps", type=int, default=10, help="Repetitions of the search query set.")
    ap.add_argument("--engines", action="store_true", help="Also run on the engines in TALENTGRAPH_GRAPH_URL etc.")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--one", nargs=2, metavar=("SCALE", "BACKEND"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="talentgraph-bench-"))
    if args.one:  # child process: one scale on one backend, so peak RSS is its own
        row = run_scale(int(args.one[0]), workdir, args.one[1], args.reps)
        print("RESULT " + json.dumps(row.metrics, ensure_ascii=False))
        return 0
    rows: list[Row] = []
    failures: list[str] = []
    backends = ["embedded"] + (["engines"] if args.engines else [])
    for scale in args.scales:
        for backend in backends:
            proc = subprocess.run([sys.executable, __file__, "--one", str(scale), backend, "--reps", str(args.reps),
                                   "--workdir", str(workdir)], capture_output=True, text=True)
            sys.stderr.write(proc.stderr[-4000:])
            result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not result:
                print(proc.stdout[-4000:])
                failures.append(f"{backend} at {scale} residents failed (exit {proc.returncode}): "
                                + (proc.stderr.strip().splitlines() or ["no output"])[-1][:400])
                continue
            rows.append(Row(backend, scale, json.loads(result[-1][7:])))
            print(f"{backend} at {scale}: {result[-1][7:]}", flush=True)
    write_results(rows, args.out, failures)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
