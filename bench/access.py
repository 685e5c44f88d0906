"""Benchmark: what authentication + the audit log cost, over HTTP, against the same server without them.

    .venv/bin/python bench/access.py                     # 50k residents, embedded stores
    .venv/bin/python bench/access.py --residents 5000    # quicker

Target (issue "Access control, privacy and hardening"): auth + audit may cost at most 10% of GraphQL p95.

Two uvicorn servers in one process over the same stores and the same role (analyst):
- *off*: ``--open analyst`` (no credential checked) and no audit log;
- *on*: an API key checked on every request and one hash-chained audit entry appended per request.
Requests alternate between the two (on, off, on, off …) over keep-alive loopback connections, so both
see the same machine noise; p50/p95 are reported for a 2-hop GraphQL walk and for talent searches
through GraphQL, and the on/off ratio of each. Results are prepended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from report import prepend  # noqa: E402
from run import SEARCH_QUERIES, TWO_HOP, machine, pct  # noqa: E402
from talentgraph.access.audit import AuditLog  # noqa: E402
from talentgraph.access.gate import Gate  # noqa: E402
from talentgraph.access.keys import KeyStore  # noqa: E402
from talentgraph.access.policy import POLICY  # noqa: E402
from talentgraph.cli import DEMO_JOBS, _run_pipeline  # noqa: E402
from talentgraph.config import Settings  # noqa: E402
from talentgraph.demo.generator import generate  # noqa: E402
from talentgraph.server import create_app  # noqa: E402
from talentgraph.stores import open_stores  # noqa: E402

SEARCH = """query($q: String!, $f: [SearchFilter!]) { search(query: $q, filters: $f, first: 20) {
  totalCount hits { id title explanations highlights { field fragments } } facets { field values { value display } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(app: Any) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server, url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=50_000)
    ap.add_argument("--reps", type=int, default=600, help="Requests per kind and mode.")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="talentgraph-access-bench-"))
    registers = work / "registers"
    if not registers.exists():
        generate(registers, residents=args.residents, seed=7)
    settings = Settings(data_dir=work / "data")
    stores = open_stores(settings)
    try:
        if stores.graph.count_nodes("Person") == 0:
            _run_pipeline(stores, DEMO_JOBS, registers, dry_run=False, progress=False)
        keys = KeyStore(work / "data" / "keys.json", POLICY.roles)
        key, _ = keys.create(f"bench-{int(time.time())}", "analyst")
        audit = AuditLog(work / "data" / "audit")
        on = create_app(stores.graph, stores.search, settings, gate=Gate(keys=keys), audit=audit)
        off = create_app(stores.graph, stores.search, settings, gate=Gate(open_role="analyst"), audit=None)
        s_on, url_on = start(on)
        s_off, url_off = start(off)
        org_ids = [n.id for n in stores.graph.list_nodes("PartyOrganization", first=100).items]
        members = stores.graph.edges(org_ids, "MEMBER_OF", "in")
        ids = sorted({e.node.id for es in members.values() for e in es})
        rng = random.Random(1)
        two_hop = [{"query": TWO_HOP, "variables": {"id": rng.choice(ids)}} for _ in range(args.reps)]
        searches = [{"query": SEARCH, "variables": {"q": q, "f": [{"field": k, "values": v} for k, v in f.items()]
                                                    or None}} for q, f in SEARCH_QUERIES]
        search_bodies = [searches[i % len(searches)] for i in range(args.reps)]
        samples: dict[tuple[str, str], list[float]] = {(k, m): [] for k in ("graphql", "search") for m in ("on", "off")}
        before = len(audit.read())
        with httpx.Client(base_url=url_on, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c_on, \
                httpx.Client(base_url=url_off, timeout=60) as c_off:
            for kind, bodies in (("graphql", two_hop), ("search", search_bodies)):
                for body in bodies[:30]:  # warm both
                    c_on.post("/graphql", json=body), c_off.post("/graphql", json=body)
                for i, body in enumerate(bodies):
                    order = (("on", c_on), ("off", c_off)) if i % 2 == 0 else (("off", c_off), ("on", c_on))
                    for mode, c in order:
                        t0 = time.perf_counter()
                        r = c.post("/graphql", json=body)
                        samples[(kind, mode)].append((time.perf_counter() - t0) * 1000)
                        assert r.status_code == 200 and "errors" not in r.json(), r.text[:500]
        audited = len(audit.read()) - before
        s_on.should_exit = s_off.should_exit = True
    finally:
        stores.close()
    m: dict[str, Any] = {"residents": args.residents, "requests_per_mode": 2 * args.reps, "audit_entries": audited}
    for kind in ("graphql", "search"):
        for mode in ("on", "off"):
            xs = samples[(kind, mode)]
            m[f"{kind}_{mode}_p50_ms"] = round(pct(xs, .5), 2)
            m[f"{kind}_{mode}_p95_ms"] = round(pct(xs, .95), 2)
        m[f"{kind}_p95_on_over_off"] = round(m[f"{kind}_on_p95_ms"] / m[f"{kind}_off_p95_ms"], 3)
    print(json.dumps(m, ensure_ascii=False))
    write(m, args.out)
    return 0


def write(m: dict[str, Any], path: Path) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Access run of {now}: auth + audit on vs off, over HTTP", "",
        f"Machine: {machine()}. `bench/access.py`, {m['residents']} residents, embedded stores, analyst role both ways; "
        "requests alternate between the two servers. Target: auth + audit cost ≤ 10% of GraphQL p95 (ratio ≤ 1.10).", "",
        "| requests | off p50 / p95 ms | on (key + audit) p50 / p95 ms | p95 on / off |", "|---|---|---|---|",
        f"| GraphQL 2-hop walk | {m['graphql_off_p50_ms']} / {m['graphql_off_p95_ms']} | "
        f"{m['graphql_on_p50_ms']} / {m['graphql_on_p95_ms']} | {m['graphql_p95_on_over_off']} |",
        f"| search through GraphQL | {m['search_off_p50_ms']} / {m['search_off_p95_ms']} | "
        f"{m['search_on_p50_ms']} / {m['search_on_p95_ms']} | {m['search_p95_on_over_off']} |", "",
        f"{m['audit_entries']} audit entries were written by the *on* server during the run (one per request, warm-up included).",
        "", "```json", json.dumps(m, ensure_ascii=False), "```", "",
    ]
    prepend("\n".join(lines), path)


if __name__ == "__main__":
    raise SystemExit(main())
