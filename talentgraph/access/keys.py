"""API keys: one JSON file of key records, raw keys shown once and never stored.

A key is ``tg_<role>_<43 urlsafe characters>``: 32 bytes (256 bits) from ``secrets``. The role in the
key is only a reading aid for whoever holds it; what counts is the stored record the key's hash
finds. The file (``<data_dir>/keys.json``, mode 0600) keeps, per key, its SHA-256, name, role, areas,
creation/expiry/revocation times and a short prefix to tell keys apart in listings.

Writes (create, revoke) take an ``flock`` on a ``.lock`` file beside the key file, re-read the file,
change it and replace it atomically (temp file, fsync, ``os.replace``, fsync of the directory), so
two processes never lose each other's write and a reader never sees half a file. ``verify`` is a
dict lookup by hash; it re-reads the file only when its inode, size or mtime changed, so a
``talentgraph keys revoke`` run by another process takes effect on the server's next request.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, NotFoundError, UnauthenticatedError, ValidationError

KEY_PREFIX = "tg_"
SECRET_BYTES = 32  # 256 bits: token_urlsafe(32) is 43 characters
DISPLAY_CHARS = 6  # of the random part shown in listings: 36 bits, far too few to help guess the other 220
FILE_VERSION = 1
STAFF_ROLE = "staff"  # the one role scoped to areas (see Principal.areas)

_NAME = re.compile(r"[\w.@-]{1,64}")  # \w is Unicode-aware: 张伟-laptop is a fine name
_INVALID_KEY_HINT = ("Check that the whole key was copied (it starts with `tg_`), or ask an administrator for a "
                     "new one (`talentgraph keys create`).")

KeyStatus = Literal["active", "revoked", "expired"]


@dataclass(frozen=True)
class KeyInfo:
    """What is known about a key, minus the secret: safe to list, print and log."""

    name: str
    role: str
    areas: tuple[str, ...]
    prefix: str
    created: datetime
    expires: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime | None = None) -> KeyStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires is not None and self.expires <= (now or _now()):
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "areas": list(self.areas),
            "prefix": self.prefix,
            "created": self.created.isoformat(),
            "expires": _iso(self.expires),
            "revoked_at": _iso(self.revoked_at),
            "status": self.status(),
        }


@dataclass(frozen=True)
class _Record:
    info: KeyInfo
    digest: bytes  # SHA-256 of the raw key


_Records = list[_Record]  # spelled once here: inside KeyStore, `list` is the method

class KeyStore:
    """The API keys of one data directory.

    ``roles`` are the role names a key may carry (``POLICY.roles``); passed in so this module does not
    depend on the policy module. A stored key whose role is no longer in ``roles`` stops verifying.
    """

    def __init__(self, path: Path, roles: Collection[str]) -> None:
        if not roles:
            raise ConfigError("KeyStore needs at least one role name.", hint="Pass POLICY.roles.")
        self.path = path
        self.roles = frozenset(roles)
        self._lock_path = path.with_name(path.name + ".lock")
        self._mutex = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of what _records came from
        self._records: _Records = []
        self._by_digest: dict[bytes, _Record] = {}

    # --- reading -------------------------------------------------------------------------------------

    def list(self) -> list[KeyInfo]:
        """Every key ever created (revoked and expired ones too), oldest first. Never the hashes."""
        with self._mutex:
            self._refresh()
            return [r.info for r in self._records]

    def verify(self, raw: str) -> Principal:
        """The caller a raw key belongs to, or UnauthenticatedError.

        The message for an unknown key is the same whatever was sent, so a caller learns nothing
        about which keys exist. Revoked and expired keys say so: whoever holds a real key may know
        why it stopped working.
        """
        raw = raw.strip()
        if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
            raise UnauthenticatedError("The API key is not valid.", hint=_INVALID_KEY_HINT)
        return self.verify_digest(_digest(raw))

    def verify_digest(self, digest: bytes) -> Principal:
        """``verify`` by the key's SHA-256: how a web session (which keeps the hash, never the key)
        re-checks its key on every request, so a revoked or expired key ends the session at once."""
        with self._mutex:
            self._refresh()
            record = self._by_digest.get(digest)
        # The lookup is by SHA-256 of the presented key, so its timing depends on a hash the caller
        # cannot steer towards a stored one; the explicit constant-time compare keeps the final
        # decision free of an early-exit byte comparison all the same.
        if record is None or not hmac.compare_digest(record.digest, digest):
            raise UnauthenticatedError("The API key is not valid.", hint=_INVALID_KEY_HINT)
        info = record.info
        status = info.status()
        if status == "revoked":
            assert info.revoked_at is not None
            raise UnauthenticatedError(f"This API key was revoked on {info.revoked_at:%Y-%m-%d %H:%M} UTC.",
                                       hint="Ask an administrator for a new key (`talentgraph keys create`).")
        if status == "expired":
            assert info.expires is not None
            raise UnauthenticatedError(f"This API key expired on {info.expires:%Y-%m-%d %H:%M} UTC.",
                                       hint="Ask an administrator for a new key (`talentgraph keys create`).")
        if info.role not in self.roles:
            raise UnauthenticatedError(f"This API key's role {info.role!r} no longer exists.",
                                       hint="Ask an administrator for a new key with one of the current roles.")
        return Principal(name=info.name, role=info.role, areas=info.areas, via="key")

    # --- writing -------------------------------------------------------------------------------------

    def create(self, name: str, role: str, areas: Iterable[str] = (),
               expires: date | datetime | None = None) -> tuple[str, KeyInfo]:
        """A new key: returns the raw key (shown once, never stored) and its record.

        ``expires`` as a date means the key works through that day (UTC) and expires at the next
        midnight UTC; a naive datetime is taken as UTC.
        """
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise ValidationError("name", name, "1 to 64 letters, digits or . _ @ -",
                                  hint="Name the key after who or what uses it, e.g. `huamu-staff-wang` or `twin-city`.")
        if role not in self.roles:
            raise ValidationError("role", role, f"one of {', '.join(sorted(self.roles))}")
        area_ids = _clean_areas(areas)
        if role == STAFF_ROLE and not area_ids:
            raise ValidationError("areas", [], "at least one Area id for a staff key",
                                  hint="A staff key only sees residents of its areas: pass --area AREA_ID (repeatable).")
        if role != STAFF_ROLE and area_ids:
            raise ValidationError("areas", list(area_ids), f"no areas for the {role} role",
                                  hint="Only staff keys are scoped to areas; drop --area or use --role staff.")
        now = _now()
        expiry = _expiry(expires)
        if expiry is not None and expiry <= now:
            raise ValidationError("expires", expiry.isoformat(), "a time in the future",
                                  hint="Pass a later date, or omit --expires for a key that does not expire.")

        secret = secrets.token_urlsafe(SECRET_BYTES)
        raw = f"{KEY_PREFIX}{role}_{secret}"
        info = KeyInfo(name=name, role=role, areas=area_ids, prefix=f"{KEY_PREFIX}{role}_{secret[:DISPLAY_CHARS]}",
                       created=now, expires=expiry)
        with self._write() as records:
            taken = next((r.info for r in records if r.info.name == name), None)
            if taken is not None:
                # Names of revoked keys stay taken: the audit log records callers by key name, and
                # one name must always mean one key there.
                raise ValidationError("name", name, "a name no other key has",
                                      hint=f"A {taken.status()} {taken.role} key is already called {name!r}; "
                                      f"choose another name (e.g. {name}-2).")
            records.append(_Record(info, _digest(raw)))
        return raw, info

    def revoke(self, name: str) -> KeyInfo:
        """Revoke a key by name; revoking a revoked key changes nothing and returns it."""
        with self._write() as records:
            for i, record in enumerate(records):
                if record.info.name == name:
                    if record.info.revoked_at is None:
                        records[i] = _Record(replace(record.info, revoked_at=_now()), record.digest)
                    return records[i].info
            names = ", ".join(r.info.name for r in records) or "none"
            raise NotFoundError(f"There is no API key called {name!r}.",
                                hint=f"Keys: {names}. `talentgraph keys list` shows them with their status.")

    # --- file ----------------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Re-read the file if it changed since we last read it (caller holds _mutex)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._set([], None)
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp != self._stamp:
            self._set(self._load(), stamp)

    def _set(self, records: _Records, stamp: tuple[int, int, int] | None) -> None:
        self._records = records
        self._by_digest = {r.digest: r for r in records}
        self._stamp = stamp

    def _load(self) -> _Records:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [_record_from_json(item) for item in data["keys"]]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"The API key file {self.path} is damaged ({exc}).",
                              hint="Restore it from a backup, or move it aside and create the keys again.") from exc

    @contextmanager
    def _write(self) -> Iterator[_Records]:
        """Lock, re-read, let the caller change the records, then replace the file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._mutex:
                records = self._load()
                yield records
                self._replace(records)
                self._stamp = None  # our own write: re-read (and re-stat) on next use
                self._refresh()
        finally:
            os.close(fd)  # closing releases the flock

    def _replace(self, records: _Records) -> None:
        body = json.dumps({"version": FILE_VERSION, "keys": [_record_to_json(r) for r in records]},
                          ensure_ascii=False, indent=1) + "\n"
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply if a stale temp file already existed
            os.write(fd, body.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)


def key_digest(raw: str) -> bytes:
    """The stored form of a key (what ``verify_digest`` takes)."""
    return _digest(raw.strip())


def _digest(raw: str) -> bytes:
    # Plain SHA-256, no salt or slow KDF: a key carries 256 random bits, so inverting its hash is as
    # hopeless as guessing the key, whereas bcrypt/argon2 exist to protect low-entropy passwords and
    # would cost ~100 ms per request. An unsalted hash also lets verify find the key by dict lookup.
    return hashlib.sha256(raw.encode("utf-8")).digest()


def _clean_areas(areas: Iterable[str]) -> tuple[str, ...]:
    if isinstance(areas, str):  # a single id passed where a list was meant
        areas = (areas,)
    seen: dict[str, None] = {}
    for area in areas:
        area = area.strip()
        if area:
            seen.setdefault(area, None)
    return tuple(seen)


def _expiry(expires: date | datetime | None) -> datetime | None:
    if expires is None:
        return None
    if isinstance(expires, datetime):
        return expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires.astimezone(UTC)
    return datetime.combine(expires + timedelta(days=1), time(0), tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _record_to_json(record: _Record) -> dict[str, Any]:
    info = record.info
    return {"name": info.name, "role": info.role, "areas": list(info.areas), "prefix": info.prefix,
            "sha256": record.digest.hex(), "created": info.created.isoformat(), "expires": _iso(info.expires),
            "revoked_at": _iso(info.revoked_at)}


def _record_from_json(item: dict[str, Any]) -> _Record:
    info = KeyInfo(name=item["name"], role=item["role"], areas=tuple(item.get("areas") or ()),
                   prefix=item["prefix"], created=datetime.fromisoformat(item["created"]),
                   expires=_when(item.get("expires")),
                   revoked_at=_when(item.get("revoked_at")))
    digest = bytes.fromhex(item["sha256"])
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"key {info.name!r} has a malformed sha256")
    return _Record(info, digest)


__all__ = ["KeyInfo", "KeyStatus", "KeyStore", "key_digest"]
