"""The ``talentgraph`` command end to end: demo → stats → search, and ingest while a server owns the data dir.

LadybugDB allows one read-write process per database, so an ingest started while ``talentgraph
serve`` runs must go through the server (or fail with a clear error), never crash or lose a write.
These tests start real server / lock-holder processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from talentgraph.cli import main

RESIDENTS = 600


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTGRAPH_")}
    env["TALENTGRAPH_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "data"
    rc = main(["demo", "--residents", str(RESIDENTS), "--no-serve", "--quiet", "--data-dir", str(data)])
    assert rc == 0
    return data


def test_demo_ingests_everything_and_reports_the_quarantine(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--json", "--data-dir", str(demo_dir)]) == 0
    stats = json.loads(capsys.readouterr().out)
    # Residents, plus their second records (re-registrations, the volunteer register, the talent survey).
    assert stats["nodes"]["Person"] == len((demo_dir / "registers" / "truth.csv").read_text().splitlines()) - 1
    assert stats["nodes"]["Enterprise"] == 200
    assert stats["search_cursor"] == stats["change_log_seq"] > 0  # the index caught up with the graph
    quarantined = sorted(p.name for p in (demo_dir / "quarantine").iterdir())
    assert any(name.startswith("residents-") for name in quarantined)


def test_a_second_demo_start_does_not_ingest_the_same_registers_again(
        demo_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    capsys.readouterr()
    seq = _stat(demo_dir, capsys)["change_log_seq"]
    # Starts within one second of each other (they take well under one now) get keys of their own.
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "20261130120000")
    for _ in range(2):
        assert main(["demo", "--residents", str(RESIDENTS), "--no-serve", "--quiet", "--data-dir", str(demo_dir)]) == 0
        out = capsys.readouterr().out
        assert "already holds these registers" in out and "Ingest took" not in out and "Search sync took" not in out
    assert _stat(demo_dir, capsys)["change_log_seq"] == seq  # nothing written


def test_a_demo_whose_resolution_fails_indexes_what_it_wrote_and_names_the_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo indexes search once, after resolution: when resolution fails, what the ingest wrote is indexed all
    the same, and a sync failing too does not replace the error that says what went wrong."""
    import talentgraph.cli as cli
    from talentgraph.errors import StoreError
    from talentgraph.search.projection import SearchProjector

    def broken(*args: Any, **kwargs: Any) -> None:
        raise StoreError("resolution broke here", hint="fix resolution")

    monkeypatch.setattr(cli, "_demo_resolve", broken)
    data = tmp_path / "data"
    assert main(["demo", "--residents", "200", "--no-serve", "--quiet", "--data-dir", str(data)]) == 2
    assert "resolution broke here" in capsys.readouterr().err
    stats = _stat(data, capsys)
    assert stats["nodes"]["Person"] > 200 and stats["search_cursor"] == stats["change_log_seq"]

    def sync_broken(self: SearchProjector, **kwargs: Any) -> None:
        raise StoreError("the index broke too")

    monkeypatch.setattr(SearchProjector, "sync", sync_broken)
    again = tmp_path / "again"
    assert main(["demo", "--residents", "200", "--no-serve", "--quiet", "--data-dir", str(again)]) == 2
    err = capsys.readouterr().err
    assert "error: resolution broke here" in err and "error: the index broke too" not in err


def _stat(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["stats", "--json", "--data-dir", str(demo_dir)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_demo_makes_one_key_per_role_and_keeps_only_their_hashes(demo_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "list", "--json", "--data-dir", str(demo_dir)]) == 0
    keys = [k for k in json.loads(capsys.readouterr().out) if k["name"].startswith("demo-") and k["status"] == "active"]
    assert sorted(k["role"] for k in keys) == ["admin", "analyst", "platform", "staff"]
    assert next(k for k in keys if k["role"] == "staff")["areas"]  # scoped to a residential area
    stored = (demo_dir / "keys.json").read_text()
    assert "tg_admin_" in stored and len(stored) < 20_000  # prefixes only: hashes, never the keys
    assert oct((demo_dir / "keys.json").stat().st_mode & 0o777) == "0o600"


def _search_ids(demo_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> set[str]:
    assert main(["search", *args, "--json", "--first", "100", "--data-dir", str(demo_dir)]) == 0
    return {h["id"] for h in json.loads(capsys.readouterr().out)["hits"]}


def test_search_finds_russian_speaking_lawyers_in_chinese_and_english(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zh = _search_ids(demo_dir, capsys, "俄语 律师")
    en = _search_ids(demo_dir, capsys, "Russian lawyer")
    filtered = _search_ids(demo_dir, capsys, "律师", "--lang", "俄语")
    assert len(zh) >= 3
    assert filtered <= zh | en and filtered  # the filter form finds lawyers who speak Russian
    # "Russian" also names a nationality, so English may add Russian nationals; never drops a zh hit.
    assert zh <= en


def test_search_rejects_an_unknown_filter_value(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "律师", "--lang", "克林贡语", "--data-dir", str(demo_dir)]) == 2
    err = capsys.readouterr().err
    assert "克林贡语" in err and "languages" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(demo_dir: Path, tmp_path: Path) -> Iterator[str]:
    with _serving(demo_dir, tmp_path, "warning") as url:
        yield url


@contextlib.contextmanager
def _serving(demo_dir: Path, tmp_path: Path, level: str) -> Iterator[str]:
    """A real ``talentgraph serve`` on the demo data, its output in ``tmp_path / "server.log"``."""
    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "talentgraph.cli", "serve", "--port", str(port), "--log-level", level],
            env={**_env(demo_dir), "TALENTGRAPH_INGEST_ROOTS": str(tmp_path)}, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_servers_request_log_names_paths_and_parameters_but_not_what_was_searched_for(
    demo_dir: Path, tmp_path: Path
) -> None:
    """uvicorn logs each request's target as sent: a staff search and its suggestions name residents."""
    secret = "欧阳秘名"
    with _serving(demo_dir, tmp_path, "info") as url:
        httpx.get(url + "/suggest", params={"q": secret[:2]})
        httpx.get(url + "/", params={"q": secret, "lang": "ru"})
        httpx.get(url + "/graphql", params={"query": f'{{ search(query: "{secret}") {{ totalCount }} }}'})
        assert httpx.get(url + "/health?" + quote(secret)).status_code == 200
    text = (tmp_path / "server.log").read_text()
    for line in ('"GET /suggest?q=… HTTP/1.1"', '"GET /?q=…&lang=… HTTP/1.1"', '"GET /graphql?query=… HTTP/1.1"',
                 '"GET /health?… HTTP/1.1" 200', '"GET /health HTTP/1.1" 200'):
        assert line in text, text[-3000:]
    for leak in (secret, secret[:2], quote(secret), quote(secret[:2]), "search%28query", "search(query%3A"):
        assert leak not in text


def _extra_job(tmp_path: Path) -> Path:
    (tmp_path / "extra.csv").write_text(
        "居民编号,姓名,外文姓名,语言,技能\nXT0001,测试员甲,Ceshi Jia,俄语,律师\nXT0002,测试员乙,,英语,\n"
        "XT0003,,Nobody,英语,\n",
        encoding="utf-8",
    )
    job = tmp_path / "extra.yaml"
    job.write_text(
        "job: extra\nsource: {path: extra.csv}\nnodes:\n  - type: Person\n    key: '{居民编号}'\n"
        "    properties:\n      name: 姓名\n      latin_name: 外文姓名\n"
        "      languages: {column: 语言, split: '[,、]'}\n      skills: {column: 技能, split: '[,、]'}\n",
        encoding="utf-8",
    )
    return job


def test_a_local_ingest_says_what_its_search_sync_did_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """--json keeps stdout one JSON document; the sync's count and seconds go to stderr (bench/run.py reads them).
    The sync's document worker is started before the jobs and ended by the time the command returns."""
    import multiprocessing as mp

    from talentgraph.search.projection import SearchProjector

    started: list[int] = []
    start_builder = SearchProjector.start_builder

    def spy(self: SearchProjector) -> None:
        start_builder(self)
        started.append(len(mp.active_children()))

    monkeypatch.setattr(SearchProjector, "start_builder", spy)
    data = tmp_path / "data"
    assert main(["ingest", str(_extra_job(tmp_path)), "--json", "--quiet", "--data-dir", str(data)]) == 0
    assert started == [1] and mp.active_children() == []
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["inserted"] == 2
    line = re.search(r"^Search sync: (\d+) documents indexed, (\d+) removed, from (\d+) changes in ([\d.]+)s\.$",
                     captured.err, re.M)
    assert line is not None, captured.err
    assert (int(line[1]), int(line[2])) == (2, 0) and int(line[3]) >= 2 and float(line[4]) >= 0


def test_ingest_while_serving_goes_through_the_server(
    demo_dir: Path, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _extra_job(tmp_path)
    assert main(["ingest", str(job), "--json", "--quiet", "--data-dir", str(demo_dir)]) == 0
    captured = capsys.readouterr()
    assert "sending the job to" in captured.err
    summary = json.loads(captured.out)[0]
    assert (summary["rows_in"], summary["inserted"], summary["quarantined"]) == (3, 2, 1)
    # Keys are made through the running server too (it owns the data dir); the raw key is printed once.
    assert main(["keys", "create", "--name", "cli-analyst", "--role", "analyst", "--json",
                 "--data-dir", str(demo_dir)]) == 0
    key = json.loads(capsys.readouterr().out)["key"]
    # The server wrote it and its search index caught up: the new lawyer is searchable at once.
    q = '{ person(id: "per:XT0001") { name languages } search(query: "测试员甲") { hits { node { id } } } }'
    anonymous = httpx.post(server + "/graphql", json={"query": q}, timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    data = httpx.post(server + "/graphql", json={"query": q}, headers={"Authorization": f"Bearer {key}"},
                      timeout=30).json()["data"]
    assert data["person"] == {"name": "测试员甲", "languages": ["ru"]}
    assert {"node": {"id": "per:XT0001"}} in data["search"]["hits"]


def test_stats_and_vocab_while_serving_go_through_the_server(
    demo_dir: Path, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each would need the data dir the server holds; each is sent to the server instead (issue: stats refused)."""
    (tmp_path / "wine.csv").write_text("居民编号,姓名,技能\nWT0001,品酒员甲,侍酒师品鉴\n", encoding="utf-8")
    job = tmp_path / "wine.yaml"
    job.write_text("job: wine\nsource: {path: wine.csv}\nnodes:\n  - type: Person\n    key: '{居民编号}'\n"
                   "    properties:\n      name: 姓名\n      skills: {column: 技能, split: '[,、]'}\n", encoding="utf-8")
    assert main(["ingest", str(job), "--quiet", "--data-dir", str(demo_dir)]) == 0
    capsys.readouterr()
    assert main(["stats", "--json", "--data-dir", str(demo_dir)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["nodes"]["Person"] > RESIDENTS and stats["search_cursor"] == stats["change_log_seq"]
    assert main(["vocab", "pending", "--json", "--server", server, "--data-dir", str(demo_dir)]) == 0
    queue = json.loads(capsys.readouterr().out)
    assert {"id": "per:WT0001", "job": "wine", "row": 1} in next(q for q in queue if q["value"] == "侍酒师品鉴")["examples"]
    assert main(["vocab", "alias", "skills", "cooking", "侍酒师品鉴", "--data-dir", str(demo_dir)]) == 0
    assert "Re-normalised 1 record(s)" in capsys.readouterr().out
    assert main(["vocab", "pending", "--json", "--data-dir", str(demo_dir)]) == 0
    assert "侍酒师品鉴" not in {q["value"] for q in json.loads(capsys.readouterr().out)}
    assert main(["vocab", "renormalise", "--data-dir", str(demo_dir)]) == 0
    assert "Re-normalised 0 record(s)" in capsys.readouterr().out
    assert main(["vocab", "alias", "skills", "nope", "x", "--data-dir", str(demo_dir)]) == 2
    assert "'nope'" in capsys.readouterr().err


def test_reindex_while_serving_goes_through_the_server(
    demo_dir: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server holds the data dir, so the rebuild runs there (it was refused: "in use by another process"), and
    the server's searches answer from the index it swapped in."""
    assert main(["keys", "create", "--name", "cli-reindex", "--role", "analyst", "--json",
                 "--data-dir", str(demo_dir)]) == 0
    key = json.loads(capsys.readouterr().out)["key"]
    q = '{ search(query: "俄语 律师", first: 50) { totalCount hits { node { id } } } }'

    def found() -> Any:
        r = httpx.post(server + "/graphql", json={"query": q}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["data"]["search"]

    before = found()
    assert before["totalCount"] > 0
    assert main(["reindex", "--data-dir", str(demo_dir)]) == 0
    captured = capsys.readouterr()
    assert f"The server at {server} owns" in captured.err and "swapped atomically" in captured.out
    assert found() == before


def test_a_job_outside_the_ingest_roots_is_refused_by_the_server(
    demo_dir: Path, server: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    rc = main(["ingest", str(_extra_job(elsewhere)), "--quiet", "--data-dir", str(demo_dir)])
    err = capsys.readouterr().err
    assert rc == 2 and "outside the directories" in err and str(elsewhere) not in err.split("hint")[0]


def test_ingest_against_a_busy_database_fails_clearly(demo_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from talentgraph.graph.ladybug.store import LadybugGraphStore;"
         f"g = LadybugGraphStore(Path({str(demo_dir / 'graph')!r})); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        rc = main(["ingest", str(_extra_job(tmp_path)), "--quiet", "--data-dir", str(demo_dir)])
        err = capsys.readouterr().err
        assert rc == 2
        assert f"pid {holder.pid}" in err and "in use" in err
    finally:
        holder.terminate()
        holder.wait(timeout=30)
        if holder.stdout:
            holder.stdout.close()


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("demo", "generate", "ingest", "serve", "search", "reindex", "stats", "vocab"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "TALENTGRAPH_DATA_DIR" in out


def test_reindex_rebuilds_with_the_same_results(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _search_ids(demo_dir, capsys, "俄语 律师")
    assert main(["reindex", "--data-dir", str(demo_dir)]) == 0
    assert "swapped" in capsys.readouterr().out
    assert _search_ids(demo_dir, capsys, "俄语 律师") == before


def test_the_demo_generates_in_a_second_process_while_it_warms_up(tmp_path: Path) -> None:
    """Generation runs in a child process while the demo builds every role's schema and opens its stores; the registers are
    the ones the generator writes in process, and a generator that fails stops the demo with its own error
    shown and what was opened meanwhile closed."""
    from talentgraph import cli
    from talentgraph.access.policy import POLICY
    from talentgraph.api import schema
    from talentgraph.config import Settings
    from talentgraph.demo import generator

    class Opened:
        closed = False

        def close(self) -> None:
            self.closed = True

    settings = Settings(data_dir=tmp_path / "data")
    schema._BUILT.clear()
    opened = Opened()

    def warm() -> Opened:
        cli._warm_serving(settings)
        return opened

    assert cli._generate_while(warm, tmp_path / "forked", 300, 3) is opened and not opened.closed
    generator.generate(tmp_path / "here", residents=300, seed=3)
    written = sorted(p.name for p in (tmp_path / "forked").iterdir() if p.is_file())
    assert written and written == sorted(p.name for p in (tmp_path / "here").iterdir() if p.is_file())
    for name in written:
        assert (tmp_path / "forked" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
    assert {key[1] for key in schema._BUILT} == set(POLICY.roles)

    # The child is a process of its own (spawned): a generator that refuses its arguments fails there.
    again = Opened()
    with pytest.raises(cli.TalentgraphError, match="Generating the registers failed"):
        cli._generate_while(lambda: again, tmp_path / "broken", 50, 3)  # under the 100 residents it needs
    assert again.closed


def test_settings_given_before_an_action_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`keys --data-dir D create` wrote the key into ./talentgraph-data: the action's parser reset the flag."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.delenv("TALENTGRAPH_DATA_DIR", raising=False)
    data = tmp_path / "data"
    assert main(["keys", "--data-dir", str(data), "create", "--name", "before", "--role", "analyst", "--json"]) == 0
    assert main(["keys", "create", "--name", "after", "--role", "platform", "--json", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    assert main(["keys", "--data-dir", str(data), "list", "--json"]) == 0
    assert {k["name"] for k in json.loads(capsys.readouterr().out)} == {"before", "after"}
    assert list(here.iterdir()) == []  # nothing written where the command ran


def _exchange(url: str, pieces: list[bytes], pause: float = 0.1) -> bytes:
    """Raw bytes to the server, in pieces, and everything it answers until it closes."""
    where = httpx.URL(url)
    with socket.create_connection((where.host, where.port), timeout=30) as conn:
        for piece in pieces:
            try:
                conn.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):  # refused before the rest was sent
                break
            time.sleep(pause)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def _refusal(answer: bytes, status: bytes) -> str:
    line, _, rest = answer.partition(b"\r\n")
    assert line == b"HTTP/1.1 " + status, answer[:300]
    error = json.loads(rest.split(b"\r\n\r\n", 1)[1])["errors"][0]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE" and error["extensions"]["hint"]
    return str(error["message"])


def test_a_request_head_past_the_limits_is_refused_before_the_app_and_the_server_goes_on(server: str) -> None:
    """uvicorn's httptools protocol keeps a URL and headers of any length, and answers a URL past 64 KiB with a
    plain-text 400; the server's refuses such a URL (414) and a request line and headers past the size of a body
    (1 MiB by default; 431) in the error shape, however they arrive, and goes on serving."""
    host = b"Host: " + httpx.URL(server).netloc + b"\r\n"

    def pieces(data: bytes, size: int) -> list[bytes]:
        return [data[i:i + size] for i in range(0, len(data), size)]

    endless = b"GET /graphql?query=" + b"x" * (4 * 1024 * 1024) + b" HTTP/1.1\r\n" + host + b"\r\n"
    assert "65,535 bytes" in _refusal(_exchange(server, pieces(endless, 100_000), 0.0), b"414 URI Too Long")
    flood = b"GET /health HTTP/1.1\r\n" + host + b"X-A: b\r\n" * 200_000 + b"\r\n"  # many small headers
    assert "1,048,576 bytes" in _refusal(_exchange(server, pieces(flood, 100_000), 0.0),
                                         b"431 Request Header Fields Too Large")
    one = b"GET /health HTTP/1.1\r\n" + host + b"X-A: " + b"v" * (2 * 1024 * 1024) + b"\r\n\r\n"  # one huge
    _refusal(_exchange(server, pieces(one, 100_000), 0.0), b"431 Request Header Fields Too Large")
    # A long URL under the limit, in pieces, then a second request on the same connection: both answered.
    long = b"GET /health?pad=" + b"y" * 60_000 + b" HTTP/1.1\r\n" + host + b"\r\n"
    again = b"GET /health HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
    answer = _exchange(server, [long[:30_000], long[30_000:], again])
    assert answer.count(b"HTTP/1.1 200 OK") == 2, answer[:300]
    assert httpx.get(server + "/health").json()["status"] == "ok"
