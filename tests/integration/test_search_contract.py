"""The SearchIndex contract (search/port.py) through SearchService, on every search backend: embedded
Tantivy always, OpenSearch when services/up runs it. The same ~2k synthetic documents (search_world.py)
in each; only ids, sets and orders are compared, never raw scores (BM25 constants differ between
Tantivy and Lucene).

What only one engine has lives beside this file: test_search_tantivy.py (directories, one writer
process, uncommitted writes dropped on close) and test_search_opensearch.py (aliases and versioned
indices, bulk errors and retries, server settings, rankings compared with Tantivy's).
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import SearchBackend
from search_world import SPECIAL, World, all_ids, make_world, small_docs

from talentgraph.errors import BadQueryError, StoreError
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import DocEncoder, EncodedDoc, SearchDoc, SearchIndex
from talentgraph.search.query import Bool, MatchAll, Term, Terms
from talentgraph.search.service import SearchService, encode_cursor
from talentgraph.types import Node


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def index(search_backend: SearchBackend, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    idx = search_backend.fresh(tmp_path_factory.mktemp("search") / "idx")
    try:
        assert idx.index(world.docs) == len(world.docs)
        idx.index(build_doc(n) for n in SPECIAL)
        idx.commit()
        yield idx
    finally:
        search_backend.discard(idx)


@pytest.fixture(scope="module")
def service(index: SearchIndex) -> SearchService:
    return SearchService(index, max_page_size=100)


# --- relevance --------------------------------------------------------------------------------


def test_zh_and_en_queries_find_the_same_people(service: SearchService, world: World) -> None:
    expected = {p["id"] for p in world.persons
                if "ru" in p["languages"] and any(s.split(".")[0] == "law" for s in p["skills"])}
    zh = all_ids(service, "俄语 律师")
    en = all_ids(service, "Russian lawyer")
    assert expected and set(zh) == set(en) == expected
    assert len(zh) == len(set(zh))
    assert set(all_ids(service, "русский lawyer")) == expected
    assert set(all_ids(service, "ru 律师")) == expected


def test_top_hits_are_explained_and_highlighted(service: SearchService) -> None:
    res = service.search("俄语 律师", first=5)
    assert res.hits
    for hit in res.hits:
        assert any(e.startswith("俄语 ← languages: ru") for e in hit.explanations), hit.explanations
        assert any(e.startswith("律师 ← skills: law") for e in hit.explanations), hit.explanations
        assert hit.highlights["occupation"] == ["<mark>律师</mark>"]
        assert hit.score > 0 and hit.type == "Person" and hit.title


def test_name_search_in_every_script(service: SearchService, world: World) -> None:
    ivans = {p["id"] for p in world.persons if p["name"] == "Иван Петров"}
    assert ivans
    for q in ("ivan petrov", "Иван", "ИВАН ПЕТРОВ", "petrov"):
        assert set(all_ids(service, q)) == ivans, q
    jose = {p["id"] for p in world.persons if p["name"] == "José García"}
    assert set(all_ids(service, "jose garcia")) == jose
    hit = service.search("jose", first=1).hits[0]
    assert hit.highlights["name"] == ["<mark>José</mark> García"] and "jose ← name" in hit.explanations


def test_chinese_name_by_characters_pinyin_and_initials(service: SearchService, world: World) -> None:
    target = next(p for p in world.persons if len(p["name"]) == 3 and p["name"][0] == "张")
    same = {p["id"] for p in world.persons if p["name"] == target["name"]}
    res = service.search(target["name"], first=10)
    assert {h.id for h in res.hits[: len(same)]} == same
    assert res.hits[0].highlights["name"] == [f"<mark>{target['name']}</mark>"]
    assert f"{target['name']} ← name" in res.hits[0].explanations
    by_char = set(all_ids(service, "张"))
    assert by_char == {p["id"] for p in world.persons if "张" in p["name"]}
    from talentgraph.search.analysis import pinyin_syllables
    spelled = "".join(pinyin_syllables(target["name"], surname=True))
    assert same <= set(all_ids(service, spelled))
    initials = "".join(s[0] for s in pinyin_syllables(target["name"], surname=True))
    assert same <= set(all_ids(service, initials))


def test_polyphonic_surname_found_by_its_reading(service: SearchService, world: World) -> None:
    zeng = {p["id"] for p in world.persons if p["name"].startswith("曾")}
    assert zeng and zeng <= set(all_ids(service, "zeng"))


def test_fuzzy_latin_word(service: SearchService) -> None:
    res = service.search("gardenin", first=3)
    assert res.total > 0 and "<mark>gardening</mark>" in res.hits[0].highlights["bio"][0]


def test_long_tokens_stay_searchable(service: SearchService) -> None:
    word = "".join(chr(97 + (i * 7) % 26) for i in range(200))
    assert all_ids(service, word) == ["per:long"]
    assert "per:long" in all_ids(service, "邻里互助")


def test_highlights_escape_html(service: SearchService) -> None:
    res = service.search("诉讼 调解", first=5)
    hit = next(h for h in res.hits if h.id == "per:html")
    (frag,) = hit.highlights["bio"]
    assert "<script>" not in frag and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in frag
    assert "<mark>诉讼</mark>" in frag and "&amp;" in frag


# --- filters and facets -------------------------------------------------------------------------


def test_filters_pass_through_vocabularies(service: SearchService, world: World) -> None:
    ru = {p["id"] for p in world.persons if "ru" in p["languages"]}
    for label in ("俄语", "Russian", "ru", "русский"):
        res = service.search("", filters={"languages": [label]}, first=100)
        assert res.total == len(ru)
    assert set(all_ids(service, "", filters={"languages": ["俄语"]})) == ru
    lawyers = {p["id"] for p in world.persons if "ru" in p["languages"] and any(s.startswith("law") for s in p["skills"])}
    assert set(all_ids(service, "", filters={"languages": ["俄语"], "skills": ["律师"]})) == lawyers
    members = {p["id"] for p in world.persons if p["party_member"] and p["residential_area"] == ["area:r1"]}
    assert set(all_ids(service, "", filters={"party_member": ["是"], "residential_area": ["area:r1"]})) == members


def test_facet_counts(service: SearchService, world: World) -> None:
    res = service.search("", filters={"languages": ["俄语"]}, facets=["languages", "skills", "building", "party_member"],
                         first=1)
    ru = [p for p in world.persons if "ru" in p["languages"]]
    langs = {v.value: v for v in res.facets["languages"]}
    assert langs["ru"].count == res.total == len(ru)
    assert (langs["ru"].label_zh, langs["ru"].label_en) == ("俄语", "Russian")
    skills = Counter(s for p in ru for s in p["skills"])
    assert {v.value: v.count for v in res.facets["skills"]} == dict(skills)
    assert next(v for v in res.facets["skills"] if v.value == "law").label_en == "Law"
    buildings = res.facets["building"]
    assert len(buildings) == 20 and buildings[0].count >= buildings[-1].count
    b = buildings[0]
    assert b.count == sum(1 for p in ru if p["building"] == [b.value])
    assert b.label_zh == f"{int(b.value[-2:]) + 1}号楼"  # node-id facets labelled from the index
    assert {v.value for v in res.facets["party_member"]} <= {"true", "false"}


def test_default_facets_leave_out_personal_data(service: SearchService) -> None:
    res = service.search("律师", first=1)
    assert {"languages", "skills", "nationality", "building", "party_member"} <= set(res.facets)
    assert not {"gender", "education", "political_status"} & set(res.facets)


def test_bad_filters_name_the_problem(service: SearchService) -> None:
    with pytest.raises(BadQueryError, match="'hobby' is not a facet") as e:
        service.search("", filters={"hobby": ["x"]})
    assert "languages" in str(e.value)
    with pytest.raises(BadQueryError, match="克林贡语"):
        service.search("", filters={"languages": ["克林贡语"]})
    with pytest.raises(BadQueryError, match="not a node id"):
        service.search("", filters={"building": ["12号楼"]})
    with pytest.raises(BadQueryError, match="Unknown node type"):
        service.search("x", types=("Robot",))


# --- pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "first"), [("", 97), ("俄语", 7), ("zhang", 13)])
def test_pages_have_no_duplicates_or_gaps(service: SearchService, text: str, first: int) -> None:
    seen: list[tuple[float, str]] = []
    after = None
    total = None
    while True:
        res = service.search(text, first=first, after=after, facets=())
        total = res.total if total is None else total
        assert res.total == total
        seen += [(h.score, h.id) for h in res.hits]
        if not res.has_next_page:
            break
        after = res.end_cursor
    ids = [i for _, i in seen]
    assert len(ids) == len(set(ids)) == total > 0
    assert seen == sorted(seen, key=lambda s: (-s[0], s[1]))  # score desc, then id


def test_same_query_same_order(service: SearchService) -> None:
    a = [h.id for h in service.search("俄语", first=50).hits]
    b = [h.id for h in service.search("俄语", first=50).hits]
    assert a == b


def test_overlong_query_is_refused(service: SearchService) -> None:
    with pytest.raises(BadQueryError, match="characters"):
        service.search("律师" * 400)


def test_page_size_and_cursor_validation(service: SearchService) -> None:
    with pytest.raises(BadQueryError, match="first=101"):
        service.search("", first=101)
    for garbage in ("not-a-cursor!", "b2Zmc2V0Oi0x", encode_cursor(5)[:-2] + "@@", "x" * 100):
        with pytest.raises(BadQueryError, match="cursor"):
            service.search("", after=garbage)
    res = service.search("", first=0)
    assert res.hits == [] and res.total > 0 and res.has_next_page


# --- the index itself ---------------------------------------------------------------------------


def test_engine_rejects_unknown_fields_and_facets(index: SearchIndex) -> None:
    with pytest.raises(BadQueryError, match="'nope'"):
        index.search(Term("nope", "x"), filters=None, facets=(), limit=1, offset=0)
    with pytest.raises(BadQueryError, match="facet"):
        index.search(MatchAll(), filters=None, facets=["name"], limit=1, offset=0)
    only_not = Bool(must_not=(Terms("type", ("Person",)),))
    assert index.search(only_not, filters=None, facets=(), limit=100, offset=0).total == 55  # the areas


def test_replace_delete_and_a_committed_cursor_survive_reopen(search_backend: SearchBackend, tmp_path: Path) -> None:
    idx = search_backend.fresh(tmp_path / "idx")
    idx.index(small_docs("甲"))
    idx.set_cursor(42)
    idx.commit()
    idx.index(small_docs("乙", 10))  # same ids: replaced, not added
    assert idx.delete(["per:0000", "per:0001", "per:9999"]) == 2
    idx.commit()
    idx.set_cursor(50)  # never committed
    idx.close()
    again = search_backend.reopen(idx)
    try:
        assert again.get_cursor() == 42 and again.count() == 198
        raw = again.search(MatchAll(), filters=None, facets=["languages__facet"], limit=500, offset=0)
        assert raw.total == 198 and not {"per:0000", "per:0001"} & {h.id for h in raw.hits}
        assert dict(raw.facets["languages__facet"]) == {"ru": 99, "en": 99}
        named = again.search(Term("name", "乙"), filters=None, facets=(), limit=50, offset=0)
        assert {h.id for h in named.hits} == {f"per:{i:04d}" for i in range(2, 10)}
    finally:
        search_backend.discard(again)


def _encode_elsewhere(encode: DocEncoder, docs: list[SearchDoc]) -> list[EncodedDoc]:
    """``docs`` encoded in another process, as the search sync's document worker does."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_encode_all, encode, docs).result()


def _encode_all(encode: DocEncoder, docs: list[SearchDoc]) -> list[EncodedDoc]:
    return [encode(d) for d in docs]


def test_encoded_documents_index_as_the_documents_do(search_backend: SearchBackend, tmp_path: Path,
                                                      world: World) -> None:
    """A document encoded elsewhere (the encoder pickled to another process) is the document: the same
    hits, totals, facets and stored source as the document handed over itself."""
    plain, encoded = search_backend.fresh(tmp_path / "plain"), search_backend.fresh(tmp_path / "encoded")
    try:
        docs = world.docs[:400]
        bodies = _encode_elsewhere(encoded.encoder(), docs)
        assert [b.id for b in bodies] == [d.id for d in docs] and all(b.form == encoded.encoder().form for b in bodies)
        assert plain.index(docs) == encoded.index(bodies[:200]) + encoded.index(docs[200:]) == 400
        plain.commit()
        encoded.commit()
        service_p, service_e = SearchService(plain, max_page_size=100), SearchService(encoded, max_page_size=100)
        for text in ("律师", "english teacher", "王", "volunteer"):
            a = service_p.search(text, first=50, facets=["languages", "skills"])
            b = service_e.search(text, first=50, facets=["languages", "skills"])
            assert a.total == b.total and a.facets == b.facets
            assert [(h.id, h.title, h.highlights) for h in a.hits] == [(h.id, h.title, h.highlights) for h in b.hits]
            assert a.hits  # the comparison compares something
        assert plain.count() == encoded.count() == 400
    finally:
        search_backend.discard(plain)
        search_backend.discard(encoded)


def test_a_rebuild_takes_bodies_its_rebuild_encoder_made_elsewhere(search_backend: SearchBackend, tmp_path: Path,
                                                                   world: World) -> None:
    """``talentgraph reindex`` builds documents in a worker process, encoded for the index the rebuild makes
    (``rebuild_encoder``): rebuilt from those bodies, the index answers as one rebuilt from the documents."""
    plain, encoded = search_backend.fresh(tmp_path / "plain"), search_backend.fresh(tmp_path / "encoded")
    try:
        docs = world.docs[:400]
        bodies = _encode_elsewhere(encoded.rebuild_encoder(), docs)
        assert all(b.form == encoded.rebuild_encoder().form for b in bodies)
        assert plain.rebuild(iter(docs), cursor=3) == encoded.rebuild(iter([*bodies[:200], *docs[200:]]), cursor=3) == 400
        service_p, service_e = SearchService(plain, max_page_size=100), SearchService(encoded, max_page_size=100)
        for text in ("律师", "english teacher", "王"):
            a = service_p.search(text, first=50, facets=["languages", "skills"])
            b = service_e.search(text, first=50, facets=["languages", "skills"])
            assert a.hits and a.total == b.total and a.facets == b.facets
            assert [(h.id, h.title, h.highlights) for h in a.hits] == [(h.id, h.title, h.highlights) for h in b.hits]
        assert plain.count() == encoded.count() == 400 and encoded.get_cursor() == 3
        # A body in another form is refused before the swap: the live index stays.
        foreign = EncodedDoc(bodies[0].id, bodies[0].body, bodies[0].form + "-other")
        with pytest.raises(StoreError, match="encoded as"):
            encoded.rebuild(iter([foreign]), cursor=9)
        assert encoded.count() == 400 and encoded.get_cursor() == 3
    finally:
        search_backend.discard(plain)
        search_backend.discard(encoded)


def test_a_body_encoded_for_another_index_is_refused(fresh_index: SearchIndex) -> None:
    doc = build_doc(Node("per:0001", "Person", {"name": "王芳"}))
    foreign = EncodedDoc(doc.id, fresh_index.encoder()(doc).body, "tantivy:plain:0123456789abcdef")
    with pytest.raises(StoreError, match="per:0001.*encoded as 'tantivy:plain:0123456789abcdef'"):
        fresh_index.index([foreign])
    fresh_index.commit()
    assert fresh_index.count() == 0
    assert fresh_index.index([doc]) == 1  # the index is as it was: it takes the document itself
    fresh_index.commit()
    assert fresh_index.count() == 1


def test_order_holds_across_segments(fresh_index: SearchIndex) -> None:
    ids = [f"per:{i:04d}" for i in range(900)]
    random.Random(3).shuffle(ids)
    for k in range(0, 900, 150):  # one segment per commit
        fresh_index.index(build_doc(Node(i, "Person", {"name": "王芳" if int(i[4:]) % 3 else "李四"}))
                          for i in ids[k : k + 150])
        fresh_index.commit()
    browse = [h.id for off in range(0, 900, 100)
              for h in fresh_index.search(MatchAll(), filters=None, facets=(), limit=100, offset=off).hits]
    assert browse == sorted(ids)
    ranked = [(h.score, h.id) for off in range(0, 900, 37)
              for h in fresh_index.search(Term("name", "王"), filters=None, facets=(), limit=37, offset=off).hits]
    assert len(ranked) == len(set(ranked)) == 600
    assert ranked == sorted(ranked, key=lambda x: (-x[0], x[1]))


def test_rebuild_swaps_with_search_working_throughout(search_backend: SearchBackend, tmp_path: Path) -> None:
    fresh_index = search_backend.fresh(tmp_path / "idx")
    fresh_index.index(small_docs("甲"))
    fresh_index.set_cursor(5)
    fresh_index.commit()
    service = SearchService(fresh_index)
    assert service.search("甲", first=1).total == 200
    seen_during: list[tuple[int, int]] = []

    def new_docs() -> Iterator[SearchDoc]:
        for i, d in enumerate(small_docs("乙", 3000)):
            if i in (1500, 2999):  # mid-build: the live index still answers with the old documents
                seen_during.append((service.search("甲", first=1).total, service.search("乙", first=1).total))
            yield d

    assert fresh_index.rebuild(new_docs(), cursor=99) == 3000
    assert seen_during == [(200, 0), (200, 0)]
    assert service.search("甲", first=1).total == 0 and service.search("乙", first=1).total == 3000
    assert fresh_index.get_cursor() == 99
    fresh_index.index(small_docs("丙", 1))
    fresh_index.commit()
    fresh_index.close()
    other = search_backend.reopen(fresh_index)
    try:
        assert other.get_cursor() == 99 and other.count() == 3000
    finally:
        search_backend.discard(other)


def test_failed_rebuild_keeps_the_live_index(fresh_index: SearchIndex) -> None:
    fresh_index.index(small_docs("甲", 20))
    fresh_index.set_cursor(7)
    fresh_index.commit()

    def broken() -> Iterator[SearchDoc]:
        yield from small_docs("乙", 5)
        raise RuntimeError("graph went away")

    with pytest.raises(RuntimeError):
        fresh_index.rebuild(broken(), cursor=1)
    assert fresh_index.count() == 20 and fresh_index.get_cursor() == 7
    assert SearchService(fresh_index).search("乙", first=1).total == 0
