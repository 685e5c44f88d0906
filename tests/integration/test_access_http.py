"""Access at the door, replayed as a hostile caller would: credentials, open mode, Host, the admin
routes (JSON only, admin only, paths confined), the audit record, and data-subject requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from access_world import STAFF_AREA, ask, client, load_access_world, make_access_world
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from talentgraph.access import subject
from talentgraph.access.audit import AuditLog
from talentgraph.access.gate import Gate
from talentgraph.access.jwt import JwtVerifier
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.admin import AdminOps
from talentgraph.config import Settings
from talentgraph.graph.ladybug.store import LadybugGraphStore
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy.index import TantivyIndex
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio

ISSUER, AUDIENCE = "https://id.pudong.example/realms/huamu", "talentgraph"
PERSONS = "{ persons(first: 50) { totalCount nodes { id name phone } } }"
NAMES = "{ persons(first: 50) { totalCount nodes { id name } } }"


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.graph = LadybugGraphStore(root / "graph")
        self.graph.ensure_schema()
        load_access_world(self.graph, make_access_world())
        self.index = TantivyIndex(root / "search")
        SearchProjector(self.graph, self.index).sync()
        self.keys = KeyStore(root / "keys.json", POLICY.roles)
        self.audit = AuditLog(root / "audit")
        self.raw = {r: self.keys.create(f"k-{r}", r, [STAFF_AREA] if POLICY.role(r).scoped else [])[0]
                    for r in POLICY.roles}
        self.signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks = root / "jwks.json"
        jwks.write_text(json.dumps({"keys": [{**json.loads(RSAAlgorithm.to_jwk(self.signer.public_key())),
                                              "kid": "k1", "alg": "RS256", "use": "sig"}]}))
        self.jwt = JwtVerifier(str(jwks), ISSUER, AUDIENCE, roles=POLICY.roles,
                               role_claim="https://hasura.io/jwt/claims.x-hasura-default-role",
                               areas_claim="https://hasura.io/jwt/claims.x-hasura-areas")
        self.jobs = root / "jobs"
        self.jobs.mkdir()
        self.ingested: list[Any] = []

        def ingest(job: Path, input_dir: Path | None, dry_run: bool, roots: Any, *,
                   force: bool = False) -> list[dict[str, Any]]:
            self.ingested.append((job, dry_run))
            return [{"job": job.name, "dry_run": dry_run}]

        qdir = root / "quarantine"
        qdir.mkdir()
        ops = AdminOps(ingest=ingest, keys=self.keys, audit=self.audit, roots=[self.jobs],
                       export_person=lambda pid: subject.export_person(self.graph, self.index, pid,
                                                                       quarantine_dir=qdir, audit=self.audit),
                       erase_person=lambda pid, dry: subject.erase_person(self.graph, self.index, pid,
                                                                          quarantine_dir=qdir,
                                                                          dry_run=dry).to_dict())
        self.app = create_app(self.graph, SearchService(self.index), Settings(data_dir=root),
                              gate=Gate(keys=self.keys, jwt=self.jwt), audit=self.audit, admin=ops)

    def token(self, role: str = "staff", areas: Any = (STAFF_AREA,), **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "wang.fang", "iat": now, "exp": now + 300,
                "https://hasura.io/jwt/claims": {"x-hasura-default-role": role, "x-hasura-areas": list(areas)}}
        return jwt.encode({**body, **claims}, self.signer, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("access-http"))
    yield e
    e.index.close()
    e.graph.close()


# --- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer tg_admin_not-a-key",
                                           "Bearer a.b.c", "Bearer something-else", "bearer  "])
async def test_missing_or_bad_credentials_get_401_in_the_error_shape(env: Env, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with client(env.app) as c:
        for r in (await c.post("/graphql", json={"query": PERSONS}, headers=headers),
                  await c.get("/graphql", params={"query": PERSONS}, headers=headers),
                  await c.post("/admin/keys", json={"action": "list"}, headers=headers)):
            assert r.status_code == 401, r.text
            assert r.headers["www-authenticate"].startswith("Bearer")
            err = r.json()["errors"][0]
            assert err["extensions"]["code"] == "UNAUTHENTICATED" and err["message"]
            assert "tg_admin_not-a-key" not in r.text and "a.b.c" not in r.text


async def test_health_static_and_the_playground_page_need_no_key(env: Env) -> None:
    async with client(env.app) as c:
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/static/graphiql/graphiql.min.css")).status_code == 200
        page = await c.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "defaultHeaders" in page.text and "tg_" not in page.text


async def test_a_revoked_key_stops_working_at_once(env: Env) -> None:
    raw, _ = env.keys.create("short-lived", "analyst")
    async with client(env.app) as c:
        assert "errors" not in await ask(c, raw, NAMES)
        KeyStore(env.root / "keys.json", POLICY.roles).revoke("short-lived")  # another process revokes it
        body = await ask(c, raw, NAMES)
    assert body["_status"] == 401 and "revoked" in body["errors"][0]["message"]


async def test_jwt_from_the_identity_provider_carries_role_and_area_scope(env: Env) -> None:
    async with client(env.app) as c:
        body = await ask(c, env.token("staff"), PERSONS)
        rows = body["data"]["persons"]["nodes"]
        phones = {r["id"]: r["phone"] for r in rows}
        assert phones["per:00"] and phones["per:01"] is None  # per:00 lives in RA1, per:01 in RA2
        for bad in (env.token(exp=int(time.time()) - 3600), env.token(aud="someone-else"),
                    env.token(iss="https://evil.example"), env.token(role="superuser"),
                    env.token("staff", areas=())):
            got = await ask(c, bad, PERSONS)
            assert got["_status"] == 401 and got["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", got
        forged = jwt.encode({"sub": "x", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 60},
                            "a-guessable-shared-secret-of-32-bytes!", algorithm="HS256", headers={"kid": "k1"})
        assert (await ask(c, forged, PERSONS))["_status"] == 401


async def test_open_mode_serves_only_loopback_and_ignores_forwarded_for(env: Env) -> None:
    app = create_app(env.graph, None, Settings(data_dir=env.root), gate=Gate(keys=env.keys, open_role="analyst"))
    async with client(app) as c:
        body = await ask(c, None, NAMES)
        assert body["data"]["persons"]["totalCount"] == 12
    async with client(app, host="10.0.0.5") as c:
        r = await c.post("/graphql", json={"query": NAMES}, headers={"X-Forwarded-For": "127.0.0.1"})
        assert r.status_code == 401


async def test_phone_is_not_even_a_field_for_an_analyst_in_open_mode(env: Env) -> None:
    app = create_app(env.graph, None, Settings(data_dir=env.root), gate=Gate(open_role="analyst"))
    async with client(app) as c:
        body = await ask(c, None, PERSONS)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and "phone" in body["errors"][0]["message"]


async def test_unknown_host_names_are_refused_against_dns_rebinding(env: Env) -> None:
    async with client(env.app) as c:
        for path in ("/graphql", "/admin/ingest", "/health"):
            r = await c.post(path, json={"job": "x"}, headers={"Host": "attacker.example",
                                                               "Authorization": f"Bearer {env.raw['admin']}"})
            assert r.status_code == 421 and r.json()["errors"][0]["extensions"]["code"] == "MISDIRECTED"
    assert env.ingested == []


# --- admin routes ------------------------------------------------------------------------------


async def test_admin_routes_are_admin_only(env: Env) -> None:
    async with client(env.app) as c:
        for role in ("staff", "analyst", "platform"):
            for path, body in (("/admin/ingest", {"job": str(env.jobs / "a.yaml")}), ("/admin/keys", {"action": "list"}),
                               ("/admin/audit", {}), ("/admin/person/export", {"id": "per:00"}),
                               ("/admin/person/erase", {"id": "per:00"})):
                r = await c.post(path, json=body, headers={"Authorization": f"Bearer {env.raw[role]}"})
                assert r.status_code == 403 and r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, path)
    assert env.ingested == []
    assert "per:00" in {n.id for n in env.graph.get_nodes(["per:00"]).values()}


@pytest.mark.parametrize("content_type,body", [("text/plain", '{"job": "a.yaml"}'),
                                               ("application/x-www-form-urlencoded", "job=a.yaml"),
                                               ("multipart/form-data; boundary=x", "--x--")])
async def test_admin_routes_take_json_only(env: Env, content_type: str, body: str) -> None:
    """A cross-origin page can POST these content types without a preflight: they must do nothing."""
    async with client(env.app) as c:
        r = await c.post("/admin/ingest", content=body, headers={"Content-Type": content_type,
                                                                 "Authorization": f"Bearer {env.raw['admin']}"})
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "BAD_QUERY"
    assert env.ingested == []


@pytest.mark.parametrize("job", ["../../../../etc/passwd", "/etc/passwd", "jobs/../../keys.json", "", "a\x00b"])
async def test_job_paths_are_confined_and_never_echoed(env: Env, job: str) -> None:
    async with client(env.app) as c:
        r = await c.post("/admin/ingest", json={"job": job}, headers={"Authorization": f"Bearer {env.raw['admin']}"})
    assert r.status_code in (400, 403)
    assert "root:" not in r.text and "passwd" not in r.json()["errors"][0]["message"]
    assert env.ingested == []


async def test_admin_ingest_runs_inside_the_roots(env: Env) -> None:
    job = env.jobs / "people.yaml"
    async with client(env.app) as c:
        r = await c.post("/admin/ingest", json={"job": str(job), "dry_run": True},
                         headers={"Authorization": f"Bearer {env.raw['admin']}"})
    assert r.status_code == 200 and r.json() == {"summaries": [{"job": "people.yaml", "dry_run": True}]}
    assert env.ingested[-1] == (job, True)


async def test_keys_are_managed_through_the_server(env: Env) -> None:
    admin = {"Authorization": f"Bearer {env.raw['admin']}"}
    async with client(env.app) as c:
        made = (await c.post("/admin/keys", json={"action": "create", "name": "platform-2", "role": "platform"},
                             headers=admin)).json()
        assert made["key"].startswith("tg_platform_") and made["role"] == "platform"
        listed = (await c.post("/admin/keys", json={"action": "list"}, headers=admin)).json()["keys"]
        assert "platform-2" in {k["name"] for k in listed}
        assert all("hash" not in json.dumps(k) and made["key"] not in json.dumps(k) for k in listed)
        body = await ask(c, made["key"], "{ venues(first: 1) { totalCount } }")
        assert body["data"]["venues"]["totalCount"] == 1
        bad = await c.post("/admin/keys", json={"action": "create", "name": "s", "role": "staff"}, headers=admin)
        assert bad.status_code == 400 and "area" in bad.text
        await c.post("/admin/keys", json={"action": "revoke", "name": "platform-2"}, headers=admin)
        assert (await ask(c, made["key"], "{ venues(first: 1) { totalCount } }"))["_status"] == 401


# --- the audit record -------------------------------------------------------------------------------


async def test_every_request_is_recorded_with_the_persons_it_returned(env: Env) -> None:
    before = len(env.audit.read())
    async with client(env.app) as c:
        await ask(c, env.raw["analyst"], "query WhoSpeaksRussian { persons(where: {languages: {contains: \"ru\"}}) "
                                         "{ nodes { id } } }")
        await ask(c, env.raw["platform"], '{ facetCounts(type: Person, field: "nationality") { value count } }')
        await ask(c, "tg_staff_wrong", PERSONS)
    entries = env.audit.read()[before:]
    assert len(entries) == 3
    who, agg, denied = entries
    assert who.principal == "k-analyst" and who.role == "analyst" and who.operation == "WhoSpeaksRussian"
    assert set(who.person_ids) == {"per:00", "per:04", "per:08"} and who.document_hash and who.outcome == "ok"
    assert agg.role == "platform" and not agg.person_ids and agg.count and agg.count > 0
    assert denied.outcome == "unauthenticated" and denied.status == 401 and denied.principal == "-"
    async with client(env.app) as c:  # a legacy client (no Accept) gets 200 for a refused document
        refused = await ask(c, env.raw["analyst"], '{ persons { nodes { phone } } }')
    assert refused["_status"] == 200 and refused["errors"]
    assert env.audit.read()[-1].outcome == "rejected"
    assert json.dumps(who.to_dict()).find("晓") == -1  # ids and counts only: no names, no query text
    assert env.audit.verify().ok
    assert {e.principal for e in env.audit.read(person="per:04")} >= {"k-analyst"}


async def test_audit_is_readable_by_admin_through_the_server(env: Env) -> None:
    async with client(env.app) as c:
        await ask(c, env.raw["analyst"], '{ person(id: "per:02") { name } }')
        r = await c.post("/admin/audit", json={"person": "per:02"}, headers={"Authorization": f"Bearer {env.raw['admin']}"})
        v = await c.post("/admin/audit", json={"verify": True}, headers={"Authorization": f"Bearer {env.raw['admin']}"})
    assert r.status_code == 200 and any(e["principal"] == "k-analyst" for e in r.json()["entries"])
    assert v.json()["ok"] is True


# --- data-subject requests ------------------------------------------------------------------------


async def test_export_then_erase_one_person_through_the_server(env: Env) -> None:
    admin = {"Authorization": f"Bearer {env.raw['admin']}"}
    async with client(env.app) as c:
        await ask(c, env.raw["analyst"], '{ person(id: "per:11") { name } }')
        export = (await c.post("/admin/person/export", json={"id": "per:11"}, headers=admin)).json()
        assert export["person_id"] == "per:11" and export["node"]["properties"]["phone"] == "+8613800000011"
        assert "hash-11" not in json.dumps(export)
        assert any(e["principal"] == "k-analyst" for e in export["audit"]["entries"])
        erased = (await c.post("/admin/person/erase", json={"id": "per:11"}, headers=admin)).json()
        assert erased["node_deleted"] is True and erased["relationships_deleted"] >= 3
        gone = await ask(c, env.raw["admin"], '{ person(id: "per:11") { name } search(query: "marker11word") '
                                              '{ totalCount } }')
        assert gone["data"] == {"person": None, "search": {"totalCount": 0}}
        again = await c.post("/admin/person/erase", json={"id": "per:11"}, headers=admin)
        assert again.status_code == 404 and again.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The audit keeps the fact (who asked, which id), not the data.
    facts = env.audit.read(person="per:11")
    assert any(e.operation == "admin.erase" for e in facts)
    assert "晓" not in json.dumps([e.to_dict() for e in facts])


async def test_the_audit_log_field_exists_for_admin_only(env: Env) -> None:
    async with client(env.app) as c:
        await ask(c, env.raw["staff"], '{ person(id: "per:04") { phone } }')
        got = await ask(c, env.raw["admin"], '{ auditLog(person: "per:04", last: 5) { principal role personIds hash } }')
        assert any(e["principal"] == "k-staff" for e in got["data"]["auditLog"]), got
        for role in ("staff", "analyst", "platform"):
            denied = await ask(c, env.raw[role], "{ auditLog { seq } }")
            assert denied["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("args,code", [("last: 0", "BAD_QUERY"), ("last: 100000", "BAD_QUERY"),
                                       ('since: "yesterday"', None), ('person: "\\u0000"', "BAD_QUERY")])
async def test_the_audit_log_field_refuses_hostile_arguments_cleanly(env: Env, args: str, code: str | None) -> None:
    async with client(env.app) as c:
        got = await ask(c, env.raw["admin"], f"{{ auditLog({args}) {{ seq }} }}")
        assert got["_status"] < 500
        errors = got.get("errors") or []
        assert all(e["extensions"]["code"] for e in errors) and "Traceback" not in json.dumps(got)
        if code is not None:
            assert errors and errors[0]["extensions"]["code"] == code, got
        assert (await c.get("/health")).json()["status"] == "ok"
