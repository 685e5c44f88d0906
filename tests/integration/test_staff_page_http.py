"""The staff page over HTTP, in-process, on the access tests' small community: sessions, CSRF, the
role policy in cards, facets and exports, the audit record, and hostile requests.

Staff keys here are scoped to RA1: even-numbered residents (building B1) are in scope, odd ones not.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from access_world import STAFF_AREA, client, load_access_world, make_access_world  # noqa: E402

from talentgraph.access.audit import AuditLog  # noqa: E402
from talentgraph.access.gate import Gate  # noqa: E402
from talentgraph.access.keys import KeyStore  # noqa: E402
from talentgraph.access.policy import POLICY  # noqa: E402
from talentgraph.config import Settings  # noqa: E402
from talentgraph.graph.ladybug.store import LadybugGraphStore  # noqa: E402
from talentgraph.search.projection import SearchProjector  # noqa: E402
from talentgraph.search.service import SearchService  # noqa: E402
from talentgraph.search.tantivy.index import TantivyIndex  # noqa: E402
from talentgraph.server import create_app  # noqa: E402
from talentgraph.web.i18n import EN, ZH, check_tables  # noqa: E402

pytestmark = pytest.mark.anyio

FORMULA_ID = "per:F1"
FORMULA_NAME = '=HYPERLINK("http://evil.example","王")'


class Env:
    def __init__(self, root: Path) -> None:
        self.graph = LadybugGraphStore(root / "graph")
        self.graph.ensure_schema()
        world = make_access_world()
        world.add("Person", FORMULA_ID, {"name": FORMULA_NAME, "latin_name": "@Formula Wang", "occupation": "律师",
                                         "skills": ["law"], "languages": ["zh"], "phone": "+8613900000000"})
        from talentgraph.types import RelRecord

        world.rels.append(RelRecord("LIVES_IN", FORMULA_ID, "area:B1"))
        load_access_world(self.graph, world)
        self.index = TantivyIndex(root / "search")
        SearchProjector(self.graph, self.index).sync()
        self.keys = KeyStore(root / "keys.json", POLICY.roles)
        self.audit = AuditLog(root / "audit")
        self.raw = {r: self.keys.create(f"page-{r}", r, [STAFF_AREA] if POLICY.role(r).scoped else [])[0]
                    for r in POLICY.roles}
        self.app = create_app(self.graph, SearchService(self.index), Settings(data_dir=root),
                              gate=Gate(keys=self.keys), audit=self.audit)

    def last(self, path: str | None = None) -> Any:
        entries = self.audit.read(limit=1000)
        return [e for e in entries if path is None or e.path == path][-1]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("staff-page"))
    yield e
    e.index.close()
    e.graph.close()


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


@asynccontextmanager
async def signed_in(env: Env, role: str, key: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with client(env.app) as c:
        page = await c.get("/")
        r = await c.post("/signin", data={"csrf": token(page.text), "key": key or env.raw[role]})
        assert r.status_code == 303, r.text
        yield c


@pytest.fixture
async def staff(env: Env) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(env, "staff") as c:
        yield c


def rows_of_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_ui_tables_name_the_same_strings() -> None:
    check_tables()
    assert ZH["search_button"] == "搜索" and EN["search_button"] == "Search"


async def test_sign_in_sets_a_strict_session_cookie_without_the_key(env: Env) -> None:
    async with client(env.app) as c:
        page = await c.get("/")
        assert page.status_code == 200 and "登录" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # Without the form's token, or with another one, sign-in is refused.
        assert (await c.post("/signin", data={"key": env.raw["staff"]})).status_code == 403
        assert (await c.post("/signin", data={"key": env.raw["staff"], "csrf": "x" * 43})).status_code == 403
        wrong = await c.post("/signin", data={"key": "tg_staff_wrong", "csrf": token(page.text)})
        assert wrong.status_code == 401 and "密钥无效" in wrong.text and "tg_staff_wrong" not in wrong.text
        r = await c.post("/signin", data={"key": env.raw["staff"], "csrf": token(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tg_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http here; https adds it
        assert env.raw["staff"] not in cookie and env.raw["staff"][3:20] not in cookie
        home = await c.get("/")
        assert "page-staff" in home.text and 'id="q"' in home.text


async def test_over_https_the_cookie_is_secure(env: Env) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app, client=("127.0.0.1", 50000)),
                                 base_url="https://localhost") as c:
        page = await c.get("/")
        r = await c.post("/signin", data={"csrf": token(page.text), "key": env.raw["staff"]})
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tg_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie


async def test_search_cards_follow_the_role_policy_and_are_audited(env: Env, staff: httpx.AsyncClient) -> None:
    r = await staff.get("/", params={"q": "律师"})
    assert r.status_code == 200
    shown = set(re.findall(r'href="/people/(per:[^"?]+)', r.text))
    assert {"per:00", "per:01", FORMULA_ID} <= shown
    # Phones: residents of the key's area (per:00 in B1) yes, others (per:01 in B2) no.
    assert "+8613800000000" in r.text and "+8613800000001" not in r.text
    assert "&lt;" not in FORMULA_NAME and "=HYPERLINK(&#34;http://evil.example&#34;" in r.text
    entry = env.last("/")
    assert entry.via == "session" and entry.principal == "page-staff" and entry.role == "staff"
    assert "StaffSearch" in entry.operation and shown <= set(entry.person_ids)
    # Facet counts come with checkboxes the role may use.
    assert 'value="languages:ru"' in r.text and 'value="party_member:true"' in r.text


async def test_analyst_sees_no_personal_fields_and_counts_only_facets(env: Env) -> None:
    async with signed_in(env, "analyst") as c:
        r = await c.get("/", params={"q": "律师"})
        assert r.status_code == 200 and "+86138" not in r.text
        # party membership: counted (suppressed below k), never a filter for an analyst.
        assert 'id="facet-party_member"' in r.text and 'value="party_member:' not in r.text
        refused = await c.get("/", params={"q": "律师", "f": "party_member:true"})
        assert refused.status_code == 400 and "搜索条件无法识别" in refused.text
        page = await c.get("/")
        export = await c.post("/export", data={"csrf": token(page.text), "what": "results", "format": "csv",
                                               "q": "律师", "lang": "en"})
        assert export.status_code == 200
        rows = rows_of_csv(export.content)
        assert "Phone" not in rows[0] and "Name" in rows[0] and len(rows) > 10


async def test_platform_role_sees_no_people(env: Env) -> None:
    async with signed_in(env, "platform") as c:
        r = await c.get("/", params={"q": "律师"})
        assert "您的角色不能查看个人记录" in r.text and "per:00" not in r.text
        assert (await c.get("/people/per:00")).status_code == 403


async def test_person_page_shortlist_and_exports(env: Env, staff: httpx.AsyncClient) -> None:
    person = await staff.get("/people/per:00")
    assert person.status_code == 200 and "+8613800000000" in person.text and "联洋志愿服务队" in person.text
    assert list(env.last("/people/per:00").person_ids) == ["per:00"]
    outside = await staff.get("/people/per:01", params={"lang": "en"})
    assert outside.status_code == 200 and "+8613800000001" not in outside.text and "Xiao 01" in outside.text
    csrf = token(person.text)
    for pid in ("per:00", "per:01", FORMULA_ID):
        r = await staff.post("/shortlist", data={"csrf": csrf, "action": "add", "id": pid, "next": "//evil.example/"})
        assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    home = await staff.get("/")
    assert home.text.count('class="card"') == 3

    xlsx = await staff.post("/export", data={"csrf": csrf, "what": "shortlist", "format": "xlsx", "lang": "zh"})
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    assert set(body) == {"per:00", "per:01", FORMULA_ID} and "电话" in header
    phone = header.index("电话")
    assert body["per:00"][phone] == "'+8613800000000"  # shown, and defused (starts with +)
    assert body["per:01"][phone] in (None, "")  # outside the key's areas: masked by the policy
    assert body[FORMULA_ID][header.index("姓名")] == "'" + FORMULA_NAME
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
    entry = env.last("/export")
    assert entry.via == "session" and set(entry.person_ids) == {"per:00", "per:01", FORMULA_ID}

    results = await staff.post("/export", data={"csrf": csrf, "what": "results", "format": "csv", "q": "律师",
                                                "f": "languages:ru"})
    table = rows_of_csv(results.content)
    assert {r[0] for r in table[1:]} == {"per:00", "per:04", "per:08"}  # i % 4 == 0 speak Russian
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row)

    r = await staff.post("/shortlist", data={"csrf": csrf, "action": "remove", "id": "per:01", "next": "/?q=x"})
    assert r.headers["location"] == "/?q=x"
    await staff.post("/shortlist", data={"csrf": csrf, "action": "clear"})
    assert 'class="card"' not in (await staff.get("/")).text


async def test_hostile_requests_get_clean_answers(env: Env, staff: httpx.AsyncClient) -> None:
    home = await staff.get("/")
    csrf = token(home.text)
    for params, status, words in (
        ({"q": "俄" * 5000}, 400, "搜索内容太长"),
        ({"q": "x", "f": "languages:klingon"}, 400, "搜索条件无法识别"),
        ({"q": "x", "f": "nonsense:1"}, 400, "搜索条件无法识别"),
        ({"q": "x", "f": ["languages:ru"] * 41}, 400, "搜索条件无法识别"),
        ({"q": "x", "after": "forged"}, 400, "搜索条件无法识别"),
        ({"q": "x\x00y"}, 400, "搜索条件无法识别"),
    ):
        r = await staff.get("/", params=params)
        assert r.status_code == status and words in r.text, (params, r.status_code)
        assert "Traceback" not in r.text and "BadQueryError" not in r.text
    english = await staff.get("/", params={"q": "x", "f": "nonsense:1", "lang": "en"})
    assert "could not be understood" in english.text and "lang=\"en\"" in english.text
    await staff.get("/", params={"lang": "zh"})
    for path in ("/people/per:NOBODY", "/people/org:O1", "/people/" + "x" * 5000, "/people/%00"):
        r = await staff.get(path)
        assert r.status_code == 404 and "找不到此人" in r.text, path
    for data in ({"action": "add", "id": "per:00"}, {"csrf": "", "action": "add", "id": "per:00"},
                 {"csrf": csrf + "x", "action": "clear"}):
        assert (await staff.post("/shortlist", data=data)).status_code == 403
    assert (await staff.post("/shortlist", data={"csrf": csrf, "action": "add", "id": "org:O1"})).status_code == 400
    assert (await staff.post("/export", data={"csrf": csrf, "what": "all", "format": "csv"})).status_code == 400
    assert (await staff.post("/export", data={"csrf": csrf, "what": "results", "format": "exe"})).status_code == 400
    assert (await staff.post("/shortlist", content=b"x" * 20_000,
                             headers={"content-type": "application/x-www-form-urlencoded"})).status_code == 403
    assert (await staff.get("/health")).json()["status"] == "ok"


async def test_suggestions_in_both_languages(env: Env, staff: httpx.AsyncClient) -> None:
    zh = await staff.get("/suggest", params={"q": "俄语翻"})
    assert '<option value="俄语翻译">俄语翻译 · Russian translation</option>' in zh.text
    en = await staff.get("/suggest", params={"q": "russian tr", "lang": "en"})
    assert en.text.startswith('<option value="Russian translation">Russian translation · 俄语翻译</option>')
    assert (await staff.get("/suggest", params={"q": "<script>"})).text == ""
    assert (await staff.get("/suggest", params={"q": "x" * 10_000})).status_code == 200


async def test_session_ends_with_its_key_and_on_sign_out(env: Env) -> None:
    key, _info = env.keys.create("page-revoked", "staff", [STAFF_AREA])
    async with signed_in(env, "staff", key) as c:
        page = await c.get("/")
        assert "page-revoked" in page.text
        env.keys.revoke("page-revoked")
        again = await c.get("/", params={"q": "律师"})
        assert 'name="key"' in again.text and "登录已过期" in again.text and "+86138" not in again.text
        posted = await c.post("/export", data={"csrf": token(page.text), "what": "shortlist", "format": "csv"})
        assert posted.status_code == 303 and posted.headers["location"] == "/?notice=expired"
        entry = env.last("/export")
        assert entry.outcome == "unauthenticated" and entry.status == 401
    async with signed_in(env, "staff") as c:
        page = await c.get("/")
        out = await c.post("/signout", data={"csrf": token(page.text)})
        assert out.status_code == 303
        assert 'name="key"' in (await c.get("/")).text
    # A forged or tampered cookie is no session.
    async with client(env.app) as c:
        c.cookies.set("tg_session", "abc.def")
        assert 'name="key"' in (await c.get("/")).text
        assert (await c.get("/people/per:00")).status_code == 303


async def test_api_keeps_bearer_credentials_only(env: Env, staff: httpx.AsyncClient) -> None:
    # The session cookie is for the page's paths: /graphql still needs a bearer credential.
    r = await staff.post("/graphql", json={"query": "{ persons(first: 1) { totalCount } }"})
    assert r.status_code == 401
