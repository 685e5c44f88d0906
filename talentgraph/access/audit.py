"""The access record PIPL art. 55 asks for: who processed whose personal information, when, how.

The audit keeps the fact, not the data. An entry names the caller (key or token name, role, how
they authenticated), the operation, a hash of the query document, the *ids* of the persons whose
data was returned (``per:…``), a count, the outcome and timing — never names, phone numbers,
identity numbers or search text. Whoever calls ``append`` must keep it that way: ``detail`` is for
machine-readable reasons ("policy: staff outside area"), not for copying what was asked or shown.

Layout: ``<dir>/audit-000001.jsonl``, ``audit-000002.jsonl``, … (JSON Lines, mode 0600, in a 0700
directory), a new file once the current one would grow past ``max_bytes``, and ``audit.head``,
which holds the sequence number and hash of the last entry and doubles as the ``flock`` that
serialises appends across processes.

Every entry is hash-chained: ``hash = sha256(prev_hash + canonical JSON of the entry without
hash)`` where canonical is sorted keys, no spaces, ASCII; the stored line is that JSON with
``"hash"`` added as the last member. The first entry chains from 64 zeros and the first entry of
each file from the last entry of the file before. ``verify`` recomputes the
chain, so an edited byte, a deleted, inserted or reordered line, or a missing middle file shows up
at the ``file:line`` where the chain breaks; the head catches entries cut from the end.

A chain kept on the same disk proves consistency, not authenticity: someone who can write these
files can rewrite the whole chain and the head. To close that gap, copy ``verify().last_hash``
somewhere they cannot write (a daily job, a ticket) and pass it back as ``verify(anchor=…)``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from json.encoder import encode_basestring_ascii as _esc
from typing import Any

from talentgraph.errors import ConfigError, StoreError, ValidationError

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD_NAME = "audit.head"
MiB = 1024 * 1024
_FILE = re.compile(r"audit-(\d{6,})\.jsonl")
_HEAD_LEN = 20 + 1 + 64 + 1  # "<seq:020d> <hash>\n": fixed width, so one pwrite replaces it in place
_BLOCK = 64 * 1024

# Fields and the JSON types they must have in a stored entry (verify checks them).
_FIELDS: dict[str, tuple[type, ...]] = {
    "seq": (int,), "at": (str,), "principal": (str,), "role": (str,), "via": (str,), "operation": (str,),
    "document_hash": (str, type(None)), "person_ids": (list,), "count": (int, type(None)), "outcome": (str,),
    "status": (int,), "duration_ms": (float, int), "path": (str,), "detail": (str, type(None)),
    "prev_hash": (str,), "hash": (str,),
}


@dataclass(frozen=True)
class AuditEntry:
    seq: int  # 1, 2, 3… across all files
    at: str  # ISO-8601 UTC with microseconds; same width always, so strings sort by time
    principal: str
    role: str
    via: str
    operation: str
    document_hash: str | None
    person_ids: tuple[str, ...]
    count: int | None
    outcome: str
    status: int
    duration_ms: float
    path: str
    detail: str | None
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["person_ids"] = list(self.person_ids)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuditEntry:
        return cls(**{**{k: d[k] for k in _FIELDS}, "person_ids": tuple(d["person_ids"])})


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    entries: int
    problem: str | None = None
    at: str | None = None  # "audit-000002.jsonl:17"
    last_seq: int = 0
    last_hash: str = GENESIS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tail:
    """Where the next entry goes and what it chains from, as this process last saw it."""

    number: int
    path: str  # str, not Path: these are stat-ed on every append and pathlib costs microseconds
    next_path: str
    fd: int
    ino: int
    size: int
    seq: int
    hash: str


class AuditLog:
    """Append-only, hash-chained audit files in one directory. Thread- and process-safe."""

    def __init__(self, directory: Path, *, max_bytes: int = 64 * MiB, fsync: bool = False) -> None:
        if max_bytes < 1024:
            raise ConfigError(f"audit_max_bytes {max_bytes} is too small.", hint="Use at least 1024 (default 64 MiB).")
        self.directory = directory
        self.max_bytes = max_bytes
        self.fsync = fsync
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if directory.stat().st_mode & 0o077:
                directory.chmod(0o700)  # the record of who saw whom is itself personal information
        except OSError as exc:
            raise ConfigError(f"The audit directory {directory} cannot be used ({exc.strerror}).",
                              hint="Point the data dir at a directory this user owns and can write.") from None
        self._head = directory / HEAD_NAME
        self._mutex = threading.Lock()
        self._pid = -1
        self._head_fd = -1
        self._tail: _Tail | None = None

    # --- appending -----------------------------------------------------------------------------------

    def append(self, *, principal: str, role: str, via: str, operation: str, document_hash: str | None,
               person_ids: Sequence[str] = (), count: int | None = None, outcome: str, status: int,
               duration_ms: float, path: str = "", detail: str | None = None) -> AuditEntry:
        if isinstance(person_ids, str):  # one id passed bare would otherwise become its characters
            person_ids = (person_ids,)
        if duration_ms != duration_ms or duration_ms in (float("inf"), float("-inf")):
            raise ValidationError("duration_ms", duration_ms, "a finite number of milliseconds")
        fields: dict[str, Any] = {
            "principal": str(principal), "role": str(role), "via": str(via), "operation": str(operation),
            "document_hash": None if document_hash is None else str(document_hash),
            "person_ids": [str(p) for p in person_ids], "count": None if count is None else int(count),
            "outcome": str(outcome), "status": int(status), "duration_ms": round(float(duration_ms), 3),
            "path": str(path), "detail": None if detail is None else str(detail),
        }
        with self._mutex:
            try:
                self._ensure_open()
                fcntl.flock(self._head_fd, fcntl.LOCK_EX)
                try:
                    return self._append_locked(fields)
                finally:
                    fcntl.flock(self._head_fd, fcntl.LOCK_UN)
            except OSError as exc:
                raise StoreError(f"The audit log in {self.directory} could not be written ({exc.strerror}).",
                                 hint="Free disk space or fix the directory's permissions; requests that must be "
                                 "audited cannot proceed until then.") from exc

    def _append_locked(self, fields: dict[str, Any]) -> AuditEntry:
        tail = self._current_tail()
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        body = {**fields, "seq": tail.seq + 1, "at": at, "prev_hash": tail.hash}
        canonical = _encode_entry(body)
        digest = hashlib.sha256(tail.hash.encode("ascii") + canonical).hexdigest()
        line = _line(canonical, digest)
        if tail.size > 0 and tail.size + len(line) > self.max_bytes:
            tail = self._rotate(tail)
        _write_all(tail.fd, line)
        if self.fsync:
            os.fsync(tail.fd)
        os.pwrite(self._head_fd, f"{tail.seq + 1:020d} {digest}\n".encode("ascii"), 0)
        if self.fsync:
            os.fsync(self._head_fd)
        tail.size += len(line)
        tail.seq += 1
        tail.hash = digest
        return AuditEntry(seq=tail.seq, at=at, principal=fields["principal"], role=fields["role"], via=fields["via"],
                          operation=fields["operation"], document_hash=fields["document_hash"],
                          person_ids=tuple(fields["person_ids"]), count=fields["count"], outcome=fields["outcome"],
                          status=fields["status"], duration_ms=fields["duration_ms"], path=fields["path"],
                          detail=fields["detail"], prev_hash=body["prev_hash"], hash=digest)

    def _ensure_open(self) -> None:
        """(Re)open the head after construction or in a forked child.

        flock belongs to the open file description, which a fork shares: a child using its
        parent's descriptor would not be excluded by the parent's lock.
        """
        if self._pid == os.getpid():
            return
        self._tail = None  # inherited descriptors are left to the parent
        self._head_fd = os.open(self._head, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._pid = os.getpid()

    def _current_tail(self) -> _Tail:
        """The cached tail if no other process appended or rotated since, else the tail re-read from disk."""
        tail = self._tail
        if tail is not None:
            try:
                st = os.stat(tail.path)
                unchanged = st.st_ino == tail.ino and st.st_size == tail.size and not os.path.exists(tail.next_path)
            except FileNotFoundError:
                unchanged = False
            if unchanged:
                return tail
            os.close(tail.fd)
            self._tail = None
        self._tail = self._recover()
        return self._tail

    def _recover(self) -> _Tail:
        """Find the last entry on disk (after a restart, or another process's append)."""
        numbers = self._numbers()
        number = numbers[-1] if numbers else 1
        fd = self._open_for_append(number, create=not numbers)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A write cut short by a crash. Terminate the fragment so the next entry starts on its
            # own line; verify will still report the fragment — it is evidence, not ours to delete.
            log.warning("audit: %s ends in an incomplete line; sealing it and continuing the chain",
                        self._path(number).name)
            _write_all(fd, b"\n")
            size += 1
        seq, digest = 0, GENESIS
        for n in reversed(numbers):
            found = self._last_entry(n)
            if found is not None:
                seq, digest = found.seq, found.hash
                break
        return self._make_tail(number, fd, size=size, seq=seq, digest=digest)

    def _rotate(self, tail: _Tail) -> _Tail:
        os.close(tail.fd)
        number = tail.number + 1
        fd = self._open_for_append(number, create=True)
        self._tail = self._make_tail(number, fd, size=0, seq=tail.seq, digest=tail.hash)
        return self._tail

    def _make_tail(self, number: int, fd: int, *, size: int, seq: int, digest: str) -> _Tail:
        return _Tail(number=number, path=str(self._path(number)), next_path=str(self._path(number + 1)), fd=fd,
                     ino=os.fstat(fd).st_ino, size=size, seq=seq, hash=digest)

    def _open_for_append(self, number: int, *, create: bool) -> int:
        # RDWR, not WRONLY: recovery preads the last byte to find a torn line.
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
        fd = os.open(self._path(number), flags, 0o600)
        if create and self.fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return fd

    def close(self) -> None:
        with self._mutex:
            if self._pid == os.getpid():
                if self._tail is not None:
                    os.close(self._tail.fd)
                os.close(self._head_fd)
            self._tail = None
            self._pid = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------------------

    def read(self, *, person: str | None = None, principal: str | None = None,
             since: datetime | date | str | None = None, until: datetime | date | str | None = None,
             limit: int | None = None) -> list[AuditEntry]:
        """Matching entries, oldest first; with ``limit``, the newest ``limit`` of them.

        ``since`` is inclusive, ``until`` exclusive; a bare date for ``until`` (``2025-03-31``) means
        through the end of that day. Times without a zone are UTC. Unreadable lines are skipped
        here; ``verify`` is what reports them.
        """
        if limit is not None and limit < 1:
            raise ValidationError("limit", limit, "a positive number of entries", hint="Omit it for all entries.")
        lo = _bound(since, "since", end_of_day=False)
        hi = _bound(until, "until", end_of_day=True)
        found: deque[AuditEntry] = deque(maxlen=limit)
        sizes, _ = self._snapshot()
        # Every line is read, none skipped by time: a clock stepped back would otherwise hide entries
        # from a data subject's access request.
        for number, size in sizes:
            for _, raw in self._lines(number, size):
                try:
                    entry = AuditEntry.from_dict(json.loads(raw))
                except (ValueError, KeyError, TypeError):
                    continue
                if ((lo is None or entry.at >= lo) and (hi is None or entry.at < hi)
                        and (principal is None or entry.principal == principal)
                        and (person is None or person in entry.person_ids)):
                    found.append(entry)
        return list(found)

    def verify(self, *, anchor: tuple[int, str] | None = None) -> AuditVerification:
        """Recompute the chain over every file; the first problem found, with its ``file:line``.

        ``anchor`` is a ``(seq, hash)`` recorded earlier outside this machine (``last_seq``,
        ``last_hash`` of an earlier verification); the chain must still pass through it.
        """
        sizes, head = self._snapshot()
        prev, seq = GENESIS, 0
        where: str | None = None
        wanted = {pin[0] for pin in (head, anchor) if pin is not None}  # entries whose hash we check at the end
        seen: dict[int, str] = {}

        def fail(problem: str, at: str | None) -> AuditVerification:
            return AuditVerification(ok=False, entries=seq, problem=problem, at=at, last_seq=seq, last_hash=prev)

        if not sizes and head and head[0] > 0:
            return fail(f"The audit files are gone but {HEAD_NAME} records entry {head[0]}.", None)
        if sizes and head is None:
            head = (0, GENESIS)  # as if never written: fine for a first entry, a finding after that
        expected = 1
        for number, size in sizes:
            name = self._path(number).name
            if number != expected:
                missing = self._path(expected).name
                before = self._path(expected - 1).name
                after = f"the log starts at {name}" if expected == 1 else f"the files go from {before} to {name}"
                return fail(f"{missing} is missing: {after}.", f"{name}:1")
            expected += 1
            for lineno, raw in self._lines(number, size):
                where = f"{name}:{lineno}"
                if not raw.endswith(b"\n"):
                    return fail("The line is incomplete: the file was cut off (or a write was interrupted).", where)
                try:
                    d = json.loads(raw)
                except ValueError:
                    return fail("The line is not valid JSON: it was edited or damaged.", where)
                problem = _shape_problem(d)
                if problem:
                    return fail(problem, where)
                body = {k: v for k, v in d.items() if k != "hash"}
                canonical = _canonical(body)
                if _line(canonical, d["hash"]) != raw:
                    return fail("The line is not in canonical form: it was edited.", where)
                if d["seq"] != seq + 1:
                    return fail(f"Expected entry {seq + 1} but found {d['seq']}: entries were deleted, inserted or "
                                "reordered before this line.", where)
                if d["prev_hash"] != prev:
                    return fail(f"Entry {d['seq']} does not chain from entry {seq}: that entry was changed or "
                                "replaced.", where)
                digest = hashlib.sha256(prev.encode("ascii") + canonical).hexdigest()
                if digest != d["hash"]:
                    return fail(f"Entry {d['seq']}'s contents do not match its hash: it was edited.", where)
                prev, seq = digest, seq + 1
                if seq in wanted:
                    seen[seq] = digest
        if anchor is not None and seen.get(anchor[0]) != anchor[1]:
            why = "is past the end of the log" if anchor[0] > seq else "has a different hash now"
            return fail(f"The anchor entry {anchor[0]} {why}: the log was rewritten or cut.", where)
        if head is not None:
            head_seq, head_hash = head
            if head_seq < 0:
                return fail(f"{HEAD_NAME} is unreadable: it was edited.", where)
            if head_seq > seq:
                return fail(f"The log ends at entry {seq} but {HEAD_NAME} records entry {head_seq}: entries were "
                            "removed from the end.", where)
            # The head is written just after each line, so a crash between the two leaves it one behind.
            if head_seq == 0 and seq > 1:
                return fail(f"{HEAD_NAME} is missing or empty although the log has {seq} entries: it was removed.",
                            where)
            if head_seq < seq - 1 or (head_seq > 0 and seen.get(head_seq) != head_hash):
                return fail(f"{HEAD_NAME} (entry {head_seq}) does not match the log's last entry {seq}: the head "
                            "or the end of the log was changed.", where)
        return AuditVerification(ok=True, entries=seq, last_seq=seq, last_hash=prev)

    def _snapshot(self) -> tuple[list[tuple[int, int]], tuple[int, str] | None]:
        """Each file's size and the head, read together under a shared lock: a consistent cut.

        Reads then stop at these sizes, so appends made meanwhile are neither half-seen nor waited for.
        """
        try:
            fd = os.open(self._head, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return self._sizes(), None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            sizes = self._sizes()
            raw = os.pread(fd, _HEAD_LEN, 0)
        finally:
            os.close(fd)  # releases the lock
        if not raw:
            return sizes, (0, GENESIS)
        match = re.fullmatch(rb"(\d{20}) ([0-9a-f]{64})\n", raw)
        if match is None:
            return sizes, (-1, "")  # unreadable head: matches nothing, so verify reports it
        return sizes, (int(match[1]), match[2].decode("ascii"))

    def _sizes(self) -> list[tuple[int, int]]:
        out = []
        for n in self._numbers():
            try:
                out.append((n, self._path(n).stat().st_size))
            except FileNotFoundError:
                continue
        return out

    def _numbers(self) -> list[int]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(int(m[1]) for name in names if (m := _FILE.fullmatch(name)))

    def _path(self, number: int) -> Path:
        return self.directory / f"audit-{number:06d}.jsonl"

    def _lines(self, number: int, size: int) -> Iterator[tuple[int, bytes]]:
        """(line number, raw line with its newline) up to ``size`` bytes; nothing if the file is gone."""
        try:
            f = open(self._path(number), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        with f:
            remaining = size
            lineno = 0
            for raw in f:
                if remaining <= 0:
                    break
                raw = raw[:remaining]
                remaining -= len(raw)
                lineno += 1
                yield lineno, raw

    def _last_entry(self, number: int) -> AuditEntry | None:
        """The last parseable entry in a file, reading backwards block by block."""
        try:
            f = open(self._path(number), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return None
        with f:
            buffer = b""
            pos = os.fstat(f.fileno()).st_size
            while pos > 0:
                step = min(_BLOCK, pos)
                pos -= step
                f.seek(pos)
                buffer = f.read(step) + buffer
                lines = buffer.split(b"\n")
                # lines[0] may be a partial line unless we reached the start of the file
                complete = lines if pos == 0 else lines[1:]
                for raw in reversed(complete):
                    if raw.strip():
                        try:
                            return AuditEntry.from_dict(json.loads(raw))
                        except (ValueError, KeyError, TypeError):
                            continue
                buffer = lines[0] if pos > 0 else b""
        return None


# One encoder for every call: json.dumps with non-default options builds a new encoder each time,
# which is a measurable share of an append.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _canonical(d: dict[str, Any]) -> bytes:
    return _ENCODER.encode(d).encode("ascii")


def _encode_entry(b: dict[str, Any]) -> bytes:
    """``_canonical(b)`` for an entry body, spelled out: a third of the cost of the generic encoder.

    Keys in sorted order, strings through the same escaping function the json module uses, floats
    by repr as json does. ``verify`` re-encodes every line with ``_canonical``, so a difference
    between the two would show at once; a property test also compares them.
    """
    def opt(value: str | None) -> str:
        return "null" if value is None else _esc(value)

    return ('{"at":%s,"count":%s,"detail":%s,"document_hash":%s,"duration_ms":%s,"operation":%s,"outcome":%s,'
            '"path":%s,"person_ids":[%s],"prev_hash":%s,"principal":%s,"role":%s,"seq":%d,"status":%d,"via":%s}' % (
                _esc(b["at"]), "null" if b["count"] is None else int(b["count"]), opt(b["detail"]),
                opt(b["document_hash"]), float.__repr__(b["duration_ms"]), _esc(b["operation"]), _esc(b["outcome"]),
                _esc(b["path"]), ",".join(map(_esc, b["person_ids"])), _esc(b["prev_hash"]), _esc(b["principal"]),
                _esc(b["role"]), b["seq"], b["status"], _esc(b["via"]))).encode("ascii")


def _line(canonical: bytes, digest: str) -> bytes:
    """The stored line: the canonical body with the hash appended as its last member."""
    return canonical[:-1] + b',"hash":"' + digest.encode("ascii") + b'"}\n'


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _bound(value: datetime | date | str | None, name: str, *, end_of_day: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(name, text, "an ISO-8601 date or time such as 2025-03-01 or "
                                  "2025-03-01T08:00:00+08:00") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC) + timedelta(days=1 if end_of_day else 0)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _stamp(value)


def _shape_problem(d: Any) -> str | None:
    if not isinstance(d, dict):
        return "The line is not a JSON object."
    if set(d) != set(_FIELDS):
        extra, missing = sorted(set(d) - set(_FIELDS)), sorted(set(_FIELDS) - set(d))
        return f"The entry's fields were changed (missing {missing or 'none'}, extra {extra or 'none'})."
    for key, types in _FIELDS.items():
        if not isinstance(d[key], types) or isinstance(d[key], bool):
            return f"The entry's {key} has the wrong type."
    if not all(isinstance(p, str) for p in d["person_ids"]):
        return "The entry's person_ids are not all strings."
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


__all__ = ["AuditEntry", "AuditLog", "AuditVerification", "GENESIS"]
