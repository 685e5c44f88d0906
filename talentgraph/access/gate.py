"""Authentication at the door: an ``Authorization`` header becomes a ``Principal`` or a 401.

Three kinds of bearer credential, told apart by their form:
- API keys (``tg_<role>_…``) checked against the key store (hash only);
- JWTs from the city's identity provider (three base64url parts), verified against its JWKS;
- the data directory's local admin token, which only a process on the server host that can read
  the data directory holds: how ``talentgraph keys|ingest|person …`` reach a running server.
``--open`` (loopback only) serves callers without credentials under a fixed role, for local
exploration; a credential, when sent, is still verified.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, UnauthenticatedError

if TYPE_CHECKING:
    from talentgraph.access.jwt import JwtVerifier
    from talentgraph.access.keys import KeyStore

LOCAL_TOKEN_FILE = "admin.token"
KEY_PREFIX = "tg_"
CHALLENGE = 'Bearer realm="talentgraph"'


@dataclass
class Gate:
    keys: "KeyStore | None" = None
    jwt: "JwtVerifier | None" = None
    local_token: str | None = None
    open_role: str | None = None  # --open: callers without credentials get this role (loopback only)

    def blocks(self, authorization: str | None) -> bool:
        """Whether ``authenticate`` may block on this header (a token whose keys may need fetching from
        the identity provider); API keys, the local token and open mode are checked in microseconds
        (a hash and a file stat) and need no worker thread."""
        if not authorization or self.jwt is None:
            return False
        credential = authorization.strip().partition(" ")[2].strip()
        return credential.count(".") == 2 and not credential.startswith(KEY_PREFIX)

    def authenticate(self, authorization: str | None, client_host: str | None) -> Principal:
        """May block when ``blocks`` says so (a JWKS fetch): then call it from a worker thread."""
        if not authorization:
            if self.open_role is not None:
                if not is_loopback(client_host):
                    raise UnauthenticatedError("Open mode serves only this machine.",
                                               hint="Send Authorization: Bearer <key> from other hosts.")
                return Principal("open", self.open_role, via="open")
            raise UnauthenticatedError("No credentials were sent.",
                                       hint="Send `Authorization: Bearer <key>` with an API key from "
                                       "`talentgraph keys create`, or a token from the identity provider.")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise UnauthenticatedError("The Authorization header is not a bearer credential.",
                                       hint="Use `Authorization: Bearer <key or token>`.")
        if self.local_token and hmac.compare_digest(credential.encode(), self.local_token.encode()):
            return Principal("local-admin", "admin", via="local")
        if credential.startswith(KEY_PREFIX):
            if self.keys is None:
                raise UnauthenticatedError("This server accepts no API keys.", hint="Use a token instead.")
            return self.keys.verify(credential)
        if credential.count(".") == 2:
            if self.jwt is None:
                raise UnauthenticatedError("This server is not configured for identity-provider tokens.",
                                           hint="Use an API key, or ask the operator to set jwt_jwks, jwt_issuer "
                                           "and jwt_audience.")
            return self.jwt.verify(credential)
        raise UnauthenticatedError("The bearer credential is neither an API key nor a token.",
                                   hint="API keys start with tg_; tokens are JWTs from the identity provider.")


def is_loopback(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def local_token(data_dir: Path, *, create: bool) -> str | None:
    """The data directory's admin token (0600). The server creates it anew at each start."""
    path = data_dir / LOCAL_TOKEN_FILE
    if create:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = "local_" + secrets.token_urlsafe(32)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)
        os.replace(tmp, path)
        return token
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        raise ConfigError(f"Cannot read {path}.", hint="Run the command as the user that runs the server.") from exc


__all__ = ["CHALLENGE", "Gate", "KEY_PREFIX", "LOCAL_TOKEN_FILE", "is_loopback", "local_token"]
