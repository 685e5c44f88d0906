"""The audit log on real files: a hash chain across rotated files that shows any edit, cut or gap."""

from __future__ import annotations

import json
import multiprocessing
import stat
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentgraph.access.audit import GENESIS, AuditEntry, AuditLog, _canonical, _encode_entry
from talentgraph.errors import ConfigError, ValidationError


def _append(log: AuditLog, i: int = 0, **overrides: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "principal": "huamu-staff-wang", "role": "staff", "via": "key", "operation": "search",
        "document_hash": "9f" * 32, "person_ids": (f"per:LY{i:06d}", "per:LY000999"), "count": 2,
        "outcome": "ok", "status": 200, "duration_ms": 12.5, "path": "/graphql", **overrides}
    return log.append(**fields)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture()
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit")


def test_entries_chain_and_files_are_private(log: AuditLog) -> None:
    first = _append(log, 1)
    second = _append(log, 2, outcome="denied", status=403, person_ids=(), count=None, detail="policy: outside area")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert datetime.fromisoformat(first.at).tzinfo is not None
    assert stat.S_IMODE(log.directory.stat().st_mode) == 0o700
    path = log.directory / "audit-000001.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = [json.loads(line) for line in _lines(path)]
    assert stored == [first.to_dict(), second.to_dict()]
    assert log.verify().ok and log.verify().entries == 2 and log.verify().last_hash == second.hash


def test_an_existing_open_directory_is_closed_to_others(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir(mode=0o755)
    (tmp_path / "audit").chmod(0o755)
    AuditLog(tmp_path / "audit")
    assert stat.S_IMODE((tmp_path / "audit").stat().st_mode) == 0o700


def test_read_filters_newest_last(log: AuditLog) -> None:
    for i in range(10):
        _append(log, i, principal="analyst-li" if i % 2 else "huamu-staff-wang")
    assert [e.seq for e in log.read(person="per:LY000003")] == [4]
    assert len(log.read(person="per:LY000999")) == 10
    assert [e.seq for e in log.read(principal="analyst-li")] == [2, 4, 6, 8, 10]
    assert [e.seq for e in log.read(principal="analyst-li", limit=2)] == [8, 10]
    middle = log.read()[4].at
    assert [e.seq for e in log.read(since=middle)] == [5, 6, 7, 8, 9, 10]
    assert [e.seq for e in log.read(until=datetime.fromisoformat(middle))] == [1, 2, 3, 4]
    today = datetime.now(UTC).date()
    assert len(log.read(since=today.isoformat(), until=today.isoformat())) == 10  # a bare `until` date is inclusive
    assert log.read(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    with pytest.raises(ValidationError, match="ISO-8601"):
        log.read(since="last tuesday")
    with pytest.raises(ValidationError, match="positive"):
        log.read(limit=0)


def test_rotation_keeps_one_chain_across_files(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit", max_bytes=2048)
    entries = [_append(log, i) for i in range(40)]
    files = sorted(log.directory.glob("audit-*.jsonl"))
    assert len(files) >= 5
    assert all(f.stat().st_size <= 2048 for f in files)
    second_first = json.loads(_lines(files[1])[0])
    assert second_first["prev_hash"] == json.loads(_lines(files[0])[-1])["hash"]
    assert [e.seq for e in log.read()] == list(range(1, 41))
    result = log.verify()
    assert result.ok and result.entries == 40 and result.last_hash == entries[-1].hash


def test_a_restart_continues_the_chain(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit", max_bytes=2048) as log:
        last = [_append(log, i) for i in range(12)][-1]
    again = AuditLog(tmp_path / "audit", max_bytes=2048)
    entry = _append(again, 99)
    assert entry.seq == 13 and entry.prev_hash == last.hash
    assert again.verify().ok


# --- tampering -------------------------------------------------------------------------------------

@pytest.fixture()
def filled(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit", max_bytes=4096)
    for i in range(30):
        _append(log, i)
    assert log.verify().ok
    return log


def _file(log: AuditLog, n: int) -> Path:
    return log.directory / f"audit-{n:06d}.jsonl"


def test_a_changed_byte_in_a_middle_line_is_found_at_its_line(filled: AuditLog) -> None:
    path = _file(filled, 1)
    lines = _lines(path)
    lines[3] = lines[3].replace(b'"status":200', b'"status":201')
    path.write_bytes(b"".join(lines))
    result = filled.verify()
    assert not result.ok and result.at == "audit-000001.jsonl:4" and "edited" in (result.problem or "")


@pytest.mark.parametrize("edit", [
    lambda line: line.replace(b"per:LY000004", b"per:LY000005"),  # a value
    lambda line: line[:-3] + bytes([line[-3] ^ 1]) + line[-2:],  # a byte of the stored hash
    lambda line: line.replace(b'"count":2', b'"count": 2'),  # only whitespace
    lambda line: line.replace(b'"count":2,', b""),  # a whole field
    lambda line: line[:20] + b"\x00" + line[21:],  # garbage
])
def test_every_kind_of_edit_is_found(filled: AuditLog, edit: Any) -> None:
    path = _file(filled, 1)
    lines = _lines(path)
    lines[4] = edit(lines[4])
    path.write_bytes(b"".join(lines))
    result = filled.verify()
    assert not result.ok and result.at == "audit-000001.jsonl:5", result


def test_a_deleted_line_is_found(filled: AuditLog) -> None:
    path = _file(filled, 1)
    lines = _lines(path)
    del lines[2]
    path.write_bytes(b"".join(lines))
    result = filled.verify()
    assert not result.ok and result.at == "audit-000001.jsonl:3" and "deleted" in (result.problem or "")
    assert result.entries == 2


def test_reordered_lines_are_found(filled: AuditLog) -> None:
    path = _file(filled, 2)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    result = filled.verify()
    assert not result.ok and result.at == "audit-000002.jsonl:2"


def test_a_removed_middle_file_is_found(filled: AuditLog) -> None:
    assert _file(filled, 3).exists()
    _file(filled, 2).unlink()
    result = filled.verify()
    assert not result.ok and "audit-000002.jsonl is missing" in (result.problem or "")
    assert result.at == "audit-000003.jsonl:1"


def test_a_middle_file_renamed_to_close_the_gap_is_found(filled: AuditLog) -> None:
    numbers = sorted(int(p.name[6:12]) for p in filled.directory.glob("audit-*.jsonl"))
    _file(filled, 2).unlink()
    for n in numbers[2:]:
        _file(filled, n).rename(_file(filled, n - 1))
    result = filled.verify()
    assert not result.ok and result.at == "audit-000002.jsonl:1"


def test_a_truncated_tail_is_found(filled: AuditLog) -> None:
    last = sorted(filled.directory.glob("audit-*.jsonl"))[-1]
    lines = _lines(last)
    last.write_bytes(b"".join(lines[:-2]))  # two whole entries cut from the end
    result = filled.verify()
    assert not result.ok and "removed from the end" in (result.problem or "")

    last.write_bytes(b"".join(lines)[:-10])  # cut mid-line
    result = filled.verify()
    assert not result.ok and result.at == f"{last.name}:{len(lines)}" and "incomplete" in (result.problem or "")


def test_a_deleted_last_file_is_found(filled: AuditLog) -> None:
    sorted(filled.directory.glob("audit-*.jsonl"))[-1].unlink()
    assert "removed from the end" in (filled.verify().problem or "")


def test_a_deleted_first_file_or_head_is_found(filled: AuditLog) -> None:
    (filled.directory / "audit.head").unlink()
    assert "audit.head is missing" in (filled.verify().problem or "")
    _file(filled, 1).unlink()
    result = filled.verify()
    assert "audit-000001.jsonl is missing: the log starts at audit-000002.jsonl" in (result.problem or "")


def test_a_rewritten_chain_is_caught_by_an_anchor_kept_elsewhere(filled: AuditLog, tmp_path: Path) -> None:
    anchor = (filled.verify().last_seq - 5, filled.read()[-6].hash)
    assert filled.verify(anchor=anchor).ok
    for p in filled.directory.iterdir():  # someone with write access rebuilds a consistent history
        p.unlink()
    forged = AuditLog(filled.directory, max_bytes=4096)
    for i in range(30):
        _append(forged, i, principal="someone-else")
    assert forged.verify().ok  # consistent in itself…
    result = forged.verify(anchor=anchor)
    assert not result.ok and "anchor" in (result.problem or "")  # …but not the history recorded elsewhere


def test_a_head_one_entry_behind_is_a_crash_not_tampering(filled: AuditLog) -> None:
    second_last = filled.read()[-2]
    (filled.directory / "audit.head").write_text(f"{second_last.seq:020d} {second_last.hash}\n")
    assert filled.verify().ok
    older = filled.read()[-3]
    (filled.directory / "audit.head").write_text(f"{older.seq:020d} {older.hash}\n")
    assert not filled.verify().ok


def test_a_torn_write_is_sealed_reported_and_the_chain_goes_on(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    last = [_append(log, i) for i in range(3)][-1]
    log.close()
    path = _file(log, 1)
    with path.open("ab") as f:
        f.write(b'{"count":2,"detail":null,"docu')  # a crash in the middle of a write
    after = AuditLog(tmp_path / "audit")
    entry = _append(after, 4)
    assert entry.seq == 4 and entry.prev_hash == last.hash
    assert [e.seq for e in after.read()] == [1, 2, 3, 4]
    result = after.verify()
    assert not result.ok and result.at == "audit-000001.jsonl:4" and "not valid JSON" in (result.problem or "")


# --- concurrency and cost --------------------------------------------------------------------------

def _append_many(directory: str, who: str, n: int, start: Any) -> None:
    log = AuditLog(Path(directory), max_bytes=8192)
    start.wait()  # both processes append at the same time, not one after the other's start-up
    for i in range(n):
        _append(log, i, principal=who)


def test_two_processes_appending_keep_one_valid_chain(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_append_many, args=(str(directory), who, 1000, start)) for who in ("proc-a", "proc-b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    log = AuditLog(directory, max_bytes=8192)
    result = log.verify()
    assert result.ok and result.entries == 2000, result
    entries = log.read()
    assert [e.seq for e in entries] == list(range(1, 2001))
    principals = [e.principal for e in entries]
    switches = sum(a != b for a, b in zip(principals, principals[1:], strict=False))
    assert switches > 10  # they really interleaved
    assert len(list(directory.glob("audit-*.jsonl"))) > 10  # they rotated under each other too


def _append_from_fork(log: AuditLog) -> None:
    for i in range(100):
        _append(log, i, principal="child")


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_reopens_its_lock(log: AuditLog) -> None:
    _append(log, 0)  # the parent now holds open descriptors the child inherits
    child = multiprocessing.get_context("fork").Process(target=_append_from_fork, args=(log,))
    child.start()
    for i in range(100):
        _append(log, i, principal="parent")
    child.join(60)
    assert child.exitcode == 0
    assert log.verify().ok and log.verify().entries == 201


def test_threads_share_one_log(log: AuditLog) -> None:
    threads = [threading.Thread(target=lambda: [_append(log, i) for i in range(100)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.verify().ok and log.verify().entries == 400


def test_append_is_cheap(log: AuditLog) -> None:
    _append(log)
    samples = []
    for i in range(2000):
        start = time.perf_counter()
        _append(log, i)
        samples.append(time.perf_counter() - start)
    # Typically 40-80 µs; the bound is loose so a busy CI machine does not fail it.
    assert statistics.median(samples) < 1e-3, f"median append {statistics.median(samples) * 1e6:.0f} µs"


def test_bad_input(log: AuditLog, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        _append(log, duration_ms=float("nan"))
    assert _append(log, person_ids="per:LY000001").person_ids == ("per:LY000001",)
    with pytest.raises(ConfigError):
        AuditLog(tmp_path / "x", max_bytes=10)


@settings(max_examples=300, deadline=None)
@given(text=st.text(), ids=st.lists(st.text(), max_size=4), count=st.none() | st.integers(),
       duration=st.floats(allow_nan=False, allow_infinity=False), detail=st.none() | st.text())
def test_the_fast_entry_encoder_is_the_canonical_json(text: str, ids: list[str], count: int | None, duration: float,
                                                      detail: str | None) -> None:
    body = {"principal": text, "role": "staff", "via": "key", "operation": text[::-1], "document_hash": detail,
            "person_ids": ids, "count": count, "outcome": "ok", "status": 200, "duration_ms": duration,
            "path": "/graphql", "detail": detail, "seq": 7, "at": "2025-03-01T08:00:00.000001+00:00",
            "prev_hash": GENESIS}
    assert _encode_entry(body) == _canonical(body)


def test_unusual_text_round_trips_and_verifies(log: AuditLog) -> None:
    entry = _append(log, principal='张伟 "quoted"\n\u2028', detail="\x00\ud800 lone surrogate")
    assert log.read()[0] == entry
    assert log.verify().ok


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    result = AuditLog(tmp_path / "audit").verify()
    assert result.ok and result.entries == 0 and result.last_hash == GENESIS
    assert AuditLog(tmp_path / "audit").read() == []
