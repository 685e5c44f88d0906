"""Bearer tokens (OIDC JWTs) from the city's identity provider, checked with PyJWT.

The identity provider signs tokens with an asymmetric key and publishes the public half as a JWKS,
either at a URL (fetched with ``jwt.PyJWKClient``: cached for ``jwks_lifespan`` seconds, refetched
when a token names an unknown ``kid`` so key rotation needs no restart, at most once per
``refresh_cooldown`` seconds so random ``kid`` values cannot make us hammer the provider) or as a
file (re-read when it changes). Only asymmetric algorithms are accepted: ``alg: none`` and HS*
(an attacker "signing" with our public key as an HMAC secret) are refused before any key is used.

Claims map to a Principal the way Hasura maps them to session variables: ``role_claim``,
``areas_claim`` and ``name_claim`` are paths into the claims, written either

* dotted: ``https://hasura.io/jwt/claims.x-hasura-default-role`` — a key may itself contain dots;
  at each level the longest run of segments that is a key wins, so the example finds the key
  ``x-hasura-default-role`` inside the object at ``https://hasura.io/jwt/claims``; or
* as a JSON pointer (RFC 6901), unambiguous: ``/https:~1~1hasura.io~1jwt~1claims/x-hasura-default-role``
  (``~1`` is ``/``, ``~0`` is ``~``; a number indexes a list).

The role claim is a string, or a list of which exactly one entry is a talentgraph role (as in
Keycloak's ``realm_access.roles``). The areas claim is a list, or a string separated by commas or
spaces, or a Postgres array literal ``{a,b}`` as Hasura sends; it scopes the ``staff`` role, which
must have at least one area, and is ignored for the other roles.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, UnauthenticatedError

log = logging.getLogger(__name__)

STAFF_ROLE = "staff"
MAX_TOKEN_CHARS = 16_384  # real ID tokens are 1-4 KiB; refuse megabyte "tokens" before parsing them
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})

_MISSING = object()
_SIGN_IN_AGAIN = "Sign in again with the city's identity provider to get a fresh token."


class ClaimPath:
    """A claim path, dotted or a JSON pointer (see the module docstring)."""

    def __init__(self, text: str) -> None:
        if not text or text.strip() != text:
            raise ConfigError(f"Claim path {text!r} is empty or has surrounding spaces.",
                              hint="Write e.g. `role`, `realm_access.roles` or "
                              "`/https:~1~1hasura.io~1jwt~1claims/x-hasura-default-role`.")
        self.text = text
        self.pointer = text.startswith("/")
        if self.pointer:
            self.parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/"))
        else:
            self.parts = tuple(text.split("."))

    def find(self, claims: dict[str, Any]) -> Any:
        """The value at this path, or ``_MISSING``."""
        return _pointer(claims, self.parts) if self.pointer else _dotted(claims, self.parts)

    def __repr__(self) -> str:
        return f"ClaimPath({self.text!r})"


def _pointer(node: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _dotted(node: Any, parts: Sequence[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, dict):
        for n in range(len(parts), 0, -1):  # longest key first: "https://hasura.io/jwt/claims" before "https://hasura"
            key = ".".join(parts[:n])
            if key in node:
                found = _dotted(node[key], parts[n:])
                if found is not _MISSING:
                    return found
    return _MISSING


class JwtVerifier:
    """Turns a bearer token into a Principal (``via="jwt"``) or raises UnauthenticatedError.

    Every failure message says what was wrong with the token (expired, wrong audience, unknown
    key id, missing role claim…) and never repeats the token itself.
    """

    def __init__(self, jwks: str, issuer: str, audience: str, *, roles: Collection[str],
                 role_claim: str = "role", areas_claim: str = "areas", name_claim: str = "sub",
                 algorithms: Sequence[str] = ("RS256", "ES256"), leeway: float = 30,
                 jwks_lifespan: float = 300, refresh_cooldown: float = 30, timeout: float = 5) -> None:
        if not issuer or not audience:
            raise ConfigError("JWT verification needs both an issuer and an audience.",
                              hint="Set jwt_issuer (the identity provider's `iss`) and jwt_audience "
                              "(this service's client id).")
        if not roles:
            raise ConfigError("JwtVerifier needs at least one role name.", hint="Pass POLICY.roles.")
        refused = [a for a in algorithms if a not in ASYMMETRIC]
        if refused or not algorithms:
            raise ConfigError(f"JWT algorithms {', '.join(refused) or '(none)'} cannot be accepted.",
                              hint=f"Use asymmetric ones the identity provider signs with: {', '.join(sorted(ASYMMETRIC))}. "
                              "`none` and HS* would let anyone who knows the public key mint tokens.")
        self.issuer = issuer
        self.audience = audience
        self.roles = frozenset(roles)
        self.role_claim = ClaimPath(role_claim)
        self.areas_claim = ClaimPath(areas_claim)
        self.name_claim = ClaimPath(name_claim)
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self._keys: _KeySource
        if re.match(r"https?://", jwks, re.I):
            self._keys = _UrlKeys(jwks, lifespan=jwks_lifespan, cooldown=refresh_cooldown, timeout=timeout)
        else:
            self._keys = _FileKeys(Path(jwks))

    def verify(self, token: str) -> Principal:
        token = token.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if len(token) > MAX_TOKEN_CHARS:
            raise UnauthenticatedError(f"The bearer token is over {MAX_TOKEN_CHARS} characters.", hint=_SIGN_IN_AGAIN)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthenticatedError("The bearer token is not a well-formed JWT.",
                                       hint="Send the identity provider's token as "
                                       "`Authorization: Bearer <token>`.") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise UnauthenticatedError("The bearer token is unsigned (alg none); unsigned tokens are refused.",
                                       hint=_SIGN_IN_AGAIN)
        if alg not in self.algorithms:
            raise UnauthenticatedError(f"The bearer token is signed with {_shown(alg)}; this server accepts "
                                       f"{', '.join(self.algorithms)}.", hint=_SIGN_IN_AGAIN)
        key = self._keys.key_for(header.get("kid"))
        if key.algorithm_name not in self.algorithms or key.algorithm_name != alg:
            raise UnauthenticatedError(f"The bearer token says {_shown(alg)} but its key {_shown(key.key_id)} is for "
                                       f"{key.algorithm_name}.", hint=_SIGN_IN_AGAIN)
        claims = self._decode(token, key)
        return self._principal(claims)

    def _decode(self, token: str, key: PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=list(self.algorithms), audience=self.audience, issuer=self.issuer,
                leeway=self.leeway, options={"require": ["exp", "iss", "aud"], "enforce_minimum_key_length": True})
            return claims
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("The bearer token has expired.", hint=_SIGN_IN_AGAIN) from None
        except jwt.ImmatureSignatureError:
            raise UnauthenticatedError(f"The bearer token is not valid yet (its nbf or iat is more than {self.leeway:g} s "
                                       "in the future).", hint="Check that this server's clock and the identity "
                                       "provider's are in sync (NTP).") from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError(f"The bearer token was issued for another audience, not {self.audience!r}.",
                                       hint=f"Request a token for the client {self.audience!r}.") from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError(f"The bearer token was issued by another issuer, not {self.issuer!r}.",
                                       hint=f"Sign in with {self.issuer}.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise UnauthenticatedError(f"The bearer token lacks the required claim {exc.claim!r}.",
                                       hint="The identity provider must issue tokens with exp, iss and aud.") from None
        except jwt.InvalidSignatureError:
            raise UnauthenticatedError("The bearer token's signature does not verify.", hint=_SIGN_IN_AGAIN) from None
        except jwt.PyJWTError as exc:  # malformed claims (non-numeric exp, bad iat…), short keys
            raise UnauthenticatedError(f"The bearer token is not valid: {exc}.", hint=_SIGN_IN_AGAIN) from None

    def _principal(self, claims: dict[str, Any]) -> Principal:
        name = self.name_claim.find(claims)
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.strip():
            raise UnauthenticatedError(f"The bearer token has no name claim {self.name_claim.text!r}.",
                                       hint="Configure jwt_name_claim to a claim the identity provider sends (e.g. sub, "
                                       "preferred_username).")
        role = self._role(self.role_claim.find(claims))
        areas: tuple[str, ...] = ()
        if role == STAFF_ROLE:
            areas = _areas(self.areas_claim.find(claims), self.areas_claim.text)
            if not areas:
                raise UnauthenticatedError("The bearer token gives the staff role but no areas in "
                                           f"{self.areas_claim.text!r}.",
                                           hint="Staff see only residents of their areas; the identity provider must "
                                           "send the user's Area ids in that claim.")
        return Principal(name=name.strip(), role=role, areas=areas, via="jwt")

    def _role(self, value: Any) -> str:
        path = self.role_claim.text
        allowed = ", ".join(sorted(self.roles))
        if value is _MISSING or value is None or value == "" or value == []:
            raise UnauthenticatedError(f"The bearer token has no role claim {path!r}.",
                                       hint=f"The identity provider must send one of {allowed} there.")
        if isinstance(value, str):
            if value not in self.roles:
                raise UnauthenticatedError(f"The bearer token's role {_shown(value)} is not allowed here.",
                                           hint=f"Roles: {allowed}.")
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            ours: list[str] = sorted({v for v in value if v in self.roles})
            if len(ours) == 1:
                return ours[0]
            if not ours:
                raise UnauthenticatedError(f"None of the bearer token's roles in {path!r} is allowed here.",
                                           hint=f"Roles: {allowed}.")
            raise UnauthenticatedError(f"The bearer token carries several talentgraph roles ({', '.join(ours)}).",
                                       hint="Give each user exactly one talentgraph role at the identity provider.")
        raise UnauthenticatedError(f"The bearer token's role claim {path!r} is a {type(value).__name__}, not a string.",
                                   hint=f"The identity provider must send one of {allowed} there.")


def _areas(value: Any, path: str) -> tuple[str, ...]:
    if value is _MISSING or value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and text.endswith("}"):  # Postgres array literal, as Hasura sends
            text = text[1:-1]
        items = [item.strip().strip('"') for item in re.split(r"[,\s]+", text)]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise UnauthenticatedError(f"The bearer token's areas claim {path!r} is not a list of Area ids.",
                                   hint="Send a JSON list, a comma-separated string or a Postgres array literal {a,b}.")
    return tuple(dict.fromkeys(item for item in items if item))


def _shown(value: object) -> str:
    """A header value an attacker controls, made safe to put in a message or log line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _KeySource:
    def key_for(self, kid: object) -> PyJWK:
        raise NotImplementedError


class _FileKeys(_KeySource):
    """A JWKS file, re-read when its inode, size or mtime changes (rotation without a restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys: list[PyJWK] = []
        self._refresh()

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise ConfigError(f"The JWKS file {self.path} cannot be read ({exc.strerror}).",
                              hint="Point jwt_jwks at the identity provider's JWKS (a file or its https:// URL).") from None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if any(isinstance(k, dict) and "d" in k for k in data.get("keys", [])):
                raise ConfigError(f"The JWKS file {self.path} contains a private key.",
                                  hint="Publish only the public keys (drop the `d` members); keep private keys at the "
                                  "identity provider.")
            self._keys = list(PyJWKSet.from_dict(data).keys)
        except (ValueError, AttributeError, jwt.PyJWTError) as exc:
            raise ConfigError(f"The JWKS file {self.path} is not a usable JSON Web Key Set ({exc}).",
                              hint='It must be JSON like '
                              '{"keys": [{"kty": "RSA", "kid": "…", "n": "…", "e": "AQAB"}]}.') from None
        self._stamp = stamp

    def key_for(self, kid: object) -> PyJWK:
        with self._mutex:
            try:
                self._refresh()
            except ConfigError as exc:
                # Broken after start-up (a bad copy during rotation): refuse the token, tell the
                # operator in the log, and keep the file's path and contents out of the response.
                log.error("%s %s", exc.message, exc.hint)
                raise UnauthenticatedError("The identity provider's keys are unavailable on this server.",
                                           hint="Retry shortly; if it persists, tell the operator "
                                           "(see the server log).") from None
            keys = self._keys
        return _pick(keys, kid)


class _UrlKeys(_KeySource):
    def __init__(self, url: str, *, lifespan: float, cooldown: float, timeout: float) -> None:
        self.url = url
        # No per-kid LRU cache (cache_keys): its entries never expire, so a key the provider
        # withdrew would keep verifying. The JWK-set cache below expires after `lifespan`.
        self._client = PyJWKClient(url, cache_keys=False, cache_jwk_set=True, lifespan=lifespan,
                                   timeout=timeout, cooldown_duration=cooldown)

    def key_for(self, kid: object) -> PyJWK:
        try:
            if kid is None:
                return _pick(self._client.get_signing_keys(), None)
            if not isinstance(kid, str):
                raise UnauthenticatedError("The bearer token's kid header is not a string.", hint=_SIGN_IN_AGAIN)
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise UnauthenticatedError("The identity provider's keys could not be fetched, so the token cannot be checked.",
                                       hint=f"Retry shortly; if it persists, the operator should check that {self.url} "
                                       "is reachable from this server.") from None
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, ValueError):
            raise UnauthenticatedError(f"The bearer token's key id {_shown(kid)} is not among the identity provider's keys.",
                                       hint=_SIGN_IN_AGAIN) from None


def _pick(keys: Sequence[PyJWK], kid: object) -> PyJWK:
    if kid is None:
        if len(keys) == 1:
            return keys[0]
        raise UnauthenticatedError(f"The bearer token has no kid header and the identity provider has {len(keys)} keys.",
                                   hint=_SIGN_IN_AGAIN)
    for key in keys:
        if key.key_id == kid:
            return key
    raise UnauthenticatedError(f"The bearer token's key id {_shown(kid)} is not among the identity provider's keys.",
                               hint=_SIGN_IN_AGAIN)


__all__ = ["ASYMMETRIC", "ClaimPath", "JwtVerifier"]
