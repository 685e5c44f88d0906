"""The twin-city feed bench (issue 9): catch-up events/s over HTTP and commit-to-notification latency.

    python bench/feed.py                         # 200k residents, embedded stores
    python bench/feed.py --scales 5000 --results /tmp/x.md   # a smoke run

Per scale: the demo registers (``talentgraph generate``, seed 7) ingested with ``talentgraph ingest`` into a
data dir of the bench's own (reused when a previous feed bench left it complete), then ``talentgraph serve``
in its own process, as a platform would meet it:

1. **Catch-up**: ``GET /feed`` without a cursor (the snapshot: every current record the role reads, once,
   then a checkpoint) streamed over loopback HTTP with one httpx client, timed from the request to the
   checkpoint line, for the platform role (no persons) and the admin role (everything). Beside it, the same
   feed read in-process (``ChangeFeed.page`` on the data dir, after the server stopped): the HTTP/JSON cost.
2. **Commit to notification**: an NGSI-LD subscription on Venue to a receiver on a loopback port, then
   ``--notifications`` single-row ingests (a venue's capacity) through ``POST /admin/ingest``. Latency is the
   receiver's clock at arrival minus the change's own timestamp (``observedAt``: stamped when its write
   transaction began, so the figure is an upper bound of commit → notification). p50/p95/max.

Results are prepended to ``bench/RESULTS.md`` (``--results``) with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from proctree import run_measured  # noqa: E402
from report import machine, prepend  # noqa: E402
from run import PIPELINE, child_env, cli, generate, log, pct  # noqa: E402
from serving import Server, create_key  # noqa: E402

TARGETS = ("Issue 9 asks for the feed catch-up in events/s at 200k residents (\"tens of thousands of events per "
           "second\") and the commit-to-notification p95; it sets no numeric target for either.")


def ingest(scale: int, workdir: Path) -> tuple[Path, float]:
    registers, _ = generate(scale, workdir)
    data = workdir / f"data-feed-{scale}"
    marker = data / ".feed-bench.json"
    if marker.exists():
        return data, float(json.loads(marker.read_text())["ingest_s"])
    shutil.rmtree(data, ignore_errors=True)
    env = child_env("embedded", scale)
    m = run_measured([*cli(), "ingest", str(PIPELINE), "--input-dir", str(registers), "--data-dir", str(data),
                      "--quiet"], env=env, cwd=ROOT, out_dir=workdir / "logs" / f"feed-ingest-{scale}")
    m.check("talentgraph ingest")
    marker.write_text(json.dumps({"ingest_s": m.wall_s}))
    return data, m.wall_s


def catch_up(url: str, key: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    checkpoint: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=None) as c, \
            c.stream("GET", "/feed", headers={"Authorization": f"Bearer {key}"}) as r:
        if r.status_code != 200:
            raise RuntimeError(f"/feed answered {r.status_code}: {r.read()[:300]!r}")
        for line in r.iter_lines():
            if not line:
                continue
            obj = json.loads(line)
            if obj["op"] == "checkpoint":
                checkpoint = obj
            elif obj["op"] == "error":
                raise RuntimeError(f"/feed stopped: {obj}")
            else:
                counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    seconds = time.perf_counter() - t0
    events = sum(counts.values())
    if not checkpoint.get("complete"):
        raise RuntimeError(f"/feed ended without a complete checkpoint: {checkpoint}")
    return {"events": events, "seconds": round(seconds, 2), "events_per_s": round(events / seconds),
            "types": counts, "seq": checkpoint["seq"]}


def in_process(data: Path, role: str) -> dict[str, Any]:
    from talentgraph.access.policy import POLICY
    from talentgraph.config import Settings
    from talentgraph.feed.changes import ChangeFeed
    from talentgraph.stores import open_graph

    settings = Settings.load({"data_dir": data}, env={})
    graph = open_graph(settings)
    try:
        feed = ChangeFeed(graph, graph.ontology, settings.feed_retention)  # type: ignore[attr-defined]
        view = POLICY.view(role)
        t0 = time.perf_counter()
        cursor, events = None, 0
        while True:
            page = feed.page(view, cursor, first=1000)
            events += len(page.events)
            cursor = page.cursor
            if not page.has_more:
                break
        seconds = time.perf_counter() - t0
    finally:
        graph.close()
    return {"events": events, "seconds": round(seconds, 2), "events_per_s": round(events / seconds)}


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                outer.arrivals.append((time.time(), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notifications(url: str, data: Path, platform_key: str, admin_key: str, venue_key: str, venue_name: str,
                  n: int) -> dict[str, Any]:
    receiver = Receiver()
    job_dir = data / "bench-notify"
    job_dir.mkdir(exist_ok=True)
    (job_dir / "venue_update.yaml").write_text(
        "job: bench_venue_update\nsource:\n  path: venue_update.csv\nnodes:\n  - type: Venue\n"
        '    key: "{编号}"\n    properties:\n      name: 名称\n      capacity: 容纳人数\n', encoding="utf-8")
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=url, timeout=120) as c:
            sub = {"type": "Subscription", "entities": [{"type": "Venue"}],
                   "notification": {"endpoint": {"uri": receiver.url}, "attributes": ["capacity"]}}
            r = c.post("/ngsi-ld/v1/subscriptions", json=sub, headers={"Authorization": f"Bearer {platform_key}"})
            if r.status_code != 201:
                raise RuntimeError(f"subscription refused: {r.status_code} {r.text[:300]}")
            for i in range(n):
                capacity = 100_000 + i
                (job_dir / "venue_update.csv").write_text(f"编号,名称,容纳人数\n{venue_key},{venue_name},{capacity}\n",
                                                          encoding="utf-8")
                r = c.post("/admin/ingest", json={"job": str(job_dir / "venue_update.yaml")},
                           headers={"Authorization": f"Bearer {admin_key}"})
                if r.status_code != 200:
                    raise RuntimeError(f"/admin/ingest answered {r.status_code}: {r.text[:300]}")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    got = [(t, e) for t, body in list(receiver.arrivals) for e in body["data"]
                           if e.get("capacity", {}).get("value") == capacity]
                    if got:
                        t, entity = got[0]
                        observed = dt.datetime.fromisoformat(entity["capacity"]["observedAt"].replace("Z", "+00:00"))
                        latencies.append((t - observed.timestamp()) * 1000)
                        break
                    time.sleep(0.01)
                else:
                    raise RuntimeError(f"no notification for capacity {capacity} within 30 s")
    finally:
        receiver.close()
    return {"notifications": len(latencies), "p50_ms": round(pct(latencies, 0.5), 1),
            "p95_ms": round(pct(latencies, 0.95), 1), "max_ms": round(max(latencies), 1)}


def run_scale(scale: int, workdir: Path, n_notifications: int) -> dict[str, Any]:
    tag = f"feed {scale}"
    log(tag, "generate + ingest …")
    data, ingest_s = ingest(scale, workdir)
    env = child_env("embedded", scale)
    keys = {role: create_key(cli(), data, role=role, env=env, cwd=ROOT) for role in ("platform", "admin")}
    m: dict[str, Any] = {"scale": scale, "ingest_s": ingest_s}
    with Server(cli(), data, env=env, cwd=ROOT, log_dir=workdir / "logs" / f"feed-serve-{scale}") as server:
        for role in ("platform", "admin"):
            log(tag, f"catch-up as {role} …")
            m[f"http_{role}"] = catch_up(server.url, keys[role])
        with httpx.Client(base_url=server.url) as c:
            r = c.get("/feed", params={"types": "Venue", "limit": 1},
                      headers={"Authorization": f"Bearer {keys['platform']}"})
            first_venue = json.loads(r.text.splitlines()[0])
            venue, venue_name = first_venue["id"].partition(":")[2], first_venue["data"]["name"]
        log(tag, f"{n_notifications} notifications …")
        m["notify"] = notifications(server.url, data, keys["platform"], keys["admin"], venue, venue_name,
                                    n_notifications)
        m["serve_peak_rss_mb"] = server.peak_rss_mb
    for role in ("platform", "admin"):
        m[f"inproc_{role}"] = in_process(data, role)
        m[f"http_vs_inproc_{role}"] = round(m[f"http_{role}"]["events_per_s"] / m[f"inproc_{role}"]["events_per_s"], 2)
    log(tag, json.dumps(m))
    return m


def write(rows: list[dict[str, Any]], path: Path) -> None:
    lines = [f"## Feed run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "", f"Machine: {machine()}", "",
             "`bench/feed.py`: " + TARGETS, "",
             "| residents | role | events | catch-up over HTTP s | events/s (HTTP) | events/s (in process) | HTTP / in process |",
             "|---|---|---|---|---|---|---|"]
    for m in rows:
        for role in ("platform", "admin"):
            h, i = m[f"http_{role}"], m[f"inproc_{role}"]
            lines.append(f"| {m['scale']} | {role} | {h['events']} | {h['seconds']} | {h['events_per_s']} | "
                         f"{i['events_per_s']} | {m[f'http_vs_inproc_{role}']} |")
    lines += ["", "| residents | notifications | commit → notification p50 / p95 / max ms | serve peak RSS MB |",
              "|---|---|---|---|"]
    for m in rows:
        n = m["notify"]
        lines.append(f"| {m['scale']} | {n['notifications']} | {n['p50_ms']} / {n['p95_ms']} / {n['max_ms']} | "
                     f"{m['serve_peak_rss_mb']} |")
    lines += ["", "Raw:", "", "```json", *[json.dumps(m) for m in rows], "```", ""]
    prepend("\n".join(lines), path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="200000", help="residents per run, comma-separated")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/talentgraph-bench"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--notifications", type=int, default=40)
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = [run_scale(int(s), args.workdir, args.notifications) for s in args.scales.split(",")]
    write(rows, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
