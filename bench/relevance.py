"""Relevance benchmark: judged staff queries through the search staff use, scored with NDCG@10, recall@100, MRR.

    python bench/relevance.py                                  # 50,000 residents, embedded stores
    python bench/relevance.py --residents 3000 --out /tmp/r.md # a quick run that leaves bench/RESULTS.md alone
    python bench/relevance.py --engines                        # also Neo4j + OpenSearch (set -a; . .services/state.env)

Targets (issue 10): NDCG@10 ≥ 0.9 in every query class, MRR ≥ 0.95 for name look-ups, and the same judged set
scoring the same on the embedded stores and on OpenSearch (± 0.02).

1. **The world**, as a user makes it: ``talentgraph generate`` writes the registers and ``talentgraph ingest
   talentgraph/demo/jobs/pipeline.yaml --input-dir … --data-dir …`` loads them (graph, then search brought up to
   date), each as a subprocess. Both leave a marker; a later run with the same residents, seed and backend
   reuses them. No entity resolution is run (the brief's pipeline), so a person the volunteer register or the
   talent survey repeats is several Person records: the judgments are per *person* (below).
2. **The judged set** (``bench/judged.py``): ≥ 100 queries built from the generator's ground truth, graded
   0/1/2; see that module for the grading of every class. The same ``build`` call as ``talentgraph generate``
   gives the same people; every Person record id maps to its true person through the generator's truth.
3. **The search**, as staff meet it: GraphQL ``search(query:, first: 100)`` in process (Starlette's test
   client over the real app: API key, access policy, GraphQL execution, the search service) with a **staff**
   key whose area is the whole community (``area:lianyang``). Staff is the role the staff page serves, and
   with the whole community in scope it reads every field a talent search matches — skills, languages,
   nationality, residential area, names, and the personal ones analysts may not match: volunteer profile
   text (``bio``) and party membership (``party_member``). Volunteers from outside Lianyang live in no area
   of the community and are searched as an analyst would search them.
4. **Metrics**, per query, on the hits mapped to true persons in rank order (a person's second and later
   records are a wasted slot: gain 0, and never counted again):
   - NDCG@10 with gains 2^grade − 1 (3 for grade 2, 1 for grade 1), log2(rank + 1) discount, the ideal
     ranking being every judged person sorted by grade;
   - recall@100: grade-2 persons among the first 100 hits / min(100, number of grade-2 persons) — capped, so
     a query with thousands of right answers is not held to an impossible denominator;
   - MRR for name look-ups: 1 / rank of the first grade-2 person in the first 100 hits (0 if none).
   Reported per class (names per form and all together), per split (dev / test by a stable hash) and overall,
   with the ten worst queries and what came back for them. Nothing is tuned here; the test split is kept for
   whoever tunes search later.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from judged import Person, Query, build_queries, world_truth  # noqa: E402
from report import machine, prepend  # noqa: E402

PIPELINE = ROOT / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
SEED = 7
FIRST = 100  # one page of the largest size the API serves: recall@100 needs the first 100
NDCG_K = 10
RECALL_K = 100
STAFF_AREA = "area:lianyang"  # the community: every residential area and building below it is in scope
TARGET_NDCG = 0.9
TARGET_MRR = 0.95
TARGET_ENGINE_DELTA = 0.02
WORST = 10
SHOWN_HITS = 5

SEARCH = """query($q: String!) { search(query: $q, first: %d) {
  totalCount hits { id title explanations } } }""" % FIRST


# --- metrics ------------------------------------------------------------------------------------------------


def dcg(gains: Sequence[int], k: int) -> float:
    """Discounted cumulative gain of grades in rank order: Σ (2^g − 1) / log2(rank + 1) over the first k."""
    return float(sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k])))


def ndcg(ranked: Sequence[str | None], grades: Mapping[str, int], k: int = NDCG_K) -> float:
    """NDCG@k of a ranking of person keys (None: a hit that is no judged person). A person seen again
    gains nothing: a result list showing one person twice has wasted a slot."""
    ideal = dcg(sorted(grades.values(), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg(_gains(ranked, grades), k) / ideal


def _gains(ranked: Sequence[str | None], grades: Mapping[str, int]) -> list[int]:
    seen: set[str] = set()
    out = []
    for key in ranked:
        out.append(grades.get(key, 0) if key is not None and key not in seen else 0)
        if key is not None:
            seen.add(key)
    return out


def recall_at(ranked: Sequence[str | None], relevant: frozenset[str] | set[str], k: int = RECALL_K) -> float:
    """Relevant persons in the first k / min(k, relevant persons); 0.0 when nothing is relevant."""
    if not relevant:
        return 0.0
    found = {key for key in ranked[:k] if key is not None and key in relevant}
    return len(found) / min(k, len(relevant))


def reciprocal_rank(ranked: Sequence[str | None], relevant: frozenset[str] | set[str], k: int = RECALL_K) -> float:
    for i, key in enumerate(ranked[:k]):
        if key is not None and key in relevant:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class Scored:
    query: Query
    ndcg: float
    recall: float
    rr: float | None  # name look-ups only
    total: int
    hits: list[dict[str, Any]] = field(default_factory=list)  # id, title, person, grade, explanations
    seconds: float = 0.0


def score(query: Query, hits: Sequence[Mapping[str, Any]], total: int, records: Mapping[str, str]) -> Scored:
    ranked = [records.get(str(h["id"])) for h in hits]
    shown = [{"id": h["id"], "title": h.get("title"), "person": key, "grade": query.grades.get(key, 0) if key else 0,
              "explanations": list(h.get("explanations") or [])} for h, key in zip(hits, ranked)]
    return Scored(query, ndcg(ranked, query.grades), recall_at(ranked, query.relevant),
                  reciprocal_rank(ranked, query.relevant) if query.is_name else None, total, shown)


def mean(xs: Sequence[float]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


def summarise(rows: Sequence[Scored]) -> dict[str, Any]:
    names = [r.rr for r in rows if r.rr is not None]
    return {"n": len(rows), "ndcg10": mean([r.ndcg for r in rows]), "recall100": mean([r.recall for r in rows]),
            "mrr": mean(names), "zero_hits": sum(r.total == 0 for r in rows)}


def by_class(rows: Sequence[Scored]) -> dict[str, dict[str, Any]]:
    """Per class, names also all together ("name (all forms)"), then per split and overall."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        groups[r.query.qclass].append(r)
        if r.query.is_name:
            groups["name (all forms)"].append(r)
    out = {c: {**summarise(g), "dev": summarise([r for r in g if r.query.split == "dev"]),
               "test": summarise([r for r in g if r.query.split == "test"])} for c, g in sorted(groups.items())}
    out["overall"] = {**summarise(rows), "dev": summarise([r for r in rows if r.query.split == "dev"]),
                      "test": summarise([r for r in rows if r.query.split == "test"])}
    return out


# --- the world ----------------------------------------------------------------------------------------------


def child_env(backend: str, residents: int) -> dict[str, str]:
    """As bench/run.py: embedded runs with no TALENTGRAPH_* of the caller's shell; engines take the caller's
    graph and search settings and an index of their own."""
    if backend == "embedded":
        return {k: v for k, v in os.environ.items() if not k.startswith("TALENTGRAPH_")}
    if backend == "opensearch":
        # The judged set measures the search engine: the embedded graph beside OpenSearch holds the same world
        # and needs no free Neo4j.
        if not os.environ.get("TALENTGRAPH_SEARCH_URL"):
            raise RuntimeError("--opensearch needs TALENTGRAPH_SEARCH_URL (set -a; . .services/state.env; set +a)")
        return {**{k: v for k, v in os.environ.items() if not k.startswith("TALENTGRAPH_")},
                "TALENTGRAPH_SEARCH_URL": os.environ["TALENTGRAPH_SEARCH_URL"],
                "TALENTGRAPH_SEARCH_INDEX": f"relevance-os-{residents}"}
    if not (os.environ.get("TALENTGRAPH_GRAPH_URL") and os.environ.get("TALENTGRAPH_SEARCH_URL")):
        raise RuntimeError("--engines needs TALENTGRAPH_GRAPH_URL and TALENTGRAPH_SEARCH_URL "
                           "(set -a; . .services/state.env; set +a)")
    return {**os.environ, "TALENTGRAPH_SEARCH_INDEX": f"relevance-{residents}"}


def cli() -> list[str]:
    script = Path(sys.executable).parent / "talentgraph"
    return [str(script)] if script.exists() else [sys.executable, "-m", "talentgraph.cli"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} relevance] {message}", file=sys.stderr, flush=True)


def _marked(marker: Path, wanted: Mapping[str, Any]) -> bool:
    if not marker.exists():
        return False
    done = json.loads(marker.read_text())
    return {k: done.get(k) for k in wanted} == dict(wanted)


def prepare(backend: str, residents: int, seed: int, workdir: Path) -> Path:
    """Registers and an ingested data dir for this backend, reused when their markers say they are complete."""
    from talentgraph.demo.generator import REGISTERS_VERSION

    registers = workdir / f"registers-{residents}-{seed}"
    wanted: dict[str, Any] = {"residents": residents, "seed": seed, "registers_version": REGISTERS_VERSION}
    marker = registers / ".relevance-generated.json"
    env = child_env(backend, residents)
    if not _marked(marker, wanted):
        log(f"talentgraph generate {residents} residents → {registers}")
        t0 = time.perf_counter()
        subprocess.run([*cli(), "generate", str(registers), "--residents", str(residents), "--seed", str(seed)],
                       check=True, env=child_env("embedded", residents), cwd=ROOT, stdout=subprocess.DEVNULL)
        marker.write_text(json.dumps({**wanted, "generate_s": round(time.perf_counter() - t0, 1)}))
    data = workdir / f"data-{residents}-{seed}-{backend}"
    dmarker = data / ".relevance-ingested.json"
    if not _marked(dmarker, {**wanted, "backend": backend}):
        log(f"talentgraph ingest {PIPELINE.name} → {data} ({backend})")
        t0 = time.perf_counter()
        subprocess.run([*cli(), "ingest", str(PIPELINE), "--input-dir", str(registers), "--data-dir", str(data),
                        "--quiet", "--json"], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        dmarker.write_text(json.dumps({**wanted, "backend": backend, "ingest_s": round(time.perf_counter() - t0, 1)}))
    return data


# --- running the queries ------------------------------------------------------------------------------------


def run_queries(backend: str, residents: int, data: Path, queries: Sequence[Query],
                records: Mapping[str, str]) -> tuple[list[Scored], dict[str, Any]]:
    from starlette.testclient import TestClient

    from talentgraph.access.gate import Gate
    from talentgraph.access.keys import KeyStore
    from talentgraph.access.policy import POLICY
    from talentgraph.config import Settings
    from talentgraph.server import create_app
    from talentgraph.stores import open_stores

    settings = Settings.load({"data_dir": str(data)}, env=child_env(backend, residents))
    stores = open_stores(settings)
    info: dict[str, Any] = {}
    try:
        persons = stores.graph.count_nodes("Person")
        info["person_records"] = persons
        if persons != len(records):
            # On a shared Neo4j another world may be loaded: judging its hits against this truth would be noise.
            raise RuntimeError(f"The {backend} graph holds {persons} Person records, the ground truth {len(records)}: "
                               "it is not (only) this world. Empty it, or use another --workdir.")
        with tempfile.TemporaryDirectory(prefix="tg-relevance-keys-") as tmp:
            keys = KeyStore(Path(tmp) / "keys.json", POLICY.roles)
            key, _ = keys.create("relevance-bench-staff", "staff", areas=(STAFF_AREA,))
            app = create_app(stores.graph, stores.search, settings, gate=Gate(keys=keys), audit=None)
            out: list[Scored] = []
            with TestClient(app, base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {key}"}) as client:
                for q in queries:
                    t0 = time.perf_counter()
                    r = client.post("/graphql", json={"query": SEARCH, "variables": {"q": q.text}})
                    elapsed = time.perf_counter() - t0
                    body = r.json()
                    if r.status_code != 200 or body.get("errors"):
                        raise RuntimeError(f"{q.qid} {q.text!r}: HTTP {r.status_code} {json.dumps(body)[:400]}")
                    res = body["data"]["search"]
                    s = score(q, res["hits"], res["totalCount"], records)
                    s.seconds = elapsed
                    out.append(s)
    finally:
        stores.close()
    info["unknown_hits"] = sum(1 for s in out for h in s.hits if h["person"] is None)
    info["repeated_person_hits"] = sum(len(s.hits) - len({h["person"] for h in s.hits}) for s in out)
    return out, info


# --- the report ---------------------------------------------------------------------------------------------


def _f(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _verdicts(results: Mapping[str, dict[str, dict[str, Any]]]) -> list[str]:
    out = []
    for backend, classes in results.items():
        missed = [f"{c} {_f(m['ndcg10'])}" for c, m in classes.items() if c != "overall"
                  and m["ndcg10"] is not None and m["ndcg10"] < TARGET_NDCG]
        out.append(f"{'met' if not missed else '**missed**'}: NDCG@10 ≥ {TARGET_NDCG} in every class ({backend})"
                   + (f" — below: {', '.join(missed)}" if missed else ""))
        mrr = classes.get("name (all forms)", {}).get("mrr")
        if mrr is not None:
            out.append(f"{'met' if mrr >= TARGET_MRR else '**missed**'}: name MRR ≥ {TARGET_MRR} ({backend}) — {mrr:.3f}")
    if len(results) == 2:
        (a, ca), (b, cb) = results.items()
        gaps = {c: abs(ca[c]["ndcg10"] - cb[c]["ndcg10"]) for c in ca if c in cb
                and ca[c]["ndcg10"] is not None and cb[c]["ndcg10"] is not None}
        worst = max(gaps.items(), key=lambda kv: kv[1])
        out.append(f"{'met' if worst[1] <= TARGET_ENGINE_DELTA else '**missed**'}: same judged set scores the same "
                   f"on {a} and {b} (± {TARGET_ENGINE_DELTA}) — largest NDCG@10 gap {worst[1]:.3f} ({worst[0]})")
    else:
        out.append(f"not measured: engines agree ± {TARGET_ENGINE_DELTA} (only {', '.join(results)} ran; "
                   "`--opensearch` or `--engines` after services/up)")
    return out


def pick_worst(rows: Sequence[Scored], n: int = WORST) -> list[Scored]:
    """The lowest NDCG@10 first, at most one per class (name forms count as one) while other classes have
    failures to show, so the list shows where search fails rather than ten of one kind; among equal scores a
    query that returned hits comes first (what came back is the lesson)."""
    ranked = sorted(rows, key=lambda s: (s.ndcg, s.recall, not s.hits, s.query.qid))
    out: list[Scored] = []
    classes: set[str] = set()
    for s in ranked:
        family = "name" if s.query.is_name else s.query.qclass
        if family not in classes and s.ndcg < 1.0:
            out.append(s)
            classes.add(family)
    for s in ranked:  # fewer failing classes than n: the next worst of any class
        if len(out) >= n:
            break
        if s not in out and s.ndcg < 1.0:
            out.append(s)
    return sorted(out[:n], key=lambda s: (s.ndcg, s.recall, s.query.qid))


def _hit_line(h: Mapping[str, Any], people: Mapping[str, Person]) -> str:
    p = people.get(h["person"]) if h["person"] else None
    who = "?" if p is None else (f"{p.nationality}, {'/'.join(sorted(p.languages))}; "
                                 f"{', '.join(sorted(p.skills)) or 'no skills'}"
                                 f"{'; volunteer' if p.volunteer else ''}{'; party' if p.party else ''}; {p.area or 'outside'}")
    why = "; ".join(h["explanations"][:2]) or "no explanation"
    return f"g{h['grade']} {h['title']} ({who}) — {why}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(meta: Mapping[str, Any], results: Mapping[str, dict[str, dict[str, Any]]],
           scored: Mapping[str, Sequence[Scored]], people: Mapping[str, Person]) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Relevance run of {now}", "",
        f"Machine: {machine()}. `bench/relevance.py`, {meta['residents']:,} residents (seed {meta['seed']}), demo "
        f"world through `talentgraph generate` + `talentgraph ingest` (no entity resolution), {meta['queries']} judged "
        f"queries ({meta['dev']} dev / {meta['test']} test) graded 0/1/2 from the generator's ground truth "
        "(`bench/judged.py`), each sent as GraphQL `search(query:, first: 100)` in process with a **staff** key "
        f"scoped to the whole community ({STAFF_AREA}). Targets (issue 10): NDCG@10 ≥ {TARGET_NDCG} in every class, "
        f"name MRR ≥ {TARGET_MRR}, the same judged set on both engines ± {TARGET_ENGINE_DELTA}. Recall@100 is "
        "capped (found / min(100, relevant)); a person's repeated records gain 0.", "",
    ]
    for backend, classes in results.items():
        lines += [f"{backend}:", "", "| class | queries | NDCG@10 | recall@100 | MRR | NDCG@10 dev / test | queries with no hit |",
                  "|---|---|---|---|---|---|---|"]
        for c, m in classes.items():
            label = f"**{c}**" if c == "overall" else c
            lines.append(f"| {label} | {m['n']} | {_f(m['ndcg10'])} | {_f(m['recall100'])} | {_f(m['mrr'])} | "
                         f"{_f(m['dev']['ndcg10'])} / {_f(m['test']['ndcg10'])} | {m['zero_hits']} |")
        lines.append("")
    lines += ["Targets measured in this run:", ""] + [f"- {v}" for v in _verdicts(results)] + [""]
    for backend, rows in scored.items():
        worst = pick_worst(rows)
        lines += [f"The {WORST} worst queries ({backend}; NDCG@10, recall@100, hits; the first {SHOWN_HITS} hits: "
                  "grade, title, who the person really is, the first explanations):", ""]
        for s in worst:
            q = s.query
            n2 = len(q.relevant)
            lines.append(f"- `{q.qid}` **{q.text}** ({q.split}) — NDCG@10 {s.ndcg:.3f}, recall@100 {s.recall:.3f}, "
                         f"{s.total} hits, {n2} persons with grade 2"
                         + (f", MRR {s.rr:.3f}" if s.rr is not None else ""))
            for h in s.hits[:SHOWN_HITS]:
                lines.append(f"  - {_cell(_hit_line(h, people))}")
            if not s.hits:
                lines.append("  - (no hits)")
        lines.append("")
    raw = {b: {c: [m["n"], m["ndcg10"], m["recall100"], m["mrr"]] for c, m in cs.items()} for b, cs in results.items()}
    lines += ["Raw (per class: queries, NDCG@10, recall@100, MRR):", "", "```json",
              json.dumps({**meta, "results": raw}, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--engines", action="store_true",
                    help="Also run on Neo4j + OpenSearch (TALENTGRAPH_GRAPH_URL / TALENTGRAPH_SEARCH_URL).")
    ap.add_argument("--opensearch", action="store_true",
                    help="Also run on OpenSearch beside the embedded graph (TALENTGRAPH_SEARCH_URL): the engines "
                         "target without a Neo4j.")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "talentgraph-relevance",
                    help="Registers and data dirs, reused across runs (markers say what each holds).")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="Also write every query's scores and hits here.")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    backends = ["embedded"] + (["opensearch"] if args.opensearch else []) + (["engines"] if args.engines else [])

    t0 = time.perf_counter()
    people, records = world_truth(args.residents, args.seed)
    queries = build_queries(people, args.seed)
    log(f"{len(queries)} judged queries from {len(people):,} true persons, {len(records):,} Person records "
        f"({time.perf_counter() - t0:.1f} s)")
    meta: dict[str, Any] = {"residents": args.residents, "seed": args.seed, "queries": len(queries),
                            "dev": sum(q.split == "dev" for q in queries),
                            "test": sum(q.split == "test" for q in queries)}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    scored: dict[str, list[Scored]] = {}
    for backend in backends:
        data = prepare(backend, args.residents, args.seed, args.workdir)
        t1 = time.perf_counter()
        rows, info = run_queries(backend, args.residents, data, queries, records)
        meta[backend] = {**info, "search_s": round(time.perf_counter() - t1, 1)}
        results[backend] = by_class(rows)
        scored[backend] = rows
        log(f"{backend}: overall NDCG@10 {results[backend]['overall']['ndcg10']}, "
            f"recall@100 {results[backend]['overall']['recall100']}, "
            f"name MRR {results[backend].get('name (all forms)', {}).get('mrr')}")
    section = render(meta, results, scored, people)
    prepend(section, args.out)
    print(json.dumps({**meta, "results": {b: {c: {k: m[k] for k in ('n', 'ndcg10', 'recall100', 'mrr')}
                                              for c, m in cs.items()} for b, cs in results.items()}},
                     ensure_ascii=False))
    if args.json is not None:
        args.json.write_text(json.dumps({b: [{"qid": s.query.qid, "class": s.query.qclass, "text": s.query.text,
                                              "split": s.query.split, "ndcg10": s.ndcg, "recall100": s.recall,
                                              "rr": s.rr, "total": s.total, "hits": s.hits[:20]} for s in rows]
                                         for b, rows in scored.items()}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
