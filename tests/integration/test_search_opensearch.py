"""What only the OpenSearch adapter has, on a real OpenSearch (services/up; skipped without it): aliases
over versioned indices, bulk errors and retries, server settings, the engine's own CJK analysis,
and rankings compared with Tantivy's on the same documents (ids and orders, never raw scores). The
SearchIndex contract itself is in test_search_contract.py. Each test uses its own alias and
deletes its indices afterwards."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import opensearch_settings
from search_world import SPECIAL, World, all_ids, make_world, small_docs

from talentgraph.config import Settings
from talentgraph.errors import BadQueryError, ConfigError, StoreError
from talentgraph.schema.ontology import ONTOLOGY, Ontology, Property, PropType, SearchKind
from talentgraph.search.mapping import build_doc, search_fields
from talentgraph.search.opensearch import OpenSearchIndex, bulk, dsl
from talentgraph.search.opensearch.index import index_name
from talentgraph.search.opensearch.transport import OpenSearchTransport, Transport
from talentgraph.search.port import SearchDoc
from talentgraph.search.query import MatchAll, Term
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy import TantivyIndex
from talentgraph.types import Node

pytestmark = pytest.mark.opensearch


@pytest.fixture(autouse=True, scope="module")
def _needs_opensearch() -> None:
    opensearch_settings()  # skips the module when no OpenSearch is configured


def settings(alias: str | None = None, **kw: Any) -> Settings:
    return opensearch_settings(alias, **kw)


def open_index(alias: str | None = None, ontology: Ontology = ONTOLOGY) -> OpenSearchIndex:
    return OpenSearchIndex.from_settings(settings(alias), ontology)


@pytest.fixture()
def fresh() -> Iterator[OpenSearchIndex]:
    idx = open_index()
    yield idx
    idx.drop()
    idx.close()


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def index(world: World) -> Iterator[OpenSearchIndex]:
    idx = open_index()
    try:
        assert idx.index(world.docs) == len(world.docs)
        idx.index(build_doc(n) for n in SPECIAL)
        idx.commit()
        yield idx
    finally:
        idx.drop()
        idx.close()


@pytest.fixture(scope="module")
def service(index: OpenSearchIndex) -> SearchService:
    return SearchService(index, max_page_size=100)


@pytest.fixture(scope="module")
def tantivy_service(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[SearchService]:
    idx = TantivyIndex(tmp_path_factory.mktemp("tantivy") / "idx")
    idx.index(world.docs)
    idx.index(build_doc(n) for n in SPECIAL)
    idx.commit()
    yield SearchService(idx, max_page_size=100)
    idx.close()


def versioned(idx: OpenSearchIndex) -> dict[str, list[str]]:
    return idx.transport.aliases(f"{idx.alias}-v*")


# --- the same answers as Tantivy ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["俄语 律师", "Russian lawyer", "zhang", "gardenin", "教师", "联洋", "社区 志愿", "jose"])
def test_same_matches_as_tantivy_and_close_rankings(service: SearchService, tantivy_service: SearchService,
                                                    text: str) -> None:
    # BM25 is the same formula in both engines, but field lengths are quantised differently, so
    # near-equal scores may swap: the matches must be identical, the top of the ranking nearly so.
    assert set(all_ids(service, text)) == set(all_ids(tantivy_service, text))
    ours = [h.id for h in service.search(text, first=20, facets=()).hits]
    theirs = [h.id for h in tantivy_service.search(text, first=20, facets=()).hits]
    assert len(set(ours) & set(theirs)) >= len(theirs) - 2 and ours[0] == theirs[0]


# --- facets --------------------------------------------------------------------------------------


def test_facets_equal_tantivys(service: SearchService, tantivy_service: SearchService) -> None:
    # Counts and labels per engine are checked in test_search_contract.py; here the two engines agree.
    facets = ["languages", "skills", "building", "party_member", "nationality"]
    for filters in ({"languages": ["俄语"]}, {"skills": ["律师"], "party_member": ["是"]}):
        res = service.search("", filters=filters, facets=facets, first=1)
        same = tantivy_service.search("", filters=filters, facets=facets, first=1)
        assert res.total == same.total > 0
        assert res.facets == same.facets  # ties ordered by value in both engines


def test_cjk_subfield_answers_plain_match_queries(index: OpenSearchIndex) -> None:
    # No talentgraph analysis: the engine's own cjk analyzer splits the raw text into pairs.
    body = {"query": {"match": {"bio__bigram.cjk": {"query": "邻里互助", "operator": "and"}}}, "_source": ["id"]}
    hits = index.transport.search(index.alias, body)["hits"]["hits"]
    assert [h["_source"]["id"] for h in hits] == ["per:long"]


# --- writes, cursor, rebuild --------------------------------------------------------------------


def test_replace_delete_and_cursor_survive_reopen(fresh: OpenSearchIndex) -> None:
    fresh.index(small_docs("甲"))
    fresh.set_cursor(42)
    fresh.commit()
    fresh.index(small_docs("乙", 10))  # same ids: replaced, not added
    assert fresh.delete(["per:0000", "per:0001", "per:9999"]) == 2
    fresh.set_cursor(50)  # never committed
    again = open_index(fresh.alias)
    assert again.get_cursor() == 42
    again.commit()
    raw = again.search(MatchAll(), filters=None, facets=["languages__facet"], limit=500, offset=0)
    assert raw.total == 198 == again.count() and "per:0000" not in {h.id for h in raw.hits}
    assert dict(raw.facets["languages__facet"]) == {"ru": 99, "en": 99}
    named = again.search(Term("name", "乙"), filters=None, facets=(), limit=50, offset=0)
    assert {h.id for h in named.hits} == {f"per:{i:04d}" for i in range(2, 10)}
    again.close()


def test_rebuild_swaps_alias_with_search_working_throughout(fresh: OpenSearchIndex) -> None:
    fresh.index(small_docs("甲"))
    fresh.set_cursor(5)
    fresh.commit()
    service = SearchService(fresh)
    (old,) = [n for n, a in versioned(fresh).items() if fresh.alias in a]
    seen_during: list[tuple[int, int]] = []

    def new_docs() -> Iterator[SearchDoc]:
        for i, d in enumerate(small_docs("乙", 3000)):
            if i in (1500, 2999):  # mid-build: the live index still answers with the old documents
                seen_during.append((service.search("甲", first=1).total, service.search("乙", first=1).total))
            yield d

    assert fresh.rebuild(new_docs(), cursor=99) == 3000
    assert seen_during == [(200, 0), (200, 0)]
    assert service.search("甲", first=1).total == 0 and service.search("乙", first=1).total == 3000
    assert fresh.get_cursor() == 99
    (new,) = versioned(fresh).items()
    assert new[0] != old and new[1] == [fresh.alias] and new[0].startswith(f"{fresh.alias}-v2-")
    assert fresh.transport.get_doc(fresh.meta_index, old) is None  # the old cursor went with the old index
    fresh.index(small_docs("丙", 1))
    fresh.commit()
    other = open_index(fresh.alias)
    assert other.get_cursor() == 99 and other.count() == 3000
    other.close()


def test_failed_rebuild_keeps_the_live_index(fresh: OpenSearchIndex) -> None:
    fresh.index(small_docs("甲", 20))
    fresh.commit()
    before = versioned(fresh)

    def broken() -> Iterator[SearchDoc]:
        yield from small_docs("乙", 5)
        raise RuntimeError("graph went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken(), cursor=1)
    assert fresh.count() == 20 and versioned(fresh) == before


def test_bulk_rejects_a_strict_violation_by_id_and_writes_the_rest(fresh: OpenSearchIndex) -> None:
    docs = small_docs("甲", 30)
    bad = SearchDoc("per:bad", "Person", {**docs[0].fields, "hobby": "太极"})
    with pytest.raises(bulk.BulkError, match="1 of 31 documents were not written") as e:
        fresh.index([*docs[:15], bad, *docs[15:]])
    (failure,) = e.value.failures
    assert (failure.id, failure.status, failure.kind) == ("per:bad", 400, "strict_dynamic_mapping_exception")
    assert "per:bad" in str(e.value) and "[hobby]" in str(e.value) and "dynamic: strict" in str(e.value.hint)
    assert e.value.report.retried == 0  # a 4xx is not retried
    fresh.commit()
    assert fresh.count() == 30
    # The same document fails a rebuild, which then keeps the live index.
    with pytest.raises(bulk.BulkError, match="per:bad"):
        fresh.rebuild([bad], cursor=3)
    assert fresh.count() == 30 and len(versioned(fresh)) == 1


class Counting:
    """The real transport, counting the actions of each bulk request."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sizes: list[int] = []

    def bulk(self, body: bytes) -> dict[str, Any]:
        lines = [json.loads(line) for line in body.splitlines() if line]
        self.sizes.append(sum(1 for op in lines if set(op) <= {"index", "delete"} and len(op) == 1))
        return self.inner.bulk(body)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_bulk_retries_items_refused_with_429(fresh: OpenSearchIndex) -> None:
    # A read-only-allow-delete block (what a full disk sets) makes the engine answer each item 429.
    (name,) = versioned(fresh)
    client = fresh.transport.client  # type: ignore[attr-defined]
    client.indices.put_settings(index=name, body={"index.blocks.read_only_allow_delete": True})
    lift = threading.Timer(0.6, lambda: client.indices.put_settings(
        index=name, body={"index.blocks.read_only_allow_delete": None}))
    counting = Counting(fresh.transport)
    docs = small_docs("甲", 40)
    bad = SearchDoc("per:bad", "Person", {**docs[0].fields, "hobby": "太极"})
    lift.start()
    try:
        with pytest.raises(bulk.BulkError) as e:
            bulk.write(counting, fresh.alias, [bulk.Action("index", d.id, {**d.fields, "id": d.id, "type": d.type})
                                               for d in [*docs, bad]],
                       policy=bulk.RetryPolicy(attempts=8, first_delay=0.1, max_delay=0.4), require_alias=True)
    finally:
        lift.join()
    report = e.value.report
    assert report.indexed == 40 and report.retried >= 41 and [f.id for f in e.value.failures] == ["per:bad"]
    # Every request resent all 41 while blocked; the one after the block sorted them; the 400 was
    # never resent.
    assert counting.sizes[-1] == 41 and len(counting.sizes) == report.retried // 41 + 1
    fresh.commit()
    assert fresh.count() == 40


def test_index_built_for_another_mapping_is_served_until_rebuilt(fresh: OpenSearchIndex) -> None:
    fresh.index(small_docs("甲", 30))
    fresh.commit()
    extended = ONTOLOGY.with_property("Person", Property("hobby", PropType.STRING, "Hobby.",
                                                         searchable=SearchKind.TEXT, facet=True))
    idx = open_index(fresh.alias, extended)
    assert idx.search(Term("name", "甲"), filters=None, facets=(), limit=5, offset=0).total == 30
    assert idx.search(Term("hobby", "太极"), filters=None, facets=["hobby__facet"], limit=5, offset=0).total == 0
    with pytest.raises(StoreError, match="older search mapping"):
        idx.index(small_docs("乙", 1))
    docs = [build_doc(Node("per:1", "Person", {"name": "王芳", "hobby": "太极"}), None, extended)]
    idx.rebuild(docs, cursor=3)
    res = idx.search(Term("hobby", "太极"), filters=None, facets=["hobby__facet"], limit=5, offset=0)
    assert res.total == 1 and res.facets == {"hobby__facet": [("太极", 1)]}
    idx.close()


def test_settings_that_do_not_fit_the_server() -> None:
    with pytest.raises(ConfigError, match="not Elasticsearch"):
        OpenSearchIndex.from_settings(settings(search_engine="elasticsearch"))
    name = f"tg-test-{uuid.uuid4().hex}"
    transport = OpenSearchTransport(settings().search_url)
    transport.create_index(name, {})  # an index where the alias should be
    try:
        with pytest.raises(StoreError, match="is an index, not an alias"):
            open_index(name)
    finally:
        transport.delete_index(name)
        transport.delete_index(name + "-meta")
        transport.close()


def test_first_use_races_settle_on_one_index() -> None:
    alias = f"tg-test-{uuid.uuid4().hex}"
    transport = OpenSearchTransport(settings().search_url)
    # Two processes created their v1 at once.
    names = [index_name(alias, 1, now=time.time() - d) for d in (2, 1)]
    for n in names:
        transport.create_index(n, {**dsl.index_body(search_fields()), "aliases": {alias: {}}})
    idx = open_index(alias)
    try:
        assert versioned(idx) == {names[0]: [alias]}
        idx.index(small_docs("甲", 3))
        idx.commit()
        assert idx.count() == 3
    finally:
        idx.drop()
        idx.close()
        transport.close()


def test_calls_are_checked_before_they_reach_the_engine(fresh: OpenSearchIndex) -> None:
    # The checks live once in search/base.py; Tantivy's copy of this test is in test_search_tantivy.py.
    fresh.index(small_docs("甲", 5))
    fresh.commit()
    window = dsl.MAX_RESULT_WINDOW
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: fresh.search(MatchAll(), filters=None, facets=(), limit=-1, offset=0), "offset=0, limit=-1"),
        (lambda: fresh.search(MatchAll(), filters=None, facets=(), limit=1, offset=window), f"past hit {window}"),
        (lambda: fresh.search(MatchAll(), filters=None, facets=["languages__facet"], limit=1, offset=0,
                              facet_size=0), "facet_size=0"),
        (lambda: fresh.search(MatchAll(), filters=None, facets=["name"], limit=1, offset=0), r"facets \['name'\]"),
        (lambda: fresh.set_cursor(True), "cursor True"),
        (lambda: fresh.rebuild([], cursor=-1), "cursor -1"),
    ]
    for call, message in refused:
        with pytest.raises(BadQueryError, match=message):
            call()
    assert fresh.count() == 5 and fresh.get_cursor() == 0
    assert fresh.delete([]) == 0 and fresh.delete(["per:0001", "per:0001"]) == 1
    other = open_index(fresh.alias)
    other.close()
    other.close()  # closing twice is harmless
    for call in (other.count, other.commit, other.get_cursor, lambda: other.set_cursor(1),
                 lambda: other.delete(["x"]), lambda: other.index([]), lambda: other.rebuild([], 1),
                 lambda: other.search(MatchAll(), filters=None, facets=(), limit=1, offset=0)):
        with pytest.raises(StoreError, match=rf"'{fresh.alias}' at http.* is closed\.") as e:
            call()
        assert e.value.hint == "Open a new OpenSearchIndex."
