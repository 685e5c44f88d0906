"""Benchmark: the demo as a user meets it — `talentgraph demo` spawned on a fresh data dir until a search answers.

    .venv/bin/python bench/demo.py                     # 50k residents (the demo's default), one run
    .venv/bin/python bench/demo.py --runs 2            # two runs, each from an empty data dir
    .venv/bin/python bench/demo.py --baseline HEAD~1   # and the code of another commit, runs alternating

Target (issue 8): the demo (`scripts/demo`) answers within a minute of set-up finishing, at the default 50k residents.
Set-up (`scripts/setup`: the virtualenv, the engines) is done before the clock starts; everything the demo does
after it is timed: generate the registers, ingest them, resolve entities, index search, start the server. The clock
stops when a staff search sent over HTTP with the demo's own printed key comes back with hits. The phases are the
times the demo prints. Results are prepended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import machine, prepend  # noqa: E402

TARGET_S = 60.0
QUERY = '{ search(query: "英语 志愿者", first: 10) { totalCount hits { title } } }'
# What the demo prints: the phases it times, and the keys it makes (one per role).
PHASES = {
    "generate": re.compile(r"^\s+done in ([\d.]+)s"),
    "ingest": re.compile(r"^Ingest took ([\d.]+)s"),
    "resolve": re.compile(r"^Entity resolution: .*; ([\d.]+)s\.$"),
    "search sync": re.compile(r"^Search sync took ([\d.]+)s"),
    "ingest + sync": re.compile(r"^Ingest \+ search sync took ([\d.]+)s"),  # demos before resolution ran first
}
KEY = re.compile(r"^\s+staff\s+(tg_staff_\S+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _search(port: int, key: str) -> int | None:
    """Hits of the staff search, or None while the server does not answer."""
    body = json.dumps({"query": QUERY}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            doc = json.loads(resp.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    if doc.get("errors"):
        raise RuntimeError(f"the demo's search failed: {doc['errors']}")
    return int(doc["data"]["search"]["totalCount"])


def run_once(residents: int, workdir: Path, code: Path = ROOT) -> dict[str, Any]:
    """One demo from an empty data dir; ``code``: the checkout whose package runs (this venv's dependencies)."""
    port = _free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "talentgraph"), "demo", "--residents", str(residents),
           "--data-dir", str(workdir), "--port", str(port), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(code)}  # ahead of the venv's own (editable) install of this checkout
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=code, env=env)
    out: dict[str, Any] = {"code": _rev(code), "phases_s": {}}
    lines: list[str] = []
    key: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            for name, pattern in PHASES.items():
                if m := pattern.search(line):
                    out["phases_s"][name] = float(m.group(1))
            if m := KEY.search(line):
                key.append(m.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        hits = None
        while hits is None:
            if proc.poll() is not None:
                raise RuntimeError("the demo stopped before it answered:\n" + "\n".join(lines[-30:]))
            if time.perf_counter() - t0 > 1800:
                raise RuntimeError("the demo did not answer within 30 minutes")
            if key:
                hits = _search(port, key[0])
            if hits is None:
                time.sleep(0.1)
        out["answered_s"] = round(time.perf_counter() - t0, 1)
        out["hits"] = hits
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if not hits:
        raise RuntimeError(f"the demo's search answered with no hits: {QUERY}")
    phases = sum(out["phases_s"].values())
    out["other_s"] = round(out["answered_s"] - phases, 1)  # start-up, key making, server start, the first query
    return out


def _rev(code: Path) -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True).stdout.strip()
    # Results written into bench/RESULTS.md while a run goes on are no change of the code measured.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md"],
                           cwd=code, capture_output=True, text=True).stdout.strip()
    return head + ("+changes" if dirty else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=1, help="runs of each code version")
    ap.add_argument("--baseline", help="a commit to run too, alternating with this checkout (same machine, same stretch)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="tg-demo-") as tmp:
        codes = [ROOT]
        if args.baseline:
            base = Path(tmp) / "baseline"
            subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(base)], check=True)
            subprocess.run(["git", "checkout", "-q", args.baseline], cwd=base, check=True)
            codes.insert(0, base)
        for i in range(args.runs):
            for code in codes:
                r = run_once(args.residents, Path(tmp) / f"data-{i}-{len(runs)}", code)
                print(json.dumps(r, ensure_ascii=False), flush=True)
                runs.append(r)
    _write(args.out, args.residents, runs)
    return 0


def _write(path: Path, residents: int, runs: list[dict[str, Any]]) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    names = list(PHASES)
    lines = [
        f"## Demo run of {stamp}", "",
        f"Machine: {machine()}. `bench/demo.py`: `talentgraph demo --residents {residents}` spawned on an empty data dir "
        "(set-up done before the clock starts), timed until a staff search over HTTP (`search(query: \"英语 志愿者\")`, "
        "with the key the demo prints) answers with hits. Phases as the demo prints them; *other* is start-up, keys, "
        f"server start and the first query. Target (issue 8): within {TARGET_S:.0f} s.", "",
        "| run | code | answered (s) | vs target | " + " | ".join(names) + " | other | hits |",
        "|---|---|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(f"| {i} | {r['code']} | **{r['answered_s']}** | {r['answered_s'] / TARGET_S:.2f}× | "
                     + " | ".join(str(r["phases_s"].get(n, "–")) for n in names)
                     + f" | {r['other_s']} | {r['hits']} |")
    lines += ["", "```json", json.dumps(runs, ensure_ascii=False), "```", ""]
    prepend("\n".join(lines), path)


if __name__ == "__main__":
    raise SystemExit(main())
