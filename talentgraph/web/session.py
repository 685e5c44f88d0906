"""Sign-in sessions for the staff page: a signed cookie naming a session held in the server.

The cookie carries only a random session id and its HMAC (the secret is ``web-session.key`` in the
data directory, 0600); the session itself — the SHA-256 of the key it was opened with, never the key,
a CSRF token and the shortlist — stays in this process. Every request re-verifies the key by its
hash (``KeyStore.verify_digest``), so revoking or expiring a key ends its sessions on the next
click. Sessions also end after ``IDLE_SECONDS`` without use and ``MAX_SECONDS`` after sign-in, and
all of them when the server restarts (a staff member signs in again; nothing is lost but the
shortlist).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Scope

from talentgraph.access.keys import KeyStore, key_digest
from talentgraph.access.principal import Principal
from talentgraph.errors import TalentgraphError, UnauthenticatedError

SESSION_COOKIE = "tg_session"
SIGNIN_CSRF_COOKIE = "tg_signin"  # double-submit token of the sign-in form (before any session exists)
SECRET_FILE = "web-session.key"
IDLE_SECONDS = 8 * 3600  # a working day without clicking
MAX_SECONDS = 12 * 3600
MAX_SESSIONS = 10_000  # oldest dropped beyond this: sign-ins cannot fill the memory
SHORTLIST_MAX = 100
SESSION = "talentgraph.session"  # scope key: the request's Session, set by the access middleware

# The staff page's paths: the access middleware takes the session cookie as the credential here
# (and only here: the API keeps bearer credentials, which a cross-site page cannot send).
PAGE_PATHS = ("/", "/signin", "/signout", "/suggest", "/shortlist", "/export")
PAGE_PREFIXES = ("/people/",)
# Served without a session: the sign-in form (GET /) and its POST. Neither shows any record.
PUBLIC = (("GET", "/"), ("HEAD", "/"), ("POST", "/signin"))


@dataclass
class Session:
    sid: str
    key_digest: bytes
    csrf: str
    created: float
    seen: float
    shortlist: list[str] = field(default_factory=list)


class SessionStore:
    def __init__(self, data_dir: Path, keys: KeyStore | None) -> None:
        self.keys = keys
        self._data_dir = data_dir
        self._secret_value: bytes | None = None
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    @property
    def _secret(self) -> bytes:
        # Read (or made) on first use, not when the app is built: an app that never signs anyone in
        # leaves nothing in its data directory.
        if self._secret_value is None:
            self._secret_value = _secret(self._data_dir)
        return self._secret_value

    # --- cookies --------------------------------------------------------------------------------

    def _sign(self, sid: str) -> str:
        return hmac.new(self._secret, sid.encode("ascii"), hashlib.sha256).hexdigest()

    def cookie_value(self, session: Session) -> str:
        return f"{session.sid}.{self._sign(session.sid)}"

    def _sid(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 200:
            return None
        sid, _, mac = cookie.partition(".")
        if not sid or not mac or not sid.isascii():
            return None
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._sign(sid).encode("ascii")):
            return None
        return sid

    # --- sessions -------------------------------------------------------------------------------

    def open(self, raw_key: str) -> tuple[Session, Principal]:
        """Sign in: verify the key (UnauthenticatedError if it does not verify) and open a session."""
        if self.keys is None:
            raise UnauthenticatedError("This server accepts no API keys.", hint="Ask the operator.")
        principal = self.keys.verify(raw_key)
        now = time.monotonic()
        session = Session(secrets.token_urlsafe(32), key_digest(raw_key), secrets.token_urlsafe(32), now, now)
        self._sessions[session.sid] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session, replace(principal, via="session")

    def find(self, cookie: str | None) -> tuple[Session, Principal] | None:
        """The live session a cookie names and its caller now, or None (unsigned, unknown, idle,
        too old, or its key no longer verifies — then the session is dropped)."""
        sid = self._sid(cookie) if self._sessions else None
        session = self._sessions.get(sid) if sid else None
        if session is None or self.keys is None:
            return None
        now = time.monotonic()
        if now - session.seen > IDLE_SECONDS or now - session.created > MAX_SECONDS:
            self.close(session.sid)
            return None
        try:
            principal = self.keys.verify_digest(session.key_digest)
        except TalentgraphError:
            self.close(session.sid)
            return None
        session.seen = now
        self._sessions.move_to_end(session.sid)
        return session, replace(principal, via="session")

    def get(self, sid: str) -> Session | None:
        return self._sessions.get(sid)

    def close(self, sid: str) -> None:
        self._sessions.pop(sid, None)


class PageSessions(SessionStore):
    """The sessions as the access middleware sees them: which paths they cover, and the answer
    to a request whose session has ended (back to the sign-in form, which says why)."""

    @staticmethod
    def covers(path: str) -> bool:
        return path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)

    @staticmethod
    def public(scope: Scope) -> bool:
        return (scope["method"], scope["path"]) in PUBLIC

    def find_in(self, scope: Scope) -> tuple[Session, Principal] | None:
        return self.find(Request(scope).cookies.get(SESSION_COOKIE))

    @staticmethod
    def refuse(scope: Scope) -> Response:
        # 303: a POST (add to shortlist, export) turns into a GET of the sign-in form.
        response = RedirectResponse("/?notice=expired", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def check_token(expected: str | None, sent: object) -> bool:
    """A CSRF token compared in constant time; anything but a non-empty string fails."""
    if not expected or not isinstance(sent, str):
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def _secret(data_dir: Path) -> bytes:
    """The cookie-signing secret, made once per data directory (0600) and kept across restarts."""
    path = data_dir / SECRET_FILE
    try:
        value = path.read_bytes()
        if len(value) >= 32:
            return value
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    os.replace(tmp, path)
    return value


__all__ = ["PAGE_PATHS", "PAGE_PREFIXES", "PageSessions", "SESSION", "SESSION_COOKIE", "SHORTLIST_MAX",
           "SIGNIN_CSRF_COOKIE", "Session", "SessionStore", "check_token"]
