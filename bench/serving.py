"""``talentgraph serve`` as a user starts it, in its own process, with an analyst API key.

The bench talks to it over loopback HTTP with one keep-alive ``httpx.Client``; while it runs, the RSS of
its process tree is sampled (``proctree.TreeSampler``). Audit logging is on, as it always is for
``talentgraph serve``; uvicorn's per-request access log is off (``--log-level warning``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from proctree import TreeSampler

START_TIMEOUT = 600.0  # seconds; a large data dir opens (and checks its search cursor) before it listens
STOP_TIMEOUT = 60.0
SETTLE_TIMEOUT = 120.0  # seconds to wait for the started server to go idle
SETTLE_WINDOW = 0.5  # seconds per CPU reading
SETTLE_IDLE = 0.05  # idle: under 5% of one core over a window


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc), 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_key(cli: Sequence[str], data_dir: Path, *, role: str, env: Mapping[str, str], cwd: Path) -> str:
    """A fresh API key for ``role`` through ``talentgraph keys create`` (no server may be running yet)."""
    name = f"bench-{role}-{time.strftime('%Y%m%d%H%M%S')}-{time.perf_counter_ns() % 10**6}"
    proc = subprocess.run([*cli, "keys", "create", "--name", name, "--role", role, "--json",
                           "--data-dir", str(data_dir)], env=dict(env), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"talentgraph keys create failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return str(json.loads(proc.stdout)["key"])


class Server:
    """One ``talentgraph serve`` process: ``start()`` returns once ``/health`` answers; ``stop()`` sends SIGINT."""

    def __init__(self, cli: Sequence[str], data_dir: Path, *, env: Mapping[str, str], cwd: Path, log_dir: Path,
                 extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [*cli, "serve", "--data-dir", str(data_dir), "--port", str(self.port),
                     "--log-level", "warning", *extra]
        self._env, self._cwd, self._log_dir = dict(env), cwd, log_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._sampler: TreeSampler | None = None
        self.start_s = 0.0
        self.settle_s = 0.0

    def start(self) -> str:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._out = open(self._log_dir / "serve.stdout", "wb")  # noqa: SIM115 - closed in stop()
        self._err = open(self._log_dir / "serve.stderr", "wb")  # noqa: SIM115
        t0 = time.perf_counter()
        self._proc = subprocess.Popen(self.argv, env=self._env, cwd=self._cwd, stdout=self._out, stderr=self._err)
        self._sampler = TreeSampler(self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"talentgraph serve exited with status {self._proc.returncode}: "
                                   + self.stderr_tail())
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"talentgraph serve did not answer /health within {START_TIMEOUT:.0f} s: "
                                   + self.stderr_tail())
            time.sleep(0.1)
        self.start_s = round(time.perf_counter() - t0, 2)
        self.settle_s = self._settle()
        return self.url

    def _settle(self) -> float:
        """Seconds until the server is idle: it answers /health while it still builds every role's GraphQL
        schema in a thread (``RoleRouter.prebuild``), and timing then would time that work as well."""
        assert self._proc is not None
        t0 = time.perf_counter()
        deadline = time.monotonic() + SETTLE_TIMEOUT
        last = _cpu_seconds(self._proc.pid)
        while time.monotonic() < deadline:
            time.sleep(SETTLE_WINDOW)
            now = _cpu_seconds(self._proc.pid)
            if now - last < SETTLE_WINDOW * SETTLE_IDLE:
                break
            last = now
        return round(time.perf_counter() - t0, 2)

    def stderr_tail(self) -> str:
        try:
            lines = (self._log_dir / "serve.stderr").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no output"
        return " | ".join(lines[-8:])[-1500:] or "no output"

    @property
    def peak_rss_mb(self) -> float:
        return self._sampler.peak_mb if self._sampler else 0.0

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly and the stores close
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._sampler is not None:
            self._sampler.stop()
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None:
                f.close()

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def graphql(client: httpx.Client, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """POST one GraphQL request; any HTTP or GraphQL error fails the bench (a wrong answer is not a timing)."""
    r = client.post("/graphql", json={"query": query, "variables": dict(variables)})
    if r.status_code != 200:
        raise RuntimeError(f"GraphQL answered HTTP {r.status_code}: {r.text[:500]}")
    body: dict[str, Any] = r.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {json.dumps(body['errors'], ensure_ascii=False)[:800]}")
    data: dict[str, Any] = body["data"]
    return data


__all__ = ["Server", "create_key", "free_port", "graphql"]
