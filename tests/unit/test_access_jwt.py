"""Bearer tokens signed with real RSA and EC keys, checked against a JWKS file and a JWKS served over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from talentgraph.access.jwt import ClaimPath, JwtVerifier
from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, UnauthenticatedError

ROLES = ("admin", "staff", "analyst", "platform")
ISSUER = "https://id.pudong.example/realms/huamu"
AUDIENCE = "talentgraph"
HASURA = "https://hasura.io/jwt/claims"


class Signer:
    """A key pair as the identity provider holds it."""

    def __init__(self, kid: str, kind: str = "rsa") -> None:
        self.kid = kid
        self.alg = "RS256" if kind == "rsa" else "ES256"
        self.private: Any = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
                             else ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg == "RS256" else ECAlgorithm
        return {**json.loads(algorithm.to_jwk(self.private.public_key())), "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_pem(self) -> bytes:
        return bytes(self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))

    def token(self, claims: dict[str, Any] | None = None, *, drop: tuple[str, ...] = (), **headers: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "wang.fang", "iat": now, "exp": now + 300,
                   "role": "analyst", **(claims or {})}
        for claim in drop:
            payload.pop(claim)
        return jwt.encode(payload, self.private, algorithm=self.alg, headers={"kid": self.kid, **headers})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = "" if secret is None else _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    return f"{signing_input}.{signature}"


@pytest.fixture(scope="module")
def rsa_signer() -> Signer:
    return Signer("rsa-2025", "rsa")


@pytest.fixture(scope="module")
def ec_signer() -> Signer:
    return Signer("ec-2025", "ec")


@pytest.fixture()
def jwks_file(tmp_path: Path, rsa_signer: Signer, ec_signer: Signer) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_signer.jwk(), ec_signer.jwk()]}), encoding="utf-8")
    return path


@pytest.fixture()
def verifier(jwks_file: Path) -> JwtVerifier:
    return JwtVerifier(str(jwks_file), ISSUER, AUDIENCE, roles=ROLES)


def _refused(verifier: JwtVerifier, token: str, fragment: str) -> UnauthenticatedError:
    with pytest.raises(UnauthenticatedError) as info:
        verifier.verify(token)
    assert fragment in str(info.value), str(info.value)
    assert token not in str(info.value) and token.split(".")[1] not in str(info.value)  # never echo the token
    assert info.value.code == "UNAUTHENTICATED"
    return info.value


# --- accepted tokens -------------------------------------------------------------------------------

def test_rs256_and_es256_tokens_become_principals(verifier: JwtVerifier, rsa_signer: Signer, ec_signer: Signer) -> None:
    assert verifier.verify(rsa_signer.token()) == Principal("wang.fang", "analyst", (), via="jwt")
    assert verifier.verify("Bearer " + ec_signer.token({"role": "platform"})).role == "platform"


def test_hasura_style_namespaced_claims_by_dotted_path_and_json_pointer(jwks_file: Path, rsa_signer: Signer) -> None:
    token = rsa_signer.token({HASURA: {"x-hasura-default-role": "staff", "x-hasura-areas": "{area:R01,area:R02}",
                                       "x-hasura-user-id": "u-17"}}, drop=("role",))
    dotted = JwtVerifier(str(jwks_file), ISSUER, AUDIENCE, roles=ROLES,
                         role_claim=f"{HASURA}.x-hasura-default-role", areas_claim=f"{HASURA}.x-hasura-areas",
                         name_claim=f"{HASURA}.x-hasura-user-id")
    pointer = JwtVerifier(str(jwks_file), ISSUER, AUDIENCE, roles=ROLES,
                          role_claim="/https:~1~1hasura.io~1jwt~1claims/x-hasura-default-role",
                          areas_claim="/https:~1~1hasura.io~1jwt~1claims/x-hasura-areas",
                          name_claim="/https:~1~1hasura.io~1jwt~1claims/x-hasura-user-id")
    expected = Principal("u-17", "staff", ("area:R01", "area:R02"), via="jwt")
    assert dotted.verify(token) == expected == pointer.verify(token)


@pytest.mark.parametrize("areas", [["area:R01", "area:R02"], "area:R01,area:R02", "area:R01 area:R02",
                                   '{"area:R01","area:R02"}', "area:R01, area:R02, area:R01"])
def test_areas_claim_forms(verifier: JwtVerifier, rsa_signer: Signer, areas: object) -> None:
    principal = verifier.verify(rsa_signer.token({"role": "staff", "areas": areas}))
    assert principal.areas == ("area:R01", "area:R02")


def test_areas_are_ignored_for_roles_other_than_staff(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    assert verifier.verify(rsa_signer.token({"role": "analyst", "areas": ["area:R01"]})).areas == ()


def test_keycloak_style_role_list_with_one_of_our_roles(jwks_file: Path, rsa_signer: Signer) -> None:
    v = JwtVerifier(str(jwks_file), ISSUER, AUDIENCE, roles=ROLES, role_claim="realm_access.roles")
    token = rsa_signer.token({"realm_access": {"roles": ["offline_access", "platform", "uma_authorization"]}})
    assert v.verify(token).role == "platform"
    _refused(v, rsa_signer.token({"realm_access": {"roles": ["admin", "analyst"]}}), "several talentgraph roles")
    _refused(v, rsa_signer.token({"realm_access": {"roles": ["offline_access"]}}), "None of the bearer token's roles")


def test_audience_may_be_a_list_and_leeway_covers_small_clock_skew(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    now = int(time.time())
    assert verifier.verify(rsa_signer.token({"aud": ["account", AUDIENCE], "exp": now - 10})).name == "wang.fang"


# --- refused tokens --------------------------------------------------------------------------------

def test_expired_token(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token({"exp": int(time.time()) - 120}), "expired")


def test_token_not_valid_yet(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token({"nbf": int(time.time()) + 600}), "not valid yet")
    _refused(verifier, rsa_signer.token({"iat": int(time.time()) + 600}), "not valid yet")


def test_wrong_audience_and_issuer(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token({"aud": "other-app"}), "another audience")
    _refused(verifier, rsa_signer.token({"iss": "https://evil.example"}), "another issuer")


@pytest.mark.parametrize("claim", ["exp", "aud", "iss"])
def test_required_claims(verifier: JwtVerifier, rsa_signer: Signer, claim: str) -> None:
    _refused(verifier, rsa_signer.token(drop=(claim,)), f"lacks the required claim '{claim}'")


def test_unknown_kid(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token(kid="rotated-away"), "key id 'rotated-away' is not among")


def test_signature_from_another_key_with_a_known_kid(verifier: JwtVerifier) -> None:
    impostor = Signer("rsa-2025", "rsa")
    _refused(verifier, impostor.token({"role": "admin"}), "signature does not verify")


def test_role_claim_missing_or_not_allowed(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    err = _refused(verifier, rsa_signer.token(drop=("role",)), "no role claim 'role'")
    assert "admin, analyst, platform, staff" in (err.hint or "")
    _refused(verifier, rsa_signer.token({"role": "superuser"}), "role 'superuser' is not allowed")
    _refused(verifier, rsa_signer.token({"role": 7}), "is a int, not a string")


def test_staff_without_areas(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token({"role": "staff"}), "no areas")
    _refused(verifier, rsa_signer.token({"role": "staff", "areas": {"R01": True}}), "not a list of Area ids")


def test_name_claim_missing(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    _refused(verifier, rsa_signer.token(drop=("sub",)), "no name claim 'sub'")


def test_alg_none_is_refused(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    claims = jwt.decode(rsa_signer.token({"role": "admin"}), options={"verify_signature": False})
    _refused(verifier, _forged({"alg": "none", "typ": "JWT", "kid": "rsa-2025"}, claims, None), "alg none")
    _refused(verifier, _forged({"alg": "None", "typ": "JWT"}, claims, None), "alg none")


def test_hs256_signed_with_the_public_key_is_refused(verifier: JwtVerifier, rsa_signer: Signer) -> None:
    # The classic algorithm confusion: HMAC keyed with the RSA public key everybody can download.
    claims = jwt.decode(rsa_signer.token({"role": "admin"}), options={"verify_signature": False})
    forged = _forged({"alg": "HS256", "typ": "JWT", "kid": "rsa-2025"}, claims, rsa_signer.public_pem())
    _refused(verifier, forged, "signed with 'HS256'")


def test_a_symmetric_key_in_the_jwks_is_never_used(tmp_path: Path, rsa_signer: Signer) -> None:
    secret = b"shared-secret-that-leaked-0123456789"
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_signer.jwk(), {"kty": "oct", "kid": "hmac", "k": _b64(secret)}]}))
    v = JwtVerifier(str(path), ISSUER, AUDIENCE, roles=ROLES, algorithms=("RS256",))
    claims = jwt.decode(rsa_signer.token(), options={"verify_signature": False})
    _refused(v, _forged({"alg": "HS256", "kid": "hmac"}, claims, secret), "signed with 'HS256'")
    _refused(v, rsa_signer.token(kid="hmac"), "is for HS256")


def test_es256_header_on_an_rsa_key_is_refused(verifier: JwtVerifier, ec_signer: Signer) -> None:
    _refused(verifier, ec_signer.token(kid="rsa-2025"), "is for RS256")


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 20_000])
def test_garbage(verifier: JwtVerifier, token: str) -> None:
    with pytest.raises(UnauthenticatedError):
        verifier.verify(token)


# --- configuration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "none"), ()])
def test_symmetric_and_none_algorithms_cannot_be_configured(jwks_file: Path, algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError):
        JwtVerifier(str(jwks_file), ISSUER, AUDIENCE, roles=ROLES, algorithms=algorithms)


def test_missing_or_private_jwks_file(tmp_path: Path, rsa_signer: Signer) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        JwtVerifier(str(tmp_path / "nope.json"), ISSUER, AUDIENCE, roles=ROLES)
    private = json.loads(RSAAlgorithm.to_jwk(rsa_signer.private))
    (tmp_path / "private.json").write_text(json.dumps({"keys": [private]}))
    with pytest.raises(ConfigError, match="private key"):
        JwtVerifier(str(tmp_path / "private.json"), ISSUER, AUDIENCE, roles=ROLES)
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ConfigError, match="not a usable JSON Web Key Set"):
        JwtVerifier(str(tmp_path / "bad.json"), ISSUER, AUDIENCE, roles=ROLES)
    with pytest.raises(ConfigError, match="issuer and an audience"):
        JwtVerifier(str(tmp_path / "private.json"), "", AUDIENCE, roles=ROLES)


def test_a_rotated_jwks_file_is_picked_up_without_a_restart(jwks_file: Path, verifier: JwtVerifier,
                                                            rsa_signer: Signer) -> None:
    new = Signer("rsa-2026", "rsa")
    _refused(verifier, new.token(), "not among")
    jwks_file.write_text(json.dumps({"keys": [new.jwk()]}), encoding="utf-8")
    assert verifier.verify(new.token()).name == "wang.fang"
    _refused(verifier, rsa_signer.token(), "not among")  # the withdrawn key stops working too


def test_claim_paths() -> None:
    claims = {"a.b": {"c": 1}, "a": {"b": {"c": 2}, "list": ["x", "y"]}, "k~/": 3}
    assert ClaimPath("a.b.c").find(claims) == 1  # the longest key that exists wins
    assert ClaimPath("/a/b/c").find(claims) == 2
    assert ClaimPath("/a.b/c").find(claims) == 1
    assert ClaimPath("/a/list/1").find(claims) == "y"
    assert ClaimPath("/k~0~1").find(claims) == 3
    assert ClaimPath("a.missing").find(claims) is ClaimPath("/nope").find(claims)
    with pytest.raises(ConfigError):
        ClaimPath("")


# --- JWKS over HTTP --------------------------------------------------------------------------------

class JwksServer:
    """A real HTTP server on 127.0.0.1 serving whatever keys the test puts in ``keys``."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/realms/huamu/protocol/openid-connect/certs"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture()
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def test_jwks_url_with_caching_and_key_rotation(jwks_server: JwksServer, rsa_signer: Signer, ec_signer: Signer) -> None:
    jwks_server.keys = [rsa_signer.jwk()]
    v = JwtVerifier(jwks_server.url, ISSUER, AUDIENCE, roles=ROLES, refresh_cooldown=0)
    assert v.verify(rsa_signer.token()).via == "jwt"
    assert v.verify(rsa_signer.token()).name == "wang.fang"
    assert jwks_server.fetches == 1  # the key set is cached

    jwks_server.keys = [rsa_signer.jwk(), ec_signer.jwk()]  # the provider rotates in a new key
    assert v.verify(ec_signer.token({"role": "platform"})).role == "platform"
    assert jwks_server.fetches == 2  # fetched once, because the kid was new


def test_unknown_kids_do_not_hammer_the_provider(jwks_server: JwksServer, rsa_signer: Signer) -> None:
    jwks_server.keys = [rsa_signer.jwk()]
    v = JwtVerifier(jwks_server.url, ISSUER, AUDIENCE, roles=ROLES, refresh_cooldown=60)
    v.verify(rsa_signer.token())
    for i in range(5):
        _refused(v, rsa_signer.token(kid=f"random-{i}"), "not among")
    assert jwks_server.fetches == 1


def test_unreachable_jwks_url(rsa_signer: Signer) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/certs"
    v = JwtVerifier(url, ISSUER, AUDIENCE, roles=ROLES, timeout=2)
    err = _refused(v, rsa_signer.token(), "could not be fetched")
    assert url in (err.hint or "")
