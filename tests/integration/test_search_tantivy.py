"""What only the embedded Tantivy index has: one directory per index version (CURRENT names the live
one), writes not committed before close are dropped, one writer process. The SearchIndex contract
itself is in test_search_contract.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from search_world import small_docs

from talentgraph.errors import BadQueryError, StoreError
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, SearchKind
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import SearchDoc
from talentgraph.search.query import Bool, MatchAll, Term, Terms
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy import TantivyIndex
from talentgraph.search.tantivy.index import MAX_RESULT_WINDOW
from talentgraph.types import Node


def test_replace_delete_and_cursor_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    idx = TantivyIndex(path)
    idx.index(small_docs("甲"))
    idx.set_cursor(42)
    idx.commit()
    idx.index(small_docs("乙", 10))  # same ids: replaced, not added
    assert idx.delete(["per:0000", "per:0001", "per:9999"]) == 2
    idx.set_cursor(50)  # never committed
    idx.close()
    again = TantivyIndex(path)
    assert again.get_cursor() == 42 and again.count() == 200  # uncommitted writes were not applied
    again.index(small_docs("乙", 10))
    again.delete(["per:0000"])
    again.set_cursor(60)
    again.commit()
    raw = again.search(MatchAll(), filters=None, facets=["languages__facet"], limit=500, offset=0)
    assert raw.total == 199 and "per:0000" not in {h.id for h in raw.hits}
    assert dict(raw.facets["languages__facet"]) == {"ru": 100, "en": 99}
    named = again.search(Term("name", "乙"), filters=None, facets=(), limit=50, offset=0)
    assert {h.id for h in named.hits} == {f"per:{i:04d}" for i in range(1, 10)}
    again.close()
    assert TantivyIndex(path).get_cursor() == 60


def test_rebuild_swaps_with_search_working_throughout(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    idx = TantivyIndex(path)
    idx.index(small_docs("甲"))
    idx.set_cursor(5)
    idx.commit()
    service = SearchService(idx)
    old_dir = (path / "CURRENT").read_text()
    assert service.search("甲", first=1).total == 200
    seen_during: list[int] = []

    def new_docs() -> Iterator[SearchDoc]:
        for i, d in enumerate(small_docs("乙", 300)):
            if i == 150:  # mid-build: the live index still answers with the old documents
                seen_during.append(service.search("甲", first=1).total)
                seen_during.append(service.search("乙", first=1).total)
            yield d

    assert idx.rebuild(new_docs(), cursor=99) == 300
    assert seen_during == [200, 0]
    assert service.search("甲", first=1).total == 0 and service.search("乙", first=1).total == 300
    assert idx.get_cursor() == 99
    new_dir = (path / "CURRENT").read_text()
    assert new_dir != old_dir and not (path / old_dir).exists()
    assert sorted(p.name for p in path.iterdir() if p.name.startswith("index-")) == [new_dir]
    idx.index(small_docs("丙", 1))
    idx.commit()
    idx.close()
    reopened = TantivyIndex(path)
    assert reopened.get_cursor() == 99 and reopened.count() == 300
    reopened.close()


def test_failed_rebuild_keeps_the_live_index(tmp_path: Path) -> None:
    idx = TantivyIndex(tmp_path / "idx")
    idx.index(small_docs("甲", 20))
    idx.commit()

    def broken() -> Iterator[SearchDoc]:
        yield from small_docs("乙", 5)
        raise RuntimeError("graph went away")

    with pytest.raises(RuntimeError):
        idx.rebuild(broken(), cursor=1)
    assert idx.count() == 20 and len([p for p in (tmp_path / "idx").iterdir() if p.name.startswith("index-")]) == 1
    idx.close()


def test_index_built_for_another_mapping_is_served_until_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    old = TantivyIndex(path)
    old.index(small_docs("甲", 30))
    old.commit()
    old.close()
    extended = ONTOLOGY.with_property("Person", Property("hobby", PropType.STRING, "Hobby.",
                                                         searchable=SearchKind.TEXT, facet=True))
    idx = TantivyIndex(path, extended)
    assert idx.search(Term("name", "甲"), filters=None, facets=(), limit=5, offset=0).total == 30
    assert idx.search(Term("hobby", "太极"), filters=None, facets=(), limit=5, offset=0).total == 0
    with pytest.raises(StoreError, match="older search mapping") as refused:
        idx.index(small_docs("乙", 1))
    assert "talentgraph reindex" in (refused.value.hint or "")
    assert idx.mapping_stale()
    docs = [build_doc(Node("per:1", "Person", {"name": "王芳", "hobby": "太极"}), None, extended)]
    idx.rebuild(docs, cursor=3)
    assert not idx.mapping_stale()
    assert idx.search(Term("hobby", "太极"), filters=None, facets=(), limit=5, offset=0).total == 1
    idx.close()


def test_second_process_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    idx = TantivyIndex(path)
    idx.index(small_docs("甲", 3))  # holds the writer
    code = (
        "import sys\n"
        "from talentgraph.errors import StoreBusyError\n"
        "from talentgraph.search.tantivy import TantivyIndex\n"
        "from talentgraph.search.mapping import build_doc\n"
        "from talentgraph.types import Node\n"
        f"i = TantivyIndex({str(path)!r})\n"
        "assert i.count() == 0\n"
        "try:\n"
        "    i.index([build_doc(Node('per:9', 'Person', {'name': 'x'}))])\n"
        "except StoreBusyError:\n"
        "    sys.exit(7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7, proc.stderr
    idx.commit()
    idx.close()


def test_calls_are_checked_before_they_reach_tantivy(tmp_path: Path) -> None:
    # The checks live once in search/base.py; OpenSearch's copy of this test is in test_search_opensearch.py.
    idx = TantivyIndex(tmp_path / "idx")
    idx.index(small_docs("甲", 5))
    idx.commit()
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: idx.search(MatchAll(), filters=None, facets=(), limit=-1, offset=0), "offset=0, limit=-1"),
        (lambda: idx.search(MatchAll(), filters=None, facets=["languages__facet"], limit=1, offset=0, facet_size=0),
         "facet_size=0"),
        (lambda: idx.search(MatchAll(), filters=None, facets=["name"], limit=1, offset=0), r"facets \['name'\]"),
        (lambda: idx.set_cursor(True), "cursor True"),
        (lambda: idx.rebuild([], cursor=-1), "cursor -1"),
    ]
    for call, message in refused:
        with pytest.raises(BadQueryError, match=message):
            call()
    assert idx.count() == 5 and idx.get_cursor() == 0  # the refused rebuild touched nothing
    assert idx.delete([]) == 0 and idx.delete(["per:0001", "per:0001"]) == 1
    # A window, as on OpenSearch: Tantivy's collector allocates all of it (offset 10^12 aborted the process).
    with pytest.raises(BadQueryError, match=f"reaches past hit {MAX_RESULT_WINDOW}"):
        idx.search(MatchAll(), filters=None, facets=(), limit=1, offset=10**12)
    assert idx.search(MatchAll(), filters=None, facets=(), limit=1, offset=MAX_RESULT_WINDOW - 1).hits == []
    idx.close()
    idx.close()  # closing twice is harmless
    for call in (idx.count, idx.commit, idx.get_cursor, lambda: idx.set_cursor(1), lambda: idx.delete(["x"]),
                 lambda: idx.index([]), lambda: idx.rebuild([], 1),
                 lambda: idx.search(MatchAll(), filters=None, facets=(), limit=1, offset=0)):
        with pytest.raises(StoreError, match=r"is closed\.") as e:
            call()
        assert str(tmp_path / "idx") in str(e.value) and e.value.hint == "Open a new TantivyIndex."


def _committed(path: Path, docs: list[SearchDoc]) -> TantivyIndex:
    idx = TantivyIndex(path)
    idx.index(docs)
    idx.commit()
    return idx


def _many_absent(held: str, language: str = "ru") -> Bool:
    """A query as understanding makes them: one held token among many no document holds, in several shapes."""
    absent = [Term(f, f"不在{i}", 1.5) for i in range(40) for f in ("name", "name__bigram")]
    return Bool(should=(Term("name", held, 3.0), *absent,
                        Bool(must=(Term("name", held), Term("name", "无此词")), boost=5.0),
                        Bool(should=(Terms("languages__facet", (language, "xx")),), boost=0.5)))


def test_tokens_no_document_holds_are_left_out_of_the_engine_query_with_the_same_hits_and_scores(tmp_path: Path) -> None:
    docs = small_docs("甲", 60)
    docs[7] = build_doc(Node("per:0007", "Person", {"name": "乙7", "languages": ["ru"]}))
    idx = _committed(tmp_path / "idx", docs)
    q = _many_absent("甲")
    got = idx.search(q, filters=None, facets=["languages__facet"], limit=100, offset=0)
    gen = idx._s.gen
    searcher, pruned = gen.prepared(q, None)
    whole = gen.compiler(q)  # every clause, as compiled before pruning
    expect = searcher.search(whole, limit=100, count=True)
    assert got.total == expect.count == 59 + 1  # every 甲, and 乙7 by its language
    assert sorted((h.score, h.id) for h in got.hits) == sorted(
        (score, searcher.doc(addr).get_first("id")) for score, addr in expect.hits)
    assert dict(got.facets["languages__facet"]) == {"ru": 30, "en": 30}
    # The engine is asked about the held token alone (and the held facet value), not the 80 absent ones.
    assert repr(whole).count("TermQuery") == 85 and repr(pruned).count("TermQuery") == 2
    # A clause on a field the index lacks is still reported, though another clause rules its bool out.
    hidden = Bool(should=(Term("name", "甲"), Bool(must=(Term("name", "无此词"), Term("hobby", "chess")))))
    with pytest.raises(BadQueryError, match="'hobby' is not searchable"):
        idx.search(hidden, filters=None, facets=(), limit=10, offset=0)
    idx.close()


def test_a_token_first_written_after_a_search_is_found_by_the_same_query_object(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    idx = _committed(path, small_docs("甲", 5))
    q = _many_absent("丙", "fr")  # the plan a service keeps for a text: one object, asked again
    assert idx.search(q, filters=None, facets=(), limit=10, offset=0).total == 0
    idx.index([build_doc(Node("per:0100", "Person", {"name": "丙", "languages": ["en"]}))])
    idx.commit()
    assert [h.id for h in idx.search(q, filters=None, facets=(), limit=10, offset=0).hits] == ["per:0100"]
    idx.close()
    # Written by another process (an ingest beside a running server): the next search sees it too.
    reader = TantivyIndex(path)
    q2 = _many_absent("丁", "fr")
    assert reader.search(q2, filters=None, facets=(), limit=10, offset=0).total == 0
    code = (
        "from talentgraph.search.tantivy import TantivyIndex\n"
        "from talentgraph.search.mapping import build_doc\n"
        "from talentgraph.types import Node\n"
        f"i = TantivyIndex({str(path)!r})\n"
        "i.index([build_doc(Node('per:0200', 'Person', {'name': '丁', 'languages': ['en']}))])\n"
        "i.commit()\n"
        "i.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [h.id for h in reader.search(q2, filters=None, facets=(), limit=10, offset=0).hits] == ["per:0200"]
    reader.close()


def test_nested_alternatives_reach_tantivy_folded_with_the_same_hits_and_scores(tmp_path: Path) -> None:
    idx = _committed(tmp_path / "idx", [
        build_doc(Node(f"per:{i:04d}", "Person", {"name": "甲" * (1 + i % 3) + ("乙" if i % 4 == 0 else ""),
                                                  "languages": ["ru" if i % 2 else "en"]})) for i in range(80)])
    # As understanding nests them: a concept's held terms and its words, each group boosted, inside the query's.
    q = Bool(should=(Bool(should=(Bool(should=(Terms("languages__facet", ("ru",)),), boost=25.0),
                                  Bool(should=(Term("name", "甲", 1.5), Term("name", "乙", 0.5)), boost=0.3))),
                     Bool(should=(Term("name", "乙", 3.0),), boost=2.0)))
    got = idx.search(q, filters=None, facets=["languages__facet"], limit=80, offset=0)
    gen = idx._s.gen
    searcher, folded = gen.prepared(q, None)
    nested = searcher.search(gen.compiler(q), limit=80, count=True)
    assert got.total == nested.count == 80
    expect = {searcher.doc(addr).get_first("id"): score for score, addr in nested.hits}
    assert {h.id for h in got.hits} == set(expect)
    assert all(abs(h.score - expect[h.id]) <= 1e-6 * expect[h.id] for h in got.hits)
    assert [h.score for h in got.hits] == sorted((h.score for h in got.hits), reverse=True)
    assert repr(gen.compiler(q)).count("BooleanQuery") == 6 and repr(folded).count("BooleanQuery") == 3
    idx.close()
