"""The honest bench: talentgraph run as a user runs it, each number beside a raw baseline from the same run.

    python bench/run.py                                  # 50k, 200k and 1M residents, embedded stores
    python bench/run.py --scales 50000                   # one scale
    python bench/run.py --engines --wipe                 # also Neo4j + OpenSearch (set -a; . .services/state.env)
    python bench/run.py --scales 3000 --results /tmp/x.md   # a smoke run that leaves bench/RESULTS.md alone

Per scale, the registers are written once with ``talentgraph generate`` (its time is reported, and kept out
of every ingest figure). Then, per backend, in a child process of its own:

1. **Ingest** — ``talentgraph ingest <pipeline> --input-dir REG --data-dir D --quiet --json`` as a
   subprocess, timed from just before the spawn to its exit. The command writes the graph, then brings
   search up to date before it exits, so its exit is the moment the data is searchable; the bench then
   checks that (one search returns hits). ``--json`` gives each job's seconds: their sum is the graph
   write path ("jobs"), the rest of the wall time is start-up + search sync + close ("after jobs"). The CLI
   prints the sync's own seconds on stderr ("Search sync: … in X s."): the documents in the index over them
   is the sync rate set against the bare bulk load; the wall time of a ``talentgraph stats`` call on the same
   data dir is shown beside it (what opening, counting and closing cost any command). Peak RSS is the sum
   over the whole process tree, sampled every 0.2 s, with the kernel's ``ru_maxrss`` of the process beside it
   and the tree's PSS (a page a forked child shares with its parent counted once; ``proctree``); embedded, the
   graph's files on disk once the ingest has closed them.
   Baselines: embedded, the ingested rows read back as Arrow and ``COPY``-ed into a fresh LadybugDB;
   on the engines, the same rows through the bare Neo4j driver (``UNWIND … MERGE``) and the same documents
   through bare OpenSearch ``_bulk``. A JVM just started runs the same work far slower than one that has
   done it before, so on the engines both sides are timed warm: an untimed ingest of the same registers goes
   first (its seconds in the raw JSON as ``warmup_*``: on engines started just before the bench, what a first
   ingest costs), then both baselines run on its graph, the engines are emptied and the timed ingest runs;
   the baselines run again after it, and each ratio is taken against the faster of its baseline's two runs
   (both in the raw JSON, ``*_runs_s``).
2. **Queries over HTTP** — ``talentgraph serve`` in its own process with an analyst API key (created with
   ``talentgraph keys create --role analyst``; the audit log is on, as it always is), one keep-alive httpx
   client. Each timed pair alternates its order (A B, B A, …) after the same warm-up on both sides:
   - the 2-hop GraphQL walk (person → memberships → co-building enterprises of the party organisations,
     ``first: 20`` at both levels) against the same walk as one hand-written Cypher query with the same
     limits and the same answer (LIMIT 20 memberships of any kind with their role — groups too, which
     GraphQL lists with an empty node — and 20 enterprises per organisation, both ordered by id, as the
     API orders edges), run on the bare
     engine beside the server: LadybugDB opened a second time read-only in the bench process (Ladybug
     allows read-only handles beside the server's read-write one; the server writes nothing meanwhile),
     or the bare Neo4j driver. Its answers are checked against GraphQL's for the first 20 ids and for members
     of the organisation with the most co-building units (where the limit of 20 cuts).
   - one person by id (``person(id) { name languages skills }``, the read under every detail page) against
     ``MATCH (p:Person {id: $id}) RETURN`` those three properties by hand, on the same ids as the 2-hop;
     the names are checked to agree.
   - GraphQL ``search`` for the query set below with the facets a staff page asks for (languages, skills,
     nationality), highlights and explanations, against the compiled query sent bare to the engine (the
     service's plan, filters and facets for the analyst role, on Tantivy's searcher in this process or as
     the DSL body through the bare OpenSearch client). The totals of both are checked to agree; each
     query's own p50 / p95 on both sides is kept in the raw JSON (``search_by_query_ms``): which texts make the tail.
   A GET of ``/health`` on the same client (no auth or GraphQL; it reads the change-log head, which
   LadybugDB's store holds in memory and Neo4j answers in one round trip) is timed too: the HTTP floor
   (on the engines, the floor plus that round trip).
   Timing starts once the server is idle (``Server.settle_s``): it answers while it still builds every
   role's GraphQL schema in a thread, which would otherwise be timed too (the floor's p95 was 43 ms).
   The server's process tree is sampled for RSS the same way.

3. **Reindex** — ``talentgraph reindex --data-dir D`` timed the same way (process start to the new index swapped
   in): the whole graph's documents rebuilt, their rate beside the ingest's first sync of the same documents.

With ``--engines`` the bench empties the one Neo4j database (``--wipe`` says it may; without it the bench
refuses while that database holds talentgraph nodes) and uses its own OpenSearch index, ``bench-<scale>``,
dropped at the end. It fails the scale if the graph changes under it between phases, and flags it if the
graph holds far fewer entities than the ingest wrote (another client of a shared Neo4j).

The hand-written Cypher runs in-process on the engine, GraphQL over loopback HTTP through auth, audit,
GraphQL execution and JSON: that gap is what the 2× target allows. Results are prepended to
``bench/RESULTS.md`` (``--results``) with the machine, date, a table per backend, the targets met or missed
and the raw JSON. A scale that fails is recorded with what it measured before failing; the others go on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import ROLE, Row, machine, write_results  # noqa: E402  (machine: for bench/access.py)

PIPELINE = ROOT / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
SEED = 7
FIRST = 20  # page size of every timed query, GraphQL and hand-written alike
WARM = 30  # untimed requests on each side before timing

SEARCH_QUERIES = [
    ("俄语 律师", {}), ("Russian lawyer", {}), ("英语 教师", {}), ("English teacher", {}),
    ("律师", {"languages": ["ru"]}), ("lawyer", {"languages": ["en"]}), ("日语 翻译", {}),
    ("nurse", {"languages": ["en"]}), ("书法", {}), ("太极", {"languages": ["zh"]}),
    ("心理咨询", {}), ("accounting", {"languages": ["fr"]}), ("钢琴 老师", {}), ("elderly care volunteer", {}),
]
STAFF_FACETS = ("languages", "skills", "nationality")

SEARCH = """query($q: String!, $f: [SearchFilter!]) {
  search(query: $q, filters: $f, first: 20, facets: ["languages", "skills", "nationality"]) {
    totalCount hits { id title explanations highlights { field fragments } }
    facets { field values { value label display } } } }"""

TWO_HOP = """query($id: ID!) { person(id: $id) { name
  memberOf(first: 20) { edges { properties { role } node { ... on PartyOrganization { name
    coBuildsWith(first: 20) { edges { node { ... on Enterprise { name } } } } } } } } } }"""

# The same walk by hand, with the same limits and order (edges by far-end id), answering what the GraphQL
# query answers: every membership with its role (``memberOf`` reaches groups too: GraphQL lists them, with
# an empty node, among its 20), the name and co-building units of each party organisation. Ladybug accepts
# ORDER BY in WITH only with SKIP/LIMIT and slices lists 1-based; Neo4j slices 0-based.
TWO_HOP_CYPHER = {
    "ladybug": """MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[m:MEMBER_OF]->(o)
WITH p, m, o ORDER BY o.id LIMIT 20
OPTIONAL MATCH (o)-[:CO_BUILDS_WITH]->(e:Enterprise)
WITH p, m, o, e ORDER BY o.id, e.id SKIP 0
WITH p, m, o, collect(e.name) AS es
RETURN p.name AS name, label(o) AS type, o.name AS org, m.role AS role, list_slice(es, 1, 20) AS enterprises""",
    "neo4j": """MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[m:MEMBER_OF]->(o)
WITH p, m, o ORDER BY o.id LIMIT 20
OPTIONAL MATCH (o)-[:CO_BUILDS_WITH]->(e:Enterprise)
WITH p, m, o, e ORDER BY o.id, e.id
WITH p, m, o, collect(e.name) AS es
RETURN p.name AS name, labels(o)[0] AS type, o.name AS org, m.role AS role, es[0..20] AS enterprises""",
}
# One node by id: no relationship selected, so no walk — the node loader's read of the whole node.
BY_ID = """query($id: ID!) { person(id: $id) { name languages skills } }"""
BY_ID_CYPHER = "MATCH (p:Person {id: $id}) RETURN p.name AS name, p.languages AS languages, p.skills AS skills"
PARTY_MEMBERS = "MATCH (p:Person)-[:MEMBER_OF]->(o:PartyOrganization) RETURN DISTINCT p.id AS id"
# Members of the organisation with the most co-building units: where the limit of 20 bites (checked answers).
BUSIEST_MEMBERS = """MATCH (o:PartyOrganization)-[:CO_BUILDS_WITH]->(e:Enterprise) WITH o, count(e) AS n
ORDER BY n DESC LIMIT 1 MATCH (p:Person)-[:MEMBER_OF]->(o) RETURN p.id AS id, n ORDER BY id LIMIT 3"""


def pct(samples: Sequence[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def cli() -> list[str]:
    """The ``talentgraph`` console script of this interpreter, as a user would type it."""
    script = Path(sys.executable).parent / "talentgraph"
    return [str(script)] if script.exists() else [sys.executable, "-m", "talentgraph.cli"]


def child_env(backend: str, scale: int) -> dict[str, str]:
    """Embedded: no TALENTGRAPH_* from the caller's shell. Engines: the caller's engine settings, own index."""
    if backend == "embedded":
        return {k: v for k, v in os.environ.items() if not k.startswith("TALENTGRAPH_")}
    if not (os.environ.get("TALENTGRAPH_GRAPH_URL") and os.environ.get("TALENTGRAPH_SEARCH_URL")):
        raise RuntimeError("--engines needs TALENTGRAPH_GRAPH_URL and TALENTGRAPH_SEARCH_URL "
                           "(set -a; . .services/state.env; set +a)")
    return {**os.environ, "TALENTGRAPH_SEARCH_INDEX": f"bench-{scale}"}


def log(tag: str, message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} {tag}] {message}", file=sys.stderr, flush=True)


# --- generate (once per scale, outside every ingest figure) ---------------------------------------------


def generate(scale: int, workdir: Path) -> tuple[Path, float]:
    from proctree import run_measured

    registers = workdir / f"registers-{scale}"
    marker = registers / ".bench-generated.json"
    wanted = {"residents": scale, "seed": SEED}
    if marker.exists():
        done = json.loads(marker.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            return registers, float(done["generate_s"])
    shutil.rmtree(registers, ignore_errors=True)
    m = run_measured([*cli(), "generate", str(registers), "--residents", str(scale), "--seed", str(SEED)],
                     env=child_env("embedded", scale), cwd=ROOT, out_dir=workdir / "logs" / f"generate-{scale}")
    m.check("talentgraph generate")
    marker.write_text(json.dumps({**wanted, "generate_s": m.wall_s}))
    return registers, m.wall_s


# --- one scale on one backend (a child process of its own) ------------------------------------------------


def run_scale(scale: int, backend: str, workdir: Path, requests: int, emit: Callable[[dict[str, Any]], None], *,
              wipe: bool = False) -> dict[str, Any]:
    from baselines import BareSearch, RawGraph, copy_baseline, graph_counts
    from proctree import run_measured
    from serving import Server, create_key

    from talentgraph.config import Settings

    tag = f"{backend} {scale}"
    registers = workdir / f"registers-{scale}"
    data = workdir / f"data-{backend}-{scale}"
    logs = workdir / "logs" / f"{backend}-{scale}"
    shutil.rmtree(data, ignore_errors=True)
    env = child_env(backend, scale)
    settings = Settings.load({"data_dir": data}, env=env)
    m: dict[str, Any] = {}
    if backend != "embedded":  # start from empty engines; the bench's own index name, but the one Neo4j database
        raw = RawGraph(settings)
        try:
            held = graph_counts(raw)["entities"]
        finally:
            raw.close()
        if held and not wipe:
            raise RuntimeError(f"Neo4j at {settings.graph_url} holds {held} talentgraph entities, which the bench "
                               "would delete; pass --wipe if they may go (and no one else is using this Neo4j)")
        empty_engines(settings)
        # The same ingest once, untimed, so the timed one does not pay for the engines' JIT and caches warming
        # up (just after services/up that cost the jobs 35.4 s against 26.5 and the sync 14.1 s against 10.4).
        warm_dir = workdir / f"data-{backend}-warm-{scale}"
        shutil.rmtree(warm_dir, ignore_errors=True)
        log(tag, "warm-up ingest (untimed) …")
        warm = run_measured([*cli(), "ingest", str(PIPELINE), "--input-dir", str(registers), "--data-dir",
                             str(warm_dir), "--quiet", "--json"], env=env, cwd=ROOT, out_dir=logs / "warm-up")
        warm.check("talentgraph ingest (warm-up)")
        m.update(warmup_ingest_wall_s=warm.wall_s, warmup_sync_s=sync_seconds(warm.stderr),
                 warmup_jobs_s=round(sum(float(s["seconds"]) for s in _json_array(warm.stdout)), 2))
        # Both baselines here too, on the warm-up's graph and documents (the same as the timed ingest's), as warm
        # as the timed ingest will find the engines; each ratio is taken against the faster of its two runs.
        log(tag, "bare _bulk and UNWIND MERGE baselines after the warm-up …")
        warm_settings = Settings.load({"data_dir": warm_dir}, env=env)
        first_bulk, first_merge = in_child(bare_bulk, warm_settings), in_child(bare_merge, warm_settings)
        shutil.rmtree(warm_dir, ignore_errors=True)
        empty_engines(settings)

    # 1. ingest, as a user runs it
    log(tag, "ingest …")
    ing = run_measured([*cli(), "ingest", str(PIPELINE), "--input-dir", str(registers), "--data-dir", str(data),
                        "--quiet", "--json"], env=env, cwd=ROOT, out_dir=logs)
    ing.check("talentgraph ingest")
    summaries = _json_array(ing.stdout)
    jobs_s = sum(float(s["seconds"]) for s in summaries)
    m.update(ingest_wall_s=ing.wall_s, ingest_jobs_s=round(jobs_s, 2), ingest_after_jobs_s=round(ing.wall_s - jobs_s, 2),
             rows=sum(s["rows_in"] for s in summaries), quarantined=sum(s["quarantined"] for s in summaries),
             entities_written=sum(sum(s.get(k, {}).values()) for s in summaries for k in ("nodes_written", "rels_written")),
             ingest_peak_rss_mb=ing.peak_tree_rss_mb, ingest_peak_pss_mb=ing.peak_tree_pss_mb,
             ingest_ru_maxrss_mb=ing.ru_maxrss_mb,
             sync_s=sync_seconds(ing.stderr))
    bare = BareSearch(settings, ROLE)
    try:
        probe = bare.service.search("律师", first=1)
        if probe.total < 1:
            raise RuntimeError("the ingest exited but a search for 律师 finds nothing: not searchable")
        m["searchable_probe_hits"] = probe.total
        m["docs"] = bare.index.count()
    finally:
        bare.close()
    raw = RawGraph(settings)
    try:
        m.update(graph_counts(raw))
    finally:
        raw.close()
    m["ingest_entities_per_s"] = round(m["entities"] / ing.wall_s)
    if backend == "embedded":  # what the graph holds, as files (the database and its write-ahead log, once closed)
        m["graph_disk_mb"] = round(sum(f.stat().st_size for f in (data / "graph").rglob("*") if f.is_file()) / 2**20, 1)
    else:
        m["graph_entities_per_s"] = round(m["entities"] / jobs_s)
        if m["entities"] < 0.9 * m["entities_written"]:  # written counts updates too, but not 10% more
            m["warning"] = (f"the ingest wrote {m['entities_written']} entities and Neo4j holds {m['entities']}: "
                            "another client of the shared engine probably changed it during the ingest")
    # What a CLI command costs before and after its work on this data dir (imports, opening and closing the
    # stores, a count): part of "after jobs", which the ingest does not break down further.
    stats = run_measured([*cli(), "stats", "--json", "--data-dir", str(data)], env=env, cwd=ROOT, out_dir=logs)
    stats.check("talentgraph stats")
    m["cli_stats_s"] = stats.wall_s
    log(tag, f"ingest {ing.wall_s} s wall ({jobs_s:.1f} s jobs), {m['entities']} entities, "
             f"peak RSS {ing.peak_tree_rss_mb} MB")
    emit(m)

    if backend == "embedded":
        log(tag, "COPY baseline …")
        m.update(copy_baseline(settings, workdir))
        m["ingest_vs_copy"] = round(m["ingest_entities_per_s"] / m["copy_entities_per_s"], 3)
    else:
        log(tag, "bare _bulk baseline …")
        second_bulk = in_child(bare_bulk, settings)
        bulk = min(first_bulk, second_bulk, key=lambda b: float(b["bare_bulk_s"]))
        m.update(bare_bulk_s=bulk["bare_bulk_s"], bare_bulk_docs_per_s=bulk["bare_bulk_docs_per_s"],
                 bare_bulk_runs_s=[first_bulk["bare_bulk_s"], second_bulk["bare_bulk_s"]])
        m["sync_docs_per_s"] = round(m["docs"] / max(m["sync_s"], 1e-3))
        m["sync_vs_bare_bulk"] = round(m["sync_docs_per_s"] / m["bare_bulk_docs_per_s"], 3)
    emit(m)

    # 2. queries over HTTP against `talentgraph serve`
    key = create_key(cli(), data, role=ROLE, env=env, cwd=ROOT)
    server = Server(cli(), data, env=env, cwd=ROOT, log_dir=logs)
    log(tag, "serve …")
    server.start()
    try:
        m["serve_start_s"] = server.start_s
        m["serve_settle_s"] = server.settle_s
        m.update(time_http(server.url, key, settings, requests, tag))
    finally:
        server.stop()
        m["serve_peak_rss_mb"] = server.peak_rss_mb
        emit(m)

    # 3. the search index rebuilt from the graph (``talentgraph reindex``, process start to swapped in), after the
    # queries, which are timed on the index the ingest built (a rebuilt one is written in one go, its segments laid
    # out otherwise)
    log(tag, "reindex …")
    rebuilt = run_measured([*cli(), "reindex", "--data-dir", str(data)], env=env, cwd=ROOT, out_dir=logs / "reindex")
    rebuilt.check("talentgraph reindex")
    m.update(reindex_s=rebuilt.wall_s, reindex_docs_per_s=round(m["docs"] / max(rebuilt.wall_s, 1e-3)),
             reindex_peak_rss_mb=rebuilt.peak_tree_rss_mb)
    m.setdefault("sync_docs_per_s", round(m["docs"] / max(m["sync_s"], 1e-3)))
    emit(m)

    if backend != "embedded":
        log(tag, "bare-driver UNWIND MERGE baseline …")
        raw = RawGraph(settings)
        try:
            now = graph_counts(raw)["entities"]
        finally:
            raw.close()
        if now != m["entities"]:
            raise RuntimeError(f"Neo4j held {m['entities']} entities after the ingest and {now} now: another "
                               "client of the shared engine changed it during the bench; run again")
        second_merge = in_child(bare_merge, settings)
        merge = min(first_merge, second_merge, key=lambda b: float(b["raw_merge_s"]))
        m.update(merge, raw_merge_runs_s=[first_merge["raw_merge_s"], second_merge["raw_merge_s"]])
        m["graph_vs_raw_merge"] = round(m["graph_entities_per_s"] / m["raw_merge_entities_per_s"], 3)
        empty_engines(settings)
    shutil.rmtree(data, ignore_errors=True)
    return m


def in_child(baseline: Callable[[Any], dict[str, Any]], settings: Any) -> dict[str, Any]:
    """``baseline(settings)`` in a fresh interpreter, so what it holds (every document, the graph read back:
    2.3 GB at 200k) is gone when it returns. Each timed command is forked from this process, and a forked
    command's ``ru_maxrss`` starts at the size of the process it was forked from, kept across exec: run here,
    the baselines after the warm-up made the timed ingest's read 2,315 MB at 200k, where none of its processes,
    sampled every 50 ms, passed 562 MB."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(baseline, settings).result()


def bare_bulk(settings: Any) -> dict[str, Any]:
    """The bare ``_bulk`` baseline (``baselines.bulk_baseline``) for the documents of the graph as it is."""
    from baselines import bulk_baseline

    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        return bulk_baseline(stores)
    finally:
        stores.close()


def bare_merge(settings: Any) -> dict[str, Any]:
    """The bare-driver MERGE baseline (``baselines.neo4j_merge_baseline``) of the graph as it is; it leaves
    the rows it wrote in Neo4j."""
    from baselines import neo4j_merge_baseline

    from talentgraph.stores import open_graph

    graph = open_graph(settings)
    try:
        return neo4j_merge_baseline(settings, graph.wipe)  # type: ignore[attr-defined]
    finally:
        graph.close()


def empty_engines(settings: Any) -> None:
    """No talentgraph node in the Neo4j database, an empty bench index in OpenSearch."""
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        stores.graph.wipe()  # type: ignore[attr-defined]
        stores.index.rebuild(iter(()), 0)
    finally:
        stores.close()


SYNC_LINE = re.compile(r"^Search sync: .* in ([\d.]+)s\.$", re.M)


def sync_seconds(stderr: str) -> float:
    """The search sync's own seconds, as ``talentgraph ingest`` prints them."""
    found = SYNC_LINE.findall(stderr)
    if not found:
        raise RuntimeError("talentgraph ingest printed no 'Search sync: … in X s.' line on stderr")
    return float(found[-1])


def drop_bench_index(scale: int, workdir: Path) -> None:
    """The engines run's OpenSearch index (``bench-<scale>``), dropped whether the run passed or failed."""
    from talentgraph.config import Settings
    from talentgraph.stores import open_index

    index = open_index(Settings.load({"data_dir": workdir / "drop-index"}, env=child_env("engines", scale)))
    try:
        index.drop()  # type: ignore[attr-defined]
    finally:
        index.close()


def _json_array(stdout: str) -> list[dict[str, Any]]:
    start = stdout.find("[")
    if start < 0:
        raise RuntimeError(f"talentgraph ingest --json printed no JSON: {stdout[-500:]!r}")
    return list(json.loads(stdout[start:]))


def alternate(a: Callable[[Any], Any], b: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[float], list[float]]:
    """Milliseconds of ``a(item)`` and ``b(item)`` for every item, order alternating, after the same warm-up."""
    for item in items[:WARM]:
        a(item)
        b(item)
    sa: list[float] = []
    sb: list[float] = []
    for i, item in enumerate(items):
        pair = ((a, sa), (b, sb)) if i % 2 == 0 else ((b, sb), (a, sa))
        for fn, samples in pair:
            t0 = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - t0) * 1000)
    return sa, sb


def time_http(url: str, key: str, settings: Any, requests: int, tag: str) -> dict[str, Any]:
    import httpx
    from baselines import BareSearch, RawGraph
    from serving import graphql

    out: dict[str, Any] = {"requests_per_side": requests}
    raw = RawGraph(settings)
    bare = BareSearch(settings, ROLE)
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            # The floor under every request: a GET of /health (no auth or GraphQL; it reads the change-log head).
            floor = []
            for _ in range(WARM + max(requests // 4, 1)):
                t0 = time.perf_counter()
                client.get("/health").raise_for_status()
                floor.append((time.perf_counter() - t0) * 1000)
            out.update(_stats("health", floor[WARM:]))
            # 2-hop: party members, so the walk has work at both hops.
            ids = sorted(str(r["id"]) for r in raw.read(PARTY_MEMBERS))
            if not ids:
                raise RuntimeError("no party members in the graph: nothing for the 2-hop walk to walk")
            rng = random.Random(1)
            sample = [rng.choice(ids) for _ in range(requests)]
            cypher = TWO_HOP_CYPHER[raw.dialect]
            busiest = raw.read(BUSIEST_MEMBERS)
            checked = sample[:20] + [str(r["id"]) for r in busiest]
            mismatches = [pid for pid in checked
                          if _walk_of_graphql(graphql(client, TWO_HOP, {"id": pid})) != _walk_of_cypher(raw.read(cypher, {"id": pid}))]
            if mismatches:
                raise RuntimeError(f"GraphQL and the hand-written Cypher disagree on {mismatches[:3]}: not the same walk")
            out["two_hop_answers_checked"] = len(checked)
            out["busiest_org_enterprises"] = int(busiest[0]["n"]) if busiest else 0
            log(tag, f"2-hop: {requests} pairs …")
            gq, cy = alternate(lambda pid: graphql(client, TWO_HOP, {"id": pid}),
                               lambda pid: raw.read(cypher, {"id": pid}), sample)
            out.update(_stats("graphql", gq) | _stats("cypher", cy))
            out["graphql_p95_ratio"] = round(out["graphql_p95_ms"] / max(out["cypher_p95_ms"], 1e-6), 2)

            # one node by id, the same ids
            differ = [pid for pid in checked if (graphql(client, BY_ID, {"id": pid})["person"] or {}).get("name")
                      != next(iter(raw.read(BY_ID_CYPHER, {"id": pid})), {}).get("name")]
            if differ:
                raise RuntimeError(f"GraphQL and the hand-written lookup disagree on {differ[:3]}")
            log(tag, f"by id: {requests} pairs …")
            gq, cy = alternate(lambda pid: graphql(client, BY_ID, {"id": pid}),
                               lambda pid: raw.read(BY_ID_CYPHER, {"id": pid}), sample)
            out.update(_stats("by_id", gq) | _stats("by_id_cypher", cy))
            out["by_id_p95_ratio"] = round(out["by_id_p95_ms"] / max(out["by_id_cypher_p95_ms"], 1e-6), 2)

            # search: the query set cycled, GraphQL over HTTP vs the compiled query bare
            bodies = [{"q": q, "f": [{"field": k, "values": v} for k, v in f.items()] or None}
                      for q, f in SEARCH_QUERIES]
            prepared = [bare.prepare(q, f, STAFF_FACETS, FIRST) for q, f in SEARCH_QUERIES]
            totals = [(graphql(client, SEARCH, bodies[i])["search"]["totalCount"], _total(prepared[i]()))
                      for i in range(len(bodies))]
            if any(g != b for g, b in totals):
                raise RuntimeError(f"GraphQL search and the bare query count differently: {totals}")
            order = [i % len(bodies) for i in range(requests)]
            log(tag, f"search: {requests} pairs …")
            gs, bs = alternate(lambda i: graphql(client, SEARCH, bodies[i]), lambda i: prepared[i](), order)
            out.update(_stats("search", gs) | _stats("bare", bs))
            out["search_by_query_ms"] = _by_query(gs, bs, order)
            out["search_p95_ratio"] = round(out["search_p95_ms"] / max(out["bare_p95_ms"], 1e-6), 2)
            out["search_totals"] = [g for g, _ in totals]
            out["ru_lawyer_hits_zh_en"] = [totals[0][0], totals[1][0]]
    finally:
        bare.close()
        raw.close()
    return out


def _by_query(graphql_ms: Sequence[float], bare_ms: Sequence[float], order: Sequence[int]) -> dict[str, list[float]]:
    """Which texts make the tail: each search query's own GraphQL p50, p95, then bare p50, p95 (``order``: the
    query index of each sample)."""
    out: dict[str, list[float]] = {}
    for q, (text, filters) in enumerate(SEARCH_QUERIES):
        label = text + "".join(f" [{k}={','.join(v)}]" for k, v in filters.items())
        mine = [t for t, i in zip(graphql_ms, order) if i == q]
        bare = [t for t, i in zip(bare_ms, order) if i == q]
        out[label] = [round(pct(side, p), 2) for side in (mine, bare) for p in (.5, .95)]
    return out


def _stats(name: str, samples: Sequence[float]) -> dict[str, float]:
    return {f"{name}_p50_ms": round(pct(samples, .5), 2), f"{name}_p95_ms": round(pct(samples, .95), 2)}


def _total(raw_result: Any) -> int:
    if isinstance(raw_result, Mapping):  # an OpenSearch response body
        total = raw_result["hits"]["total"]
        return int(total["value"] if isinstance(total, Mapping) else total)
    return int(raw_result.total)


def _walk_of_graphql(data: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every membership: the organisation's name and co-building units (None and () for a group, whose node
    the query reads nothing of) and the role."""
    edges = ((data.get("person") or {}).get("memberOf") or {}).get("edges") or []
    return sorted(((e["node"].get("name"), (e.get("properties") or {}).get("role"),
                    tuple(x["node"]["name"] for x in (e["node"].get("coBuildsWith") or {}).get("edges", [])))
                   for e in edges), key=repr)


def _walk_of_cypher(rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    party = "PartyOrganization"
    return sorted(((r["org"] if r["type"] == party else None, r["role"],
                    tuple(r["enterprises"] or ()) if r["type"] == party else ())
                   for r in rows if r["type"] is not None), key=repr)


# --- driver ---------------------------------------------------------------------------------------------


def child(scale: int, backend: str, workdir: Path, requests: int, wipe: bool) -> int:
    """One scale on one backend: prints PARTIAL lines as phases finish, then RESULT or ERROR."""
    def emit(m: dict[str, Any]) -> None:
        print("PARTIAL " + json.dumps(m, ensure_ascii=False), flush=True)

    try:
        m = run_scale(scale, backend, workdir, requests, emit, wipe=wipe)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which records it and goes on
        traceback.print_exc()
        print("ERROR " + json.dumps(f"{type(exc).__name__}: {exc}"[:1500], ensure_ascii=False), flush=True)
        return 1
    finally:
        if backend != "embedded":
            try:
                drop_bench_index(scale, workdir)
            except Exception:  # noqa: BLE001 - cleanup; the run's own outcome is what counts
                traceback.print_exc()
    print("RESULT " + json.dumps(m, ensure_ascii=False), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    ap.add_argument("--requests", type=int, default=400, help="Timed requests per side and kind (default 400).")
    ap.add_argument("--engines", action="store_true", help="Also run on Neo4j + OpenSearch (TALENTGRAPH_GRAPH_URL …).")
    ap.add_argument("--no-embedded", action="store_true", help="Only the engines.")
    ap.add_argument("--wipe", action="store_true",
                    help="With --engines: delete what the Neo4j database holds (the bench refuses otherwise).")
    ap.add_argument("--workdir", type=Path, default=None, help="Registers and data dirs (default: a new temp dir).")
    ap.add_argument("--results", "--out", dest="results", type=Path, default=ROOT / "bench" / "RESULTS.md",
                    help="Markdown file the run is prepended to (default bench/RESULTS.md).")
    ap.add_argument("--one", nargs=2, metavar=("SCALE", "BACKEND"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="talentgraph-bench-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        return child(int(args.one[0]), args.one[1], workdir, args.requests, args.wipe)
    backends = ([] if args.no_embedded else ["embedded"]) + (["engines"] if args.engines else [])
    rows: list[Row] = []
    failures: list[str] = []
    for scale in args.scales:
        try:
            log(f"generate {scale}", "talentgraph generate …")
            _, generate_s = generate(scale, workdir)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"generate at {scale} residents: {exc}")
            continue
        for backend in backends:
            proc = subprocess.run([sys.executable, __file__, "--one", str(scale), backend,
                                   "--requests", str(args.requests), "--workdir", str(workdir)]
                                  + (["--wipe"] if args.wipe else []),
                                  stdout=subprocess.PIPE, text=True)  # stderr (progress, tracebacks) passes through
            metrics: dict[str, Any] = {}
            error = None
            for line in proc.stdout.splitlines():
                kind, _, payload = line.partition(" ")
                if kind in ("PARTIAL", "RESULT"):
                    metrics = json.loads(payload)
                elif kind == "ERROR":
                    error = json.loads(payload)
            metrics = {"generate_s": generate_s, **metrics}
            if metrics.get("warning"):
                failures.append(f"{backend} at {scale} residents (suspect, not failed): {metrics['warning']}")
            if proc.returncode != 0 or error:
                error = error or f"exit status {proc.returncode}"
                failures.append(f"{backend} at {scale} residents: {error}")
                metrics["error"] = error
            rows.append(Row(backend, scale, metrics))
            print(f"{backend} at {scale}: " + json.dumps(metrics, ensure_ascii=False), flush=True)
    write_results(rows, args.results, failures)
    print(f"wrote {args.results}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
