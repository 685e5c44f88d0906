"""A bounded fuzz run against the real app on the real embedded stores: mutated GraphQL documents,
hostile variables and search strings (1,200 cases, derandomised so CI replays the same ones).

Every answer must be well-formed: no 5xx, JSON in the one error shape, every error with an
``extensions.code``, no internal text (tracebacks, query text of the stores, engine names), and
the service still healthy afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_world import load_access_world, make_access_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.config import Settings
from talentgraph.graph.ladybug.store import LadybugGraphStore
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy.index import TantivyIndex
from talentgraph.server import create_app

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

SEEDS = [
    '{ persons(where: {languages: {contains: "ru"}, OR: [{name: {startsWith: "王"}}]}, first: 5) '
    '{ totalCount nodes { id name memberOf { edges { node { ... on PartyOrganization { name } } } } } } }',
    '{ search(query: "俄语 律师", first: 5, facets: ["languages"]) { totalCount hits { id title highlights '
    '{ field fragments } explanations } facets { field values { value display } } pageInfo { endCursor } } }',
    '{ path(from: "per:00", to: "org:O1", maxHops: 3) { hops nodes { id } edges { type } } }',
    '{ neighbourhood(id: "org:O1", depth: 2, limit: 20) { truncated nodes { id type } } }',
    '{ facetCounts(type: Person, field: "languages", where: {volunteer: {eq: true}}) { value display } }',
    'query Q($w: PersonWhere, $n: Int!) { persons(where: $w, first: $n) { totalCount } }',
    'fragment F on Person { id name } { persons(first: 3) { nodes { ...F } } }',
]
INTERNAL = re.compile(r"Traceback|File \"|MATCH \(|RETURN |UNWIND|ladybug|tantivy|neo4j\.|Internal server error: ",
                      re.IGNORECASE)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, str]]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    graph = LadybugGraphStore(root / "graph")
    graph.ensure_schema()
    load_access_world(graph, make_access_world())
    index = TantivyIndex(root / "search")
    SearchProjector(graph, index).sync()
    keys = KeyStore(root / "keys.json", POLICY.roles)
    key, _ = keys.create("fuzzer", "analyst")
    app = create_app(graph, SearchService(index), Settings(data_dir=root), gate=Gate(keys=keys))
    with start_blocking_portal() as portal:
        yield Client(app, portal), key
    index.close()
    graph.close()


class Client:
    """Synchronous calls into the in-process app (hypothesis drives plain functions)."""

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self.app, self.portal = app, portal

    def _do(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                return await c.request(method, path, **kw)
        return self.portal.call(go)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self._do("POST", path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self._do("GET", path, **kw)


def check(r: Any) -> None:
    assert r.status_code < 500 or r.status_code in (503,), (r.status_code, r.text[:500])
    body = r.json()
    assert isinstance(body, dict), body
    for err in body.get("errors") or []:
        assert isinstance(err.get("message"), str) and err["message"], err
        assert err.get("extensions", {}).get("code"), err
        assert not INTERNAL.search(err["message"]), err
        assert err["extensions"]["code"] != "INTERNAL", err
    assert "data" in body or body.get("errors"), body


def mutate(seed: str, ops: list[tuple[int, int, str]]) -> str:
    text = seed
    for kind, pos, chunk in ops:
        i = pos % (len(text) + 1)
        if kind == 0:
            text = text[:i] + chunk + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + len(chunk) + 1:]
        else:
            text = text[:i] + chunk + text[i + len(chunk):]
    return text


GRAPHQL_BITS = st.sampled_from(["{", "}", "(", ")", "...", "...F", "fragment F on Person { ...F }", "$x", "@skip",
                                "first: 100000", "first: -1", "after: \"b2Zmc2V0OjEwMDAwMDAwMDAwMDA\"", "\"", "\\u0000",
                                "\ud800", "query", "mutation", ":", "[", "]", "__schema { types { name } }",
                                "phone", "idHash", "OR: [", "in: [1,2]", "#", "\x00", "𝕏", "王", " " * 50])
OPS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000),
                         st.one_of(GRAPHQL_BITS, st.text(max_size=8))), min_size=1, max_size=6)


@FUZZ
@given(seed=st.sampled_from(SEEDS), ops=OPS)
def test_mutated_documents(fuzz_client: tuple[Client, str], seed: str, ops: list[tuple[int, int, str]]) -> None:
    c, key = fuzz_client
    doc = mutate(seed, ops)
    r = c.post("/graphql", content=json.dumps({"query": doc}, ensure_ascii=True),
               headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    check(r)


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                      st.text(max_size=20), st.sampled_from(["\ud800", "\x00", "ru", "per:00", "a" * 5000]))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                       st.dictionaries(st.sampled_from(
                                                           ["name", "OR", "AND", "NOT", "eq", "in", "contains",
                                                            "languages", "birthYear", "phone", "x"]), inner,
                                                           max_size=4)), max_leaves=30)


@FUZZ
@given(where=JSON, n=JSON_LEAF)
def test_hostile_variables(fuzz_client: tuple[Client, str], where: Any, n: Any) -> None:
    c, key = fuzz_client
    body = json.dumps({"query": SEEDS[5], "variables": {"w": where, "n": n}}, ensure_ascii=True)
    r = c.post("/graphql", content=body, headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": "application/json"})
    check(r)


@FUZZ
@given(text=st.one_of(st.text(max_size=60), st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
                      st.sampled_from(["\ud800abc", "俄语\x00律师", "*" * 1000, "OR AND NOT", "(", "\"", "\\",
                                       "name:x", "ру́сский", "한국어 요리", "フランス語", "zhāng wěi"])),
       after=st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["b2Zmc2V0OjEwMDAwMDAwMDAwMDA",
                                                                         "b2Zmc2V0Ojk5OTk5OTk5OTk5OTk5OTk5OTk5"])))
def test_search_strings(fuzz_client: tuple[Client, str], text: str, after: str | None) -> None:
    c, key = fuzz_client
    q = "query($q: String!, $a: String) { search(query: $q, after: $a, first: 10) { totalCount hits { id } } }"
    body = json.dumps({"query": q, "variables": {"q": text, "a": after}}, ensure_ascii=True)
    r = c.post("/graphql", content=body, headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": "application/json"})
    check(r)


def test_still_healthy_after_the_fuzz(fuzz_client: tuple[Client, str]) -> None:
    c, _ = fuzz_client
    assert c.get("/health").json()["status"] == "ok"
