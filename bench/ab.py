"""A change against its parent over HTTP: two ``talentgraph serve`` processes, the same requests alternating.

    python bench/ab.py --baseline e3576ef --data-dir /tmp/tgb/d50      # an ingested embedded data dir
    python bench/ab.py --baseline HEAD~3 --data-dir D --kinds hop --requests 1000 --out /tmp/ab.md

``bench/run.py`` sets each GraphQL figure beside a hand-written query timed in the same run; on an instance whose
speed drifts by tens of percent within an hour, the ratio of two such runs made an hour apart says little about a
change. Here the baseline commit (cloned into a temporary directory) and this checkout each serve their own copy of
one data dir, with an analyst key each; every request goes to both, the order alternating (A B, B A, …) after the
same warm-up, and the answers of the warm-up are checked to agree. Reported: p50 / p95 / mean of each side and
new / old, per kind of request:

- ``hop``: the bench's 2-hop walk (``run.TWO_HOP``) on party members of the data;
- ``byid``: one person by id (``run.BY_ID``);
- ``search``: the staff search of ``run.SEARCH`` over ``run.SEARCH_QUERIES``.

Both servers run on the embedded stores (no engine services needed); they idle while the other answers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/ is not a package)
from demo import _rev  # noqa: E402
from report import machine  # noqa: E402
from serving import Server, create_key, graphql  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("hop", "byid", "search")


def _party_members(data_dir: Path, limit: int = 2000) -> list[str]:
    import ladybug as lb

    db = lb.Database(str(data_dir / "graph" / "graph.lbdb"), read_only=True)
    try:
        result = lb.Connection(db).execute(bench.PARTY_MEMBERS)
        assert not isinstance(result, list)
        ids = sorted(str(row[0]) for row in result.get_all())
    finally:
        db.close()
    if not ids:
        raise SystemExit(f"{data_dir} holds no party members: ingest the demo registers into it first")
    return ids[:limit]


def _serve(code: Path, data_dir: Path, logs: Path) -> tuple[Server, httpx.Client]:
    env = dict(os.environ, PYTHONPATH=str(code))  # ahead of the editable install of this checkout
    cli = [sys.executable, "-m", "talentgraph.cli"]
    key = create_key(cli, data_dir, role="analyst", env=env, cwd=code)
    server = Server(cli, data_dir, env=env, cwd=code, log_dir=logs)
    server.start()
    return server, httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _requests(kind: str, ids: list[str], n: int) -> tuple[Callable[[httpx.Client, Any], Any], list[Any]]:
    rng = random.Random(7)
    if kind == "search":
        bodies = [{"q": q, "f": [{"field": k, "values": v} for k, v in f.items()] or None}
                  for q, f in bench.SEARCH_QUERIES]
        return (lambda c, body: graphql(c, bench.SEARCH, body)), [bodies[i % len(bodies)] for i in range(n)]
    query = bench.TWO_HOP if kind == "hop" else bench.BY_ID
    return (lambda c, pid: graphql(c, query, {"id": pid})), [rng.choice(ids) for _ in range(n)]


def measure(baseline: str, data_dir: Path, kinds: list[str], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"baseline": baseline, "code": _rev(ROOT), "requests": n, "kinds": {}}
    with tempfile.TemporaryDirectory(prefix="tg-ab-") as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(base)], check=True)
        subprocess.run(["git", "checkout", "-q", baseline], cwd=base, check=True)
        out["baseline"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True,
                                         text=True, check=True).stdout.strip()
        ids = _party_members(data_dir)
        sides: list[tuple[Server, httpx.Client]] = []
        try:
            for name, code in (("old", base), ("new", ROOT)):
                copy = Path(tmp) / f"data-{name}"
                shutil.copytree(data_dir, copy)
                sides.append(_serve(code, copy, Path(tmp) / f"logs-{name}"))
            (_, old), (_, new) = sides
            for kind in kinds:
                ask, items = _requests(kind, ids, n)
                for item in items[:bench.WARM]:
                    if ask(old, item) != ask(new, item):
                        raise RuntimeError(f"{kind}: the two revisions answer {item!r} differently")
                so, sn = bench.alternate(lambda item: ask(old, item), lambda item: ask(new, item), items)
                row = {f"{side}_{q}_ms": round(bench.pct(s, p), 2) for side, s in (("old", so), ("new", sn))
                       for q, p in (("p50", 0.5), ("p95", 0.95))}
                row.update(old_mean_ms=round(sum(so) / len(so), 2), new_mean_ms=round(sum(sn) / len(sn), 2))
                row.update(p50_ratio=round(row["new_p50_ms"] / row["old_p50_ms"], 3),
                           p95_ratio=round(row["new_p95_ms"] / row["old_p95_ms"], 3))
                out["kinds"][kind] = row
                print(kind, json.dumps(row), flush=True)
        finally:
            for server, client in sides:
                client.close()
                server.stop()
    return out


def _write(path: Path, result: dict[str, Any], data_dir: Path) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## A/B run of {stamp}", "",
        f"Machine: {machine()}. `bench/ab.py`: `{result['code']}` against `{result['baseline']}`, each serving a copy "
        f"of `{data_dir}` (embedded), {result['requests']} requests of each kind alternating between them over HTTP "
        "with an analyst key (see the module docstring). new / old below 1: the change is faster.", "",
        "| request | old p50 / p95 ms | new p50 / p95 ms | old / new mean ms | new / old p50 | new / old p95 |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in result["kinds"].items():
        lines.append(f"| {kind} | {r['old_p50_ms']} / {r['old_p95_ms']} | {r['new_p50_ms']} / {r['new_p95_ms']} | "
                     f"{r['old_mean_ms']} / {r['new_mean_ms']} | **{r['p50_ratio']}** | **{r['p95_ratio']}** |")
    lines += ["", "```json", json.dumps(result, ensure_ascii=False), "```", ""]
    old = path.read_text() if path.exists() else ""
    head, sep, rest = old.partition("\n## ")
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines) + ("\n## " + rest if sep else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="the commit to compare this checkout with")
    ap.add_argument("--data-dir", type=Path, required=True, help="an ingested data dir (copied for each side)")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    ap.add_argument("--requests", type=int, default=600, help="requests of each kind to each side")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        ap.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
    if not (args.data_dir / "graph" / "graph.lbdb").exists():
        ap.error(f"{args.data_dir} holds no embedded graph (graph/graph.lbdb): ingest into it first")
    result = measure(args.baseline, args.data_dir, kinds, args.requests)
    _write(args.out, result, args.data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
