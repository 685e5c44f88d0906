"""Start and stop the real Neo4j and OpenSearch engines that talentgraph's engine tests run against.

Called through ``services/up`` and ``services/down``; see services/README.md for the contract. Only the Python
standard library is used, so this runs on a fresh clone before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parent
REPO = SERVICES_DIR.parent
STATE_DIR = REPO / ".services"
STATE_FILE = STATE_DIR / "state.env"
MIN_JAVA = 17
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Service:
    name: str
    module: str  # Maven module directory under services/
    main_class: str
    default_port: int
    java_opts: tuple[str, ...]
    pid_key: str

    @property
    def log(self) -> Path:
        return STATE_DIR / f"{self.name}.log"

    @property
    def data(self) -> Path:
        return STATE_DIR / f"{self.name}-data"

    @property
    def classpath_file(self) -> Path:
        return SERVICES_DIR / self.module / "target" / "classpath.txt"

    @property
    def classes_dir(self) -> Path:
        return SERVICES_DIR / self.module / "target" / "classes"

    @property
    def argfile(self) -> Path:
        return SERVICES_DIR / self.module / "target" / "java.args"

    @property
    def port_env(self) -> str:
        return f"SERVICES_{self.name.upper()}_PORT"

    @property
    def opts_env(self) -> str:
        return f"SERVICES_{self.name.upper()}_JAVA_OPTS"


NEO4J = Service(
    name="neo4j",
    module="neo4j",
    main_class="talentgraph.services.Neo4jLauncher",
    default_port=7687,
    # Heap for query state and caches (a 200k-resident benchmark ran 768 MiB out of memory); the store
    # itself lives in the 128 MiB page cache (off-heap).
    java_opts=("-Xms512m", "-Xmx2g", "-XX:+UseG1GC"),
    pid_key="SERVICES_NEO4J_PID",
)
OPENSEARCH = Service(
    name="opensearch",
    module="opensearch",
    main_class="talentgraph.services.OpenSearchLauncher",
    default_port=9200,
    java_opts=("-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8"),
    pid_key="SERVICES_OPENSEARCH_PID",
)
SERVICES = {s.name: s for s in (NEO4J, OPENSEARCH)}

# Which state-file keys belong to which service, so `up neo4j` keeps OpenSearch's lines and vice versa.
KEYS = {
    "neo4j": ("TALENTGRAPH_GRAPH_URL", "TALENTGRAPH_GRAPH_USER", "TALENTGRAPH_GRAPH_PASSWORD", "SERVICES_NEO4J_PID"),
    "opensearch": ("TALENTGRAPH_SEARCH_URL", "TALENTGRAPH_SEARCH_ENGINE", "SERVICES_OPENSEARCH_PID"),
}


class ServiceError(Exception):
    """Raised with a message that names the service, what happened and what to do about it."""


# ---------------------------------------------------------------- state file


def read_state() -> dict[str, str]:
    if not STATE_FILE.exists():
        return {}
    state: dict[str, str] = {}
    for line in STATE_FILE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            parts = shlex.split(value)
            state[key] = parts[0] if parts else ""
    return state


def write_state(state: dict[str, str]) -> None:
    if not state:
        STATE_FILE.unlink(missing_ok=True)
        return
    STATE_DIR.mkdir(exist_ok=True)
    order = [k for keys in KEYS.values() for k in keys]
    lines = ["# Written by services/up; read by scripts/test (`set -a; . .services/state.env`). Do not edit."]
    lines += [f"{k}={shlex.quote(state[k])}" for k in sorted(state, key=lambda k: (order.index(k) if k in order else 99, k))]
    tmp = STATE_FILE.with_suffix(".tmp")
    # The file holds the Neo4j password: owner-only from the first byte.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    tmp.replace(STATE_FILE)


# ---------------------------------------------------------------- processes


def is_ours(pid: int, service: Service) -> bool:
    """True when pid is alive and is this service's launcher (a recycled pid must never be signalled)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return service.main_class.encode() in cmdline


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def stop_pid(pid: int, service: Service, grace: float = 60.0) -> str:
    """TERM, wait up to `grace` seconds for the clean shutdown, then KILL. Returns what happened."""
    if not is_ours(pid, service):
        return "not running"
    start = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while time.monotonic() - start < grace:
        if not _alive(pid):
            return f"stopped in {time.monotonic() - start:.1f} s"
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.1)
    return f"KILLED after {grace:.0f} s without a clean shutdown"


def _alive(pid: int) -> bool:
    # Reaps our own child if it exited (up's failure path), so a zombie does not count as alive.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def log_tail(service: Service, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = service.log.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {service.log})"
    return "\n".join(text[-lines:])


# ---------------------------------------------------------------- build


def find_java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ServiceError(
            f"No java found (JAVA_HOME={home!r}, PATH has none). Install a JDK {MIN_JAVA}+ or set JAVA_HOME."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise ServiceError(
            f"{java} is Java {major or '?'}; Neo4j 5.26 and OpenSearch 2.19 need Java {MIN_JAVA}+. "
            f"Set JAVA_HOME to a JDK {MIN_JAVA}+."
        )
    return java


def needs_build(service: Service) -> bool:
    cp = service.classpath_file
    if not cp.exists() or not service.argfile.exists():
        return True
    # The argfile is written last, after a successful build; Maven leaves classpath.txt untouched when the
    # classpath did not change, so its mtime says nothing.
    built = service.argfile.stat().st_mtime
    sources = [SERVICES_DIR / "pom.xml", SERVICES_DIR / service.module / "pom.xml"]
    sources += list((SERVICES_DIR / service.module / "src").rglob("*.java"))
    if any(p.stat().st_mtime > built for p in sources):
        return True
    # ~/.m2 may have been cleaned since the last build; the JVM would then fail with a missing class.
    return not all(Path(j).exists() for j in cp.read_text().strip().split(os.pathsep))


def build(services: list[Service]) -> float:
    """Resolves dependencies from Maven Central (cached in ~/.m2) and compiles the launchers. Returns seconds."""
    todo = [s for s in services if needs_build(s)]
    if not todo:
        return 0.0
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("No mvn on PATH. Install Maven 3.6+ (Debian: apt-get install maven).")
    start = time.monotonic()
    cmd = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(SERVICES_DIR / "pom.xml"),
           "-pl", ",".join(s.module for s in todo), "compile"]
    print(f"services: resolving + compiling {', '.join(s.name for s in todo)}: {' '.join(cmd[1:])}", flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-LOG_TAIL_LINES:])
        raise ServiceError(f"Maven failed (exit {done.returncode}) building {', '.join(s.name for s in todo)}:\n{tail}")
    for s in todo:
        classpath = f"{s.classes_dir}{os.pathsep}{s.classpath_file.read_text().strip()}"
        # An @argfile keeps the ~200-jar classpath out of argv, so `ps` stays readable.
        s.argfile.write_text(f"-cp {classpath}\n")
    return time.monotonic() - start


# ---------------------------------------------------------------- start + health


def pick_port(service: Service) -> int:
    wanted = os.environ.get(service.port_env)
    if wanted:
        port = int(wanted)
        if not port_free(port):
            raise ServiceError(f"{service.port_env}={port} but that port is in use. Free it or pick another port.")
        return port
    if port_free(service.default_port):
        return service.default_port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port_found: int = s.getsockname()[1]
        return port_found


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def bolt_handshake(port: int) -> bool:
    """A real Bolt version negotiation: the server must agree on one of Bolt 5.0–5.8 or 4.4."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            # Magic preamble, then four proposals: 5.8 with a range of 8 minors (5.0–5.8), 4.4, none, none.
            s.sendall(b"\x60\x60\xb0\x17" + bytes([0, 8, 8, 5]) + bytes([0, 0, 4, 4]) + bytes(8))
            agreed = s.recv(4)
    except OSError:
        return False
    return len(agreed) == 4 and agreed != bytes(4)


def opensearch_health(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_cluster/health", timeout=2) as r:
            body = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    match = re.search(r'"status"\s*:\s*"(\w+)"', body)
    return match.group(1) if match else None


def ready(service: Service, port: int) -> bool:
    # The launcher prints READY after its own in-JVM check (a query / cluster health); the wire check below
    # proves the port a client will use is answering.
    try:
        if "READY " not in service.log.read_text(errors="replace"):
            return False
    except OSError:
        return False
    if service is NEO4J:
        return bolt_handshake(port)
    return opensearch_health(port) in ("yellow", "green")


@dataclass
class Started:
    service: Service
    proc: subprocess.Popen[bytes]
    port: int
    started_at: float
    ready_after: float | None = None


def launch(service: Service, java: str, port: int, password: str) -> Started:
    STATE_DIR.mkdir(exist_ok=True)
    service.data.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(os.environ.get(service.opts_env, ""))
    cmd = [java, *service.java_opts, *extra, f"@{service.argfile}", service.main_class,
           "--data", str(service.data), "--port", str(port), "--host", "127.0.0.1"]
    env = dict(os.environ)
    if service is NEO4J:
        env["NEO4J_PASSWORD"] = password  # environment, not argv: `ps` must not show it
    with open(service.log, "wb") as log:
        log.write(f"# services/up {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
        log.flush()
        # A session of its own: the JVM survives this script and a Ctrl-C in the calling terminal.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=REPO, env=env, start_new_session=True)
    return Started(service, proc, port, time.monotonic())


def wait_all(started: list[Started], timeout: float) -> list[Started]:
    """Waits until every service is ready; returns the ones that failed (died or timed out)."""
    pending = list(started)
    failed: list[Started] = []
    while pending:
        for st in list(pending):
            if st.proc.poll() is not None:
                pending.remove(st)
                failed.append(st)
            elif ready(st.service, st.port):
                st.ready_after = time.monotonic() - st.started_at
                pending.remove(st)
            elif time.monotonic() - st.started_at > timeout:
                pending.remove(st)
                failed.append(st)
        time.sleep(0.25)
    return failed


# ---------------------------------------------------------------- commands


def up(names: list[str], timeout: float) -> int:
    total = time.monotonic()
    wanted = [SERVICES[n] for n in names]
    state = read_state()
    to_start: list[Service] = []
    for s in wanted:
        pid = state.get(s.pid_key)
        if pid and is_ours(int(pid), s):
            print(f"services: {s.name} already running (pid {pid}); `services/down {s.name}` to stop it")
        else:
            for key in KEYS[s.name]:
                state.pop(key, None)
            to_start.append(s)
    if not to_start:
        return 0

    java = find_java()
    resolve_s = build(to_start)
    print(f"services: resolve+compile {resolve_s:.1f} s" + (" (cached)" if resolve_s == 0 else ""), flush=True)

    password = os.environ.get("TALENTGRAPH_GRAPH_PASSWORD") or secrets.token_hex(12)
    if NEO4J in to_start and len(password) < 8:
        raise ServiceError(
            f"TALENTGRAPH_GRAPH_PASSWORD has {len(password)} characters; Neo4j needs at least 8. "
            "Set a longer one, or unset it to get a random password."
        )
    started = [launch(s, java, pick_port(s), password) for s in to_start]
    for st in started:
        print(f"services: {st.service.name} starting (pid {st.proc.pid}, port {st.port}, log {st.service.log})",
              flush=True)
    failed = wait_all(started, timeout)

    if failed:
        for st in failed:
            why = (f"exited with code {st.proc.returncode}" if st.proc.poll() is not None
                   else f"was not ready after {timeout:.0f} s")
            print(f"\nservices: {st.service.name} {why}. Last {LOG_TAIL_LINES} lines of {st.service.log}:",
                  file=sys.stderr)
            print(log_tail(st.service), file=sys.stderr)
        # Stop everything this run started: nothing unrecorded may outlive a failed `up` (CI sets its
        # `services/down` trap only after `up` succeeds).
        for st in started:
            stop_pid(st.proc.pid, st.service, grace=20)
        write_state(state)
        print(f"\nservices: up FAILED ({', '.join(st.service.name for st in failed)}).", file=sys.stderr)
        return 1

    for st in started:
        if st.service is NEO4J:
            state.update({
                "TALENTGRAPH_GRAPH_URL": f"bolt://127.0.0.1:{st.port}",
                "TALENTGRAPH_GRAPH_USER": "neo4j",
                "TALENTGRAPH_GRAPH_PASSWORD": password,
                "SERVICES_NEO4J_PID": str(st.proc.pid),
            })
        else:
            state.update({
                "TALENTGRAPH_SEARCH_URL": f"http://127.0.0.1:{st.port}",
                "TALENTGRAPH_SEARCH_ENGINE": "opensearch",
                "SERVICES_OPENSEARCH_PID": str(st.proc.pid),
            })
    write_state(state)
    for st in started:
        rss = rss_mib(st.proc.pid) or 0.0
        url = state["TALENTGRAPH_GRAPH_URL"] if st.service is NEO4J else state["TALENTGRAPH_SEARCH_URL"]
        print(f"services: {st.service.name} ready in {st.ready_after:.1f} s at {url} "
              f"(pid {st.proc.pid}, RSS {rss:.0f} MiB)")
    print(f"services: up in {time.monotonic() - total:.1f} s; state in {STATE_FILE.relative_to(REPO)}")
    return 0


def down(names: list[str], wipe: bool) -> int:
    state = read_state()
    for name in names:
        s = SERVICES[name]
        pid = state.get(s.pid_key)
        if pid:
            print(f"services: {name} (pid {pid}) {stop_pid(int(pid), s)}", flush=True)
        else:
            print(f"services: {name} has no pid in {STATE_FILE.relative_to(REPO)}; nothing to stop")
        for key in KEYS[name]:
            state.pop(key, None)
        if wipe and s.data.exists():
            shutil.rmtree(s.data)
            print(f"services: {name} data wiped ({s.data.relative_to(REPO)})")
    write_state(state)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start services in the background and wait until they answer")
    p_up.add_argument("names", nargs="*", metavar="SERVICE",
                      help="neo4j and/or opensearch (default: both)")
    p_up.add_argument("--timeout", type=float, default=float(os.environ.get("SERVICES_TIMEOUT", "180")),
                      help="seconds to wait for each service (default 180, or $SERVICES_TIMEOUT)")
    p_down = sub.add_parser("down", help="stop services recorded in .services/state.env")
    p_down.add_argument("names", nargs="*", metavar="SERVICE",
                        help="neo4j and/or opensearch (default: both)")
    p_down.add_argument("--wipe", action="store_true", help="also delete the services' data directories")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SERVICES]
    if unknown:
        parser.error(f"unknown service {unknown[0]!r}; expected one of: {', '.join(SERVICES)}")
    names = list(dict.fromkeys(args.names)) or list(SERVICES)
    STATE_DIR.mkdir(exist_ok=True)
    try:
        with open(STATE_DIR / ".lock", "w") as lock:
            # Two `up`s at once would both see the services stopped, both pick port 7687 and race on the state file.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if args.command == "up":
                return up(names, args.timeout)
            return down(names, args.wipe)
    except ServiceError as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
