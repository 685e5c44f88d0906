"""IndexFeeder (search/writer.py): a sync's chunks written on a thread of their own, on every search engine."""

from __future__ import annotations

import pytest

from talentgraph.errors import StoreError
from talentgraph.search.mapping import build_doc, source_of
from talentgraph.search.port import EncodedDoc, SearchDoc, SearchIndex
from talentgraph.search.query import Term
from talentgraph.search.writer import IndexFeeder
from talentgraph.types import Node


@pytest.fixture()
def index(fresh_index: SearchIndex) -> SearchIndex:
    return fresh_index


def _person(i: int, name: str) -> SearchDoc:
    return build_doc(Node(f"per:w{i:04d}", "Person", {"name": name, "languages": ["en"]}))


def test_chunks_are_written_in_the_order_given_and_counted(index: SearchIndex) -> None:
    feeder = IndexFeeder(index, depth=2)
    written = 0
    try:
        for chunk in range(6):
            # Every chunk rewrites per:w0000: only the order the chunks were given in leaves the last name.
            docs = [_person(0, f"Name{chunk}")] + [_person(chunk * 10 + k + 1, f"P{chunk}x{k}") for k in range(10)]
            written += feeder.put(docs)
            assert len(feeder._pending) <= 2  # never more than depth chunks behind
        written += feeder.drain()
    finally:
        feeder.close()
    index.commit()
    assert written == 6 * 11
    assert index.count() == 61
    res = index.search(Term("id", "per:w0000"), filters=None, facets=(), limit=1, offset=0)
    assert [source_of(h.stored)["name"] for h in res.hits] == ["Name5"]


def test_a_refused_chunk_is_raised_by_the_next_call_and_the_index_stays_usable(index: SearchIndex) -> None:
    feeder = IndexFeeder(index, depth=1)
    foreign = EncodedDoc("per:w9999", "{}", "another-engine")  # encoded for another index: refused whole
    try:
        feeder.put([_person(1, "Before")])
        feeder.put([foreign])
        with pytest.raises(StoreError, match="per:w9999"):
            feeder.put([_person(2, "After")])
            feeder.drain()
    finally:
        feeder.close()
    assert index.index([_person(3, "Later")]) == 1
    index.commit()
    assert index.count() >= 2  # the chunk before the refused one, and the write after it


def test_close_after_an_error_raises_nothing_and_leaves_nothing_running(index: SearchIndex) -> None:
    feeder = IndexFeeder(index, depth=1)
    feeder.put([_person(k, f"N{k}") for k in range(50)])
    feeder.put([EncodedDoc("per:bad", "{}", "another-engine")])  # waits for the first chunk (depth 1)
    feeder.close()  # cleanup in a finally: the error belongs to put and drain
    assert feeder.drain() == 0
    index.commit()
    assert index.count() == 50


def test_new_documents_after_what_a_failed_sync_left_are_each_written_once(index: SearchIndex) -> None:
    """A first sync writes its documents as ``new`` (nothing looked for to replace) after dropping what a failed
    attempt left uncommitted: every document is in the index once, with the values of the second attempt."""
    first = [_person(i, f"Old{i}") for i in range(30)]
    index.index(first)  # a sync that failed before its commit
    index.discard_uncommitted()
    feeder = IndexFeeder(index, new=True)
    try:
        feeder.put([_person(i, f"New{i}") for i in range(30)])
        assert feeder.drain() == 30
    finally:
        feeder.close()
    index.commit()
    assert index.count() == 30
    res = index.search(Term("id", "per:w0007"), filters=None, facets=(), limit=5, offset=0)
    assert [source_of(h.stored)["name"] for h in res.hits] == ["New7"]
