"""Search at engine speed (issue 8): score ties settle inside the Tantivy adapter in at most two
engine searches, a GraphQL search asks the engine at most twice, highlights and explanations are
computed only when selected, and a query of several concepts matches people who have them in
different fields ("英语 翻译 志愿者" found nobody).

Engine searches are counted on Tantivy's searcher (top-docs collections; the facet aggregation is
the one other engine pass and is counted apart)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_world import OPEN_ADMIN, client, gql, load_world
from api_world import make_world as make_api_world

from talentgraph.config import Settings
from talentgraph.search import service as service_module
from talentgraph.search.mapping import build_doc, search_fields
from talentgraph.search.service import SearchService, Visibility
from talentgraph.search.tantivy import TantivyIndex
from talentgraph.search.tantivy.index import OVERFETCH
from talentgraph.server import create_app
from talentgraph.types import Node

MAX_ENGINE_SEARCHES = 2


class _Searcher:
    def __init__(self, inner: Any, counts: dict[str, int]) -> None:
        self._inner, self._counts = inner, counts

    def search(self, *a: Any, **k: Any) -> Any:
        self._counts["search"] += 1
        return self._inner.search(*a, **k)

    def aggregate(self, *a: Any, **k: Any) -> Any:
        self._counts["aggregate"] += 1
        return self._inner.aggregate(*a, **k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Index:
    def __init__(self, inner: Any, counts: dict[str, int]) -> None:
        self._inner, self._counts = inner, counts

    def searcher(self) -> _Searcher:
        return _Searcher(self._inner.searcher(), self._counts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def engine_calls(index: TantivyIndex) -> Iterator[dict[str, int]]:
    """Counts the searches and aggregations the live generation's searchers run."""
    gen = index._s.gen
    inner = gen.index
    counts = {"search": 0, "aggregate": 0}
    gen.index = _Index(inner, counts)  # type: ignore[assignment]
    try:
        yield counts
    finally:
        gen.index = inner


# --- ties ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TantivyIndex]:
    """700 people, 450 of them with the same one-character name (one big score tie), written in
    shuffled id order over several segments, so Tantivy's own tie order is not id order."""
    idx = TantivyIndex(tmp_path_factory.mktemp("tied") / "idx")
    ids = [f"per:{i:04d}" for i in range(700)]
    random.Random(5).shuffle(ids)
    for k in range(0, 700, 100):
        idx.index(build_doc(Node(i, "Person", {"name": "芳" if int(i[4:]) % 7 < 4 or int(i[4:]) < 300 else "磊",
                                               "languages": ["zh"]}))
                  for i in ids[k : k + 100])
        idx.commit()
    yield idx
    idx.close()


@pytest.mark.parametrize("first", [1, 7, 50, OVERFETCH])
def test_tied_pages_neither_repeat_nor_skip_in_at_most_two_searches(tied: TantivyIndex, first: int) -> None:
    service = SearchService(tied, max_page_size=OVERFETCH)
    seen: list[tuple[float, str]] = []
    after = None
    pages = 0
    while True:
        with engine_calls(tied) as calls:
            res = service.search("芳", first=first, after=after, facets=[])
        assert calls["search"] <= MAX_ENGINE_SEARCHES, (after, calls)
        seen += [(h.score, h.id) for h in res.hits]
        pages += 1
        if not res.has_next_page:
            break
        after = res.end_cursor
    ids = [i for _s, i in seen]
    assert len(ids) == len(set(ids)) == res.total > 300
    assert seen == sorted(seen, key=lambda s: (-s[0], s[1]))  # score desc, then id
    assert pages == -(-res.total // first)


def test_one_search_when_the_page_ends_clear_of_a_tie(tied: TantivyIndex) -> None:
    service = SearchService(tied, max_page_size=500)
    with engine_calls(tied) as calls:
        res = service.search("磊", first=500, facets=[])  # every match fits the page: no tie runs past it
    assert calls["search"] == 1 and len(res.hits) == res.total


def test_ties_between_ids_that_share_their_first_24_bytes_are_ordered_by_the_stored_id(tmp_path: Path) -> None:
    """The id keys hold an id's first 24 bytes; ids alike that far are told apart by their stored id,
    among many that differ earlier, in a tie that runs past the first fetch."""
    long_ids = [f"per:{'x' * 20}-{i:03d}" for i in range(60)]  # 24 bytes alike: the keys tie
    ids = long_ids + [f"per:{i:04d}" for i in range(700)]
    random.Random(9).shuffle(ids)
    idx = TantivyIndex(tmp_path / "idx")
    try:
        for k in range(0, len(ids), 250):
            idx.index(build_doc(Node(i, "Person", {"name": "芳"})) for i in ids[k : k + 250])
            idx.commit()
        service = SearchService(idx, max_page_size=100)
        got: list[str] = []
        after = None
        while True:
            res = service.search("芳", first=37, after=after, facets=[])
            got += [h.id for h in res.hits]
            if not res.has_next_page:
                break
            after = res.end_cursor
        assert got == sorted(ids)
    finally:
        idx.close()


def test_kept_marks_are_those_of_the_query_that_reads_them(tmp_path: Path) -> None:
    """What a query's needles mark in a text is kept (texts recur among hits); a query with other needles
    over the same texts marks them its own way, as a fresh service would, however the queries alternate."""
    idx = TantivyIndex(tmp_path / "idx")
    try:
        idx.index(build_doc(Node(f"per:{i:03d}", "Person", {"name": "王芳" if i % 2 else "李伟",
                                                            "occupation": "钢琴老师"})) for i in range(30))
        idx.commit()
        kept = SearchService(idx)
        for text in ["钢琴", "老师", "王芳", "钢琴", "老师 王芳", "老师"]:
            fresh = SearchService(idx).search(text, first=10, facets=[])
            got = kept.search(text, first=10, facets=[])
            assert [(h.id, h.highlights, h.explanations) for h in got.hits] == \
                [(h.id, h.highlights, h.explanations) for h in fresh.hits], text
            assert any(h.highlights for h in got.hits), text
    finally:
        idx.close()


# --- through GraphQL -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, TantivyIndex]]:
    from conftest import _graph_backend
    from talentgraph.search.projection import SearchProjector

    root = tmp_path_factory.mktemp("api-speed")
    graph = load_world(_graph_backend("ladybug"), root / "graph", make_api_world())
    index = TantivyIndex(root / "search")
    try:
        SearchProjector(graph, index).rebuild()
        service = SearchService(index, max_page_size=20)
        yield create_app(graph, service, Settings(data_dir=root, max_page_size=20), gate=OPEN_ADMIN), index
    finally:
        index.close()
        graph.close()


LEAN = """query($q: String!, $after: String) { search(query: $q, first: 5, after: $after) {
  totalCount hits { id title score } facets { field values { value label count } }
  pageInfo { hasNextPage endCursor } } }"""
FULL = """query($q: String!) { search(query: $q, first: 5) {
  hits { id ...why } } }
fragment why on SearchHit { highlights { field fragments } explanations }"""


async def _post(app: Any, query: str, **variables: Any) -> dict[str, Any]:
    async with client(app) as c:
        body = await gql(c, query, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["search"]
    return result



@pytest.mark.anyio
async def test_a_graphql_search_asks_the_engine_at_most_twice(api: tuple[Any, TantivyIndex]) -> None:
    app, index = api
    queries = ["王", "芳", "英语", "俄语 律师", "zhang", ""]
    for q in queries:  # the first search of a facet value looks its title up once (then cached)
        await _post(app, LEAN, q=q)
    for q in queries:
        after = None
        for _page in range(3):
            with engine_calls(index) as calls:
                res = await _post(app, LEAN, q=q, after=after)
            assert calls["search"] <= MAX_ENGINE_SEARCHES and calls["aggregate"] <= 1, (q, after, calls)
            if not res["pageInfo"]["hasNextPage"]:
                break
            after = res["pageInfo"]["endCursor"]


@pytest.mark.anyio
async def test_highlights_and_explanations_only_when_selected(api: tuple[Any, TantivyIndex],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app, _index = api
    calls = {"highlight": 0, "explain": 0}
    real_highlight, real_explain = service_module.highlight, SearchService._explain

    def counting_highlight(*a: Any, **k: Any) -> Any:
        calls["highlight"] += 1
        return real_highlight(*a, **k)

    def counting_explain(self: SearchService, *a: Any, **k: Any) -> Any:
        calls["explain"] += 1
        return real_explain(self, *a, **k)

    monkeypatch.setattr(service_module, "highlight", counting_highlight)
    monkeypatch.setattr(SearchService, "_explain", counting_explain)
    lean = await _post(app, LEAN, q="王")
    assert lean["hits"] and calls == {"highlight": 0, "explain": 0}
    full = await _post(app, FULL, q="王")  # asked for through a fragment
    assert calls["highlight"] > 0 and calls["explain"] > 0
    assert all(h["explanations"] for h in full["hits"]) and any(h["highlights"] for h in full["hits"])


# --- several concepts across fields -----------------------------------------------------------------


def _person(pid: str, langs: list[str], skills: list[str], volunteer: bool, bio: str | None = None) -> Any:
    props: dict[str, Any] = {"name": f"测试{pid[-1]}", "languages": langs, "skills": skills, "volunteer": volunteer}
    if bio is not None:
        props["bio"] = bio
    return build_doc(Node(pid, "Person", props))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TantivyIndex]:
    idx = TantivyIndex(tmp_path_factory.mktemp("small") / "idx")
    idx.index([
        _person("per:0001", ["zh", "en"], ["translation.ru"], True),  # English, translates, volunteers
        _person("per:0002", ["zh", "en"], ["translation.en"], True),  # the same, as one skill too
        _person("per:0003", ["en"], ["translation.en"], False),  # no volunteer
        _person("per:0004", ["zh"], [], True, bio="社区志愿者，喜欢书法。"),  # no English, no translation
        _person("per:0005", ["zh", "en"], ["teaching.primary"], True),  # no translation
    ])
    idx.commit()
    yield idx
    idx.close()


def test_three_concepts_in_different_fields_find_the_people_who_have_them(small: TantivyIndex) -> None:
    # Read before as one concept (English translation) and a word (志愿者) that no free text held: 0 hits.
    res = SearchService(small).search("英语 翻译 志愿者")
    assert [h.id for h in res.hits] == ["per:0002", "per:0001"]  # the one with every reading first
    why = res.hits[1].explanations
    assert "英语 ← languages: en (英语 / English)" in why and "志愿者 ← volunteer: true" in why
    assert any(w.startswith("翻译 ← skills: translation.ru") for w in why)
    # Typed as one word it is the same compound: English translation, or English *with* translation.
    assert [h.id for h in SearchService(small).search("英语翻译 volunteer").hits] == ["per:0002", "per:0001"]


def test_a_yes_no_concept_is_not_matched_where_the_role_cannot_read_it(small: TantivyIndex) -> None:
    props = {f.property for f in search_fields() if f.property and (not f.types or "Person" in f.types)}
    read = {("Person", p): "always" for p in props if p != "volunteer"}
    vis = Visibility(read=read, count={}, types=frozenset({"Person"}), k=1)
    res = SearchService(small).search("志愿者", facets=[], visibility=vis)
    # Only the free text still says so; the hidden flag neither matches nor explains.
    assert [h.id for h in res.hits] == ["per:0004"]
    assert not any("volunteer" in w for h in res.hits for w in h.explanations)
    assert {h.id for h in SearchService(small).search("志愿者", facets=[]).hits} == {
        "per:0001", "per:0002", "per:0004", "per:0005"}


def test_an_index_built_before_id_keys_still_orders_ties_by_id(tmp_path: Path) -> None:
    """A generation without the id-key fast fields (built by an older version) is served as it is:
    its ties are ordered by the stored id, and documents written to it carry no keys."""
    import json

    import tantivy

    from talentgraph.search.base import fields_signature
    from talentgraph.search.tantivy.index import CURSOR_FILE, FIELDS_FILE, POINTER, build_schema

    root = tmp_path / "idx"
    gen = root / "index-1"
    gen.mkdir(parents=True)
    tantivy.Index(build_schema(search_fields(), keyed=False), path=str(gen))
    (gen / FIELDS_FILE).write_text(json.dumps(fields_signature(search_fields())))
    (gen / CURSOR_FILE).write_text("0")
    (root / POINTER).write_text("index-1")
    idx = TantivyIndex(root)
    try:
        assert not idx._s.gen.id_keys
        ids = [f"per:{i:03d}" for i in range(120)]
        random.Random(2).shuffle(ids)
        for k in range(0, 120, 40):
            idx.index(build_doc(Node(i, "Person", {"name": "芳"})) for i in ids[k : k + 40])
            idx.commit()
        service = SearchService(idx)
        got = [h.id for off in range(0, 120, 9)
               for h in service.search("芳", first=9, after=None if off == 0 else _cursor(off), facets=[]).hits]
        assert got == sorted(ids)
    finally:
        idx.close()


def _cursor(offset: int) -> str:
    from talentgraph.search.service import encode_cursor

    return encode_cursor(offset)
